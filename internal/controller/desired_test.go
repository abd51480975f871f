package controller

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

func TestDesiredGroup(t *testing.T) {
	base := func(v v1alpha1.Vendor, mods ...func(*v1alpha1.ChatGroup)) *v1alpha1.ChatGroup {
		cg := &v1alpha1.ChatGroup{
			ObjectMeta: metav1.ObjectMeta{Name: "g", Namespace: "ns", UID: "uid-1234"},
			Spec: v1alpha1.ChatGroupSpec{
				Vendor:      v,
				ProviderRef: v1alpha1.ProviderReference{Name: "p"},
				Name:        "team",
				Owner:       "owner1",
				Members:     []string{"u1", "u2"},
			},
		}
		for _, m := range mods {
			m(cg)
		}
		return cg
	}
	for _, tc := range []struct {
		name  string
		obj   *v1alpha1.ChatGroup
		check func(g *WithT, got vendors.GroupSpec)
	}{
		{
			name: "Audience OwnerOnly maps to true",
			obj: base(v1alpha1.DingTalk, func(c *v1alpha1.ChatGroup) {
				c.Spec.ManagementOptions = &v1alpha1.ManagementOptions{MentionAll: v1alpha1.OwnerOnly, ManagedBy: v1alpha1.OwnerOnly}
			}),
			check: func(g *WithT, got vendors.GroupSpec) {
				g.Expect(got.Options.MentionAllOwnerOnly).To(Equal(ptr.To(true)))
				g.Expect(got.Options.ManagedByOwnerOnly).To(Equal(ptr.To(true)))
			},
		},
		{
			name: "Audience Everyone maps to false",
			obj: base(v1alpha1.DingTalk, func(c *v1alpha1.ChatGroup) {
				c.Spec.ManagementOptions = &v1alpha1.ManagementOptions{MentionAll: v1alpha1.Everyone, ManagedBy: v1alpha1.Everyone}
			}),
			check: func(g *WithT, got vendors.GroupSpec) {
				g.Expect(got.Options.MentionAllOwnerOnly).To(Equal(ptr.To(false)))
				g.Expect(got.Options.ManagedByOwnerOnly).To(Equal(ptr.To(false)))
			},
		},
		{
			name: "Audience unset maps to nil",
			obj: base(v1alpha1.DingTalk, func(c *v1alpha1.ChatGroup) {
				c.Spec.ManagementOptions = &v1alpha1.ManagementOptions{JoinPolicy: v1alpha1.Open, MuteAll: ptr.To(true)}
			}),
			check: func(g *WithT, got vendors.GroupSpec) {
				g.Expect(got.Options.MentionAllOwnerOnly).To(BeNil())
				g.Expect(got.Options.ManagedByOwnerOnly).To(BeNil())
				g.Expect(got.Options.JoinPolicy).To(Equal("Open"))
				g.Expect(got.Options.MuteAll).To(Equal(ptr.To(true)))
			},
		},
		{
			name: "no management options leaves options empty",
			obj:  base(v1alpha1.DingTalk),
			check: func(g *WithT, got vendors.GroupSpec) {
				g.Expect(got.Options).To(Equal(vendors.Options{}))
			},
		},
		{
			name: "default policy is Authoritative",
			obj:  base(v1alpha1.TencentIM),
			check: func(g *WithT, got vendors.GroupSpec) {
				g.Expect(got.MemberPolicy).To(Equal(vendors.Authoritative))
			},
		},
		{
			name: "Additive policy",
			obj: base(v1alpha1.TencentIM, func(c *v1alpha1.ChatGroup) {
				c.Spec.MemberPolicy = v1alpha1.Additive
			}),
			check: func(g *WithT, got vendors.GroupSpec) {
				g.Expect(got.MemberPolicy).To(Equal(vendors.Additive))
			},
		},
		{
			name: "AddedMembers copied from status",
			obj: base(v1alpha1.TencentIM, func(c *v1alpha1.ChatGroup) {
				c.Status.AddedMembers = []string{"u1", "u9"}
			}),
			check: func(g *WithT, got vendors.GroupSpec) {
				g.Expect(got.AddedMembers).To(Equal([]string{"u1", "u9"}))
			},
		},
		{
			name: "UID, name, owner, members and texts from the object",
			obj: base(v1alpha1.TencentIM, func(c *v1alpha1.ChatGroup) {
				c.Spec.Description, c.Spec.Announcement, c.Spec.Icon = "d", "a", "i"
			}),
			check: func(g *WithT, got vendors.GroupSpec) {
				g.Expect(got.UID).To(Equal("uid-1234"))
				g.Expect(got.Name).To(Equal("team"))
				g.Expect(got.Owner).To(Equal("owner1"))
				g.Expect(got.Members).To(Equal([]string{"u1", "u2"}))
				g.Expect([]string{got.Description, got.Announcement, got.Icon}).To(Equal([]string{"d", "a", "i"}))
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			tc.check(g, desiredGroup(tc.obj, vendors.Registration{}))
		})
	}

	t.Run("the vendor's registration adds its own part last", func(t *testing.T) {
		g := NewWithT(t)
		reg := vendors.Registration{Desired: func(obj *v1alpha1.ChatGroup, want *vendors.GroupSpec) {
			want.Vendor = "settings of " + obj.Name
			want.ObservedName = want.Name + " before"
		}}
		got := desiredGroup(base(v1alpha1.TencentIM), reg)
		g.Expect(got.Vendor).To(Equal("settings of g"))
		g.Expect(got.ObservedName).To(Equal("team before"), "it sees the neutral fields already set")
	})
}
