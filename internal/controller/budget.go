package controller

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

// DefaultBudgetFlushInterval is how often the metered calls of providers with a
// call budget are added to their status: a crash loses at most this much of
// the count.
const DefaultBudgetFlushInterval = time.Minute

// changeReserve is the share of a call budget (1/changeReserve) kept for
// changes: drift checks are planned within the rest, so that edits, which
// always go first, still find calls left at the end of the month.
const changeReserve = 10

// budgetWindow returns the calendar month (UTC) that holds now.
func budgetWindow(now time.Time) (start, end time.Time) {
	y, m, _ := now.UTC().Date()
	start = time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 1, 0)
}

// budgetInterval is the drift-check period that keeps a provider's projected
// use inside its budget: each of groups checked once a period, at one metered
// call each (a read of one group), until the window ends, within what is left
// after the calls used and the reserve for changes. It is never shorter than
// base; with nothing left, no check comes before the next window.
func budgetInterval(budget, used int64, groups int, base time.Duration, now, end time.Time) time.Duration {
	left := end.Sub(now)
	spare := budget - used - budget/changeReserve
	switch {
	case groups == 0 || left <= 0:
		return base
	case spare <= 0:
		return max(base, left)
	}
	d := time.Duration(float64(left) * float64(groups) / float64(spare))
	return max(base, d.Round(time.Minute))
}

// nextBudgetStatus is a provider's budget status after metered more calls at
// now: the count restarts with each calendar month.
func nextBudgetStatus(cur *v1alpha1.CallBudgetStatus, budget int64, metered int64, groups int, now time.Time) *v1alpha1.CallBudgetStatus {
	start, end := budgetWindow(now)
	next := &v1alpha1.CallBudgetStatus{WindowStart: &metav1.Time{Time: start}, Used: metered}
	if cur != nil && cur.WindowStart != nil && cur.WindowStart.Time.Equal(start) {
		next.Used += cur.Used
	}
	next.DriftInterval = &metav1.Duration{Duration: budgetInterval(budget, next.Used, groups, defaultSyncInterval, now, end)}
	return next
}

// budgetKeeper adds the metered calls of every provider with spec.callBudget
// to its status.callBudget, with the drift interval in force, every interval.
// It runs on the leader only (a manager Runnable), so one process writes.
type budgetKeeper struct {
	client.Client
	connections *Connections
	interval    time.Duration
	clock       clock.PassiveClock
}

// Start implements manager.Runnable.
func (k *budgetKeeper) Start(ctx context.Context) error {
	t := time.NewTicker(k.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := k.flush(ctx); err != nil {
				ctrl.LoggerFrom(ctx).Error(err, "Recording call budgets failed")
			}
		}
	}
}

// flush records the budgets of every provider that has one.
func (k *budgetKeeper) flush(ctx context.Context) error {
	var ps []ProviderObject
	cps := &v1alpha1.ChatProviderList{}
	if err := k.List(ctx, cps); err != nil {
		return err
	}
	for i := range cps.Items {
		ps = append(ps, &cps.Items[i])
	}
	ccps := &v1alpha1.ClusterChatProviderList{}
	if err := k.List(ctx, ccps); err != nil {
		return err
	}
	for i := range ccps.Items {
		ps = append(ps, &ccps.Items[i])
	}
	for _, p := range ps {
		if err := k.record(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// record adds p's metered calls since the last record to its status.
func (k *budgetKeeper) record(ctx context.Context, p ProviderObject) error {
	budget := p.Settings().CallBudget
	reg, ok := k.connections.Vendors.Get(p.Settings().Vendor)
	if !ok {
		return nil
	}
	metered := k.connections.takeMetered(p, reg) // taken even without a budget: no backlog when one is set
	st := p.ProviderStatus()
	base := p.DeepCopyObject().(ProviderObject)
	if budget == nil {
		st.CallBudget = nil
	} else {
		groups, err := k.groups(ctx, p)
		if err != nil {
			return err
		}
		st.CallBudget = nextBudgetStatus(st.CallBudget, budget.CallsPerMonth, metered, groups, k.clock.Now())
	}
	if equality.Semantic.DeepEqual(base.ProviderStatus(), st) {
		return nil
	}
	if err := k.Status().Patch(ctx, p, client.MergeFrom(base)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("record call budget of %s: %w", p.GetName(), err)
	}
	return nil
}

// groups counts the ChatGroups that use p.
func (k *budgetKeeper) groups(ctx context.Context, p ProviderObject) (int, error) {
	kind := v1alpha1.ChatProviderKind
	opts := []client.ListOption{client.InNamespace(p.GetNamespace())}
	if _, ok := p.(*v1alpha1.ClusterChatProvider); ok {
		kind, opts = v1alpha1.ClusterChatProviderKind, nil
	}
	list := &v1alpha1.ChatGroupList{}
	opts = append(opts, client.MatchingFields{providerRefIndex: string(kind) + "/" + p.GetName()})
	if err := k.List(ctx, list, opts...); err != nil {
		return 0, err
	}
	return len(list.Items), nil
}

// driftInterval returns how long until obj's next drift check: its
// syncInterval, or its provider's budgeted interval when longer, and whether
// a budget is in force.
func (r *ChatGroupReconciler) driftInterval(ctx context.Context, obj *v1alpha1.ChatGroup) (time.Duration, bool) {
	d := syncInterval(obj)
	p, err := r.provider(ctx, obj)
	if err != nil || p.Settings().CallBudget == nil {
		return d, false
	}
	if st := p.ProviderStatus().CallBudget; st != nil && st.DriftInterval != nil {
		d = max(d, st.DriftInterval.Duration)
	}
	return d, true
}

// nextCheckNote is what a group's Ready message says of its next drift check
// under a call budget.
func nextCheckNote(at time.Time, every time.Duration) string {
	return fmt.Sprintf("; next drift check at %s (the provider's call budget allows one every %s)",
		at.UTC().Format(time.RFC3339), every.Round(time.Minute))
}
