package dingtalk_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
	simdingtalk "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/dingtalk"
)

// scene makes a ChatGroup a scene group with a title longer than a regular
// group may have.
func scene(c *v1alpha1.ChatGroup) {
	c.Spec.DingTalk = &v1alpha1.DingTalkGroup{GroupKind: v1alpha1.DingTalkScene}
	c.Spec.Name = fmt.Sprintf("%-24s", c.Spec.Name) + "-scene"
	c.Spec.Name = strings.ReplaceAll(c.Spec.Name, " ", "_")
}

// TestSceneGroup_CreateUpdateDismiss: a scene group is created from the
// provider's template with one sceneGroup/create, changed through the
// scene-group APIs, and dismissed when the ChatGroup with deletionPolicy Delete
// is deleted.
func TestSceneGroup_CreateUpdateDismiss(t *testing.T) {
	g := NewWithT(t)
	creates, disbands := sim.Count(simdingtalk.OpSceneCreate), sim.Count(simdingtalk.OpSceneDisband)
	cg, id := readyGroup(t, "scene", scene, func(c *v1alpha1.ChatGroup) { c.Spec.DeletionPolicy = v1alpha1.Delete })
	g.Expect(len([]rune(cg.Spec.Name))).To(BeNumerically(">", 20), "a scene title may be longer than a regular group's")
	sg, ok := sim.SceneGroup(id)
	g.Expect(ok).To(BeTrue(), "the group ID is the scene group's openConversationId")
	g.Expect(sg.Title).To(Equal(cg.Spec.Name))
	g.Expect(sg.TemplateID).To(Equal(simdingtalk.HarnessTemplate))
	g.Expect(sg.UUID).To(Equal(string(cg.UID)), "the uuid is derived from the ChatGroup's UID")
	g.Expect(sg.Owner).To(Equal("owner1"))
	g.Expect(sg.Members).To(ConsistOf("owner1", "u1", "u2", "u3", "u4", "u5"))
	g.Expect(sim.Count(simdingtalk.OpSceneCreate) - creates).To(Equal(1))
	g.Expect(sim.GroupsNamed(cg.Spec.Name)).To(BeEmpty(), "no regular group")

	// Rename, add two, remove one and hand the group to a new owner.
	patch := client.MergeFrom(cg.DeepCopy())
	cg.Spec.Name = strings.TrimSuffix(cg.Spec.Name, "-scene") + "-later"
	cg.Spec.Owner = "u1"
	cg.Spec.Members = []string{"u2", "u3", "u4", "u6", "u7"}
	g.Expect(env.Client.Patch(ctx, cg, patch)).To(Succeed())
	env.WaitReady(t, cg)
	sg, _ = sim.SceneGroup(id)
	g.Expect(sg.Title).To(Equal(cg.Spec.Name))
	g.Expect(sg.Owner).To(Equal("u1"))
	g.Expect(sg.Members).To(ConsistOf("u1", "u2", "u3", "u4", "u6", "u7"))

	g.Expect(env.Client.Delete(ctx, cg)).To(Succeed())
	env.WaitGone(t, cg)
	_, ok = sim.SceneGroup(id)
	g.Expect(ok).To(BeFalse(), "dismissed")
	g.Expect(sim.Count(simdingtalk.OpSceneDisband, "ok") - disbands).To(Equal(1))
	g.Expect(sim.Count(simdingtalk.OpSceneCreate) - creates).To(Equal(1))
}

// TestSceneGroup_LostCreateResponse: the vendor applies the create but its
// answer is lost. The repeated create carries the same uuid, so the vendor
// answers with the same group: exactly one scene group, adopted without a human.
func TestSceneGroup_LostCreateResponse(t *testing.T) {
	g := NewWithT(t)
	startEnv(t)
	ns := env.Namespace(t)
	newProvider(t, ns, appSecret)
	ok0, dropped0 := sim.Count(simdingtalk.OpSceneCreate, "ok"), sim.Count(simdingtalk.OpSceneCreate, "dropped")
	sim.SetOpFaults(simdingtalk.OpSceneCreate, vendorsim.Faults{DropRate: 1})
	defer sim.SetOpFaults(simdingtalk.OpSceneCreate, vendorsim.Faults{})
	cg := newGroup(ns, "lost-scene", scene)
	g.Expect(env.Client.Create(ctx, cg)).To(Succeed())
	g.Eventually(func() int { return sim.Count(simdingtalk.OpSceneCreate, "dropped") - dropped0 }).
		WithTimeout(20 * time.Second).Should(BeNumerically(">=", 1))
	sim.SetOpFaults(simdingtalk.OpSceneCreate, vendorsim.Faults{})

	got := env.WaitReady(t, cg)
	groups := sim.SceneGroupsTitled(cg.Spec.Name)
	g.Expect(groups).To(HaveLen(1), "exactly one scene group")
	g.Expect(got.Status.GroupID).To(Equal(groups[0].OpenConversationID))
	g.Expect(got.Annotations).NotTo(HaveKey(v1alpha1.CreatePendingAnnotation))
	g.Expect(sim.Count(simdingtalk.OpSceneCreate, "dropped")-dropped0).To(Equal(1), "one create applied with its answer lost")
	g.Expect(sim.Count(simdingtalk.OpSceneCreate, "ok")-ok0).To(Equal(1), "one repeat, answered with the same group")
}

// TestSceneGroup_WithoutTemplate: a scene group on a provider that names no
// template is Stalled, naming the provider's field; nothing is created.
func TestSceneGroup_WithoutTemplate(t *testing.T) {
	g := NewWithT(t)
	startEnv(t)
	ns := env.Namespace(t)
	settings, data := harness.Provider(simURL)
	settings.DingTalk.SceneGroupTemplateID = ""
	// Ready first: its status change would start a second pass, which claims
	// the create again while this one's result is read.
	env.WaitProvider(t, env.Provider(t, ns, "dingtalk", settings, data), metav1.ConditionTrue, "")
	creates := sim.Count(simdingtalk.OpSceneCreate)
	cg := newGroup(ns, "no-template", scene)
	g.Expect(env.Client.Create(ctx, cg)).To(Succeed())
	got := env.WaitFor(t, cg, metav1.ConditionFalse, v1alpha1.InvalidSpecReason)
	g.Expect(meta.FindStatusCondition(got.Status.Conditions, v1alpha1.StalledCondition).Message).To(ContainSubstring("spec.dingtalk.sceneGroupTemplateID"))
	g.Expect(sim.Count(simdingtalk.OpSceneCreate) - creates).To(BeZero())
	g.Eventually(func(g Gomega) map[string]string {
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(cg), cg)).To(Succeed())
		return cg.Annotations
	}).WithTimeout(10*time.Second).ShouldNot(HaveKey(v1alpha1.CreatePendingAnnotation), "a definite refusal drops the claim")
}
