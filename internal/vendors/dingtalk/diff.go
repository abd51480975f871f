package dingtalk

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// flags are the six managementOptions flags, each 0 or 1.
type flags struct {
	MentionAll  int // mentionAllAuthority: 1 = only the owner can @all
	ShowHistory int // showHistoryType: 1 = new members see the last 100 messages
	Validation  int // validationType: 1 = joining needs approval
	Searchable  int // searchable: 1 = the group can be found by search
	Banned      int // chatBannedType: 1 = everyone is muted
	Management  int // managementType: 1 = only the owner manages the group
}

// chat is a DingTalk group as the client knows it: what the legacy chat/get
// reports (name, owner, useridlist, conversationTag, the flags). The icon and
// the external contacts are write-only (that page returns neither), so they are
// compared with the operator's own record (GroupSettings.Written) instead.
type chat struct {
	ID                 string
	OpenConversationID string
	Name               string
	Owner              string
	Members            []string
	Tag                int64
	TagKnown           bool
	Flags              flags
}

// observed is c in the vendor-neutral form.
func (c chat) observed() vendors.ObservedGroup {
	return vendors.ObservedGroup{ID: c.ID, Name: c.Name, Owner: c.Owner, Members: slices.Clone(c.Members), Extra: Extra{OpenConversationID: c.OpenConversationID}}
}

// delta is what differs between a group and the spec: what updates must send.
type delta struct {
	// Name and Icon are the new values; empty when unchanged.
	Name string
	Icon string
	// Owner is the new owner (with OwnerType, emp or ext); empty when unchanged.
	Owner     string
	OwnerType string
	// Add and Remove are staff user IDs. Remove never holds the current or the
	// new owner; RemoveOldOwner is the previous owner, who can only go after the
	// transfer.
	Add            []string
	Remove         []string
	RemoveOldOwner string
	// AddExt and RemoveExt are external contacts' unionIds.
	AddExt    []string
	RemoveExt []string
	// Flags are all six flags, set when any differs.
	Flags *flags
	// Invalid is a difference no update can resolve.
	Invalid *vendors.Error
}

// empty reports whether the group matches the spec.
func (d delta) empty() bool {
	return d.Name == "" && d.Icon == "" && d.Owner == "" && len(d.Add)+len(d.Remove)+len(d.AddExt)+len(d.RemoveExt) == 0 &&
		d.RemoveOldOwner == "" && d.Flags == nil && d.Invalid == nil
}

// String describes d for logs.
func (d delta) String() string {
	var parts []string
	add := func(format string, args ...any) { parts = append(parts, fmt.Sprintf(format, args...)) }
	if d.Invalid != nil {
		add("cannot apply: %s", d.Invalid.Message)
	}
	if d.Name != "" {
		add("name -> %q", d.Name)
	}
	if d.Icon != "" {
		add("icon -> %q", d.Icon)
	}
	if d.Owner != "" {
		add("owner -> %s", d.Owner)
	}
	if n := len(d.Remove) + len(d.Add); n > 0 || d.RemoveOldOwner != "" {
		add("members +%v -%v", d.Add, append(slices.Clip(d.Remove), nonEmpty(d.RemoveOldOwner)...))
	}
	if len(d.AddExt)+len(d.RemoveExt) > 0 {
		add("external members +%v -%v", d.AddExt, d.RemoveExt)
	}
	if d.Flags != nil {
		add("managementOptions -> %+v", *d.Flags)
	}
	return strings.Join(parts, "; ")
}

// neutral is d as spec paths and member IDs, for status.drift and the removal
// guard.
func (d delta) neutral() vendors.Changes {
	var c vendors.Changes
	for _, f := range []struct {
		path    string
		changed bool
	}{
		{"name", d.Name != ""},
		{"icon", d.Icon != ""},
		{"owner", d.Owner != ""},
		{"managementOptions", d.Flags != nil},
		{"dingtalk.externalMembers", len(d.AddExt)+len(d.RemoveExt) > 0},
	} {
		if f.changed {
			c.Fields = append(c.Fields, f.path)
		}
	}
	if d.Invalid != nil && d.Invalid.Field != "" {
		c.Fields = append(c.Fields, d.Invalid.Field)
	}
	c.Add = slices.Clone(d.Add)
	c.Remove = append(slices.Clone(d.Remove), nonEmpty(d.RemoveOldOwner)...)
	return c
}

// compare reports whether got matches want and, if not, what differs.
func compare(want vendors.GroupSpec, got chat) (upToDate bool, diff string) {
	d := changes(want, got)
	return d.empty(), d.String()
}

// changes computes the difference between want and got. Unset parts of want
// (empty name or icon, nil options) keep what got has.
func changes(want vendors.GroupSpec, got chat) delta {
	var d delta
	if want.Name != "" && want.Name != got.Name {
		d.Name = want.Name
	}
	written := settingsOf(want).Written
	if want.Icon != "" && iconHash(want.Icon) != written.IconHash {
		d.Icon = want.Icon
	}
	if got.TagKnown && got.Tag != conversationTag(want) {
		d.Invalid = &vendors.Error{Class: vendors.ErrInvalid, Op: "compare", Field: "dingtalk.conversationType",
			Message: fmt.Sprintf("the group's conversationTag is %d but the spec asks for %s; DingTalk cannot change it after creation", got.Tag, settingsOf(want).ConversationType)}
	}
	f, err := wantFlags(want.Options, got.Flags)
	switch {
	case err != nil:
		d.Invalid = err
	case f != got.Flags:
		d.Flags = &f
	}
	d.Add, d.Remove = vendors.MemberChanges(staffSpec(want), got.Members, got.Owner)
	if want.Owner != "" && want.Owner != got.Owner {
		d.Owner, d.OwnerType = want.Owner, ownerType(want)
		// An external previous owner is not in useridlist: it goes with the
		// external contacts, if the operator put it there.
		if slices.Contains(got.Members, got.Owner) && removable(want, got.Owner) {
			d.RemoveOldOwner = got.Owner
		}
	}
	// Only contacts the operator put in the group are removed, whatever the
	// policy: nobody else's can be seen.
	ext := externals(want)
	d.AddExt = vendors.Difference(ext, written.ExternalMembers)
	d.RemoveExt = vendors.Difference(written.ExternalMembers, ext)
	return d
}

// externalOwner reports whether want's owner is an external contact
// (ownerType External): a unionId, which travels in extidlist and
// add_extidlist, never in useridlist (seed 002 and 000).
func externalOwner(want vendors.GroupSpec) bool {
	return settingsOf(want).OwnerType == "External"
}

// staffSpec is want as far as useridlist goes: an External owner is no staff
// member.
func staffSpec(want vendors.GroupSpec) vendors.GroupSpec {
	if externalOwner(want) {
		want.Owner = ""
	}
	return want
}

// externals are the external contacts want asks for: an External owner first,
// then spec.dingtalk.externalMembers.
func externals(want vendors.GroupSpec) []string {
	ext := settingsOf(want).ExternalMembers
	if externalOwner(want) && want.Owner != "" {
		return append([]string{want.Owner}, vendors.Difference(ext, []string{want.Owner})...)
	}
	return vendors.Difference(ext, nil)
}

// written is the record of the write-only fields once want is applied.
func written(want vendors.GroupSpec) Written {
	w := settingsOf(want).Written
	if want.Icon != "" {
		w.IconHash = iconHash(want.Icon)
	}
	w.ExternalMembers = externals(want)
	return w
}

// iconHash is a short, stable digest of an icon's mediaId for status.
func iconHash(icon string) string {
	sum := sha256.Sum256([]byte(icon))
	return hex.EncodeToString(sum[:16])
}

// removable reports whether the policy lets a previous owner who is not in the
// spec go: always with Authoritative, with Additive only when the operator
// added them as a member.
func removable(want vendors.GroupSpec, oldOwner string) bool {
	if slices.Contains(want.Members, oldOwner) {
		return false
	}
	return want.MemberPolicy != vendors.Additive || slices.Contains(want.AddedMembers, oldOwner)
}

// wantFlags returns the flags want asks for, keeping base's value for every
// option want leaves unset.
func wantFlags(o vendors.Options, base flags) (flags, *vendors.Error) {
	f := base
	set := func(dst *int, b *bool) {
		if b != nil {
			*dst = bit(*b)
		}
	}
	set(&f.MentionAll, o.MentionAllOwnerOnly)
	set(&f.ShowHistory, o.ShowHistoryToNewMembers)
	set(&f.Searchable, o.Searchable)
	set(&f.Banned, o.MuteAll)
	set(&f.Management, o.ManagedByOwnerOnly)
	switch o.JoinPolicy {
	case "":
	case "Open":
		f.Validation = 0
	case "ApprovalRequired":
		f.Validation = 1
	default:
		return base, &vendors.Error{Class: vendors.ErrInvalid, Op: "compare", Field: "managementOptions.joinPolicy",
			Message: fmt.Sprintf("DingTalk supports joinPolicy Open and ApprovalRequired, not %s", o.JoinPolicy)}
	}
	return f, nil
}

func bit(b bool) int {
	if b {
		return 1
	}
	return 0
}

// conversationTag is the tag want asks for: 0 for a Standard group, 2 (the
// vendor's default) for an Internal one.
func conversationTag(want vendors.GroupSpec) int64 {
	if settingsOf(want).ConversationType == "Standard" {
		return 0
	}
	return 2
}

// ownerType is the vendor's ownerType for want's owner.
func ownerType(want vendors.GroupSpec) string {
	if settingsOf(want).OwnerType == "External" {
		return "ext"
	}
	return "emp"
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
