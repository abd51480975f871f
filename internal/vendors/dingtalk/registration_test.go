package dingtalk

import (
	"testing"

	. "github.com/onsi/gomega"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

func TestRegistration_Desired(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec *v1alpha1.DingTalkGroup
		want GroupSettings
	}{
		{name: "defaults: OwnerType Employee, ConversationType Internal, a regular group",
			want: GroupSettings{OwnerType: "Employee", ConversationType: "Internal", Kind: "Regular"}},
		{name: "a block with empty fields keeps the defaults",
			spec: &v1alpha1.DingTalkGroup{ExternalMembers: []string{"ext1"}},
			want: GroupSettings{OwnerType: "Employee", ConversationType: "Internal", Kind: "Regular", ExternalMembers: []string{"ext1"}}},
		{name: "explicit settings",
			spec: &v1alpha1.DingTalkGroup{OwnerType: "External", ConversationType: "Standard", GroupKind: v1alpha1.DingTalkScene},
			want: GroupSettings{OwnerType: "External", ConversationType: "Standard", Kind: Scene}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			obj := &v1alpha1.ChatGroup{Spec: v1alpha1.ChatGroupSpec{Vendor: v1alpha1.DingTalk, DingTalk: tc.spec}}
			var want vendors.GroupSpec
			Registration().Desired(obj, &want)
			g.Expect(want.Vendor).To(Equal(tc.want))
			g.Expect(settingsOf(want)).To(Equal(tc.want))
		})
	}
}

func TestRegistration_SettingsAndStatus(t *testing.T) {
	g := NewWithT(t)
	reg := Registration()
	g.Expect(reg.Settings(v1alpha1.ProviderSettings{Vendor: v1alpha1.DingTalk,
		DingTalk: &v1alpha1.DingTalkProvider{LegacyEndpoint: "https://oapi.example", SceneGroupTemplateID: "tpl"}})).
		To(Equal(Settings{LegacyEndpoint: "https://oapi.example", SceneGroupTemplateID: "tpl"}))
	g.Expect(reg.Settings(v1alpha1.ProviderSettings{Vendor: v1alpha1.DingTalk})).To(Equal(Settings{}))

	var st v1alpha1.ChatGroupStatus
	reg.Record(&st, vendors.ObservedGroup{ID: "chat1"}, "")
	g.Expect(st.DingTalk).To(BeNil(), "nothing to record without an openConversationId")
	reg.Record(&st, vendors.ObservedGroup{ID: "chat1", Extra: Extra{OpenConversationID: "cid1"}}, "")
	g.Expect(st.DingTalk).To(Equal(&v1alpha1.DingTalkStatus{OpenConversationID: "cid1"}))
}

func TestRegistration_WriteOnlyRecord(t *testing.T) {
	g := NewWithT(t)
	reg := Registration()
	obj := &v1alpha1.ChatGroup{Spec: v1alpha1.ChatGroupSpec{Vendor: v1alpha1.DingTalk}}
	obj.Status.DingTalk = &v1alpha1.DingTalkStatus{OpenConversationID: "cid1", IconHash: "h1", ExternalMembers: []string{"x1"}}
	var want vendors.GroupSpec
	reg.Desired(obj, &want)
	g.Expect(settingsOf(want).Written).To(Equal(Written{IconHash: "h1", ExternalMembers: []string{"x1"}}), "status is the record")

	st := obj.Status
	reg.Record(&st, vendors.ObservedGroup{ID: "chat1", Extra: Extra{}}, "")
	g.Expect(st.DingTalk).To(Equal(obj.Status.DingTalk), "an observation keeps the record")
	reg.Record(&st, vendors.ObservedGroup{ID: "chat1", Extra: Extra{Written: &Written{IconHash: "h2"}}}, "")
	g.Expect(st.DingTalk).To(Equal(&v1alpha1.DingTalkStatus{OpenConversationID: "cid1", IconHash: "h2"}), "an update replaces it")
	st.DingTalk.OpenConversationID = ""
	reg.Record(&st, vendors.ObservedGroup{ID: "chat1", Extra: Extra{Written: &Written{}}}, "")
	g.Expect(st.DingTalk).To(BeNil(), "nothing left to record")
}
