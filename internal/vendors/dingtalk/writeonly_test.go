package dingtalk_test

import (
	"testing"

	. "github.com/onsi/gomega"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	simdingtalk "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/dingtalk"
)

// The legacy chat/get returns neither the icon nor the external contacts
// (https://help.dingtalk.io/open/development/obtain-a-group-session), so the
// operator compares them with what it last wrote (status.dingtalk): a change is
// sent exactly once, and so is an adopted group's.
func TestDingTalk_WriteOnlyFieldsAreSentOnce(t *testing.T) {
	g := NewWithT(t)
	cg, id := readyGroup(t, "write-only", func(c *v1alpha1.ChatGroup) {
		c.Spec.Icon = "@icon-a"
		c.Spec.DingTalk = &v1alpha1.DingTalkGroup{ExternalMembers: []string{"union1"}}
	})
	grp, _ := sim.Group(id)
	g.Expect(grp.Icon).To(Equal("@icon-a"))
	g.Expect(grp.ExternalMembers).To(ConsistOf("union1"))
	g.Expect(cg.Status.DingTalk.IconHash).NotTo(BeEmpty())
	g.Expect(cg.Status.DingTalk.ExternalMembers).To(ConsistOf("union1"))

	patchSpec(t, cg, func(s *v1alpha1.ChatGroupSpec) {
		s.Icon = "@icon-b"
		s.DingTalk.ExternalMembers = []string{"union2"}
	})
	cg = env.WaitReady(t, cg)
	env.RequestReconcile(t, cg)
	env.RequestReconcile(t, cg)
	updates := writes(id, simdingtalk.OpUpdate)
	g.Expect(updates).To(HaveLen(1), "the change is sent once, and not again on later passes")
	g.Expect(updates[0]).To(And(HaveField("Code", ""), HaveField("AddExt", []string{"union2"}), HaveField("DelExt", []string{"union1"})))
	grp, _ = sim.Group(id)
	g.Expect(grp.Icon).To(Equal("@icon-b"))
	g.Expect(grp.ExternalMembers).To(ConsistOf("union2"))
	g.Expect(cg.Status.DingTalk.ExternalMembers).To(ConsistOf("union2"))

	// Adoption: the group's icon and external contacts are unknown, so they are
	// sent once.
	orphan := cg.DeepCopy()
	g.Expect(env.Client.Delete(ctx, orphan)).To(Succeed())
	env.WaitGone(t, orphan)
	adopter := newGroup(cg.Namespace, "write-only-adopt", func(c *v1alpha1.ChatGroup) {
		c.Spec.Name = cg.Spec.Name
		c.Spec.AdoptGroupID = id
		c.Spec.Icon = "@icon-c"
		c.Spec.DingTalk = &v1alpha1.DingTalkGroup{ExternalMembers: []string{"union2", "union3"}}
	})
	g.Expect(env.Client.Create(ctx, adopter)).To(Succeed())
	adopter = env.WaitReady(t, adopter)
	env.RequestReconcile(t, adopter)
	updates = writes(id, simdingtalk.OpUpdate)[1:]
	g.Expect(updates).To(HaveLen(1), "the adoption sends the write-only fields once")
	g.Expect(updates[0]).To(And(HaveField("Code", ""), HaveField("AddExt", ConsistOf("union2", "union3")), HaveField("DelExt", BeEmpty())))
	grp, _ = sim.Group(id)
	g.Expect(grp.Icon).To(Equal("@icon-c"))
	g.Expect(grp.ExternalMembers).To(ConsistOf("union2", "union3"))
}
