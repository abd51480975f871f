package vendors

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"
)

// newFakeClock returns a clock on which buckets refill only when it is stepped.
func newFakeClock() *clocktesting.FakeClock {
	return clocktesting.NewFakeClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
}

func TestLimiter(t *testing.T) {
	ctx := context.Background()

	t.Run("burst is available without waiting", func(t *testing.T) {
		g := NewWithT(t)
		l := NewLimiter(Limits{QPS: 10, Burst: 2}, newFakeClock())
		start := time.Now()
		g.Expect(l.Wait(ctx, "create")).To(Succeed())
		g.Expect(l.Wait(ctx, "create")).To(Succeed())
		g.Expect(time.Since(start)).To(BeNumerically("<", 50*time.Millisecond))
		// The third token is 1/QPS away on the fake clock.
		_, d, err := l.reserve("create")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(d).To(BeNumerically("~", 100*time.Millisecond, time.Millisecond))
	})

	t.Run("wait beyond MaxLimiterWait fails fast with ErrRateLimited", func(t *testing.T) {
		g := NewWithT(t)
		clock := newFakeClock()
		l := NewLimiter(Limits{QPS: 10, Burst: 2}, clock)
		// Burst 2 plus 20 tokens at 100ms each fill exactly MaxLimiterWait.
		for i := range 22 {
			_, d, err := l.reserve("create")
			g.Expect(err).NotTo(HaveOccurred(), "reservation %d", i)
			g.Expect(d).To(BeNumerically("<=", MaxLimiterWait))
		}

		start := time.Now()
		err := l.Wait(ctx, "create")
		g.Expect(time.Since(start)).To(BeNumerically("<", 50*time.Millisecond), "must not sleep")
		g.Expect(errors.Is(err, ErrRateLimited)).To(BeTrue(), "got %v", err)
		g.Expect(RetryAfter(err)).To(BeNumerically(">", MaxLimiterWait))
		g.Expect(RetryAfter(err)).To(BeNumerically("~", 2100*time.Millisecond, time.Millisecond))
		g.Expect(Definite(err)).To(BeTrue())

		// The refused call took no token: the next one is quoted the same delay.
		err = l.Wait(ctx, "create")
		g.Expect(RetryAfter(err)).To(BeNumerically("~", 2100*time.Millisecond, time.Millisecond))

		// Time refills the bucket.
		clock.Step(time.Second)
		_, d, err := l.reserve("create")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(d).To(BeNumerically("~", 1100*time.Millisecond, time.Millisecond))
	})

	t.Run("APIs have separate buckets", func(t *testing.T) {
		g := NewWithT(t)
		l := NewLimiter(Limits{QPS: 10, Burst: 2}, newFakeClock())
		for range 22 {
			_, _, err := l.reserve("create")
			g.Expect(err).NotTo(HaveOccurred())
		}
		g.Expect(errors.Is(l.Wait(ctx, "create"), ErrRateLimited)).To(BeTrue())

		_, d, err := l.reserve("delete")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(d).To(BeZero(), "an exhausted create bucket must not slow delete")
	})

	t.Run("nil limiter never waits", func(t *testing.T) {
		g := NewWithT(t)
		var l *Limiter
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		for range 100 {
			g.Expect(l.Wait(cancelled, "create")).To(Succeed())
		}
	})

	t.Run("short wait sleeps for the delay", func(t *testing.T) {
		g := NewWithT(t)
		// QPS 20: the second token is 50ms away, the only real sleep in this file.
		l := NewLimiter(Limits{QPS: 20, Burst: 1}, newFakeClock())
		g.Expect(l.Wait(ctx, "create")).To(Succeed())
		start := time.Now()
		g.Expect(l.Wait(ctx, "create")).To(Succeed())
		g.Expect(time.Since(start)).To(BeNumerically(">=", 45*time.Millisecond))
	})

	t.Run("cancelled context ends the wait", func(t *testing.T) {
		g := NewWithT(t)
		l := NewLimiter(Limits{QPS: 1, Burst: 1}, newFakeClock())
		g.Expect(l.Wait(ctx, "create")).To(Succeed())
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		start := time.Now()
		err := l.Wait(cancelled, "create") // would otherwise sleep 1s
		g.Expect(time.Since(start)).To(BeNumerically("<", 500*time.Millisecond))
		g.Expect(errors.Is(err, ErrRateLimited)).To(BeTrue(), "the call was not made; got %v", err)
		_, d, err := l.reserve("create")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(d).To(Equal(time.Second), "the abandoned wait gave its token back")
	})

	t.Run("a wait that would outlast the context's deadline is not begun", func(t *testing.T) {
		g := NewWithT(t)
		l := NewLimiter(Limits{QPS: 1, Burst: 1}, newFakeClock())
		g.Expect(l.Wait(ctx, "create")).To(Succeed())
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := l.Wait(short, "create") // its token is a second away
		g.Expect(time.Since(start)).To(BeNumerically("<", 100*time.Millisecond), "must not sleep")
		g.Expect(errors.Is(err, ErrRateLimited)).To(BeTrue(), "got %v", err)
		g.Expect(RetryAfter(err)).To(Equal(time.Second))
		_, d, _ := l.reserve("create")
		g.Expect(d).To(Equal(time.Second), "the token was left for others")
	})

	t.Run("nil clock means real time", func(t *testing.T) {
		g := NewWithT(t)
		l := NewLimiter(Limits{QPS: 10, Burst: 1}, nil)
		g.Expect(l.Wait(ctx, "create")).To(Succeed())
		_, d, err := l.reserve("create")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(d).To(BeNumerically(">", 0))
		g.Expect(d).To(BeNumerically("<=", 100*time.Millisecond))
	})

	t.Run("concurrent use", func(t *testing.T) {
		g := NewWithT(t)
		// QPS 1, burst 10: exactly 10 of each API's calls fit without waiting.
		l := NewLimiter(Limits{QPS: 1, Burst: 10}, newFakeClock())
		var mu sync.Mutex
		immediate := map[string]int{}
		var wg sync.WaitGroup
		for i := range 40 {
			api := fmt.Sprintf("api-%d", i%2)
			wg.Go(func() {
				_, d, err := l.reserve(api)
				if err == nil && d == 0 {
					mu.Lock()
					immediate[api]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		g.Expect(immediate).To(Equal(map[string]int{"api-0": 10, "api-1": 10}))
	})
}

func TestLimiter_Note(t *testing.T) {
	ctx := context.Background()
	throttled := func(d time.Duration) error {
		return &Error{Class: ErrRateLimited, Op: "chat/get", Code: "90018", Message: "throttled", RetryAfter: d}
	}

	t.Run("a throttled API is held until the vendor's delay ends; others are not", func(t *testing.T) {
		g := NewWithT(t)
		clock := newFakeClock()
		l := NewLimiter(Limits{QPS: 20, Burst: 1}, clock)
		err := throttled(time.Second)
		g.Expect(l.Note("chat/get", err)).To(BeIdenticalTo(err), "the error is passed on")

		_, d, rerr := l.reserve("chat/get")
		g.Expect(rerr).NotTo(HaveOccurred(), "a hold within MaxLimiterWait waits in line")
		g.Expect(d).To(Equal(time.Second))
		_, d, _ = l.reserve("chat/get")
		g.Expect(d).To(Equal(time.Second+50*time.Millisecond), "callers behind it keep the pace")
		_, d, _ = l.reserve("group/update")
		g.Expect(d).To(BeZero())

		clock.Step(2 * time.Second)
		_, d, _ = l.reserve("chat/get")
		g.Expect(d).To(BeZero(), "the hold is over")
	})

	t.Run("a call already waiting when the throttle answer comes waits for the hold too", func(t *testing.T) {
		g := NewWithT(t)
		// Real time: the second call waits 100ms for its token, and 20ms into that
		// wait another call's throttle answer holds the API for 300ms.
		l := NewLimiter(Limits{QPS: 10, Burst: 1}, nil)
		g.Expect(l.Wait(ctx, "chat/get")).To(Succeed())
		noted := make(chan time.Time, 1)
		time.AfterFunc(20*time.Millisecond, func() {
			noted <- time.Now()
			l.Note("chat/get", throttled(300*time.Millisecond))
		})
		g.Expect(l.Wait(ctx, "chat/get")).To(Succeed())
		g.Expect(time.Since(<-noted)).To(BeNumerically(">=", 300*time.Millisecond))
	})

	t.Run("holds renewed while a call waits hold it no longer than MaxLimiterWait", func(t *testing.T) {
		g := NewWithT(t)
		// Real time. Other groups' calls keep being throttled: each answer holds
		// the API for another 400ms, every 300ms.
		l := NewLimiter(Limits{QPS: 20, Burst: 1}, nil)
		l.Note("chat/get", throttled(400*time.Millisecond))
		renew := time.NewTicker(300 * time.Millisecond)
		defer renew.Stop()
		done := make(chan struct{})
		defer close(done)
		go func() {
			for {
				select {
				case <-done:
					return
				case <-renew.C:
					l.Note("chat/get", throttled(400*time.Millisecond))
				}
			}
		}()
		start := time.Now()
		err := l.Wait(ctx, "chat/get")
		g.Expect(errors.Is(err, ErrRateLimited)).To(BeTrue(), "got %v", err)
		g.Expect(time.Since(start)).To(BeNumerically("<=", MaxLimiterWait+100*time.Millisecond))
	})

	t.Run("a hold longer than MaxLimiterWait fails fast and takes no token", func(t *testing.T) {
		g := NewWithT(t)
		clock := newFakeClock()
		l := NewLimiter(Limits{QPS: 20, Burst: 1}, clock)
		l.Note("chat/get", throttled(time.Minute))

		start := time.Now()
		err := l.Wait(ctx, "chat/get")
		g.Expect(time.Since(start)).To(BeNumerically("<", 50*time.Millisecond), "must not sleep")
		g.Expect(errors.Is(err, ErrRateLimited)).To(BeTrue(), "got %v", err)
		g.Expect(RetryAfter(err)).To(Equal(time.Minute))
		g.Expect(err.Error()).To(ContainSubstring("holding off after the vendor throttled this API"))
		g.Expect(err.Error()).To(ContainSubstring("(90018)"), "the vendor's code says why")

		clock.Step(time.Minute)
		_, d, _ := l.reserve("chat/get")
		g.Expect(d).To(BeZero(), "the refused wait took no token")
	})

	t.Run("a shorter delay does not cut a longer hold", func(t *testing.T) {
		g := NewWithT(t)
		l := NewLimiter(Limits{QPS: 20, Burst: 1}, newFakeClock())
		l.Note("chat/get", throttled(1500*time.Millisecond))
		l.Note("chat/get", throttled(time.Second))
		_, d, _ := l.reserve("chat/get")
		g.Expect(d).To(Equal(1500 * time.Millisecond))
	})

	t.Run("other answers hold nothing", func(t *testing.T) {
		g := NewWithT(t)
		l := NewLimiter(Limits{QPS: 20, Burst: 1}, newFakeClock())
		g.Expect(l.Note("chat/get", nil)).To(Succeed())
		for _, err := range []error{
			NewError(ErrUnavailable, "chat/get", "", "busy"),
			&Error{Class: ErrRateLimited, Op: "chat/get", Message: "no delay given"},
		} {
			g.Expect(l.Note("chat/get", err)).To(BeIdenticalTo(err))
		}
		_, d, _ := l.reserve("chat/get")
		g.Expect(d).To(BeZero())
	})

	t.Run("nil limiter passes the error on", func(t *testing.T) {
		g := NewWithT(t)
		var l *Limiter
		err := throttled(time.Second)
		g.Expect(l.Note("chat/get", err)).To(BeIdenticalTo(err))
	})
}

func TestLimiters(t *testing.T) {
	t.Run("same key and limits share a limiter", func(t *testing.T) {
		g := NewWithT(t)
		r := NewLimiters(newFakeClock())
		a := r.For("cred-a", Limits{QPS: 10, Burst: 2})
		g.Expect(r.For("cred-a", Limits{QPS: 10, Burst: 2})).To(BeIdenticalTo(a))
	})

	t.Run("different keys get different limiters", func(t *testing.T) {
		g := NewWithT(t)
		r := NewLimiters(newFakeClock())
		a := r.For("cred-a", Limits{QPS: 10, Burst: 2})
		b := r.For("cred-b", Limits{QPS: 10, Burst: 2})
		g.Expect(b).NotTo(BeIdenticalTo(a))
		// Draining a's bucket leaves b's full.
		for range 2 {
			_, _, err := a.reserve("create")
			g.Expect(err).NotTo(HaveOccurred())
		}
		_, d, err := b.reserve("create")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(d).To(BeZero())
	})

	t.Run("changed limits replace the limiter", func(t *testing.T) {
		g := NewWithT(t)
		r := NewLimiters(newFakeClock())
		a := r.For("cred-a", Limits{QPS: 10, Burst: 2})
		b := r.For("cred-a", Limits{QPS: 20, Burst: 2})
		g.Expect(b).NotTo(BeIdenticalTo(a))
		g.Expect(b.Limits()).To(Equal(Limits{QPS: 20, Burst: 2}))
		g.Expect(r.For("cred-a", Limits{QPS: 20, Burst: 2})).To(BeIdenticalTo(b))
		c := r.For("cred-a", Limits{QPS: 20, Burst: 5})
		g.Expect(c).NotTo(BeIdenticalTo(b))
	})

	t.Run("burst defaults", func(t *testing.T) {
		tests := []struct {
			in, want Limits
		}{
			{in: Limits{QPS: 5}, want: Limits{QPS: 5, Burst: 5}},
			{in: Limits{QPS: 200, Burst: 0}, want: Limits{QPS: 200, Burst: 200}},
			{in: Limits{QPS: 0.5}, want: Limits{QPS: 0.5, Burst: 1}},
			{in: Limits{QPS: 5, Burst: -1}, want: Limits{QPS: 5, Burst: 5}},
			{in: Limits{QPS: 5, Burst: 3}, want: Limits{QPS: 5, Burst: 3}},
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%v", tt.in), func(t *testing.T) {
				g := NewWithT(t)
				r := NewLimiters(newFakeClock())
				l := r.For("k", tt.in)
				g.Expect(l.Limits()).To(Equal(tt.want))
				// Asking again, or with the defaulted limits spelled out, must not
				// replace the buckets.
				g.Expect(r.For("k", tt.in)).To(BeIdenticalTo(l))
				g.Expect(r.For("k", tt.want)).To(BeIdenticalTo(l))
				// The bucket really holds Burst immediate tokens.
				for i := range tt.want.Burst {
					_, d, err := l.reserve("create")
					g.Expect(err).NotTo(HaveOccurred())
					g.Expect(d).To(BeZero(), "token %d", i)
				}
				_, d, err := l.reserve("create")
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(d).To(BeNumerically(">", 0))
			})
		}
	})

	t.Run("limiters use the registry's clock", func(t *testing.T) {
		g := NewWithT(t)
		clock := newFakeClock()
		l := NewLimiters(clock).For("k", Limits{QPS: 1, Burst: 1})
		_, _, err := l.reserve("create")
		g.Expect(err).NotTo(HaveOccurred())
		_, d, _ := l.reserve("create")
		g.Expect(d).To(BeNumerically("~", time.Second, time.Millisecond))
		clock.Step(3 * time.Second)
		_, d, _ = l.reserve("create")
		g.Expect(d).To(BeZero())
	})
}

func TestLimiter_BackgroundYields(t *testing.T) {
	t.Run("a background call waits until no foreground call waits for the API", func(t *testing.T) {
		g := NewWithT(t)
		l := NewLimiter(Limits{QPS: 5, Burst: 1}, nil) // the real clock: one token per 200 ms
		ctx := context.Background()
		g.Expect(l.Wait(ctx, "list")).To(Succeed()) // the bucket is empty now

		var order []string
		var mu sync.Mutex
		note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
		var wg sync.WaitGroup
		wg.Go(func() { g.Expect(l.Wait(ctx, "list")).To(Succeed()); note("foreground") })
		g.Eventually(func() int { l.mu.Lock(); defer l.mu.Unlock(); return l.waiting["list"] }).Should(Equal(1))
		wg.Go(func() { g.Expect(l.Wait(Background(ctx), "list")).To(Succeed()); note("background") })
		g.Expect(l.Wait(Background(ctx), "other")).To(Succeed(), "other APIs are not held up")
		wg.Wait()
		g.Expect(order).To(Equal([]string{"foreground", "background"}))
	})

	t.Run("a background call gives up with ErrDeferred while foreground calls keep waiting", func(t *testing.T) {
		g := NewWithT(t)
		l := NewLimiter(Limits{QPS: 5, Burst: 1}, nil)
		leave := l.enter("list")
		defer leave()
		err := l.yield(context.Background(), "list", 50*time.Millisecond)
		g.Expect(errors.Is(err, ErrDeferred)).To(BeTrue(), "got %v", err)
		g.Expect(errors.Is(err, ErrRateLimited)).To(BeFalse(), "nothing is wrong with the vendor")
	})

	t.Run("foreground calls do not yield", func(t *testing.T) {
		g := NewWithT(t)
		l := NewLimiter(Limits{QPS: 5, Burst: 1}, nil)
		leave := l.enter("list")
		defer leave()
		start := time.Now()
		g.Expect(l.Wait(context.Background(), "list")).To(Succeed())
		g.Expect(time.Since(start)).To(BeNumerically("<", 100*time.Millisecond))
	})
}

func TestLimiter_NoCallWithoutTimeLeft(t *testing.T) {
	g := NewWithT(t)
	l := NewLimiter(Limits{QPS: 5, Burst: 1}, nil)
	g.Expect(l.Wait(context.Background(), "list")).To(Succeed()) // the next token is 200 ms away
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond+callMargin/2)
	defer cancel()
	err := l.Wait(ctx, "list")
	g.Expect(errors.Is(err, ErrRateLimited)).To(BeTrue(), "a call that could not finish within the pass is not started; got %v", err)
	g.Expect(l.Wait(context.Background(), "list")).To(Succeed(), "the token was given back")
}
