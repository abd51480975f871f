package cachetrim

import (
	"testing"

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
