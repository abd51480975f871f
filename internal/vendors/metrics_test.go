package vendors_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors/fake"
)

var outcomes = []string{"ok", "not_found", "invalid", "unauthorized", "rate_limited", "quota_exceeded", "unavailable"}

// failing returns a fake whose every method returns err.
func failing(err error) *fake.GroupClient {
	return &fake.GroupClient{
		CheckCredentialsFn: func(context.Context) error { return err },
		ObserveFn: func(context.Context, string, vendors.GroupSpec) (vendors.Observation, error) {
			return vendors.Observation{}, err
		},
		FindFn: func(context.Context, vendors.GroupSpec) ([]string, error) { return nil, err },
		CreateFn: func(context.Context, vendors.GroupSpec) (vendors.ObservedGroup, error) {
			return vendors.ObservedGroup{}, err
		},
		UpdateFn: func(context.Context, vendors.ObservedGroup, vendors.GroupSpec) (vendors.UpdateResult, error) {
			return vendors.UpdateResult{}, err
		},
		DeleteFn: func(context.Context, string) error { return err },
	}
}

// operations maps each metric operation label to the fake's op name and a call.
var operations = []struct {
	label, fakeOp string
	call          func(ctx context.Context, c vendors.GroupClient) error
}{
	{"check_credentials", fake.OpCheckCredentials, func(ctx context.Context, c vendors.GroupClient) error { return c.CheckCredentials(ctx) }},
	{"observe", fake.OpObserve, func(ctx context.Context, c vendors.GroupClient) error {
		_, err := c.Observe(ctx, "g1", vendors.GroupSpec{})
		return err
	}},
	{"find", fake.OpFind, func(ctx context.Context, c vendors.GroupClient) error {
		_, err := c.Find(ctx, vendors.GroupSpec{})
		return err
	}},
	{"create", fake.OpCreate, func(ctx context.Context, c vendors.GroupClient) error {
		_, err := c.Create(ctx, vendors.GroupSpec{})
		return err
	}},
	{"update", fake.OpUpdate, func(ctx context.Context, c vendors.GroupClient) error {
		_, err := c.Update(ctx, vendors.ObservedGroup{ID: "g1"}, vendors.GroupSpec{})
		return err
	}},
	{"delete", fake.OpDelete, func(ctx context.Context, c vendors.GroupClient) error { return c.Delete(ctx, "g1") }},
}

// calls reads one counter, as testutil.ToFloat64 would. testutil itself is not
// used: it imports github.com/kylelemons/godebug, which go.mod does not list.
func calls(vendor, op, outcome string) float64 {
	var m dto.Metric
	if err := vendors.CallsTotal.WithLabelValues(vendor, op, outcome).Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

func TestInstrument(t *testing.T) {
	errs := []struct {
		outcome string
		err     error
	}{
		{"ok", nil},
		{"not_found", vendors.NewError(vendors.ErrNotFound, "op", "", "")},
		{"invalid", fmt.Errorf("wrapped: %w", vendors.NewError(vendors.ErrInvalid, "op", "", ""))},
		{"unauthorized", vendors.NewError(vendors.ErrUnauthorized, "op", "", "")},
		{"rate_limited", vendors.NewError(vendors.ErrRateLimited, "op", "", "")}, // no RetryAfter: no hold-off
		{"quota_exceeded", vendors.NewError(vendors.ErrQuotaExceeded, "op", "", "")},
		{"unavailable", errors.New("unclassified")},
	}
	for _, op := range operations {
		for _, e := range errs {
			t.Run(op.label+"/"+e.outcome, func(t *testing.T) {
				g := NewWithT(t)
				vendor := "test-instrument-" + op.label + "-" + e.outcome
				inner := failing(e.err)
				c := vendors.Instrument(vendor, inner)

				for range 2 {
					err := op.call(context.Background(), c)
					if e.err == nil {
						g.Expect(err).NotTo(HaveOccurred())
					} else {
						g.Expect(err).To(BeIdenticalTo(e.err), "the inner error is returned unchanged")
					}
				}
				reached := 2
				if e.outcome == "unauthorized" {
					reached = 1 // the second call is held off after the rejection
				}
				g.Expect(inner.Count(op.fakeOp, nil)).To(Equal(reached))
				for _, o := range outcomes {
					want := 0.0
					if o == e.outcome {
						want = float64(reached)
					}
					g.Expect(calls(vendor, op.label, o)).To(Equal(want), "outcome %s", o)
				}
			})
		}
	}

	t.Run("results pass through", func(t *testing.T) {
		g := NewWithT(t)
		obs := vendors.Observation{Exists: true, Diff: "[name]", Group: vendors.ObservedGroup{ID: "g1"}}
		grp := vendors.ObservedGroup{ID: "g2", Members: []string{"a"}}
		res := vendors.UpdateResult{Added: []string{"b"}, OwnerTransferred: true}
		inner := &fake.GroupClient{
			ObserveFn: func(_ context.Context, id string, _ vendors.GroupSpec) (vendors.Observation, error) {
				g.Expect(id).To(Equal("g1"))
				return obs, nil
			},
			FindFn: func(context.Context, vendors.GroupSpec) ([]string, error) { return []string{"g1", "g2"}, nil },
			CreateFn: func(_ context.Context, want vendors.GroupSpec) (vendors.ObservedGroup, error) {
				g.Expect(want.Name).To(Equal("team"))
				return grp, nil
			},
			UpdateFn: func(context.Context, vendors.ObservedGroup, vendors.GroupSpec) (vendors.UpdateResult, error) {
				return res, nil
			},
		}
		c := vendors.Instrument("test-instrument-results", inner)
		ctx := context.Background()

		gotObs, err := c.Observe(ctx, "g1", vendors.GroupSpec{})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(gotObs).To(Equal(obs))
		ids, err := c.Find(ctx, vendors.GroupSpec{})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(ids).To(Equal([]string{"g1", "g2"}))
		gotGrp, err := c.Create(ctx, vendors.GroupSpec{Name: "team"})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(gotGrp).To(Equal(grp))
		gotRes, err := c.Update(ctx, grp, vendors.GroupSpec{})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(gotRes).To(Equal(res))
	})
}

func TestOutcome(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "nil", err: nil, want: "ok"},
		{name: "not found", err: vendors.NewError(vendors.ErrNotFound, "", "", ""), want: "not_found"},
		{name: "invalid", err: vendors.NewError(vendors.ErrInvalid, "", "", ""), want: "invalid"},
		{name: "unauthorized", err: vendors.NewError(vendors.ErrUnauthorized, "", "", ""), want: "unauthorized"},
		{name: "rate limited", err: vendors.NewError(vendors.ErrRateLimited, "", "", ""), want: "rate_limited"},
		{name: "quota exceeded", err: vendors.NewError(vendors.ErrQuotaExceeded, "", "", ""), want: "quota_exceeded"},
		{name: "unavailable", err: vendors.NewError(vendors.ErrUnavailable, "", "", ""), want: "unavailable"},
		{name: "bare sentinel", err: vendors.ErrQuotaExceeded, want: "quota_exceeded"},
		{name: "wrapped", err: fmt.Errorf("a: %w", fmt.Errorf("b: %w", vendors.NewError(vendors.ErrInvalid, "", "", ""))), want: "invalid"},
		{name: "unclassified", err: errors.New("boom"), want: "unavailable"},
		{name: "context cancelled", err: context.Canceled, want: "unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(vendors.Outcome(tt.err)).To(Equal(tt.want))
		})
	}
}

func TestInstrumentPassesThrottlesOn(t *testing.T) {
	// A throttle is held off per vendor API by the credential's Limiter
	// (TestLimiter_Note); Instrument must not fail whole operations for it, or
	// every group waiting on the operation comes back at the same moment.
	g := NewWithT(t)
	ctx := context.Background()
	throttled := &vendors.Error{Class: vendors.ErrRateLimited, Op: "chat/get", RetryAfter: time.Hour}
	calls := 0
	inner := &fake.GroupClient{
		ObserveFn: func(context.Context, string, vendors.GroupSpec) (vendors.Observation, error) {
			calls++
			if calls == 1 {
				return vendors.Observation{}, throttled
			}
			return vendors.Observation{Exists: true}, nil
		},
	}
	c := vendors.Instrument("test-throttle-passthrough", inner)

	_, err := c.Observe(ctx, "g1", vendors.GroupSpec{})
	g.Expect(err).To(BeIdenticalTo(throttled))
	obs, err := c.Observe(ctx, "g2", vendors.GroupSpec{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(obs.Exists).To(BeTrue())
	g.Expect(inner.Count(fake.OpObserve, nil)).To(Equal(2), "the second operation reached the client, whose limiter decides")
}

func TestInstrumentHoldsOffAfterRejectedCredentials(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	clk := vendors.NewFakeClock()
	rejected := vendors.NewError(vendors.ErrUnauthorized, "get access token", "40014", "invalid credentials")
	accept := false
	inner := &fake.GroupClient{
		ObserveFn: func(context.Context, string, vendors.GroupSpec) (vendors.Observation, error) {
			if accept {
				return vendors.Observation{Exists: true}, nil
			}
			return vendors.Observation{}, rejected
		},
		CheckCredentialsFn: func(context.Context) error { return nil },
	}
	c := vendors.Instrument("test-unauthorized", inner)
	vendors.SetInstrumentClock(c, clk)

	_, err := c.Observe(ctx, "g1", vendors.GroupSpec{})
	g.Expect(err).To(BeIdenticalTo(rejected))
	for _, call := range []func() error{
		func() error { _, err := c.Observe(ctx, "g2", vendors.GroupSpec{}); return err },
		func() error { return c.CheckCredentials(ctx) },
	} {
		g.Expect(call()).To(BeIdenticalTo(rejected), "every operation is held off, not just the one rejected")
	}
	g.Expect(inner.Count(fake.OpObserve, nil)).To(Equal(1))
	g.Expect(inner.Count(fake.OpCheckCredentials, nil)).To(Equal(0))

	accept = true
	clk.Step(vendors.UnauthorizedHoldOff)
	_, err = c.Observe(ctx, "g1", vendors.GroupSpec{})
	g.Expect(err).NotTo(HaveOccurred(), "the vendor is asked again once the hold-off ends")
	g.Expect(inner.Count(fake.OpObserve, nil)).To(Equal(2))
}
