package plugin

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

func TestPlanText(t *testing.T) {
	group := func(policy v1alpha1.ManagementPolicy, d *v1alpha1.Drift) *v1alpha1.ChatGroup {
		return &v1alpha1.ChatGroup{
			ObjectMeta: metav1.ObjectMeta{Name: "ops", Namespace: "team", Generation: 2},
			Spec:       v1alpha1.ChatGroupSpec{Vendor: v1alpha1.TencentIM, ManagementPolicy: policy},
			Status:     v1alpha1.ChatGroupStatus{ObservedGeneration: 2, GroupID: "g1", Drift: d},
		}
	}
	for _, tc := range []struct {
		name string
		cg   *v1alpha1.ChatGroup
		want []string
		not  []string
	}{
		{"no drift", group("", nil),
			[]string{"ChatGroup team/ops: TencentIM group g1, managementPolicy Full", "No drift"}, []string{"approve"}},
		{"observe only", group(v1alpha1.ObserveOnly, &v1alpha1.Drift{Summary: "name differs; 1 to add", Fields: []string{"name"}, AddCount: 1, Add: []string{"u9"}}),
			[]string{"Drift: name differs; 1 to add", "Differs: name", "To add (1): u9", "with Full the operator would make the group match"}, []string{"approve"}},
		{"held removals", group("", &v1alpha1.Drift{Summary: "60 to remove", RemoveCount: 60, Remove: []string{"u1", "u2"}, RemovalToken: "r-1"}),
			[]string{"To remove (60): u1 u2 (and 58 more)", "token r-1", "kubectl chatgroup approve ops -n team"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			text := planText(tc.cg)
			for _, s := range tc.want {
				g.Expect(text).To(ContainSubstring(s))
			}
			for _, s := range tc.not {
				g.Expect(text).NotTo(ContainSubstring(s))
			}
		})
	}
}
