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

// ownerType External makes spec.owner an external contact's unionId, which
// travels in extidlist / add_extidlist and never in useridlist (seed 002, 000);
// the simulator refuses it anywhere else.
func TestDingTalk_ExternalOwner(t *testing.T) {
	g := NewWithT(t)
	cg, id := readyGroup(t, "ext-owner", func(c *v1alpha1.ChatGroup) {
		c.Spec.Owner = "union-owner"
		c.Spec.DingTalk = &v1alpha1.DingTalkGroup{OwnerType: "External", ExternalMembers: []string{"union1"}}
	})
	create := creates(cg.Spec.Name)
	g.Expect(create).To(HaveLen(1))
	g.Expect(create[0].Add).To(ConsistOf("u1", "u2", "u3", "u4", "u5"), "useridlist holds staff only")
	g.Expect(create[0].AddExt).To(Equal([]string{"union-owner", "union1"}))
	grp, _ := sim.Group(id)
	g.Expect(grp.Owner).To(Equal("union-owner"))
	g.Expect(grp.OwnerType).To(Equal("ext"))
	g.Expect(grp.Members).NotTo(ContainElement("union-owner"))

	// Back to an employee owner: owner1 joins, takes over, then the external
	// owner the operator added leaves through del_extidlist.
	patchSpec(t, cg, func(s *v1alpha1.ChatGroupSpec) {
		s.Owner = "owner1"
		s.DingTalk.OwnerType = "Employee"
	})
	env.WaitReady(t, cg)
	updates := writes(id, simdingtalk.OpUpdate)
	g.Expect(updates).To(HaveLen(3))
	g.Expect(updates[0]).To(And(HaveField("Add", []string{"owner1"}), HaveField("Owner", "")))
	g.Expect(updates[1]).To(HaveField("Owner", "owner1"))
	g.Expect(updates[2]).To(And(HaveField("DelExt", []string{"union-owner"}), HaveField("Del", BeEmpty())))
	for _, w := range updates {
		g.Expect(w.Code).To(BeEmpty(), w.Message)
	}
	grp, _ = sim.Group(id)
	g.Expect(grp.Owner).To(Equal("owner1"))
	g.Expect(grp.ExternalMembers).To(ConsistOf("union1"))
}
