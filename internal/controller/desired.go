package controller

import (
	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// desiredGroup is the one place a ChatGroup becomes a vendor-neutral GroupSpec.
func desiredGroup(obj *v1alpha1.ChatGroup) vendors.GroupSpec {
	s := obj.Spec
	want := vendors.GroupSpec{
		UID:          string(obj.UID),
		Name:         s.Name,
		Owner:        s.Owner,
		Members:      s.Members,
		MemberPolicy: vendors.Authoritative,
		AddedMembers: obj.Status.AddedMembers,
		Description:  s.Description,
		Announcement: s.Announcement,
		Icon:         s.Icon,
	}
	if ws := obj.Status.WhatsApp; ws != nil {
		want.ObservedName = ws.Subject
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
	want.DingTalk = vendors.DingTalkSpec{OwnerType: "Employee", ConversationType: "Internal"}
	if d := s.DingTalk; d != nil {
		want.DingTalk.ExternalMembers = d.ExternalMembers
		if d.OwnerType != "" {
			want.DingTalk.OwnerType = string(d.OwnerType)
		}
		if d.ConversationType != "" {
			want.DingTalk.ConversationType = string(d.ConversationType)
		}
	}
	want.TencentIM = vendors.TencentIMSpec{GroupType: "Private"}
	if t := s.TencentIM; t != nil {
		want.TencentIM.GroupID = t.GroupID
		want.TencentIM.MaxMembers = t.MaxMembers
		want.TencentIM.InviteJoinPolicy = string(t.InviteJoinPolicy)
		want.TencentIM.AppDefinedData = t.AppDefinedData
		if t.GroupType != "" {
			want.TencentIM.GroupType = string(t.GroupType)
		}
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
