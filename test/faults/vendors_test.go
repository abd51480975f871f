package faults

import (
	"fmt"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// createDelay is how long a vendor that creates groups asynchronously takes.
const createDelay = 300 * time.Millisecond

// people is how many users a scenario's simulator knows: user 0 owns the
// groups, users 1-5 are their members, and editSpec adds users 6-8.
const people = 9

// canary is the account secret of vendor's simulator. It appears only in the
// credentials Secret: finding it, or a token or signature derived from it,
// anywhere else is a leak.
func canary(vendor v1alpha1.Vendor) string {
	return "canary-" + strings.ToLower(string(vendor)) + "-secret-7f3a5d8e91c2"
}

// simulator is one registered vendor simulator as the scenarios drive it.
type simulator struct {
	vendorsim.Harness
	vendor v1alpha1.Vendor
}

// newSimulator starts reg's simulator with the canary secret, vendorLimit calls
// per second per API (0: the documented limit) and the scenario's people.
func newSimulator(reg vendorsim.Registration, vendorLimit int) simulator {
	h := reg.Start(vendorsim.SimConfig{Secret: canary(reg.Vendor), CreateDelay: createDelay, RatePerAPI: vendorLimit})
	s := simulator{Harness: h, vendor: reg.Vendor}
	h.AddUsers(s.users(0, people)...)
	return s
}

// users returns the IDs of users from to to-1.
func (s simulator) users(from, to int) []string {
	out := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, s.User(i))
	}
	return out
}

// group returns the spec of the i-th ChatGroup of a scenario.
func (s simulator) group(i int) v1alpha1.ChatGroupSpec {
	spec := v1alpha1.ChatGroupSpec{Vendor: s.vendor, Name: fmt.Sprintf("Team %03d", i), Members: s.users(1, 6)}
	s.Spec(&spec, s.User(0))
	return spec
}

// editSpec is the change scenarios make: a rename, three members added and two
// removed.
func (s simulator) editSpec(spec *v1alpha1.ChatGroupSpec) {
	spec.Name += "b"
	spec.Members = append(slices.Clone(spec.Members[:len(spec.Members)-2]), s.users(6, people)...)
}

// matches checks that cg's vendor group has its name and members: exactly the
// listed ones (owner included) once MembersSynced, and nobody unlisted while
// members are still to join by themselves.
func (s simulator) matches(g Gomega, cg *v1alpha1.ChatGroup) {
	name, members, ok := s.Lookup(cg.Status.GroupID)
	g.Expect(ok).To(BeTrue(), "%s: group %s exists", cg.Name, cg.Status.GroupID)
	g.Expect(name).To(Equal(cg.Spec.Name))
	listed := slices.Clone(cg.Spec.Members)
	if cg.Spec.Owner != "" {
		listed = append(listed, cg.Spec.Owner)
	}
	if meta.IsStatusConditionTrue(cg.Status.Conditions, v1alpha1.MembersSyncedCondition) {
		g.Expect(members).To(ConsistOf(listed), cg.Name)
		return
	}
	synced := meta.FindStatusCondition(cg.Status.Conditions, v1alpha1.MembersSyncedCondition)
	g.Expect(synced).NotTo(BeNil(), cg.Name)
	g.Expect(synced.Reason).To(Equal(v1alpha1.AwaitingInviteesReason), cg.Name)
	g.Expect(listed).To(ContainElements(members), "%s: nobody unlisted", cg.Name)
}

// derivedID reports whether cg's vendor group ID was derived from its UID: the
// vendor accepts caller-chosen IDs, so the operator can always tell whether an
// interrupted create made the group.
func derivedID(cg *v1alpha1.ChatGroup) bool {
	return cg.UID != "" && strings.Contains(cg.Status.GroupID, string(cg.UID))
}
