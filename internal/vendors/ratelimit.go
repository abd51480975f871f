package vendors

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
	"k8s.io/utils/clock"
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
// per API name, all with the same Limits, and a hold per API after the vendor
// throttled it (see Note). It is safe for concurrent use.
type Limiter struct {
	limits Limits
	clock  clock.PassiveClock

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	held    map[string]hold
	// waiting counts the foreground calls waiting per API, and idle is
	// closed when that count drops to zero: background calls wait for it.
	waiting map[string]int
	idle    map[string]chan struct{}
	// sent counts the calls per API that reached the vendor (Sent).
	sent map[string]int64
}

// hold is how long an API is held after a throttle, and the vendor's code.
type hold struct {
	until time.Time
	code  string
}

// NewLimiter returns a Limiter. A nil clk means the real clock.
func NewLimiter(l Limits, clk clock.PassiveClock) *Limiter {
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &Limiter{limits: normalize(l), clock: clk, buckets: map[string]*rate.Limiter{}, held: map[string]hold{},
		waiting: map[string]int{}, idle: map[string]chan struct{}{}}
}

// Note takes the answer of a call to api into account and returns err as it is:
// when the vendor throttled the call and said how long to wait (ErrRateLimited
// with a RetryAfter), no call to api starts before that time, whichever group
// it is for. Waiting callers are held in line rather than failed, so a pass that
// is half done finishes instead of being repeated from the start, which under
// sustained throttling would spend the vendor's allowance on repeats. A nil
// Limiter ignores it.
func (l *Limiter) Note(api string, err error) error {
	if l == nil || !errors.Is(err, ErrRateLimited) || RetryAfter(err) <= 0 {
		return err
	}
	h := hold{until: l.clock.Now().Add(RetryAfter(err))}
	var e *Error
	if errors.As(err, &e) {
		h.code = e.Code
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if h.until.After(l.held[api].until) {
		l.held[api] = h
	}
	return err
}

// heldUntil returns when calls to api may start again after a throttle.
func (l *Limiter) heldUntil(api string) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held[api].until
}

// holdCode returns the vendor's code of the throttle holding api.
func (l *Limiter) holdCode(api string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held[api].code
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

// Wait takes a token for api, sleeping up to MaxLimiterWait for it, and waits
// out a hold after a throttle (Note), also one that begins while it waits. If
// the wait would be longer it takes nothing and returns an ErrRateLimited error
// whose RetryAfter is the expected wait. A nil Limiter never waits.
//
// Background calls (see Background) yield: none takes a token while a
// foreground call waits for the same API. One that cannot start within
// MaxLimiterWait returns an ErrDeferred error instead.
func (l *Limiter) Wait(ctx context.Context, api string) error {
	if l == nil {
		return nil
	}
	begin := time.Now()
	if IsBackground(ctx) {
		if err := l.yield(ctx, api, MaxLimiterWait); err != nil {
			return err
		}
	} else {
		defer l.enter(api)()
	}
	for {
		if err := l.waitOnce(ctx, api, MaxLimiterWait-time.Since(begin)); err != nil {
			return err
		}
		// A throttle answer that came while this call waited holds it too, within
		// the same MaxLimiterWait: holds that keep being renewed must not keep a
		// worker waiting.
		if !l.heldUntil(api).After(l.clock.Now()) {
			return nil
		}
	}
}

// enter counts a foreground call waiting for api until the returned func is called.
func (l *Limiter) enter(api string) (leave func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.waiting[api] == 0 {
		l.idle[api] = make(chan struct{})
	}
	l.waiting[api]++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.waiting[api]--; l.waiting[api] == 0 {
			close(l.idle[api])
			delete(l.idle, api)
		}
	}
}

// yield waits, up to maxWait, until no foreground call waits for api.
func (l *Limiter) yield(ctx context.Context, api string, maxWait time.Duration) error {
	t := time.NewTimer(maxWait)
	defer t.Stop()
	for {
		l.mu.Lock()
		idle, busy := l.idle[api], l.waiting[api] > 0
		l.mu.Unlock()
		if !busy {
			return nil
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return fmt.Errorf("%w: %s: %w", ErrDeferred, api, ctx.Err())
		case <-t.C:
			return fmt.Errorf("%w: %s is busy with calls for groups that changed", ErrDeferred, api)
		}
	}
}

// callMargin is the least time a call needs after its token: a call that
// would start with less of the pass left is not started.
const callMargin = 250 * time.Millisecond

// waitOnce takes a token for api that is due within maxWait and sleeps until
// it is.
func (l *Limiter) waitOnce(ctx context.Context, api string, maxWait time.Duration) error {
	r, delay, err := l.reserveWithin(api, maxWait)
	if err != nil || delay == 0 {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < delay+callMargin {
		// The pass would time out waiting and report the vendor as unavailable;
		// it is only waiting its turn, so say that, and leave the token.
		r.CancelAt(l.clock.Now())
		return &Error{Class: ErrRateLimited, Op: api, Message: "the client-side rate limiter's wait would outlast this pass", RetryAfter: delay}
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		r.CancelAt(l.clock.Now()) // the call will not be made: give the token back
		return &Error{Class: ErrRateLimited, Op: api, Message: "gave up waiting for the client-side rate limiter: " + ctx.Err().Error(), RetryAfter: delay}
	case <-t.C:
		return nil
	}
}

// reserve takes a token if one is available within MaxLimiterWait and returns how
// long to wait for it. While api is held after a throttle, the token is taken
// for when the hold ends.
func (l *Limiter) reserve(api string) (*rate.Reservation, time.Duration, error) {
	return l.reserveWithin(api, MaxLimiterWait)
}

// reserveWithin is reserve with maxWait instead of MaxLimiterWait.
func (l *Limiter) reserveWithin(api string, maxWait time.Duration) (*rate.Reservation, time.Duration, error) {
	now := l.clock.Now()
	at := now
	if until := l.heldUntil(api); until.After(now) {
		at = until
	}
	r := l.bucket(api).ReserveN(at, 1)
	if !r.OK() {
		return nil, 0, &Error{Class: ErrRateLimited, Op: api, Message: "client-side rate limit", RetryAfter: time.Second}
	}
	delay := r.DelayFrom(now)
	if delay > max(maxWait, 0) {
		r.CancelAt(at)
		if at != now {
			// Say why, as the vendor's answer that caused the hold did.
			return nil, 0, &Error{Class: ErrRateLimited, Op: api, Code: l.holdCode(api),
				Message: "holding off after the vendor throttled this API", RetryAfter: delay}
		}
		return nil, 0, &Error{Class: ErrRateLimited, Op: api, RetryAfter: delay,
			Message: "client-side rate limit reached; calls are paced to the vendor's documented limit"}
	}
	return r, delay, nil
}

// ErrDeferred is returned for a background call that yielded to foreground
// calls for longer than MaxLimiterWait: nothing was asked of the vendor, and
// nothing is known to be wrong.
var ErrDeferred = errors.New("background call deferred")

type backgroundKey struct{}

// Background marks ctx's calls as background work, such as the periodic check
// of a group that is in sync: they yield to the calls of passes that have a
// change to make, so a user's edit does not wait behind a resync of every
// group.
func Background(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

// IsBackground reports whether ctx's calls are background work.
func IsBackground(ctx context.Context) bool {
	b, _ := ctx.Value(backgroundKey{}).(bool)
	return b
}

// Limiters hands out one Limiter per credential, so all groups using the same
// account share its buckets. It is safe for concurrent use.
type Limiters struct {
	clock clock.PassiveClock

	mu    sync.Mutex
	byKey map[string]*Limiter
}

// NewLimiters returns an empty registry. A nil clk means the real clock.
func NewLimiters(clk clock.PassiveClock) *Limiters {
	return &Limiters{clock: clk, byKey: map[string]*Limiter{}}
}

// For returns the Limiter for the credential key, creating it with l. When the
// limits for a key change (a provider's rateLimit was edited), the buckets are
// replaced.
func (r *Limiters) For(key string, l Limits) *Limiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	lim, ok := r.byKey[key]
	if !ok || lim.limits != normalize(l) {
		lim = NewLimiter(l, r.clock)
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
