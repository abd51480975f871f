package whatsapp

import (
	"testing"

	. "github.com/onsi/gomega"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

func TestRegistration_DesiredUsesTheLastSubjectAsLookupHint(t *testing.T) {
	g := NewWithT(t)
	obj := &v1alpha1.ChatGroup{
		Spec:   v1alpha1.ChatGroupSpec{Vendor: v1alpha1.WhatsApp, Name: "team"},
		Status: v1alpha1.ChatGroupStatus{WhatsApp: &v1alpha1.WhatsAppStatus{Subject: "old team"}},
	}
	want := vendors.GroupSpec{Name: "team"}
	Registration().Desired(obj, &want)
	g.Expect(want.Name).To(Equal("team"))
	g.Expect(want.ObservedName).To(Equal("old team"))
}

func TestRegistration_Record(t *testing.T) {
	g := NewWithT(t)
	reg := Registration()
	var st v1alpha1.ChatGroupStatus

	reg.Record(&st, vendors.ObservedGroup{ID: "g1", Name: "team", PendingMembers: []string{"+8613800000001"},
		Invitation: invitation("https://chat.whatsapp.com/x")}, "team-invite-link")
	g.Expect(st.WhatsApp).To(Equal(&v1alpha1.WhatsAppStatus{Subject: "team",
		PendingMembers: []string{"+8613800000001"}, InviteLinkSecretName: "team-invite-link"}))

	reg.Record(&st, vendors.ObservedGroup{ID: "g1"}, "")
	g.Expect(st.WhatsApp).To(Equal(&v1alpha1.WhatsAppStatus{Subject: "team"}),
		"nobody pending: the list and the Secret go, the subject stays as a lookup hint")
}

func TestInvitation(t *testing.T) {
	g := NewWithT(t)
	g.Expect(invitation("")).To(BeNil())
	g.Expect(invitation("https://chat.whatsapp.com/x")).To(Equal(map[string][]byte{InviteLinkKey: []byte("https://chat.whatsapp.com/x")}))
}
