package tencentim

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// group is a Tencent IM group as read from the vendor: everything compare needs.
type group struct {
	ID           string
	Type         string
	Name         string
	Introduction string
	Notification string
	FaceURL      string
	Owner        string
	MaxMembers   int
	ApplyJoin    string
	InviteJoin   string
	MuteAll      bool
	AppData      map[string]string
	// Members are all members, owner included; nil for an AVChatRoom, which keeps
	// no member list.
	Members []string
}

// observed is the neutral view of g.
func (g group) observed() vendors.ObservedGroup {
	return vendors.ObservedGroup{ID: g.ID, Name: g.Name, Owner: g.Owner, Members: slices.Clone(g.Members)}
}

// applyJoinOptions and inviteJoinOptions map the API's join policies to the
// vendor's ApplyJoinOption and InviteJoinOption values.
var (
	applyJoinOptions  = map[string]string{"Open": "FreeAccess", "ApprovalRequired": "NeedPermission", "Closed": "DisableApply"}
	inviteJoinOptions = map[string]string{"Open": "FreeAccess", "ApprovalRequired": "NeedPermission", "Closed": "DisableInvite"}
)

// compare reports whether got matches want, and what differs (for logs).
func compare(want vendors.GroupSpec, got group) (upToDate bool, diff string) {
	var parts []string
	if t := settingsOf(want).GroupType; t != "" && t != got.Type {
		parts = append(parts, fmt.Sprintf("Type %s, want %s (immutable)", got.Type, t))
	}
	parts = append(parts, baseInfoChanges(want, got).fields()...)
	if ownerChange(want, got) {
		parts = append(parts, fmt.Sprintf("owner %q, want %q", got.Owner, want.Owner))
	}
	if add, remove := memberChanges(want, got, got.Owner); len(add)+len(remove) > 0 {
		parts = append(parts, fmt.Sprintf("members +%d -%d", len(add), len(remove)))
	}
	return len(parts) == 0, strings.Join(parts, "; ")
}

// neutral is the difference between want and got as spec paths and member
// IDs, for status.drift and the removal guard: the same comparisons compare and
// apply make. Removals include an old owner the spec no longer lists, whom
// apply removes after the transfer.
func neutral(want vendors.GroupSpec, got group) vendors.Changes {
	var c vendors.Changes
	if t := settingsOf(want).GroupType; t != "" && t != got.Type {
		c.Fields = append(c.Fields, "tencentIM.groupType")
	}
	m := baseInfoChanges(want, got)
	for _, f := range []struct {
		path    string
		changed bool
	}{
		{"name", m.Name != nil},
		{"description", m.Introduction != nil},
		{"announcement", m.Notification != nil},
		{"icon", m.FaceURL != nil},
		{"managementOptions.joinPolicy", m.ApplyJoinOption != nil},
		{"managementOptions.muteAll", m.MuteAllMember != nil},
		{"tencentIM.maxMembers", m.MaxMemberNum != nil},
		{"tencentIM.inviteJoinPolicy", m.InviteJoinOption != nil},
		{"tencentIM.appDefinedData", len(m.AppDefinedData) > 0},
		{"owner", ownerChange(want, got)},
	} {
		if f.changed {
			c.Fields = append(c.Fields, f.path)
		}
	}
	owner := got.Owner
	if ownerChange(want, got) {
		owner = want.Owner
	}
	c.Add, _ = memberChanges(want, got, got.Owner)
	_, c.Remove = memberChanges(want, got, owner)
	return c
}

// ownerChange reports whether ownership must move to want.Owner. An empty
// want.Owner leaves the owner alone.
func ownerChange(want vendors.GroupSpec, got group) bool {
	return want.Owner != "" && want.Owner != got.Owner && got.Type != avChatRoom
}

// memberChanges are the members to add and remove, with owner as the current
// owner (who is never removed). An AVChatRoom has no member list to manage.
func memberChanges(want vendors.GroupSpec, got group, owner string) (add, remove []string) {
	if got.Type == avChatRoom {
		return nil, nil
	}
	return vendors.MemberChanges(want, got.Members, owner)
}

// baseInfoChanges is the modify_group_base_info request (without GroupId) that
// turns got's profile into want's: only fields that are set in want and differ.
func baseInfoChanges(want vendors.GroupSpec, got group) modifyGroupRequest {
	var m modifyGroupRequest
	m.Name = changed(want.Name, got.Name)
	set := settingsOf(want).Set
	m.Introduction = changedOrCleared(want.Description, got.Introduction, slices.Contains(set.Fields, fieldDescription))
	m.Notification = changedOrCleared(want.Announcement, got.Notification, slices.Contains(set.Fields, fieldAnnouncement))
	m.FaceURL = changed(want.Icon, got.FaceURL)
	m.ApplyJoinOption = changed(applyJoinOptions[want.Options.JoinPolicy], got.ApplyJoin)
	m.InviteJoinOption = changed(inviteJoinOptions[settingsOf(want).InviteJoinPolicy], got.InviteJoin)
	if n := settingsOf(want).MaxMembers; n != nil && int(*n) != got.MaxMembers && got.Type != avChatRoom {
		m.MaxMemberNum = new(int(*n))
	}
	if mute := want.Options.MuteAll; mute != nil && *mute != got.MuteAll {
		m.MuteAllMember = new(onOff(*mute))
	}
	m.AppDefinedData = appDataChanges(settingsOf(want).AppDefinedData, got.AppData, set.AppDataKeys)
	return m
}

// changedOrCleared is changed, except that an unset want clears a text the
// operator set (wasSet): the vendor takes an empty Introduction or Notification
// as the new text.
func changedOrCleared(want, got string, wasSet bool) *string {
	if want == "" && wasSet && got != "" {
		return &want
	}
	return changed(want, got)
}

// changed returns &want when want is set and differs from got, else nil.
func changed(want, got string) *string {
	if want == "" || want == got {
		return nil
	}
	return &want
}

// appDataChanges are the AppDefinedData items that turn got into want: keys whose
// value differs, and keys the operator set (in ours) that want no longer has,
// with an empty Value, which the vendor reads as "delete" (seed 001). Keys
// other systems wrote are never touched.
func appDataChanges(want, got map[string]string, ours []string) []appDefinedDatum {
	var out []appDefinedDatum
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if v, ok := got[k]; !ok || v != want[k] {
			out = append(out, appDefinedDatum{Key: k, Value: want[k]})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok && slices.Contains(ours, k) {
			out = append(out, appDefinedDatum{Key: k, Value: ""})
		}
	}
	return out
}

func onOff(b bool) string {
	if b {
		return "On"
	}
	return "Off"
}

// empty reports whether m changes nothing.
func (m modifyGroupRequest) empty() bool { return len(m.fields()) == 0 }

// fields names what m changes, for diffs and events.
func (m modifyGroupRequest) fields() []string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"Name", m.Name != nil},
		{"Introduction", m.Introduction != nil},
		{"Notification", m.Notification != nil},
		{"FaceUrl", m.FaceURL != nil},
		{"MaxMemberNum", m.MaxMemberNum != nil},
		{"ApplyJoinOption", m.ApplyJoinOption != nil},
		{"InviteJoinOption", m.InviteJoinOption != nil},
		{"MuteAllMember", m.MuteAllMember != nil},
	} {
		if f.set {
			out = append(out, f.name)
		}
	}
	for _, d := range m.AppDefinedData {
		out = append(out, "AppDefinedData["+d.Key+"]")
	}
	return out
}
