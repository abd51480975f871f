package vendors

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/clock"
)

var (
	callsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "chatgroup_vendor_calls_total",
		Help: "Vendor operations by vendor, operation and outcome (ok or the error class).",
	}, []string{"vendor", "operation", "outcome"})

	callDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "chatgroup_vendor_call_duration_seconds",
		Help:    "Latency of vendor operations by vendor, operation and outcome.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"vendor", "operation", "outcome"})
)

// MustRegisterMetrics registers the vendor metrics with reg (the manager's registry).
func MustRegisterMetrics(reg prometheus.Registerer) {
	reg.MustRegister(callsTotal, callDuration)
}

// Outcome names err's class for metrics: "ok", "not_found", "invalid",
// "unauthorized", "rate_limited", "quota_exceeded", "in_progress" or "unavailable".
func Outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrInvalid):
		return "invalid"
	case errors.Is(err, ErrUnauthorized):
		return "unauthorized"
	case errors.Is(err, ErrRateLimited):
		return "rate_limited"
	case errors.Is(err, ErrQuotaExceeded):
		return "quota_exceeded"
	case errors.Is(err, ErrInProgress):
		return "in_progress"
	}
	return "unavailable"
}

func record(vendor, op string, start time.Time, err error) {
	outcome := Outcome(err)
	callsTotal.WithLabelValues(vendor, op, outcome).Inc()
	callDuration.WithLabelValues(vendor, op, outcome).Observe(time.Since(start).Seconds())
}

// UnauthorizedHoldOff is how long a client whose credentials the vendor rejected
// answers every call with that rejection instead of calling the vendor. A changed
// Secret gets a new client, so a fix takes effect at once.
const UnauthorizedHoldOff = 5 * time.Minute

// Instrument wraps c so every operation that reaches c is counted and timed under
// vendor, and the vendor is spared calls that cannot succeed: after the vendor
// rejected the credentials no call is made for UnauthorizedHoldOff (it fails
// fast with the rejection). One wrapped client serves every group of a
// credential, so the hold-off covers them all; held-off calls reach neither c
// nor the metrics. Throttling is held off per vendor API by the credential's
// Limiter (Limiter.Note), not here: failing every operation for the vendor's
// delay sent every waiting group back to the queue with the same retry time,
// and at the next second they all came back at once, were throttled again and
// failed again (at N=1000 groups of a vendor allowing 10 calls per second, a periodic resync never finished).
func Instrument(vendor string, c GroupClient) GroupClient {
	return &instrumented{vendor: vendor, next: c, clock: clock.RealClock{}}
}

type instrumented struct {
	vendor string
	next   GroupClient
	clock  clock.PassiveClock

	mu             sync.Mutex
	rejectedUntil  time.Time
	rejectedReason error
}

var _ GroupClient = &instrumented{}

// call runs fn as operation op unless the credentials hold-off applies, records
// it in the metrics, and starts the hold-off when the vendor rejected the
// credentials.
func (i *instrumented) call(op string, fn func() error) error {
	now := i.clock.Now()
	i.mu.Lock()
	rejectedUntil, rejected := i.rejectedUntil, i.rejectedReason
	i.mu.Unlock()
	if now.Before(rejectedUntil) {
		return rejected
	}
	err := fn()
	record(i.vendor, op, now, err)
	if errors.Is(err, ErrUnauthorized) {
		i.mu.Lock()
		defer i.mu.Unlock()
		i.rejectedUntil, i.rejectedReason = i.clock.Now().Add(UnauthorizedHoldOff), err
	}
	return err
}

// CheckCredentials implements GroupClient.
func (i *instrumented) CheckCredentials(ctx context.Context) error {
	return i.call("check_credentials", func() error { return i.next.CheckCredentials(ctx) })
}

// Observe implements GroupClient.
func (i *instrumented) Observe(ctx context.Context, id string, want GroupSpec) (o Observation, err error) {
	err = i.call("observe", func() error { o, err = i.next.Observe(ctx, id, want); return err })
	return o, err
}

// Find implements GroupClient.
func (i *instrumented) Find(ctx context.Context, want GroupSpec) (ids []string, err error) {
	err = i.call("find", func() error { ids, err = i.next.Find(ctx, want); return err })
	return ids, err
}

// Create implements GroupClient.
func (i *instrumented) Create(ctx context.Context, want GroupSpec) (g ObservedGroup, err error) {
	err = i.call("create", func() error { g, err = i.next.Create(ctx, want); return err })
	return g, err
}

// Update implements GroupClient.
func (i *instrumented) Update(ctx context.Context, got ObservedGroup, want GroupSpec) (r UpdateResult, err error) {
	err = i.call("update", func() error { r, err = i.next.Update(ctx, got, want); return err })
	return r, err
}

// Delete implements GroupClient.
func (i *instrumented) Delete(ctx context.Context, id string) error {
	return i.call("delete", func() error { return i.next.Delete(ctx, id) })
}

// Unwrap returns the instrumented client, for Optional.
func (i *instrumented) Unwrap() GroupClient { return i.next }
