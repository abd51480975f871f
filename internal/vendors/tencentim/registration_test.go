package tencentim

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/utils/ptr"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

func TestRegistration_Desired(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec *v1alpha1.TencentIMGroup
		want GroupSettings
	}{
		{name: "default GroupType Private", want: GroupSettings{GroupType: "Private"}},
		{name: "explicit settings",
			spec: &v1alpha1.TencentIMGroup{
				GroupType: "Public", GroupID: "g-1", MaxMembers: ptr.To[int32](50),
				InviteJoinPolicy: v1alpha1.ApprovalRequired, AppDefinedData: map[string]string{"k": "v"},
			},
			want: GroupSettings{
				GroupType: "Public", GroupID: "g-1", MaxMembers: ptr.To[int32](50),
				InviteJoinPolicy: "ApprovalRequired", AppDefinedData: map[string]string{"k": "v"},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			obj := &v1alpha1.ChatGroup{Spec: v1alpha1.ChatGroupSpec{Vendor: v1alpha1.TencentIM, TencentIM: tc.spec}}
			var want vendors.GroupSpec
			Registration().Desired(obj, &want)
			g.Expect(want.Vendor).To(Equal(tc.want))
			g.Expect(settingsOf(want)).To(Equal(tc.want))
		})
	}
}

func TestRegistration_Settings(t *testing.T) {
	g := NewWithT(t)
	got := Registration().Settings(v1alpha1.ProviderSettings{Vendor: v1alpha1.TencentIM,
		TencentIM: &v1alpha1.TencentIMProvider{SDKAppID: 1400000000, AdminIdentifier: "administrator"}})
	g.Expect(got).To(Equal(Settings{SDKAppID: 1400000000, AdminIdentifier: "administrator"}))
}

func TestRegistration_RecordOfWhatWasSet(t *testing.T) {
	g := NewWithT(t)
	reg := Registration()
	obj := &v1alpha1.ChatGroup{Spec: v1alpha1.ChatGroupSpec{Vendor: v1alpha1.TencentIM, Description: "d",
		TencentIM: &v1alpha1.TencentIMGroup{AppDefinedData: map[string]string{"b": "1", "a": "2"}}}}
	obj.Status.TencentIM = &v1alpha1.TencentIMStatus{SetFields: []v1alpha1.TencentIMField{"announcement"}, AppDefinedDataKeys: []string{"old"}}
	var want vendors.GroupSpec
	reg.Desired(obj, &want)
	want.Description = obj.Spec.Description
	g.Expect(settingsOf(want).Set).To(Equal(Set{Fields: []string{"announcement"}, AppDataKeys: []string{"old"}}), "status is the record")

	// Once the group matches, the record is what the spec sets; an object from
	// before the record existed (no status.tencentIM) gets one the same way.
	var st v1alpha1.ChatGroupStatus
	reg.Record(&st, vendors.ObservedGroup{ID: "g", Extra: Extra{Set: setBy(want)}}, "")
	g.Expect(st.TencentIM).To(Equal(&v1alpha1.TencentIMStatus{SetFields: []v1alpha1.TencentIMField{"description"}, AppDefinedDataKeys: []string{"a", "b"}}))
	reg.Record(&st, vendors.ObservedGroup{ID: "g"}, "")
	g.Expect(st.TencentIM).NotTo(BeNil(), "a failed or partial pass keeps the record")
	reg.Record(&st, vendors.ObservedGroup{ID: "g", Extra: Extra{}}, "")
	g.Expect(st.TencentIM).To(BeNil(), "nothing set")
}
