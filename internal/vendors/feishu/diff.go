package feishu

import (
	"sort"
	"strconv"
	"strings"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// chatInfo is what get (and create) report of a chat (§3.1, §3.2).
type chatInfo struct {
	ChatID              string `json:"chat_id"`
	Name                string `json:"name"`
	Description         string `json:"description"`
	Avatar              string `json:"avatar"`
	OwnerID             string `json:"owner_id"` // absent while the bot owns the chat
	ChatType            string `json:"chat_type"`
	AddMemberPermission string `json:"add_member_permission"`
	ShareCardPermission string `json:"share_card_permission"`
	AtAllPermission     string `json:"at_all_permission"`
	EditPermission      string `json:"edit_permission"`
	MembershipApproval  string `json:"membership_approval"`
	ChatStatus          string `json:"chat_status"`
	// AvatarKey is the image_key last set as the avatar (status.feishu): the
	// chat reports its avatar only as a URL (§3.1), so icons are compared here.
	AvatarKey string `json:"-"`
}

// audience spells an owner-only flag as the permission fields do.
func audience(ownerOnly bool) string {
	if ownerOnly {
		return "only_owner"
	}
	return "all_members"
}

// createSettings are the settings create can take (§3.1) that want sets.
func createSettings(want vendors.GroupSpec) map[string]string {
	s := map[string]string{}
	if d, _ := want.Vendor.(Desired); d.ChatType != "" {
		s["chat_type"] = d.ChatType
	}
	if v := want.Options.ManagedByOwnerOnly; v != nil {
		s["edit_permission"] = audience(*v)
	}
	if v := approval(want.Options.JoinPolicy); v != "" {
		s["membership_approval"] = v
	}
	return s
}

// approval maps joinPolicy onto membership_approval ("" leaves it).
func approval(joinPolicy string) string {
	switch joinPolicy {
	case "Open":
		return "no_approval_required"
	case "ApprovalRequired":
		return "approval_required"
	}
	return ""
}

// patch is the partial PUT body (§3.3) that turns got into want, without the
// owner: only fields that differ, and add_member_permission and
// share_card_permission always together. Empty when nothing differs.
func patch(got chatInfo, want vendors.GroupSpec) map[string]string {
	p := map[string]string{}
	set := func(field, have, wantV string) {
		if wantV != "" && have != wantV {
			p[field] = wantV
		}
	}
	set("name", got.Name, want.Name)
	set("description", got.Description, want.Description)
	set("avatar", got.AvatarKey, want.Icon)
	d, _ := want.Vendor.(Desired)
	set("chat_type", got.ChatType, d.ChatType)
	if v := want.Options.MentionAllOwnerOnly; v != nil {
		set("at_all_permission", got.AtAllPermission, audience(*v))
	}
	if v := want.Options.ManagedByOwnerOnly; v != nil {
		set("edit_permission", got.EditPermission, audience(*v))
	}
	set("membership_approval", got.MembershipApproval, approval(want.Options.JoinPolicy))
	if v := d.AddMembersOwnerOnly; v != nil {
		card := "allowed"
		if *v {
			card = "not_allowed"
		}
		if got.AddMemberPermission != audience(*v) || got.ShareCardPermission != card {
			p["add_member_permission"], p["share_card_permission"] = audience(*v), card
		}
	}
	return p
}

// ownerChange returns the user ownership moves to, or "".
func ownerChange(got chatInfo, want vendors.GroupSpec) string {
	if want.Owner != "" && want.Owner != got.OwnerID {
		return want.Owner
	}
	return ""
}

// plan is every change Update makes.
type plan struct {
	patch       map[string]string
	owner       string
	add, remove []string
}

func (p plan) empty() bool {
	return len(p.patch) == 0 && p.owner == "" && len(p.add) == 0 && len(p.remove) == 0
}

// describe lists what differs, for logs (IDs are not secrets, but counts do).
func (p plan) describe() string {
	var parts []string
	keys := make([]string, 0, len(p.patch))
	for k := range p.patch {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > 0 {
		parts = append(parts, strings.Join(keys, ", ")+" differ")
	}
	if p.owner != "" {
		parts = append(parts, "owner differs")
	}
	if n := len(p.add); n > 0 {
		parts = append(parts, plural(n, "member")+" to add")
	}
	if n := len(p.remove); n > 0 {
		parts = append(parts, plural(n, "member")+" to remove")
	}
	return strings.Join(parts, "; ")
}

func plural(n int, what string) string {
	s := strconv.Itoa(n) + " " + what
	if n != 1 {
		s += "s"
	}
	return s
}

// planFor computes the plan for a chat as observed.
func planFor(got chatInfo, members []string, want vendors.GroupSpec) plan {
	add, remove := vendors.MemberChanges(want, members, got.OwnerID)
	return plan{patch: patch(got, want), owner: ownerChange(got, want), add: add, remove: remove}
}

// specPaths names the spec path each patched field comes from.
var specPaths = map[string]string{
	"name":                  "name",
	"description":           "description",
	"avatar":                "icon",
	"chat_type":             "feishu.chatType",
	"at_all_permission":     "managementOptions.mentionAll",
	"edit_permission":       "managementOptions.managedBy",
	"membership_approval":   "managementOptions.joinPolicy",
	"add_member_permission": "feishu.addMembers",
	"share_card_permission": "feishu.addMembers",
}

// neutral is p as spec paths and member IDs, for status.drift and the
// removal guard.
func (p plan) neutral() vendors.Changes {
	var c vendors.Changes
	seen := map[string]bool{}
	for k := range p.patch {
		if path := specPaths[k]; path != "" && !seen[path] {
			seen[path] = true
			c.Fields = append(c.Fields, path)
		}
	}
	sort.Strings(c.Fields)
	if p.owner != "" {
		c.Fields = append(c.Fields, "owner")
	}
	c.Add, c.Remove = p.add, p.remove
	return c
}
