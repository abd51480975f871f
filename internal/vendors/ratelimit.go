package vendors

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// MaxLimiterWait is the longest a call waits for a token in-line. A longer wait
// returns ErrRateLimited with the delay, so the reconcile worker is freed and the
// object is requeued instead of holding a worker while sleeping.
const MaxLimiterWait = 2 * time.Second

// Limits is a token-bucket size.
type Limits struct {
	// QPS is the sustained rate per vendor API.
	QPS float64
	// Burst is the bucket size.
	Burst int
}

// Limiter paces calls per vendor API for one set of credentials: one token bucket
// per API name, all with the same Limits. It is safe for concurrent use.
type Limiter struct {
	limits Limits
	now    func() time.Time

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// NewLimiter returns a Limiter. A nil now means time.Now.
func NewLimiter(l Limits, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{limits: normalize(l), now: now, buckets: map[string]*rate.Limiter{}}
}

// Limits returns the bucket size.
func (l *Limiter) Limits() Limits { return l.limits }

func (l *Limiter) bucket(api string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[api]
	if !ok {
		b = rate.NewLimiter(rate.Limit(l.limits.QPS), l.limits.Burst)
		l.buckets[api] = b
	}
	return b
}

// Wait takes a token for api, sleeping up to MaxLimiterWait for it. If the wait
// would be longer it takes nothing and returns an ErrRateLimited error whose
// RetryAfter is the expected wait. A nil Limiter never waits.
func (l *Limiter) Wait(ctx context.Context, api string) error {
	if l == nil {
		return nil
	}
	r, delay, err := l.reserve(api)
	if err != nil || delay == 0 {
		return err
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		r.CancelAt(l.now()) // the call will not be made: give the token back
		return &Error{Class: ErrRateLimited, Op: api, Message: "gave up waiting for the client-side rate limiter: " + ctx.Err().Error(), RetryAfter: delay}
	case <-t.C:
		return nil
	}
}

// reserve takes a token if one is available within MaxLimiterWait and returns how
// long to wait for it.
func (l *Limiter) reserve(api string) (*rate.Reservation, time.Duration, error) {
	now := l.now()
	r := l.bucket(api).ReserveN(now, 1)
	if !r.OK() {
		return nil, 0, &Error{Class: ErrRateLimited, Op: api, Message: "client-side rate limit", RetryAfter: time.Second}
	}
	delay := r.DelayFrom(now)
	if delay > MaxLimiterWait {
		r.CancelAt(now)
		return nil, 0, &Error{Class: ErrRateLimited, Op: api, Message: "client-side rate limit reached; calls are paced to the vendor's documented limit", RetryAfter: delay}
	}
	return r, delay, nil
}

// Limiters hands out one Limiter per credential, so all groups using the same
// account share its buckets. It is safe for concurrent use.
type Limiters struct {
	now func() time.Time

	mu    sync.Mutex
	byKey map[string]*Limiter
}

// NewLimiters returns an empty registry. A nil now means time.Now.
func NewLimiters(now func() time.Time) *Limiters {
	return &Limiters{now: now, byKey: map[string]*Limiter{}}
}

// For returns the Limiter for the credential key, creating it with l. When the
// limits for a key change (a provider's rateLimit was edited), the buckets are
// replaced.
func (r *Limiters) For(key string, l Limits) *Limiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	lim, ok := r.byKey[key]
	if !ok || lim.limits != normalize(l) {
		lim = NewLimiter(l, r.now)
		r.byKey[key] = lim
	}
	return lim
}

func normalize(l Limits) Limits {
	if l.Burst < 1 {
		l.Burst = max(1, int(l.QPS))
	}
	return l
}
