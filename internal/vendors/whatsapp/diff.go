package whatsapp

import (
	"fmt"
	"strings"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// snapshot is a CAMS group as read: its settings, invite link and participants.
type snapshot struct {
	Subject     string
	Description string
	Picture     string
	InviteLink  string
	// Participants are phone numbers as CAMS spells them.
	Participants []string
}

// changes is what turns a snapshot into the spec.
type changes struct {
	// Subject, Description and Picture are the settings UpdateChatGroup must
	// send; "" leaves a setting alone.
	Subject     string
	Description string
	Picture     string
	// Remove are participants to remove, as CAMS spells them.
	Remove []string
	// Pending are listed members who have not joined, as the spec lists them.
	// They are not a difference: only they can act (through the invite link).
	Pending []string
	// OpenLink: members are pending and no invite link is open.
	OpenLink bool
	// RevokeLink: nobody is pending but a link is still open.
	RevokeLink bool
}

// compare computes the changes that make got match want. admin is the business
// number, which administers the group and is never removed. Empty spec fields
// leave the vendor's value alone.
func compare(want vendors.GroupSpec, got snapshot, admin string) changes {
	var ch changes
	if want.Name != "" && want.Name != got.Subject {
		ch.Subject = want.Name
	}
	if want.Description != "" && want.Description != got.Description {
		ch.Description = want.Description
	}
	// CAMS lists its own copy of the picture, never the URL sent: compare with
	// the record of what was sent instead of the echo.
	if want.Icon != "" && pictureHash(want.Icon) != settingsOf(want).PictureHash {
		ch.Picture = want.Icon
	}
	ch.Pending, ch.Remove = memberChanges(want, got.Participants, admin)
	ch.OpenLink = len(ch.Pending) > 0 && got.InviteLink == ""
	ch.RevokeLink = len(ch.Pending) == 0 && got.InviteLink != ""
	return ch
}

// memberChanges returns the listed members who have not joined and the
// participants to remove (Authoritative: everyone unlisted; Additive: only
// unlisted members the operator added), comparing numbers without "+". The
// adds of vendors.MemberChanges are the pending invitees: CAMS cannot add.
func memberChanges(want vendors.GroupSpec, participants []string, admin string) (pending, remove []string) {
	norm := vendors.GroupSpec{
		Members:      normalizeAll(want.Members),
		MemberPolicy: want.MemberPolicy,
		AddedMembers: normalizeAll(want.AddedMembers),
	}
	add, rm := vendors.MemberChanges(norm, normalizeAll(participants), normalize(admin))
	return spelledAs(add, want.Members), spelledAs(rm, participants)
}

// neutral is ch as spec paths and member IDs, for status.drift and the
// removal guard. Pending invitees are the members the group lacks; removals
// are spelled in E.164 as the spec spells members (the same numbers).
func (ch changes) neutral() vendors.Changes {
	var c vendors.Changes
	for _, f := range []struct {
		path    string
		changed bool
	}{{"name", ch.Subject != ""}, {"description", ch.Description != ""}, {"icon", ch.Picture != ""}} {
		if f.changed {
			c.Fields = append(c.Fields, f.path)
		}
	}
	c.Add = ch.Pending
	for _, p := range ch.Remove { // in E.164, as a ChatGroup lists members
		c.Remove = append(c.Remove, "+"+normalize(p))
	}
	return c
}

// settingsChanged reports whether UpdateChatGroup has anything to send.
func (ch changes) settingsChanged() bool {
	return ch.Subject != "" || ch.Description != "" || ch.Picture != ""
}

// upToDate reports whether no call is needed. Pending invitees with an open
// link are up to date: nothing the operator can call would change them.
func (ch changes) upToDate() bool {
	return !ch.settingsChanged() && len(ch.Remove) == 0 && !ch.OpenLink && !ch.RevokeLink
}

// String describes the changes for logs, without phone numbers.
func (ch changes) String() string {
	var parts []string
	for _, s := range []struct {
		changed bool
		name    string
	}{
		{ch.Subject != "", "subject"},
		{ch.Description != "", "description"},
		{ch.Picture != "", "profile picture"},
		{len(ch.Remove) > 0, fmt.Sprintf("remove %d participants", len(ch.Remove))},
		{ch.OpenLink, "open invite link"},
		{ch.RevokeLink, "revoke invite link"},
	} {
		if s.changed {
			parts = append(parts, s.name)
		}
	}
	if len(ch.Pending) > 0 {
		parts = append(parts, fmt.Sprintf("%d members awaiting invite", len(ch.Pending)))
	}
	return strings.Join(parts, ", ")
}

// normalize spells a phone number the way CAMS does: without a leading "+".
func normalize(number string) string { return strings.TrimPrefix(number, "+") }

func normalizeAll(numbers []string) []string {
	out := make([]string, len(numbers))
	for i, n := range numbers {
		out[i] = normalize(n)
	}
	return out
}

// spelledAs returns each normalized number as spelled in forms (the first
// spelling that normalizes to it).
func spelledAs(numbers, forms []string) []string {
	var out []string
	for _, n := range numbers {
		for _, f := range forms {
			if normalize(f) == n {
				out = append(out, f)
				break
			}
		}
	}
	return out
}
