package vendors

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
// "unauthorized", "rate_limited", "quota_exceeded" or "unavailable".
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
	}
	return "unavailable"
}

func record(vendor, op string, start time.Time, err error) {
	outcome := Outcome(err)
	callsTotal.WithLabelValues(vendor, op, outcome).Inc()
	callDuration.WithLabelValues(vendor, op, outcome).Observe(time.Since(start).Seconds())
}

// Instrument wraps c so every operation is counted and timed under vendor.
func Instrument(vendor string, c GroupClient) GroupClient {
	return instrumented{vendor: vendor, next: c}
}

type instrumented struct {
	vendor string
	next   GroupClient
}

var _ GroupClient = instrumented{}

// record takes err by pointer so the deferred call sees the returned error.
func (i instrumented) record(op string, start time.Time, err *error) {
	record(i.vendor, op, start, *err)
}

func (i instrumented) CheckCredentials(ctx context.Context) (err error) {
	defer i.record("check_credentials", time.Now(), &err)
	return i.next.CheckCredentials(ctx)
}

func (i instrumented) Observe(ctx context.Context, id string, want GroupSpec) (o Observation, err error) {
	defer i.record("observe", time.Now(), &err)
	return i.next.Observe(ctx, id, want)
}

func (i instrumented) Find(ctx context.Context, want GroupSpec) (ids []string, err error) {
	defer i.record("find", time.Now(), &err)
	return i.next.Find(ctx, want)
}

func (i instrumented) Create(ctx context.Context, want GroupSpec) (g ObservedGroup, err error) {
	defer i.record("create", time.Now(), &err)
	return i.next.Create(ctx, want)
}

func (i instrumented) Update(ctx context.Context, got ObservedGroup, want GroupSpec) (r UpdateResult, err error) {
	defer i.record("update", time.Now(), &err)
	return i.next.Update(ctx, got, want)
}

func (i instrumented) Delete(ctx context.Context, id string) (err error) {
	defer i.record("delete", time.Now(), &err)
	return i.next.Delete(ctx, id)
}
