package controller

import (
	"fmt"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

func users(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}

// TestGuardRemovals runs the member diff and the guard together, as a pass
// does, and checks that a held set leaves the group's members alone.
func TestGuardRemovals(t *testing.T) {
	ten := users("u", 10)
	pct := intstr.FromString
	num := intstr.FromInt32
	for _, tc := range []struct {
		name         string
		want         vendors.GroupSpec
		observed     []string
		owner        string // current owner
		extraRemove  []string
		limit        intstr.IntOrString
		approve      string // "token" approves the computed set
		wantRemovals int
		wantMax      int
		wantHold     bool
		wantStale    bool
	}{
		{"4 of 10 at 50%", vendors.GroupSpec{Members: ten[:6]}, ten, "", nil, pct("50%"), "", 4, 5, false, false},
		{"5 of 10 at 50% is the limit", vendors.GroupSpec{Members: ten[:5]}, ten, "", nil, pct("50%"), "", 5, 5, false, false},
		{"8 of 10 at 50% is held", vendors.GroupSpec{Members: ten[:2]}, ten, "", nil, pct("50%"), "", 8, 5, true, false},
		{"percent rounds down: 5 of 9 at 50% is held", vendors.GroupSpec{Members: ten[:4]}, ten[:9], "", nil, pct("50%"), "", 5, 4, true, false},
		{"percent rounds down: 4 of 9 at 50% goes", vendors.GroupSpec{Members: ten[:5]}, ten[:9], "", nil, pct("50%"), "", 4, 4, false, false},
		{"floor of 1: 1 of 5 at 10% goes", vendors.GroupSpec{Members: ten[:4]}, ten[:5], "", nil, pct("10%"), "", 1, 1, false, false},
		{"floor of 1: 2 of 5 at 10% is held", vendors.GroupSpec{Members: ten[:3]}, ten[:5], "", nil, pct("10%"), "", 2, 1, true, false},
		{"0% still allows 1", vendors.GroupSpec{Members: ten[:9]}, ten, "", nil, pct("0%"), "", 1, 1, false, false},
		{"a number of 0 holds every removal", vendors.GroupSpec{Members: ten[:9]}, ten, "", nil, num(0), "", 1, 0, true, false},
		{"a number is not scaled", vendors.GroupSpec{Members: ten[:7]}, ten, "", nil, num(3), "", 3, 3, false, false},
		{"the approved token releases the set", vendors.GroupSpec{Members: ten[:2]}, ten, "", nil, pct("50%"), "token", 8, 5, false, false},
		{"a stale token approves nothing", vendors.GroupSpec{Members: ten[:2]}, ten, "", nil, pct("50%"), "r-00000000", 8, 5, true, true},
		{"nothing to remove", vendors.GroupSpec{Members: ten}, ten, "", nil, num(0), "", 0, 0, false, false},
		{"an owner transfer that removes the old owner counts the old owner",
			vendors.GroupSpec{Owner: "u09", Members: ten[6:9]}, ten, "u00", []string{"u00"}, pct("50%"), "", 6, 5, true, false},
		{"Additive counts only the members the operator added",
			vendors.GroupSpec{Members: ten[:1], MemberPolicy: vendors.Additive, AddedMembers: ten[1:5]}, ten, "", nil, pct("50%"), "", 4, 5, false, false},
		{"Additive over the limit is held",
			vendors.GroupSpec{Members: ten[:1], MemberPolicy: vendors.Additive, AddedMembers: ten[1:8]}, ten, "", nil, pct("50%"), "", 7, 5, true, false},
		{"first pass after adoption: a spec of 1 would empty an adopted group of 10",
			vendors.GroupSpec{Members: ten[:1]}, ten, "", nil, pct("50%"), "", 9, 5, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			_, remove := vendors.MemberChanges(tc.want, tc.observed, tc.owner)
			remove = append(remove, tc.extraRemove...) // what a vendor adds after a transfer
			g.Expect(remove).To(HaveLen(tc.wantRemovals))
			approve := tc.approve
			if approve == "token" {
				approve = removalToken(remove)
			}
			d := guardRemovals(remove, len(tc.observed), tc.limit, approve)
			g.Expect(d.Max).To(Equal(tc.wantMax))
			g.Expect(d.Hold).To(Equal(tc.wantHold))
			g.Expect(d.Stale != "").To(Equal(tc.wantStale))
			if d.Hold {
				g.Expect(d.Token).To(Equal(removalToken(remove)))
				_, left := vendors.MemberChanges(withHeld(tc.want, remove), tc.observed, tc.owner)
				g.Expect(left).To(BeEmpty(), "a held set must leave every member in place")
				msg := heldMessage(&v1alpha1.ChatGroup{}, d, len(remove), len(tc.observed), tc.limit)
				g.Expect(msg).To(ContainSubstring(d.Token))
				if d.Stale != "" {
					g.Expect(msg).To(ContainSubstring("approved nothing"))
				}
			}
		})
	}
}

func TestRemovalToken(t *testing.T) {
	g := NewWithT(t)
	g.Expect(removalToken([]string{"b", "a", "c"})).To(Equal(removalToken([]string{"c", "b", "a"})))
	g.Expect(removalToken([]string{"a", "b"})).NotTo(Equal(removalToken([]string{"a", "b", "c"})))
	g.Expect(removalToken([]string{"a"})).To(MatchRegexp(`^r-[0-9a-f]{8}$`))
}

func TestRemovalLimit(t *testing.T) {
	five := intstr.FromInt32(5)
	ten := intstr.FromString("10%")
	own := &v1alpha1.ChatGroup{Spec: v1alpha1.ChatGroupSpec{RemovalGuard: &v1alpha1.RemovalGuard{MaxRemovals: &five}}}
	for _, tc := range []struct {
		name     string
		obj      *v1alpha1.ChatGroup
		provider *v1alpha1.RemovalGuard
		want     string
	}{
		{"default", &v1alpha1.ChatGroup{}, nil, "50%"},
		{"empty guards", &v1alpha1.ChatGroup{Spec: v1alpha1.ChatGroupSpec{RemovalGuard: &v1alpha1.RemovalGuard{}}}, &v1alpha1.RemovalGuard{}, "50%"},
		{"provider", &v1alpha1.ChatGroup{}, &v1alpha1.RemovalGuard{MaxRemovals: &ten}, "10%"},
		{"group beats provider", own, &v1alpha1.RemovalGuard{MaxRemovals: &ten}, "5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			l := removalLimit(tc.obj, tc.provider)
			g.Expect(l.String()).To(Equal(tc.want))
		})
	}
}

func TestDriftOf(t *testing.T) {
	g := NewWithT(t)
	g.Expect(driftOf(vendors.Changes{}, "")).To(BeNil())
	d := driftOf(vendors.Changes{Fields: []string{"name"}, Add: users("a", 3), Remove: users("r", 80)}, "r-1")
	g.Expect(d.Summary).To(Equal("name differs; 3 to add; 80 to remove"))
	g.Expect(d.AddCount).To(BeEquivalentTo(3))
	g.Expect(d.RemoveCount).To(BeEquivalentTo(80))
	g.Expect(d.Remove).To(HaveLen(v1alpha1.MaxDriftListed))
	g.Expect(d.Remove[0]).To(Equal("r00"))
	g.Expect(d.RemovalToken).To(Equal("r-1"))
	d = driftOf(vendors.Changes{Fields: []string{"owner", "icon"}}, "")
	g.Expect(d.Summary).To(Equal("icon, owner differ"))
	g.Expect(d.Add).To(BeNil())
}
