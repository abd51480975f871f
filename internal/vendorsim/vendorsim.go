// Package vendorsim holds what the vendor simulators share: fault knobs (error
// rate, added latency, a response lost after the change was applied), a call log
// with per-operation counters, and per-second rate limiting. Each simulator in
// internal/vendorsim/<vendor> implements its vendor's API on top of it, written
// from the vendor's documentation and never from the client under test.
package vendorsim

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// Faults are the fault knobs. The zero value injects nothing.
type Faults struct {
	// ErrorRate is the fraction of calls (0..1) answered with the vendor's
	// transient error before anything is applied.
	ErrorRate float64
	// Latency is added to every call.
	Latency time.Duration
	// DropRate is the fraction of calls (0..1) that are applied and whose response
	// is then lost: the connection closes without an answer.
	DropRate float64
}

// Call is one entry of the call log.
type Call struct {
	// Op is the operation, e.g. "group/create".
	Op string
	// Outcome is "ok", "error", "throttled", "injected", "dropped" or
	// "unavailable"; a simulator may log an answer that something does not
	// exist as "not-found".
	Outcome string
	// At is when the call arrived.
	At time.Time
}

// Sim is the shared core of a simulator: knobs, call log and rate limits. Its
// methods are safe for concurrent use.
type Sim struct {
	mu       sync.Mutex
	faults   Faults
	opFaults map[string]Faults
	calls    []Call
	rand     *rand.Rand
	// windows counts calls per rate-limit key in the current second.
	windows map[string]*window
	clock   clock.PassiveClock
	// failing is the vendor code FailWith set per operation.
	failing map[string]string
	// throttleUntil ends a ThrottleFor period.
	throttleUntil time.Time
	// downUntil ends an UnavailableFor period.
	downUntil time.Time
}

type window struct {
	start time.Time
	n     int
}

// New returns a Sim. A nil clk means the real clock.
func New(clk clock.PassiveClock) *Sim {
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &Sim{clock: clk, rand: rand.New(rand.NewPCG(1, 2)), windows: map[string]*window{}, opFaults: map[string]Faults{}, failing: map[string]string{}}
}

// SetFaults sets the knobs for every operation.
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// SetOpFaults sets the knobs for one operation, overriding SetFaults for it.
// Zero Faults remove the override.
func (s *Sim) SetOpFaults(op string, f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f == (Faults{}) {
		delete(s.opFaults, op)
		return
	}
	s.opFaults[op] = f
}

func (s *Sim) faultsFor(op string) Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.opFaults[op]; ok {
		return f
	}
	return s.faults
}

func (s *Sim) roll(p float64) bool {
	if p <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rand.Float64() < p
}

// Record adds a call to the log.
func (s *Sim) Record(op, outcome string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{Op: op, Outcome: outcome, At: s.clock.Now()})
}

// Calls returns the call log.
func (s *Sim) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Len returns how many calls are in the log.
func (s *Sim) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// Count returns how many calls of op were logged with one of outcomes (any
// outcome when none are given).
func (s *Sim) Count(op string, outcomes ...string) int {
	n := 0
	for _, c := range s.Calls() {
		if c.Op != op {
			continue
		}
		if len(outcomes) == 0 {
			n++
			continue
		}
		for _, o := range outcomes {
			if c.Outcome == o {
				n++
				break
			}
		}
	}
	return n
}

// Allow counts a call against key's per-second limit and reports whether it is
// within it. Keys are typically app + API. limit <= 0 means unlimited.
func (s *Sim) Allow(key string, limit int) bool {
	if limit <= 0 {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	w, ok := s.windows[key]
	if !ok || now.Sub(w.start) >= time.Second {
		w = &window{start: now}
		s.windows[key] = w
	}
	w.n++
	return w.n <= limit
}

// Wrap serves op through the knobs: added latency; an injected transient error
// (written by transient, before anything is applied); or, after next has applied
// the call, a lost response. Every call is logged; next reports its own outcome
// through the returned recorder's status (>= 400 is "error").
func (s *Sim) Wrap(op string, transient http.HandlerFunc, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Down() {
			s.Record(op, "unavailable")
			http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
			return
		}
		f := s.faultsFor(op)
		if f.Latency > 0 {
			select {
			case <-time.After(f.Latency):
			case <-r.Context().Done():
				return
			}
		}
		if s.roll(f.ErrorRate) {
			s.Record(op, "injected")
			transient(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next(rec, r)
		if s.roll(f.DropRate) {
			s.Record(op, "dropped")
			dropConnection(w)
			return
		}
		outcome := "ok"
		if rec.Code >= 400 {
			outcome = "error"
		}
		if rec.Header().Get(OutcomeHeader) != "" {
			outcome = rec.Header().Get(OutcomeHeader)
			rec.Header().Del(OutcomeHeader)
		}
		s.Record(op, outcome)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}
}

// OutcomeHeader lets a handler name its outcome for the call log (e.g.
// "throttled", or "error" for a vendor that answers errors with HTTP 200). It is
// removed before the response is sent.
const OutcomeHeader = "X-Vendorsim-Outcome"

// dropConnection closes the connection without a response.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("vendorsim: response writer cannot be hijacked to drop a response")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// FailWith makes every call of op answer with the vendor's error code, which
// each simulator writes in its vendor's own format and with the status the
// vendor documents for it, before anything is applied; code "" stops it.
func (s *Sim) FailWith(op, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == "" {
		delete(s.failing, op)
		return
	}
	s.failing[op] = code
}

// Failing returns the code FailWith set for op, or "".
func (s *Sim) Failing(op string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failing[op]
}

// ThrottleFor makes every call answer with the vendor's throttle response for
// d on the simulator's clock, as when other applications of the account use up
// its allowance.
func (s *Sim) ThrottleFor(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttleUntil = s.clock.Now().Add(d)
}

// UnavailableFor makes every call answer HTTP 503 with no vendor code for d on
// the simulator's clock, before anything is applied: an outage as a vendor's
// gateway or load balancer reports it. The call log names these calls
// "unavailable".
func (s *Sim) UnavailableFor(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.downUntil = s.clock.Now().Add(d)
}

// Down reports whether an UnavailableFor period is running.
func (s *Sim) Down() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clock.Now().Before(s.downUntil)
}

// Throttling reports whether a ThrottleFor period is running.
func (s *Sim) Throttling() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clock.Now().Before(s.throttleUntil)
}
