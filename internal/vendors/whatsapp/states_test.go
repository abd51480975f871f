package whatsapp_test

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	camssim "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/whatsapp"
)

// CAMS lists its own copy of a group picture, never the URL it was sent: the
// picture is sent once, and a resync compares with the record of what was
// sent, not the echo.
func TestWhatsApp_ARehostedPictureIsSentOnce(t *testing.T) {
	t.Parallel()
	startEnv(t)
	g := NewWithT(t)
	f := newFixture(t, 200*time.Millisecond, keyID, keySecret)
	cg := f.group("picture")
	cg.Spec.Icon = "https://img.example/team.jpg"
	g.Expect(env.Client.Create(ctx, cg)).To(Succeed())
	got := env.WaitReady(t, cg)
	vg, _ := f.sim.Group(got.Status.GroupID)
	g.Expect(vg.PictureSource).To(Equal("https://img.example/team.jpg"))
	g.Expect(vg.ProfilePictureFile).NotTo(Equal(vg.PictureSource), "CAMS reports its copy")
	g.Expect(got.Status.WhatsApp.PictureHash).NotTo(BeEmpty())

	env.RequestReconcileAt(t, got, "resync-1")
	env.RequestReconcileAt(t, got, "resync-2")
	g.Expect(f.writes()["UpdateChatGroup"]).To(Equal(1), "the picture is sent once, not on every pass")
}

// INACTIVE and SUSPENDED are the vendor's doing: Ready says so (GroupDisabled),
// nothing is written, and the group is picked up again once CAMS lifts it.
func TestWhatsApp_ADisabledGroupIsReportedAndPickedUpAgain(t *testing.T) {
	t.Parallel()
	startEnv(t)
	g := NewWithT(t)
	f := newFixture(t, 200*time.Millisecond, keyID, keySecret)
	cg := f.group("disabled")
	g.Expect(env.Client.Create(ctx, cg)).To(Succeed())
	got := env.WaitReady(t, cg)
	id := got.Status.GroupID

	for _, state := range []string{camssim.StatusSuspended, camssim.StatusInactive} {
		g.Expect(f.sim.SetStatus(id, state)).To(Succeed())
		writes := f.writes()
		patch := client.MergeFrom(got.DeepCopy())
		got.Spec.Description = "changed while " + state
		g.Expect(env.Client.Patch(ctx, got, patch)).To(Succeed())
		waiting := env.WaitFor(t, got, metav1.ConditionFalse, v1alpha1.GroupDisabledReason)
		g.Expect(condition(waiting, v1alpha1.ReadyCondition).Message).To(And(ContainSubstring(id), ContainSubstring(state)))
		g.Expect(condition(waiting, v1alpha1.StalledCondition).Status).NotTo(Equal(metav1.ConditionTrue), "not a stall: the vendor may lift it")
		g.Expect(f.writes()).To(Equal(writes), "no call to a group CAMS holds %s", state)
		got = waiting
	}

	g.Expect(f.sim.SetStatus(id, "")).To(Succeed())
	env.RequestReconcileAt(t, got, "lifted")
	done := env.WaitReady(t, got)
	vg, _ := f.sim.Group(done.Status.GroupID)
	g.Expect(vg.Description).To(Equal("changed while " + camssim.StatusInactive))
}
