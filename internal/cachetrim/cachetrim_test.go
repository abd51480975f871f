package cachetrim

import (
	"strings"
	"testing"
	"unsafe"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

func TestTransform(t *testing.T) {
	tests := []struct {
		name            string
		annotations     map[string]string
		wantAnnotations map[string]string
	}{
		{
			name:            "the operator's annotations stay, kubectl's copy goes",
			annotations:     map[string]string{v1alpha1.GroupIDAnnotation: "g1", LastAppliedAnnotation: `{"spec":{}}`},
			wantAnnotations: map[string]string{v1alpha1.GroupIDAnnotation: "g1"},
		},
		{name: "no annotations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			in := &v1alpha1.ChatGroup{ObjectMeta: metav1.ObjectMeta{
				Name: "g", Annotations: tt.annotations,
				ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}},
			}, Spec: v1alpha1.ChatGroupSpec{Members: []string{"u1"}}}
			shared := tt.annotations // the informer's copy of the map must not change under it

			out, err := Transform(in)
			g.Expect(err).NotTo(HaveOccurred())
			got := out.(*v1alpha1.ChatGroup)
			g.Expect(got.ManagedFields).To(BeNil())
			g.Expect(got.Annotations).To(Equal(tt.wantAnnotations))
			g.Expect(got.Spec.Members).To(Equal([]string{"u1"}))
			if shared != nil {
				g.Expect(shared).To(HaveKey(LastAppliedAnnotation))
			}
		})
	}

	t.Run("a tombstone passes through", func(t *testing.T) {
		g := NewWithT(t)
		tomb := cache.DeletedFinalStateUnknown{Key: "ns/g"}
		out, err := Transform(tomb)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(out).To(Equal(tomb))
	})
}

func TestTransform_InternsMemberIDs(t *testing.T) {
	g := NewWithT(t)
	// Built at run time, so that each group's strings are separate copies.
	id := func(s string) string { return strings.Clone(s) }
	newGroup := func() *v1alpha1.ChatGroup {
		return &v1alpha1.ChatGroup{
			Spec:   v1alpha1.ChatGroupSpec{Members: []string{id("alice"), id("bob")}, DingTalk: &v1alpha1.DingTalkGroup{ExternalMembers: []string{id("ext")}}},
			Status: v1alpha1.ChatGroupStatus{AddedMembers: []string{id("bob")}, WhatsApp: &v1alpha1.WhatsAppStatus{PendingMembers: []string{id("alice")}}},
		}
	}
	same := func(x, y string) bool { return x == y && unsafe.StringData(x) == unsafe.StringData(y) }
	a, b := newGroup(), newGroup()
	g.Expect(same(a.Spec.Members[0], b.Spec.Members[0])).To(BeFalse(), "separate copies to begin with")

	for _, cg := range []*v1alpha1.ChatGroup{a, b} {
		_, err := Transform(cg)
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(a.Spec.Members).To(Equal([]string{"alice", "bob"}))
	g.Expect(same(a.Spec.Members[0], b.Spec.Members[0])).To(BeTrue(), "one copy of alice across groups")
	g.Expect(same(a.Spec.Members[1], a.Status.AddedMembers[0])).To(BeTrue(), "one copy of bob across lists")
	g.Expect(same(a.Status.WhatsApp.PendingMembers[0], b.Spec.Members[0])).To(BeTrue())
	g.Expect(same(a.Spec.DingTalk.ExternalMembers[0], b.Spec.DingTalk.ExternalMembers[0])).To(BeTrue())
}
