package operator_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/registry"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// peopleWait bounds each wait for a propagated change: no syncInterval is
// waited out (groups here check drift every 10 minutes), so only watches can
// make these deadlines.
const peopleWait = 30 * time.Second

// writes counts the simulator's successful write calls.
func writes(h vendorsim.Harness) map[string]int {
	out := map[string]int{}
	for _, c := range h.Core().Calls() {
		if h.IsWrite(c.Op) && c.Outcome == "ok" {
			out[c.Op]++
		}
	}
	return out
}

// writesSince returns the write calls made since before, by operation.
func writesSince(h vendorsim.Harness, before map[string]int) map[string]int {
	out := map[string]int{}
	for op, n := range writes(h) {
		if d := n - before[op]; d > 0 {
			out[op] = d
		}
	}
	return out
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// heldDirectly is 1 when the vendor group holds id as a member (the vendor
// adds members directly), 0 when id is still to join by invite link.
func heldDirectly(h vendorsim.Harness, cg *v1alpha1.ChatGroup, id string) int {
	if _, members, _ := h.Lookup(cg.Status.GroupID); slices.Contains(members, id) {
		return 1
	}
	return 0
}

// otherVendor is a registered vendor other than v: an account for it does not
// map a person onto v's groups.
func otherVendor(v v1alpha1.Vendor) v1alpha1.Vendor {
	for _, reg := range registry.Simulators() {
		if reg.Vendor != v {
			return reg.Vendor
		}
	}
	return "none"
}

// chatUser makes a ChatUser with one account.
func chatUser(ns, name string, lbls map[string]string, v v1alpha1.Vendor, id string) *v1alpha1.ChatUser {
	return &v1alpha1.ChatUser{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: lbls},
		Spec:       v1alpha1.ChatUserSpec{Accounts: []v1alpha1.ChatUserAccount{{Vendor: v, ID: id}}},
	}
}

// vendorHolds waits until the vendor group holds exactly want (owner
// included) as members, or, where members join by themselves (MembersSynced
// False, AwaitingInvitees), nobody outside want.
func vendorHolds(t *testing.T, h vendorsim.Harness, cg *v1alpha1.ChatGroup, want []string) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(context.Background(), client.ObjectKeyFromObject(cg), cg)).To(Succeed())
		_, members, ok := h.Lookup(cg.Status.GroupID)
		g.Expect(ok).To(BeTrue())
		if synced := meta.FindStatusCondition(cg.Status.Conditions, v1alpha1.MembersSyncedCondition); synced != nil &&
			synced.Reason == v1alpha1.AwaitingInviteesReason {
			g.Expect(want).To(ContainElements(members))
			g.Expect(synced.Message).To(ContainSubstring("%d listed members have not joined yet", len(want)-len(members)))
			return
		}
		g.Expect(members).To(ConsistOf(want))
	}).WithTimeout(peopleWait).Should(Succeed())
}

// TestPeople walks every registered vendor through membersFrom and ownerRef
// against its simulator: a group built from a selector, a label that adds a
// person (one write), a deleted ChatUser removed (one write), a person without
// an account for the vendor listed in status.unresolvedUsers while the group
// is Ready, an ownerRef change transferring ownership, and a groupRef cycle.
func TestPeople(t *testing.T) {
	for _, reg := range registry.Simulators() {
		t.Run(string(reg.Vendor), func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			ctx := context.Background()
			h := reg.Start(vendorsim.SimConfig{})
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			ns := env.Namespace(t)
			p := env.SimProvider(t, ns, "vendor", h, srv.URL)
			env.WaitProvider(t, p, metav1.ConditionTrue, "")
			h.AddUsers(h.User(0), h.User(1), h.User(2), h.User(3), h.User(4), h.User(5))

			sre := map[string]string{"team": "sre"}
			for _, u := range []*v1alpha1.ChatUser{
				chatUser(ns, "boss", nil, reg.Vendor, h.User(0)),
				chatUser(ns, "alice", sre, reg.Vendor, h.User(1)),
				chatUser(ns, "bob", sre, reg.Vendor, h.User(2)),
				chatUser(ns, "carol", nil, reg.Vendor, h.User(3)),
				chatUser(ns, "nomad", sre, otherVendor(reg.Vendor), "someone-elsewhere"),
				chatUser(ns, "heir", nil, reg.Vendor, h.User(5)),
			} {
				g.Expect(env.Client.Create(ctx, u)).To(Succeed())
			}

			cg := &v1alpha1.ChatGroup{
				ObjectMeta: metav1.ObjectMeta{Name: "people", Namespace: ns},
				Spec: v1alpha1.ChatGroupSpec{Vendor: reg.Vendor, ProviderRef: v1alpha1.ProviderReference{Name: p.Name},
					Name: "People", Members: []string{h.User(4)},
					MembersFrom: []v1alpha1.MembersSource{{Selector: &metav1.LabelSelector{MatchLabels: sre}}}},
			}
			h.Spec(&cg.Spec, h.User(0))
			hasOwner := cg.Spec.Owner != ""
			owner := []string{}
			if hasOwner {
				cg.Spec.Owner = ""
				cg.Spec.OwnerRef = &v1alpha1.ChatUserReference{Name: "boss"}
				owner = []string{h.User(0)}
			}
			g.Expect(env.Client.Create(ctx, cg)).To(Succeed())

			// From a selector; the person without an account is left out and named.
			got := env.WaitReady(t, cg)
			vendorHolds(t, h, got, append(slices.Clone(owner), h.User(4), h.User(1), h.User(2)))
			g.Expect(got.Status.UnresolvedUsers).To(Equal([]string{"nomad"}))
			mr := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.MembersResolvedCondition)
			g.Expect(mr).NotTo(BeNil())
			g.Expect(mr.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(mr.Reason).To(Equal(v1alpha1.UnmappedUsersReason))
			g.Expect(mr.Message).To(ContainSubstring("nomad"))
			g.Expect(meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ReadyCondition).Message).
				To(ContainSubstring("except the people and IDs left out"))

			// A label added to carol adds her: one write.
			before := writes(h)
			carol := &v1alpha1.ChatUser{}
			g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "carol"}, carol)).To(Succeed())
			patch := client.MergeFrom(carol.DeepCopy())
			carol.Labels = sre
			g.Expect(env.Client.Patch(ctx, carol, patch)).To(Succeed())
			vendorHolds(t, h, got, append(slices.Clone(owner), h.User(4), h.User(1), h.User(2), h.User(3)))
			// One write where the vendor adds members directly (DingTalk: one
			// group/update); none where they join by invite link (already published).
			g.Expect(total(writesSince(h, before))).To(Equal(heldDirectly(h, got, h.User(3))), "writes: %v", writesSince(h, before))

			// Deleting alice removes her: one write where she was in the group.
			wasIn := heldDirectly(h, got, h.User(1))
			before = writes(h)
			g.Expect(env.Client.Delete(ctx, &v1alpha1.ChatUser{ObjectMeta: metav1.ObjectMeta{Name: "alice", Namespace: ns}})).To(Succeed())
			vendorHolds(t, h, got, append(slices.Clone(owner), h.User(4), h.User(2), h.User(3)))
			g.Expect(total(writesSince(h, before))).To(Equal(wasIn), "writes: %v", writesSince(h, before))

			// The ownerRef moves to heir: ownership is transferred.
			if hasOwner {
				before = writes(h)
				patch := client.MergeFrom(got.DeepCopy())
				got.Spec.OwnerRef = &v1alpha1.ChatUserReference{Name: "heir"}
				g.Expect(env.Client.Patch(ctx, got, patch)).To(Succeed())
				want := got.Spec
				want.OwnerRef, want.Owner = nil, h.User(5)
				g.Eventually(func() error { return h.Verify(got.Status.GroupID, want, nil) }).WithTimeout(peopleWait).Should(Succeed())
				vendorHolds(t, h, got, []string{h.User(5), h.User(4), h.User(2), h.User(3)})
				// Add the heir, transfer, remove the old owner (the simulators refuse a
				// transfer to a non-member): three writes.
				g.Expect(total(writesSince(h, before))).To(Equal(3), "writes: %v", writesSince(h, before))
			}

			// A groupRef cycle stalls, naming it.
			// Both are created suspended: neither resolves before the other exists.
			loopA := &v1alpha1.ChatGroup{ObjectMeta: metav1.ObjectMeta{Name: "loop-a", Namespace: ns}, Spec: cg.Spec}
			loopA.Spec.Suspend = true
			loopA.Spec.MembersFrom = []v1alpha1.MembersSource{{GroupRef: &v1alpha1.ChatGroupReference{Name: "loop-b"}}}
			loopB := loopA.DeepCopy()
			loopB.Name = "loop-b"
			loopB.Spec.MembersFrom = []v1alpha1.MembersSource{{GroupRef: &v1alpha1.ChatGroupReference{Name: "loop-a"}}}
			before = writes(h)
			g.Expect(env.Client.Create(ctx, loopA)).To(Succeed())
			g.Expect(env.Client.Create(ctx, loopB)).To(Succeed())
			for _, l := range []*v1alpha1.ChatGroup{loopA, loopB} {
				patch := client.MergeFrom(l.DeepCopy())
				l.Spec.Suspend = false
				g.Expect(env.Client.Patch(ctx, l, patch)).To(Succeed())
			}
			stalled := env.WaitFor(t, loopB, metav1.ConditionFalse, v1alpha1.InvalidSpecReason)
			g.Expect(meta.IsStatusConditionTrue(stalled.Status.Conditions, v1alpha1.StalledCondition)).To(BeTrue())
			g.Expect(meta.FindStatusCondition(stalled.Status.Conditions, v1alpha1.StalledCondition).Message).
				To(ContainSubstring("groupRef cycle loop-b -> loop-a -> loop-b"))
			env.WaitFor(t, loopA, metav1.ConditionFalse, v1alpha1.InvalidSpecReason)
			g.Expect(writesSince(h, before)).To(BeEmpty(), "a cycle makes no vendor call")
		})
	}
}

// refusals counts the simulator's write calls that failed.
func refusals(h vendorsim.Harness) int {
	n := 0
	for _, c := range h.Core().Calls() {
		if h.IsWrite(c.Op) && c.Outcome == "error" {
			n++
		}
	}
	return n
}

// TestUnknownMembers: one member ID the vendor does not know must not block
// the rest. A change that adds a known and an unknown user and removes two is
// applied except for the unknown ID, which status names (UnknownToVendor)
// while Ready says the group matches everything else; a later check asks the
// vendor again, and adds the user once the vendor knows them.
func TestUnknownMembers(t *testing.T) {
	for _, reg := range registry.Simulators() {
		t.Run(string(reg.Vendor), func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			ctx := context.Background()
			h := reg.Start(vendorsim.SimConfig{})
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			ns := env.Namespace(t)
			p := env.SimProvider(t, ns, "vendor", h, srv.URL)
			env.WaitProvider(t, p, metav1.ConditionTrue, "")
			h.AddUsers(h.User(0), h.User(1), h.User(2), h.User(3), h.User(4))
			ghost := h.User(99) // never added to the vendor's directory

			cg := &v1alpha1.ChatGroup{
				ObjectMeta: metav1.ObjectMeta{Name: "unknown", Namespace: ns},
				Spec: v1alpha1.ChatGroupSpec{Vendor: reg.Vendor, ProviderRef: v1alpha1.ProviderReference{Name: p.Name},
					Name: "Unknown", Members: []string{h.User(1), h.User(2), h.User(3)}},
			}
			h.Spec(&cg.Spec, h.User(0))
			g.Expect(env.Client.Create(ctx, cg)).To(Succeed())
			got := env.WaitReady(t, cg)
			owner := []string{}
			if got.Spec.Owner != "" {
				owner = []string{got.Spec.Owner}
			}

			before, refusedBefore := writes(h), refusals(h)
			patch := client.MergeFrom(got.DeepCopy())
			got.Spec.Members = []string{h.User(1), h.User(4), ghost}
			g.Expect(env.Client.Patch(ctx, got, patch)).To(Succeed())
			got = env.WaitReady(t, got)
			g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
			if !slices.Contains(got.Status.UnresolvedUsers, ghost) {
				// The vendor has no user directory (members join by invite link):
				// nobody is unknown to it, and nothing was refused.
				g.Expect(refusals(h)).To(Equal(refusedBefore))
				g.Expect(meta.FindStatusCondition(got.Status.Conditions, v1alpha1.MembersResolvedCondition)).To(BeNil())
				vendorHolds(t, h, got, append(slices.Clone(owner), h.User(1), h.User(4), ghost))
				return
			}
			vendorHolds(t, h, got, append(slices.Clone(owner), h.User(1), h.User(4)))
			g.Expect(got.Status.UnresolvedUsers).To(Equal([]string{ghost}))
			mr := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.MembersResolvedCondition)
			g.Expect(mr).NotTo(BeNil())
			g.Expect(mr.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(mr.Reason).To(Equal(v1alpha1.UnknownToVendorReason))
			g.Expect(mr.Message).To(ContainSubstring(ghost))
			g.Expect(meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ReadyCondition).Message).
				To(ContainSubstring("except the people and IDs left out"))
			// At most one refused call (none where the vendor applies the rest and
			// names the unknown IDs in its answer); then the removals and the known
			// add, one or two writes as the vendor batches them.
			g.Expect(refusals(h)-refusedBefore).To(BeNumerically("<=", 1), "writes: %v", writesSince(h, before))
			g.Expect(total(writesSince(h, before))).To(BeNumerically("<=", 2), "writes: %v", writesSince(h, before))

			// A check asks again, in one call: the ID is still unknown and still
			// left out, and the rest stays as it is.
			before, refusedBefore = writes(h), refusals(h)
			env.RequestReconcile(t, got)
			got = env.WaitReady(t, got)
			g.Expect(got.Status.UnresolvedUsers).To(Equal([]string{ghost}))
			g.Expect(total(writesSince(h, before))+refusals(h)-refusedBefore).To(Equal(1), "writes: %v", writesSince(h, before))
			vendorHolds(t, h, got, append(slices.Clone(owner), h.User(1), h.User(4)))

			// Once the vendor knows the user (made in its console), the next
			// check adds them, with no spec change.
			h.AddUsers(ghost)
			env.RequestReconcile(t, got)
			vendorHolds(t, h, got, append(slices.Clone(owner), h.User(1), h.User(4), ghost))
			got = env.WaitReady(t, got)
			g.Expect(got.Status.UnresolvedUsers).To(BeEmpty())
			g.Expect(meta.FindStatusCondition(got.Status.Conditions, v1alpha1.MembersResolvedCondition)).To(BeNil())
		})
	}
}
