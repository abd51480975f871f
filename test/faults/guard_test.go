package faults

import (
	"fmt"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// putter is a simulator that stores a group made outside the operator; where
// members only join by themselves, that is how a group gets members to lose.
type putter interface {
	Put(subject string, participants ...string) string
}

// TestSelectorEditHoldsRemovals: 100 groups take their members from a ChatUser
// selector; a typo in the selector would empty every one of them. The removal
// guard holds all 100 (RemovalsHeld) and no vendor write is made.
func TestSelectorEditHoldsRemovals(t *testing.T) {
	t.Parallel()
	forEachVendor(t, func(t *testing.T, reg vendorsim.Registration) {
		const n, team = 100, 5
		g := NewWithT(t)
		s := newScenario(t, reg, 0, nil)
		s.startManager()
		s.waitProvider()
		ids := s.sim.users(1, 1+team)
		for i, id := range ids {
			g.Expect(env.Client.Create(ctx, &v1alpha1.ChatUser{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("user-%d", i), Namespace: s.ns, Labels: map[string]string{"team": "sre"}},
				Spec:       v1alpha1.ChatUserSpec{Accounts: []v1alpha1.ChatUserAccount{{Vendor: reg.Vendor, ID: id}}},
			})).To(Succeed())
		}
		groups := make([]*v1alpha1.ChatGroup, n)
		for i := range groups {
			spec := s.sim.group(i)
			spec.ProviderRef = v1alpha1.ProviderReference{Name: s.prov.Name}
			spec.Members = nil
			spec.MembersFrom = []v1alpha1.MembersSource{{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "sre"}}}}
			if p, ok := s.sim.Harness.(putter); ok {
				spec.AdoptGroupID = p.Put(spec.Name, ids...)
			}
			groups[i] = &v1alpha1.ChatGroup{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("group-%03d", i), Namespace: s.ns}, Spec: spec}
			g.Expect(env.Client.Create(ctx, groups[i])).To(Succeed())
		}
		s.waitAll(groups, settleTimeout, isReady)
		before := map[string][]string{}
		for _, cg := range groups {
			_, members, ok := s.sim.Lookup(cg.Status.GroupID)
			g.Expect(ok).To(BeTrue())
			g.Expect(members).To(ContainElements(ids), cg.Name)
			before[cg.Name] = members
		}

		w0 := s.writes()
		for _, cg := range groups {
			s.patch(cg, func(c *v1alpha1.ChatGroup) {
				c.Spec.MembersFrom[0].Selector.MatchLabels["team"] = "sre-typo"
			})
		}
		s.waitAll(groups, settleTimeout, func(g Gomega, cg *v1alpha1.ChatGroup) {
			c := ready(cg)
			g.Expect(c).NotTo(BeNil(), cg.Name)
			g.Expect(c.Reason).To(Equal(v1alpha1.RemovalsHeldReason), "%s: %s", cg.Name, c.Message)
			g.Expect(cg.Status.Drift).NotTo(BeNil())
			g.Expect(cg.Status.Drift.RemoveCount).To(BeEquivalentTo(team), cg.Name)
		})
		g.Expect(s.writes()-w0).To(Equal(0), "no removal call, and nothing else to write")
		for _, cg := range groups {
			_, members, _ := s.sim.Lookup(cg.Status.GroupID)
			g.Expect(members).To(ConsistOf(before[cg.Name]), cg.Name)
		}
		t.Logf("%s: a selector edit that would empty %d groups of %d members each: %d held, %d vendor writes", reg.Vendor, n, team, n, s.writes()-w0)
		s.expectNoLeaks()
	})
}

// writes counts the vendor writes in the simulator's call log.
func (s *scenario) writes() int {
	n := 0
	for _, c := range s.sim.Core().Calls() {
		if s.sim.IsWrite(c.Op) {
			n++
		}
	}
	return n
}
