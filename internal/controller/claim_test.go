package controller

import (
	"context"
	"errors"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors/fake"
)

func TestParseClaim(t *testing.T) {
	at := time.Date(2026, 5, 4, 3, 2, 1, 500, time.UTC)
	for _, tc := range []struct {
		name  string
		value string
		want  createClaim
	}{
		{name: "round trip", value: createClaim{instance: "a1b2", at: at}.String(), want: createClaim{instance: "a1b2", at: at}},
		{name: "older versions wrote true", value: "true"},
		{name: "written by hand", value: "yes/please"},
		{name: "empty", value: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got := parseClaim(tc.value)
			g.Expect(got.instance).To(Equal(tc.want.instance))
			g.Expect(got.at.Equal(tc.want.at)).To(BeTrue(), "at %v, want %v", got.at, tc.want.at)
		})
	}
}

func TestChatGroupReconciler_recoverCreateWaitsForAnotherInstance(t *testing.T) {
	now := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	const timeout, grace = 20 * time.Second, time.Minute
	claimBy := func(instance string, age time.Duration) string {
		return createClaim{instance: instance, at: now.Add(-age)}.String()
	}
	findNothing := func(context.Context, vendors.GroupSpec) ([]string, error) { return nil, nil }
	findUnidentifiable := func(context.Context, vendors.GroupSpec) ([]string, error) {
		return nil, &vendors.Error{Class: vendors.ErrInvalid, Op: "search", Message: "a group exists that cannot be identified"}
	}
	findTwo := func(context.Context, vendors.GroupSpec) ([]string, error) { return []string{"grp-1", "grp-2"}, nil }
	for _, tc := range []struct {
		name       string
		claim      string
		find       func(context.Context, vendors.GroupSpec) ([]string, error)
		wantReason string // CreatingReason: waiting; CreateIncompleteReason: stalled; "": create again
		wantWho    string // who began the create, as the waiting message says
	}{
		{name: "nothing found, another instance's fresh claim: wait",
			claim: claimBy("other", time.Second), find: findNothing, wantReason: v1alpha1.CreatingReason,
			wantWho: "another instance of the operator (other)"},
		{name: "nothing found, this instance's own fresh claim: the vendor may not show the group yet, wait",
			claim: claimBy("me", time.Second), find: findNothing, wantReason: v1alpha1.CreatingReason,
			wantWho: "this instance of the operator"},
		{name: "nothing found, claim just inside vendor timeout, margin and the vendor's grace: wait",
			claim: claimBy("other", timeout+claimMargin+grace-time.Millisecond), find: findNothing, wantReason: v1alpha1.CreatingReason,
			wantWho: "another instance of the operator (other)"},
		{name: "unidentifiable group, another instance's fresh claim: wait",
			claim: claimBy("other", time.Second), find: findUnidentifiable, wantReason: v1alpha1.CreatingReason,
			wantWho: "Another instance of the operator (other)"},
		{name: "nothing found once the vendor could show the group: create again",
			claim: claimBy("other", timeout+claimMargin+grace), find: findNothing},
		{name: "nothing found, this instance's old claim: create again",
			claim: claimBy("me", timeout+claimMargin+grace), find: findNothing},
		{name: "nothing found, claim of unknown age: create again",
			claim: "true", find: findNothing},
		{name: "unidentifiable group, claim of unknown origin: stall",
			claim: "true", find: findUnidentifiable, wantReason: v1alpha1.CreateIncompleteReason},
		{name: "two groups found: waiting cannot help, stall",
			claim: claimBy("other", time.Second), find: findTwo, wantReason: v1alpha1.CreateIncompleteReason},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			r, obj, rec := stepReconciler(t, stepGroup(withAnnotation(v1alpha1.CreatePendingAnnotation, tc.claim)))
			r.Instance, r.Clock, r.VendorTimeout = "me", clocktesting.NewFakePassiveClock(now), timeout
			gc := &fake.GroupClient{FindFn: tc.find}

			_, found, err := r.locateGroup(t.Context(), obj, gc, desiredGroup(obj, vendors.Registration{}), grace)

			g.Expect(found).To(BeFalse())
			g.Expect(gc.Count(fake.OpFind, nil)).To(Equal(1))
			g.Expect(gc.Count(fake.OpCreate, nil)).To(Equal(0), "locateGroup never creates")
			if tc.wantReason == "" {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(stored(t, r, obj).Annotations).NotTo(HaveKey(v1alpha1.CreatePendingAnnotation), "claim dropped: the create follows")
				g.Expect(drainEvents(rec)).To(ConsistOf(And(HavePrefix("Normal "+v1alpha1.RecreatingReason+" "), ContainSubstring("creating it again"))))
				return
			}
			var re *reasonError
			g.Expect(errors.As(err, &re)).To(BeTrue(), "want a reason error, got %v", err)
			g.Expect(re.reason).To(Equal(tc.wantReason), re.message)
			g.Expect(re.stalled).To(Equal(tc.wantReason == v1alpha1.CreateIncompleteReason))
			if !re.stalled {
				g.Expect(re.message).To(ContainSubstring(tc.wantWho))
			}
			g.Expect(stored(t, r, obj).Annotations).To(HaveKeyWithValue(v1alpha1.CreatePendingAnnotation, tc.claim))
			g.Expect(drainEvents(rec)).To(BeEmpty())
		})
	}

	t.Run("one group found under another instance's fresh claim is adopted at once", func(t *testing.T) {
		g := NewWithT(t)
		r, obj, _ := stepReconciler(t, stepGroup(withAnnotation(v1alpha1.CreatePendingAnnotation, claimBy("other", time.Second))))
		r.Instance, r.Clock, r.VendorTimeout = "me", clocktesting.NewFakePassiveClock(now), timeout
		gc := &fake.GroupClient{
			FindFn:    func(context.Context, vendors.GroupSpec) ([]string, error) { return []string{"grp-1"}, nil },
			ObserveFn: observeExisting("grp-1"),
		}

		_, found, err := r.locateGroup(t.Context(), obj, gc, desiredGroup(obj, vendors.Registration{}), grace)

		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(found).To(BeTrue())
		g.Expect(stored(t, r, obj).Annotations).To(HaveKeyWithValue(v1alpha1.GroupIDAnnotation, "grp-1"))
	})
}

func TestChatGroupReconciler_createGroupClaims(t *testing.T) {
	now := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)

	t.Run("the claim names this instance and the time", func(t *testing.T) {
		g := NewWithT(t)
		r, obj, _ := stepReconciler(t, stepGroup())
		r.Instance, r.Clock = "me", clocktesting.NewFakePassiveClock(now)
		var claim string
		gc := &fake.GroupClient{CreateFn: func(ctx context.Context, _ vendors.GroupSpec) (vendors.ObservedGroup, error) {
			cur := &v1alpha1.ChatGroup{}
			g.Expect(r.Get(ctx, client.ObjectKeyFromObject(obj), cur)).To(Succeed())
			claim = cur.Annotations[v1alpha1.CreatePendingAnnotation]
			return vendors.ObservedGroup{}, vendors.NewError(vendors.ErrUnavailable, "create group", "", "timeout")
		}}

		_, err := r.createGroup(t.Context(), obj, gc, desiredGroup(obj, vendors.Registration{}))

		g.Expect(err).To(MatchError(vendors.ErrUnavailable))
		g.Expect(claim).To(Equal("me/2026-05-04T12:00:00Z"))
		g.Expect(stored(t, r, obj).Annotations).To(HaveKeyWithValue(v1alpha1.CreatePendingAnnotation, claim), "kept: the create may have been applied")
	})

	t.Run("an object changed since it was read is not claimed and not created", func(t *testing.T) {
		g := NewWithT(t)
		r, obj, _ := stepReconciler(t, stepGroup())
		r.Instance, r.Clock = "me", clocktesting.NewFakePassiveClock(now)
		// Another instance claims it first.
		other := obj.DeepCopy()
		metav1SetAnnotation(other, v1alpha1.CreatePendingAnnotation, createClaim{instance: "other", at: now}.String())
		g.Expect(r.Update(t.Context(), other)).To(Succeed())
		gc := &fake.GroupClient{}

		_, err := r.createGroup(t.Context(), obj, gc, desiredGroup(obj, vendors.Registration{}))

		g.Expect(apierrors.IsConflict(errors.Unwrap(err))).To(BeTrue(), "want a conflict, got %v", err)
		g.Expect(gc.Calls()).To(BeEmpty(), "no create call")
		g.Expect(stored(t, r, obj).Annotations).To(HaveKeyWithValue(v1alpha1.CreatePendingAnnotation, "other/2026-05-04T12:00:00Z"))
	})
}
