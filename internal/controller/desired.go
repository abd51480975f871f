package controller

import (
	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// desiredGroup is desiredGroupOf for a spec that names no people.
func desiredGroup(obj *v1alpha1.ChatGroup, reg vendors.Registration) vendors.GroupSpec {
	return desiredGroupOf(obj, reg, people{Owner: obj.Spec.Owner, Members: obj.Spec.Members})
}

// desiredGroupOf is the one place a ChatGroup becomes a GroupSpec: the neutral
// fields here (owner and members as resolvePeople resolved them), the vendor's
// own part from its registration.
func desiredGroupOf(obj *v1alpha1.ChatGroup, reg vendors.Registration, ppl people) vendors.GroupSpec {
	s := obj.Spec
	want := vendors.GroupSpec{
		UID:          string(obj.UID),
		Name:         s.Name,
		Owner:        ppl.Owner,
		Members:      ppl.Members,
		MemberPolicy: vendors.Authoritative,
		AddedMembers: obj.Status.AddedMembers,
		Description:  s.Description,
		Announcement: s.Announcement,
		Icon:         s.Icon,
	}
	if s.MemberPolicy == v1alpha1.Additive {
		want.MemberPolicy = vendors.Additive
	}
	if o := s.ManagementOptions; o != nil {
		want.Options = vendors.Options{
			MentionAllOwnerOnly:     ownerOnly(o.MentionAll),
			ShowHistoryToNewMembers: o.ShowHistoryToNewMembers,
			JoinPolicy:              string(o.JoinPolicy),
			Searchable:              o.Searchable,
			MuteAll:                 o.MuteAll,
			ManagedByOwnerOnly:      ownerOnly(o.ManagedBy),
		}
	}
	if reg.Desired != nil {
		reg.Desired(obj, &want)
	}
	return want
}

// ownerOnly turns an Audience into "owner only?" (nil when unset).
func ownerOnly(a v1alpha1.Audience) *bool {
	if a == "" {
		return nil
	}
	b := a == v1alpha1.OwnerOnly
	return &b
}
