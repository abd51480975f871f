package vendors

// Sent notes that a call to api reached the vendor (an answer came back, of
// any kind): vendors that meter calls count it. A nil Limiter ignores it.
func (l *Limiter) Sent(api string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sent == nil {
		l.sent = map[string]int64{}
	}
	l.sent[api]++
}

// Metered returns the calls these credentials made since the Limiter was made
// that count against a monthly call budget: those to the APIs metered reports
// true for (every API when metered is nil).
func (l *Limiter) Metered(metered func(api string) bool) int64 {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for api, c := range l.sent {
		if metered == nil || metered(api) {
			n += c
		}
	}
	return n
}
