package controller

import (
	"testing"

	. "github.com/onsi/gomega"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors/fake"
)

func TestSetAddedMembers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy v1alpha1.MemberPolicy
		before []string
		added  []string
		want   []string
	}{
		{name: "Additive keeps the record", policy: v1alpha1.Additive, added: []string{"u1"}, want: []string{"u1"}},
		{name: "Authoritative keeps none", policy: v1alpha1.Authoritative, added: []string{"u1"}},
		{name: "unset policy is Authoritative", added: []string{"u1"}},
		{name: "upgrade: an Authoritative object's copy of its member list is dropped", policy: v1alpha1.Authoritative,
			before: []string{"u1", "u2", "u3"}, added: []string{"u1", "u2", "u3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := &v1alpha1.ChatGroup{Spec: v1alpha1.ChatGroupSpec{MemberPolicy: tc.policy}}
			obj.Status.AddedMembers = tc.before
			setAddedMembers(obj, tc.added)
			NewWithT(t).Expect(obj.Status.AddedMembers).To(Equal(tc.want))
		})
	}
}

// An object from a version that kept the whole member list in
// status.addedMembers under Authoritative loses it on its next pass, even when
// the group needs no update.
func TestReconcileGroup_DropsTheAuthoritativeRecordOnUpgrade(t *testing.T) {
	g := NewWithT(t)
	r, obj, _ := stepReconciler(t, stepGroup(withAnnotation(v1alpha1.GroupIDAnnotation, "grp-7")))
	obj.Status.AddedMembers = []string{"u1", "u2"}
	gc := &fake.GroupClient{ObserveFn: observeExisting("grp-7")}
	_, err := r.reconcileGroup(t.Context(), obj, gc, vendors.Registration{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(gc.Count(fake.OpUpdate, nil)).To(Equal(0))
	g.Expect(obj.Status.AddedMembers).To(BeNil())
}
