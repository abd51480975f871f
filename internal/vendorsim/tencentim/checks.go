package tencentim

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Checks and helpers the group APIs share.

// checkProfile checks the profile texts' byte limits (nil: not set).
func checkProfile(name, introduction, notification, faceURL *string) *vendorError {
	for _, f := range []struct {
		field string
		value *string
		max   int
	}{
		{"Name", name, maxNameBytes},
		{"Introduction", introduction, maxIntroductionBytes},
		{"Notification", notification, maxNotificationBytes},
		{"FaceUrl", faceURL, maxFaceURLBytes},
	} {
		if f.value != nil && len(*f.value) > f.max {
			return fail(codeBadParam, "%s is %d bytes; at most %d", f.field, len(*f.value), f.max)
		}
	}
	return nil
}

// checkJoinOptions checks join options ("": not set) against the group type.
func checkJoinOptions(rules typeRules, groupType, apply, invite string) *vendorError {
	switch {
	case apply != "" && !rules.applyJoin:
		return fail(codeBadParam, "%s groups cannot be joined by application; ApplyJoinOption is not supported", groupType)
	case apply != "" && !slices.Contains(applyJoinOptions, apply):
		return fail(codeBadParam, "ApplyJoinOption %q is not one of %v", apply, applyJoinOptions)
	case invite != "" && !rules.inviteJoin:
		return fail(codeBadParam, "%s groups cannot be joined by invitation; InviteJoinOption is not supported", groupType)
	case invite != "" && !slices.Contains(inviteJoinOptions, invite):
		return fail(codeBadParam, "InviteJoinOption %q is not one of %v", invite, inviteJoinOptions)
	}
	return nil
}

// checkCustomID checks a caller-chosen GroupId.
func checkCustomID(id, groupType string) *vendorError {
	switch {
	case len(id) > maxGroupIDBytes:
		return fail(codeBadParam, "GroupId is %d bytes; at most %d", len(id), maxGroupIDBytes)
	case strings.ContainsFunc(id, func(r rune) bool { return r < 0x20 || r > 0x7e }):
		return fail(codeBadParam, "GroupId must be printable ASCII")
	case groupType == "Community" && !strings.HasPrefix(id, "@TGS#_"):
		return fail(codeBadParam, "a custom Community GroupId must start with @TGS#_")
	case groupType != "Community" && strings.HasPrefix(id, "@TGS#"):
		return fail(codeBadParam, "a custom GroupId must not start with @TGS#")
	}
	return nil
}

// checkData checks that AppDefinedData keys are enabled for the app.
func (a *app) checkData(items []keyValue) *vendorError {
	for _, kv := range items {
		if !a.dataKeys[kv.Key] {
			return fail(codeBadParam, "AppDefinedData key %q is not enabled for this app in the console", kv.Key)
		}
	}
	return nil
}

// checkImported fails with 10019 naming the accounts that were never imported.
func (a *app) checkImported(accounts []string) *vendorError {
	var missing []string
	for _, id := range accounts {
		if !a.accounts[id] && !slices.Contains(missing, id) {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return fail(codeNoAccount, "accounts not found (import them first): %s", strings.Join(missing, ", "))
	}
	return nil
}

// group finds a group: 10015 for an ID that cannot be one, 10010 when missing.
func (a *app) group(id string) (*Group, *vendorError) {
	if id == "" || len(id) > maxGroupIDBytes+len("@TGS#_") {
		return nil, fail(codeBadGroupID, "invalid group id %q", id)
	}
	g, ok := a.groups[id]
	if !ok {
		return nil, fail(codeGroupNotFound, "group %s does not exist or has been dismissed", id)
	}
	return g, nil
}

// joinedGroups counts the groups account is a member of.
func (a *app) joinedGroups(account string) int {
	n := 0
	for _, g := range a.groups {
		if g.member(account) >= 0 {
			n++
		}
	}
	return n
}

// member is account's index in g.Members, or -1.
func (g *Group) member(account string) int {
	return slices.IndexFunc(g.Members, func(m Member) bool { return m.Account == account })
}

// assignID makes a vendor-style GroupId for a create without one.
func (s *Server) assignID(groupType string) string {
	s.seq++
	id := fmt.Sprintf("%09X", s.seq*7919)
	if groupType == "Community" {
		return "@TGS#_@TGS#c" + id
	}
	return "@TGS#2" + id
}

// applyData applies AppDefinedData items; an empty Value deletes the key.
func applyData(data map[string]string, items []keyValue) map[string]string {
	for _, kv := range items {
		if kv.Value == "" {
			delete(data, kv.Key)
			continue
		}
		if data == nil {
			data = map[string]string{}
		}
		data[kv.Key] = kv.Value
	}
	return data
}

// dataList renders AppDefinedData, only keys when keys is not nil.
func dataList(data map[string]string, keys []string) []map[string]any {
	out := []map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(data)) {
		if keys == nil || slices.Contains(keys, k) {
			out = append(out, map[string]any{"Key": k, "Value": data[k]})
		}
	}
	return out
}

// memberList renders members with the fields in filter (all when nil).
func memberList(members []Member, filter []string) []map[string]any {
	out := make([]map[string]any, 0, len(members))
	for _, m := range members {
		all := map[string]any{"Role": m.Role, "JoinTime": m.Joined.Unix(), "MsgSeq": 0, "MsgFlag": "AcceptAndNotify",
			"LastSendMsgTime": 0, "ShutUpUntil": 0, "NameCard": ""}
		item := map[string]any{"Member_Account": m.Account}
		for k, v := range all {
			if filter == nil || slices.Contains(filter, k) {
				item[k] = v
			}
		}
		out = append(out, item)
	}
	return out
}

func onOff(b bool) string {
	if b {
		return "On"
	}
	return "Off"
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func assign(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}
