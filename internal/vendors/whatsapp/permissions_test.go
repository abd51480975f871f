package whatsapp_test

import (
	"net/http/httptest"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors/whatsapp"
	camssim "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/whatsapp"
)

// probed are the RAM actions the provider's check tries on a group that does
// not exist.
var probed = []string{"UpdateChatGroup", "DeleteChatGroup", "AddChatGroupInviteLink", "DeleteChatGroupInviteLink",
	"ListChatGroupParticipants", "DeleteChatGroupParticipants"}

// The check names a RAM action the user lacks, passes once it is granted, and
// probes once per client: a recheck is one ListChatGroup.
func TestCheckCredentialsProbesRAMActionsOnce(t *testing.T) {
	g := NewWithT(t)
	sim := camssim.New(camssim.Config{AccessKeyID: keyID, AccessKeySecret: keySecret, CustSpaceID: space, BusinessNumber: business})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := whatsapp.New(vendors.Credentials{Endpoint: srv.URL,
		Settings: whatsapp.Settings{CustSpaceID: space, BusinessNumber: business},
		Secret:   map[string][]byte{whatsapp.SecretAccessKeyID: []byte(keyID), whatsapp.SecretAccessKeySecret: []byte(keySecret)}})
	g.Expect(err).NotTo(HaveOccurred())

	for _, action := range probed {
		sim.Revoke(action)
		err := c.CheckCredentials(ctx)
		g.Expect(err).To(MatchError(vendors.ErrAccessDenied), action)
		g.Expect(err.Error()).To(ContainSubstring("grant it the RAM action cams:"+action), action)
		sim.Grant(action)
	}
	g.Expect(c.CheckCredentials(ctx)).To(Succeed())
	for _, action := range probed {
		g.Expect(sim.Count(action, "error")).To(Equal(1), "%s refused once, when revoked", action)
		g.Expect(sim.Count(action, "not-found")).To(BeNumerically(">=", 1), "%s reached the (missing) group once granted", action)
	}
	calls := len(sim.Calls())
	g.Expect(c.CheckCredentials(ctx)).To(Succeed())
	g.Expect(sim.Calls()[calls:]).To(HaveLen(1), "a recheck probes nothing again")
	g.Expect(sim.Calls()[calls].Op).To(Equal("ListChatGroup"))
	g.Expect(sim.GroupsWithSubject("")).To(BeEmpty(), "the probe creates nothing")
}

// A provider whose RAM user lacks an action the operator needs is not Ready,
// and says which action to grant, before any group meets it; the grant is
// picked up by itself. An action that cannot be probed (AddChatGroup) is named
// by the group that needs it, which is created once it is granted, without a
// change to its spec.
func TestWhatsApp_ProviderAndGroupNameAMissingRAMAction(t *testing.T) {
	t.Parallel()
	startEnv(t)
	g := NewWithT(t)
	sim := camssim.New(camssim.Config{AccessKeyID: keyID, AccessKeySecret: keySecret, CustSpaceID: space, BusinessNumber: business})
	sim.Revoke("DeleteChatGroupParticipants")
	sim.Revoke("AddChatGroup")
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	f := &fixture{t: t, sim: sim, endpoint: srv.URL, ns: env.Namespace(t)}
	f.createProvider(env.Client, keyID, keySecret)
	provider := &v1alpha1.ChatProvider{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "whatsapp"}}

	c := env.WaitProvider(t, provider, metav1.ConditionFalse, v1alpha1.AccessDeniedReason)
	g.Expect(c.Message).To(ContainSubstring("cams:DeleteChatGroupParticipants"))
	sim.Grant("DeleteChatGroupParticipants")
	env.WaitProvider(t, provider, metav1.ConditionTrue, v1alpha1.SucceededReason)

	cg := f.group("ram")
	g.Expect(env.Client.Create(ctx, cg)).To(Succeed())
	denied := env.WaitFor(t, cg, metav1.ConditionFalse, v1alpha1.AccessDeniedReason)
	g.Expect(condition(denied, v1alpha1.ReadyCondition).Message).To(ContainSubstring("cams:AddChatGroup"))
	g.Expect(f.sim.GroupsWithSubject(cg.Spec.Name)).To(BeEmpty())
	sim.Grant("AddChatGroup")
	got := env.WaitReady(t, cg)
	g.Expect(got.Generation).To(Equal(denied.Generation), "no change to the spec")
	g.Expect(f.only(cg).ID).To(Equal(got.Status.GroupID))
	g.Expect(f.sim.Count("AddChatGroup", "ok")).To(Equal(1))
	f.logCounts("RAM action granted")
}
