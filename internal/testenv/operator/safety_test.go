package operator_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/registry"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// The removal guard and ObserveOnly against every vendor's simulator, with
// exact vendor write counts. Groups are made as the vendor would hold them
// before the operator: by the simulator itself where it can store a group
// made elsewhere (a vendor whose members only join by themselves), else by
// the operator, then left (deletionPolicy Orphan) and adopted.

// putter is a simulator that stores a group made outside the operator.
type putter interface {
	Put(subject string, participants ...string) string
}

// simAccount is one simulated account served for a test.
type simAccount struct {
	h  vendorsim.Harness
	p  *v1alpha1.ChatProvider
	ns string
}

func serveSim(t *testing.T, reg vendorsim.Registration) simAccount {
	h := reg.Start(vendorsim.SimConfig{})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ns := env.Namespace(t)
	p := env.SimProvider(t, ns, "vendor", h, srv.URL)
	env.WaitProvider(t, p, metav1.ConditionTrue, "")
	return simAccount{h: h, p: p, ns: ns}
}

// users returns n user IDs of the account, from the second on (the first is
// the owner where the vendor has one), all in its directory.
func (a simAccount) users(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = a.h.User(i + 1)
	}
	a.h.AddUsers(append([]string{a.h.User(0)}, out...)...)
	return out
}

// writes counts the vendor writes in the simulator's call log.
func (a simAccount) writes() int {
	n := 0
	for _, c := range a.h.Core().Calls() {
		if a.h.IsWrite(c.Op) {
			n++
		}
	}
	return n
}

// group returns a ChatGroup of the account's vendor.
func (a simAccount) group(name, title string, members []string, mods ...func(*v1alpha1.ChatGroup)) *v1alpha1.ChatGroup {
	cg := &v1alpha1.ChatGroup{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: a.ns},
		Spec: v1alpha1.ChatGroupSpec{Vendor: a.p.Spec.Vendor, ProviderRef: v1alpha1.ProviderReference{Name: a.p.Name},
			Name: title, Members: slices.Clone(members)},
	}
	a.h.Spec(&cg.Spec, a.h.User(0))
	for _, m := range mods {
		m(cg)
	}
	return cg
}

// existingGroup makes a vendor group titled title with members, as if made
// before the operator, and returns its ID.
func (a simAccount) existingGroup(t *testing.T, title string, members []string) string {
	if p, ok := a.h.(putter); ok {
		return p.Put(title, members...)
	}
	g := NewWithT(t)
	seed := a.group("seed", title, members)
	g.Expect(env.Client.Create(context.Background(), seed)).To(Succeed())
	id := env.WaitReady(t, seed).Status.GroupID
	g.Expect(env.Client.Delete(context.Background(), seed)).To(Succeed())
	env.WaitGone(t, seed)
	return id
}

// edit patches cg with mod.
func edit(t *testing.T, cg *v1alpha1.ChatGroup, mod func(*v1alpha1.ChatGroup)) {
	t.Helper()
	g := NewWithT(t)
	g.Expect(env.Client.Get(context.Background(), client.ObjectKeyFromObject(cg), cg)).To(Succeed())
	patch := client.MergeFrom(cg.DeepCopy())
	mod(cg)
	g.Expect(env.Client.Patch(context.Background(), cg, patch)).To(Succeed())
}

// members returns the group's members on the vendor.
func members(t *testing.T, h vendorsim.Harness, id string) (string, []string) {
	name, ms, ok := h.Lookup(id)
	NewWithT(t).Expect(ok).To(BeTrue(), "group %s exists", id)
	return name, ms
}

// TestRemovalGuard: an edit that removes all but 2 of a group's members (8 of
// 10; 6 of 8 where the vendor caps groups at 8) renames the group at once and
// holds the removals (RemovalsHeld, zero removal calls); a stale token
// approves nothing; the right token applies them in one call.
func TestRemovalGuard(t *testing.T) {
	for _, reg := range registry.Simulators() {
		t.Run(string(reg.Vendor), func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			a := serveSim(t, reg)
			n := 10
			if m := a.h.MaxMembers(); m > 0 && m < n {
				n = m
			}
			people := a.users(n)
			var cg *v1alpha1.ChatGroup
			if _, ok := a.h.(putter); ok {
				id := a.existingGroup(t, "Guarded", people)
				cg = a.group("guarded", "Guarded", people, func(c *v1alpha1.ChatGroup) { c.Spec.AdoptGroupID = id })
			} else {
				cg = a.group("guarded", "Guarded", people)
			}
			g.Expect(env.Client.Create(context.Background(), cg)).To(Succeed())
			id := env.WaitReady(t, cg).Status.GroupID
			_, before := members(t, a.h, id)
			g.Expect(before).To(ContainElements(people))

			w0 := a.writes()
			edit(t, cg, func(c *v1alpha1.ChatGroup) { c.Spec.Name = "Guarded 2"; c.Spec.Members = people[:2] })
			held := env.WaitFor(t, cg, metav1.ConditionFalse, v1alpha1.RemovalsHeldReason)
			g.Expect(meta.IsStatusConditionTrue(held.Status.Conditions, v1alpha1.StalledCondition)).To(BeTrue())
			d := held.Status.Drift
			g.Expect(d).NotTo(BeNil())
			g.Expect(d.RemoveCount).To(BeEquivalentTo(n - 2))
			g.Expect(d.Remove).To(ConsistOf(people[2:]))
			g.Expect(d.RemovalToken).To(MatchRegexp(`^r-[0-9a-f]{8}$`))
			name, now := members(t, a.h, id)
			g.Expect(name).To(Equal("Guarded 2"), "the rename in the same change is applied")
			g.Expect(now).To(ConsistOf(before), "no member was removed")
			heldWrites := a.writes() - w0
			g.Expect(heldWrites).To(Equal(1), "one write: the rename; zero removal calls")

			edit(t, cg, func(c *v1alpha1.ChatGroup) {
				metav1.SetMetaDataAnnotation(&c.ObjectMeta, v1alpha1.ApproveRemovalsAnnotation, "r-00000000")
			})
			g.Eventually(func(g Gomega) string {
				g.Expect(env.Client.Get(context.Background(), client.ObjectKeyFromObject(cg), cg)).To(Succeed())
				return meta.FindStatusCondition(cg.Status.Conditions, v1alpha1.ReadyCondition).Message
			}).WithTimeout(30 * time.Second).WithPolling(100 * time.Millisecond).Should(ContainSubstring("approved nothing"))
			g.Expect(cg.Status.Drift.RemovalToken).To(Equal(d.RemovalToken))
			g.Expect(a.writes()-w0).To(Equal(heldWrites), "a stale token approves nothing")

			w1 := a.writes()
			edit(t, cg, func(c *v1alpha1.ChatGroup) {
				metav1.SetMetaDataAnnotation(&c.ObjectMeta, v1alpha1.ApproveRemovalsAnnotation, d.RemovalToken)
			})
			done := env.WaitReady(t, cg)
			g.Expect(done.Status.Drift).To(BeNil())
			_, after := members(t, a.h, id)
			g.Expect(after).To(ContainElements(people[:2]))
			g.Expect(after).NotTo(ContainElements(people[2:]))
			approveWrites := a.writes() - w1
			g.Expect(approveWrites).To(Equal(1), "the %d removals in one call", n-2)
			t.Logf("%s: removing %d of %d: %d write(s) while held, %d after approval", reg.Vendor, n-2, n, heldWrites, approveWrites)
		})
	}
}

// TestRemovalGuard_HeldGroupsAreStillChecked: a group whose removals are held
// is still read every syncInterval (the vendor group may change under the
// hold), with no vendor write and the hold kept.
func TestRemovalGuard_HeldGroupsAreStillChecked(t *testing.T) {
	for _, reg := range registry.Simulators() {
		t.Run(string(reg.Vendor), func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			a := serveSim(t, reg)
			people := a.users(4)
			var cg *v1alpha1.ChatGroup
			every := func(c *v1alpha1.ChatGroup) { c.Spec.SyncInterval = &metav1.Duration{Duration: 10 * time.Second} }
			if _, ok := a.h.(putter); ok {
				id := a.existingGroup(t, "Held", people)
				cg = a.group("held", "Held", people, every, func(c *v1alpha1.ChatGroup) { c.Spec.AdoptGroupID = id })
			} else {
				cg = a.group("held", "Held", people, every)
			}
			g.Expect(env.Client.Create(context.Background(), cg)).To(Succeed())
			env.WaitReady(t, cg)
			edit(t, cg, func(c *v1alpha1.ChatGroup) { c.Spec.Members = people[:1] })
			env.WaitFor(t, cg, metav1.ConditionFalse, v1alpha1.RemovalsHeldReason)

			w0, n0 := a.writes(), a.h.Core().Len()
			g.Eventually(a.h.Core().Len).WithTimeout(40*time.Second).WithPolling(time.Second).Should(BeNumerically(">", n0),
				"the held group is read again within its syncInterval")
			g.Expect(a.writes()).To(Equal(w0), "no write while held")
			g.Expect(env.Client.Get(context.Background(), client.ObjectKeyFromObject(cg), cg)).To(Succeed())
			g.Expect(meta.FindStatusCondition(cg.Status.Conditions, v1alpha1.ReadyCondition).Reason).To(Equal(v1alpha1.RemovalsHeldReason))
		})
	}
}

// TestObserveOnly: adopting a drifted group with ObserveOnly makes no vendor
// write and lists the drift; Full then fixes it; deleting an ObserveOnly
// group makes no vendor call at all.
func TestObserveOnly(t *testing.T) {
	for _, reg := range registry.Simulators() {
		t.Run(string(reg.Vendor), func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			a := serveSim(t, reg)
			people := a.users(8)
			id := a.existingGroup(t, "Observed", people[:6])

			w0 := a.writes()
			cg := a.group("observer", "Observed again", people[2:], func(c *v1alpha1.ChatGroup) {
				c.Spec.AdoptGroupID = id
				c.Spec.ManagementPolicy = v1alpha1.ObserveOnly
			})
			g.Expect(env.Client.Create(context.Background(), cg)).To(Succeed())
			got := env.WaitFor(t, cg, metav1.ConditionFalse, v1alpha1.DriftDetectedReason)
			g.Expect(meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ReconcilingCondition)).To(BeNil())
			g.Expect(meta.FindStatusCondition(got.Status.Conditions, v1alpha1.StalledCondition)).To(BeNil())
			g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
			d := got.Status.Drift
			g.Expect(d).NotTo(BeNil())
			g.Expect(d.Fields).To(ContainElement("name"))
			g.Expect(d.AddCount).To(BeEquivalentTo(2))
			g.Expect(d.Add).To(ConsistOf(people[6:]))
			g.Expect(d.RemoveCount).To(BeEquivalentTo(2))
			g.Expect(d.Remove).To(ConsistOf(people[:2]))
			g.Expect(d.RemovalToken).To(BeEmpty())
			g.Expect(a.writes()).To(Equal(w0), "ObserveOnly makes no vendor write")

			edit(t, cg, func(c *v1alpha1.ChatGroup) { c.Spec.ManagementPolicy = v1alpha1.Full })
			fixed := env.WaitReady(t, cg)
			g.Expect(fixed.Status.Drift).To(BeNil())
			name, now := members(t, a.h, id)
			g.Expect(name).To(Equal("Observed again"))
			g.Expect(now).NotTo(ContainElements(people[:2]), "Full applied the removals (2 of 7, within the limit)")
			fullWrites := a.writes() - w0

			edit(t, cg, func(c *v1alpha1.ChatGroup) { c.Spec.ManagementPolicy = v1alpha1.ObserveOnly })
			// deletionPolicy Delete where the vendor can delete groups (admission
			// refuses it where it cannot): ObserveOnly must not delete even then.
			g.Expect(env.Client.Get(context.Background(), client.ObjectKeyFromObject(cg), cg)).To(Succeed())
			patch := client.MergeFrom(cg.DeepCopy())
			cg.Spec.DeletionPolicy = v1alpha1.Delete
			if err := env.Client.Patch(context.Background(), cg, patch); err != nil {
				g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), err.Error())
			}
			g.Eventually(func(g Gomega) {
				g.Expect(env.Client.Get(context.Background(), client.ObjectKeyFromObject(cg), cg)).To(Succeed())
				c := meta.FindStatusCondition(cg.Status.Conditions, v1alpha1.ReadyCondition)
				g.Expect(c.ObservedGeneration).To(Equal(cg.Generation))
				g.Expect(c.Reason).To(BeElementOf(v1alpha1.InSyncReason, v1alpha1.DriftDetectedReason))
			}).WithTimeout(30 * time.Second).Should(Succeed())
			calls := a.h.Core().Len()
			g.Expect(env.Client.Delete(context.Background(), cg)).To(Succeed())
			env.WaitGone(t, cg)
			g.Expect(a.h.Core().Len()).To(Equal(calls), "deleting an ObserveOnly group makes no vendor call")
			_, _, ok := a.h.Lookup(id)
			g.Expect(ok).To(BeTrue(), "the group stays")
			t.Logf("%s: ObserveOnly adoption 0 writes; switching to Full %d write(s); delete 0 calls", reg.Vendor, fullWrites)
		})
	}
}
