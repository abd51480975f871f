package tencentim

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// Group types.
const (
	private    = "Private"
	public     = "Public"
	chatRoom   = "ChatRoom"
	avChatRoom = "AVChatRoom"
	community  = "Community"
)

// Per-call caps the vendor documents.
const (
	// createMemberCap is create_group's MemberList cap (the REST field table; the
	// web SDK allows more, but REST is what we call).
	createMemberCap = 100
	addMemberCap    = 300
	deleteMemberCap = 100
	// memberPageSize is get_group_member_info's Limit maximum.
	memberPageSize = 200
)

const (
	// derivedPrefix starts the GroupIds derived from a ChatGroup's UID: printable
	// ASCII, 39 bytes with the UID, and never the vendor's own "@TGS#" prefix.
	derivedPrefix = "cg-"
	// communityPrefix must start a custom Community GroupId.
	communityPrefix = "@TGS#_"
	// vendorPrefix starts the GroupIds the vendor assigns; custom ones must not.
	vendorPrefix    = "@TGS#"
	maxGroupIDBytes = 48
)

// Wire types, named after the vendor's JSON fields.
type (
	appDefinedDatum struct {
		Key   string `json:"Key"`
		Value string `json:"Value"`
	}
	memberAccount struct {
		Account string `json:"Member_Account"`
	}
	createGroupRequest struct {
		Type             string            `json:"Type"`
		GroupID          string            `json:"GroupId,omitempty"`
		Name             string            `json:"Name"`
		Owner            string            `json:"Owner_Account,omitempty"`
		Introduction     string            `json:"Introduction,omitempty"`
		Notification     string            `json:"Notification,omitempty"`
		FaceURL          string            `json:"FaceUrl,omitempty"`
		MaxMemberCount   int               `json:"MaxMemberCount,omitempty"`
		ApplyJoinOption  string            `json:"ApplyJoinOption,omitempty"`
		InviteJoinOption string            `json:"InviteJoinOption,omitempty"`
		AppDefinedData   []appDefinedDatum `json:"AppDefinedData,omitempty"`
		MemberList       []memberAccount   `json:"MemberList,omitempty"`
	}
	createGroupResponse struct {
		GroupID string `json:"GroupId"`
	}
	groupInfoRequest struct {
		GroupIDs []string        `json:"GroupIdList"`
		Filter   *responseFilter `json:"ResponseFilter,omitempty"`
	}
	responseFilter struct {
		GroupBaseInfo []string `json:"GroupBaseInfoFilter,omitempty"`
	}
	groupInfoResponse struct {
		Groups []groupInfo `json:"GroupInfo"`
	}
	groupInfo struct {
		GroupID          string            `json:"GroupId"`
		ErrorCode        int               `json:"ErrorCode"`
		ErrorInfo        string            `json:"ErrorInfo"`
		Type             string            `json:"Type"`
		Name             string            `json:"Name"`
		Introduction     string            `json:"Introduction"`
		Notification     string            `json:"Notification"`
		FaceURL          string            `json:"FaceUrl"`
		Owner            string            `json:"Owner_Account"`
		MaxMemberNum     int               `json:"MaxMemberNum"`
		ApplyJoinOption  string            `json:"ApplyJoinOption"`
		InviteJoinOption string            `json:"InviteJoinOption"`
		MuteAllMember    string            `json:"MuteAllMember"`   // current name
		ShutUpAllMember  string            `json:"ShutUpAllMember"` // name in older pages
		AppDefinedData   []appDefinedDatum `json:"AppDefinedData"`
		// MemberNum and MemberList come with every unfiltered answer; Observe
		// pages the members with get_group_member_info, a batch reads them here.
		MemberNum  int `json:"MemberNum"`
		MemberList []struct {
			Account string `json:"Member_Account"`
			Role    string `json:"Role"`
		} `json:"MemberList"`
	}
	memberInfoRequest struct {
		GroupID string `json:"GroupId"`
		Limit   int    `json:"Limit"`
		Offset  int    `json:"Offset,omitempty"`
		// Next pages Community groups, which do not support Offset; "" asks for
		// the first page.
		Next             *string  `json:"Next,omitempty"`
		MemberInfoFilter []string `json:"MemberInfoFilter"`
	}
	memberInfoResponse struct {
		MemberNum  int `json:"MemberNum"`
		MemberList []struct {
			Account string `json:"Member_Account"`
			Role    string `json:"Role"`
		} `json:"MemberList"`
		Next string `json:"Next"`
	}
	modifyGroupRequest struct {
		GroupID          string            `json:"GroupId"`
		Name             *string           `json:"Name,omitempty"`
		Introduction     *string           `json:"Introduction,omitempty"`
		Notification     *string           `json:"Notification,omitempty"`
		FaceURL          *string           `json:"FaceUrl,omitempty"`
		MaxMemberNum     *int              `json:"MaxMemberNum,omitempty"`
		ApplyJoinOption  *string           `json:"ApplyJoinOption,omitempty"`
		InviteJoinOption *string           `json:"InviteJoinOption,omitempty"`
		MuteAllMember    *string           `json:"MuteAllMember,omitempty"`
		AppDefinedData   []appDefinedDatum `json:"AppDefinedData,omitempty"`
	}
	addMembersRequest struct {
		GroupID string          `json:"GroupId"`
		Members []memberAccount `json:"MemberList"`
	}
	addMembersResponse struct {
		MemberList []struct {
			Account string `json:"Member_Account"`
			Result  int    `json:"Result"`
		} `json:"MemberList"`
	}
	deleteMembersRequest struct {
		GroupID  string   `json:"GroupId"`
		Accounts []string `json:"MemberToDel_Account"`
	}
	changeOwnerRequest struct {
		GroupID  string `json:"GroupId"`
		NewOwner string `json:"NewOwner_Account"`
	}
	groupIDRequest struct {
		GroupID string `json:"GroupId"`
	}
	groupListRequest struct {
		Limit int `json:"Limit"`
	}
)

// add_group_member results per member.
const (
	addFailed  = 0
	addAdded   = 1
	addMember  = 2 // already a member
	addInvited = 3 // waiting for the invitee to accept
)

// CheckCredentials lists one group ID: the cheapest call that needs a valid
// UserSig for an App admin of the app. It probes no permission beyond that, as
// there is none to probe (vendor-apis.md §2): every REST call runs as the App
// admin identifier, which holds every group permission; 10007 (insufficient
// permission) answers what a group's type forbids (AVChatRoom) or a
// From_Account that may not act, never a grant missing from the console. What
// the console must provide is the admin identifier and the key its UserSig is
// signed with, both proved here; custom group fields (AppDefinedData keys) are
// enabled per key and can only be tried on a group, which reports the key.
func (c *Client) CheckCredentials(ctx context.Context) error {
	return c.do(ctx, read("get_appid_group_list", ""), groupListRequest{Limit: 1}, nil)
}

// Find returns the group with want's GroupId, if it exists. The GroupId is chosen
// by the operator, so an earlier create that may have been lost is found exactly.
func (c *Client) Find(ctx context.Context, want vendors.GroupSpec) ([]string, error) {
	id := groupID(want)
	if id == "" {
		return nil, nil
	}
	_, exists, err := c.readInfo(ctx, id, &responseFilter{GroupBaseInfo: []string{"Type"}})
	if err != nil {
		return nil, err
	}
	if !exists {
		// The GroupId is derived, so creating again is safe: a group made meanwhile
		// answers 10021 and is adopted.
		return nil, vendors.NewError(vendors.ErrNotFound, "get_group_info", "", "no group "+id+"; a new create is safe")
	}
	return []string{id}, nil
}

// Observe reads group id (profile, custom data and every member) and compares it
// with want. A group that does not exist (10010/10015) is Exists=false.
func (c *Client) Observe(ctx context.Context, id string, want vendors.GroupSpec) (vendors.Observation, error) {
	got, exists, err := c.read(ctx, id)
	if err != nil || !exists {
		return vendors.Observation{}, err
	}
	upToDate, diff := compare(want, got)
	obs := vendors.Observation{Exists: true, UpToDate: upToDate, Diff: diff, Group: got.observed(), Changes: neutral(want, got)}
	if upToDate {
		obs.Group.Extra = Extra{Set: setBy(want)}
	}
	return obs, nil
}

// Create makes the group with the GroupId derived from want.UID (or
// spec.tencentIM.groupID), then adds the members create_group cannot take and sets
// what it has no field for. When the GroupId is taken (10021/10025) an earlier
// create made the group: it is adopted and brought to want instead.
//
// When the group exists but finishing it fails, the group (with its ID) is
// returned with the error, so the controller records the ID and Update does the
// rest.
func (c *Client) Create(ctx context.Context, want vendors.GroupSpec) (vendors.ObservedGroup, error) {
	if err := validate(want); err != nil {
		return vendors.ObservedGroup{}, err
	}
	id := groupID(want)
	members := vendors.Difference(want.Members, []string{want.Owner})
	first := members[:min(len(members), createMemberCap)]

	var resp createGroupResponse
	err := c.do(ctx, write("create_group"), createRequest(id, want, first), &resp)
	var got group
	switch {
	case hasCode(err, codeGroupIDUsed, codeGroupIDUsedByAdmin):
		var exists bool
		if got, exists, err = c.read(ctx, id); err == nil && !exists {
			err = vendors.NewError(vendors.ErrUnavailable, "create_group", "", "GroupId "+id+" is reported as taken but the group cannot be read yet")
		}
		if err != nil {
			return vendors.ObservedGroup{}, err
		}
	case err != nil:
		if len(first) > 0 && hasCode(err, codeAccountNotFound, codeAccountNotImported) {
			err = vendors.UnknownMembers(err, first, nil)
		}
		return vendors.ObservedGroup{}, err
	default:
		got = created(id, want, first)
	}
	res, err := c.apply(ctx, got, want)
	return res.Group, err
}

// Update reads the group's profile (ObservedGroup carries only name, owner and
// members; in the pass that observed the group that read is reused) and makes
// the calls that turn it into want.
func (c *Client) Update(ctx context.Context, got vendors.ObservedGroup, want vendors.GroupSpec) (vendors.UpdateResult, error) {
	if err := validate(want); err != nil {
		return vendors.UpdateResult{}, err
	}
	cur, exists, err := c.readInfo(ctx, got.ID, nil)
	if err == nil && !exists {
		err = vendors.NewError(vendors.ErrNotFound, "modify_group_base_info", "", "group "+got.ID+" no longer exists")
	}
	if err != nil {
		return vendors.UpdateResult{}, err
	}
	if cur.Type != avChatRoom {
		cur.Members = got.Members
	}
	return c.apply(ctx, cur, want)
}

// Delete destroys the group; one that is already gone counts as done.
func (c *Client) Delete(ctx context.Context, id string) error {
	err := c.do(ctx, write("destroy_group"), groupIDRequest{GroupID: id}, nil)
	if hasCode(err, codeGroupNotFound, codeGroupIDInvalid) {
		return nil
	}
	return err
}

// apply turns got into want in the order the vendor needs: profile; new members
// (the new owner among them, since only a member can become owner); ownership;
// then removals, which may include the old owner if the spec does not list it.
func (c *Client) apply(ctx context.Context, got group, want vendors.GroupSpec) (vendors.UpdateResult, error) {
	res := vendors.UpdateResult{Group: got.observed()}
	if t := settingsOf(want).GroupType; t != "" && t != got.Type {
		return res, invalid("tencentIM.groupType", "group %s is a %s group and the group type cannot change", got.ID, got.Type)
	}
	if m := baseInfoChanges(want, got); !m.empty() {
		m.GroupID = got.ID
		if err := c.do(ctx, write("modify_group_base_info"), m, nil); err != nil {
			return res, err
		}
		res.SettingsChanged = true
		res.Group.Name = want.Name
	}
	if got.Type == avChatRoom {
		res.Group.Extra = Extra{Set: setBy(want)}
		return res, nil
	}
	add, _ := memberChanges(want, got, got.Owner)
	added, joined, err := c.addMembers(ctx, got.ID, add)
	res.Added = added
	res.Group.Members = append(res.Group.Members, joined...)
	if err != nil {
		return res, err
	}
	owner := got.Owner
	if ownerChange(want, got) {
		if err := c.do(ctx, write("change_group_owner"), changeOwnerRequest{GroupID: got.ID, NewOwner: want.Owner}, nil); err != nil {
			return res, err
		}
		res.OwnerTransferred, res.Group.Owner, owner = true, want.Owner, want.Owner
	}
	_, remove := vendors.MemberChanges(want, res.Group.Members, owner)
	removed, err := c.deleteMembers(ctx, got.ID, remove)
	res.Removed = removed
	res.Group.Members = vendors.Difference(res.Group.Members, removed)
	if err == nil {
		res.Group.Extra = Extra{Set: setBy(want)}
	}
	return res, err
}

// addMembers adds accounts in calls of at most addMemberCap and checks each
// member's Result. It returns the members it added and all that are members now
// (added or already in); members the vendor refused make an ErrInvalid error.
func (c *Client) addMembers(ctx context.Context, id string, accounts []string) (added, joined []string, err error) {
	var refused []string
	for _, batch := range vendors.Batches(accounts, addMemberCap) {
		req := addMembersRequest{GroupID: id}
		for _, a := range batch {
			req.Members = append(req.Members, memberAccount{Account: a})
		}
		var resp addMembersResponse
		if err := c.do(ctx, write("add_group_member"), req, &resp); err != nil {
			if hasCode(err, codeAccountNotFound, codeAccountNotImported) {
				// The whole call is refused for the accounts IM does not have;
				// the caller isolates them and adds the rest.
				err = vendors.UnknownMembers(err, batch, nil)
			}
			return added, joined, err
		}
		for _, m := range resp.MemberList {
			switch m.Result {
			case addAdded:
				added = append(added, m.Account)
				joined = append(joined, m.Account)
			case addMember:
				joined = append(joined, m.Account)
			case addFailed:
				refused = append(refused, m.Account)
			case addInvited:
				// Not a member until the invitee accepts; the next sync sees
				// whether they did.
			}
		}
	}
	if len(refused) > 0 {
		err = invalid("members", "the vendor could not add %s to group %s (the account may be in too many groups)", strings.Join(refused, ", "), id)
	}
	return added, joined, err
}

// deleteMembers removes accounts in calls of at most deleteMemberCap. The vendor
// ignores accounts that are not members, so a retry is harmless.
func (c *Client) deleteMembers(ctx context.Context, id string, accounts []string) ([]string, error) {
	var removed []string
	for _, batch := range vendors.Batches(accounts, deleteMemberCap) {
		if err := c.do(ctx, write("delete_group_member"), deleteMembersRequest{GroupID: id, Accounts: batch}, nil); err != nil {
			return removed, err
		}
		removed = append(removed, batch...)
	}
	return removed, nil
}

// read reads the group's profile and, unless it is an AVChatRoom, its members.
func (c *Client) read(ctx context.Context, id string) (group, bool, error) {
	g, exists, err := c.readInfo(ctx, id, nil)
	if err != nil || !exists || g.Type == avChatRoom {
		return g, exists, err
	}
	members, owner, err := c.readMembers(ctx, g)
	if err != nil {
		return group{}, false, err
	}
	g.Members = members
	if g.Owner == "" {
		g.Owner = owner
	}
	return g, true, nil
}

// readInfo reads one group with get_group_info. Without a filter the vendor
// returns the whole profile and every AppDefinedData key, which the diff needs to
// find keys to delete; that read is made to observe and again to update, so
// within a reconcile pass (until a write) the second is the first one's answer.
// A missing group is reported per group (10010/10015).
func (c *Client) readInfo(ctx context.Context, id string, filter *responseFilter) (group, bool, error) {
	req := read("get_group_info", id)
	if filter != nil {
		req.ReadKey = "" // another answer than the whole profile's
	}
	var resp groupInfoResponse
	if err := c.do(ctx, req, groupInfoRequest{GroupIDs: []string{id}, Filter: filter}, &resp); err != nil {
		return group{}, false, err
	}
	i := slices.IndexFunc(resp.Groups, func(gi groupInfo) bool { return gi.GroupID == id })
	if i < 0 {
		return group{}, false, vendors.NewError(vendors.ErrUnavailable, "get_group_info", "", "the response has no entry for group "+id)
	}
	gi := resp.Groups[i]
	switch gi.ErrorCode {
	case 0:
	case codeGroupNotFound, codeGroupIDInvalid:
		return group{}, false, nil
	default:
		return group{}, false, classify("get_group_info", gi.ErrorCode, gi.ErrorInfo)
	}
	return fromInfo(gi), true, nil
}

// fromInfo converts a get_group_info entry.
func fromInfo(gi groupInfo) group {
	mute := gi.MuteAllMember
	if mute == "" {
		mute = gi.ShutUpAllMember
	}
	g := group{ID: gi.GroupID, Type: gi.Type, Name: gi.Name, Introduction: gi.Introduction,
		Notification: gi.Notification, FaceURL: gi.FaceURL, Owner: gi.Owner, MaxMembers: gi.MaxMemberNum,
		ApplyJoin: gi.ApplyJoinOption, InviteJoin: gi.InviteJoinOption, MuteAll: mute == "On"}
	for _, d := range gi.AppDefinedData {
		if g.AppData == nil {
			g.AppData = map[string]string{}
		}
		g.AppData[d.Key] = d.Value
	}
	return g
}

// readMembers pages through get_group_member_info (Offset; Next for Community
// groups) and returns every member and the one whose role is Owner.
func (c *Client) readMembers(ctx context.Context, g group) (members []string, owner string, err error) {
	req := memberInfoRequest{GroupID: g.ID, Limit: memberPageSize, MemberInfoFilter: []string{"Role"}}
	if g.Type == community {
		req.Next = new("")
	}
	for pages := 0; ; pages++ {
		var resp memberInfoResponse
		if err := c.do(ctx, read("get_group_member_info", ""), req, &resp); err != nil {
			return nil, "", err
		}
		for _, m := range resp.MemberList {
			members = append(members, m.Account)
			if m.Role == "Owner" {
				owner = m.Account
			}
		}
		more := len(resp.MemberList) > 0 && req.Offset+len(resp.MemberList) < resp.MemberNum
		if req.Next != nil {
			more = resp.Next != ""
			req.Next = new(resp.Next)
		} else {
			req.Offset += len(resp.MemberList)
		}
		if !more {
			return members, owner, nil
		}
		if pages > resp.MemberNum/memberPageSize+maxExtraPages {
			return nil, "", vendors.NewError(vendors.ErrUnavailable, "get_group_member_info", "", "the member list of group "+g.ID+" does not end")
		}
	}
}

// maxExtraPages bounds paging beyond what MemberNum promises, in case members
// join while the list is read.
const maxExtraPages = 10

// ChosenID implements vendors.IDChooser: the GroupId create_group is sent, which
// the vendor refuses to give a second group (10021).
func (c *Client) ChosenID(want vendors.GroupSpec) string { return groupID(want) }

// groupID is the GroupId for want: the custom one, or one derived from the UID
// ("" when there is neither).
func groupID(want vendors.GroupSpec) string {
	switch {
	case settingsOf(want).GroupID != "":
		return settingsOf(want).GroupID
	case want.UID == "":
		return ""
	case settingsOf(want).GroupType == community:
		return communityPrefix + derivedPrefix + want.UID
	}
	return derivedPrefix + want.UID
}

// createRequest is the create_group request for want with the first members.
func createRequest(id string, want vendors.GroupSpec, members []string) createGroupRequest {
	req := createGroupRequest{
		Type:             settingsOf(want).GroupType,
		GroupID:          id,
		Name:             want.Name,
		Owner:            want.Owner,
		Introduction:     want.Description,
		Notification:     want.Announcement,
		FaceURL:          want.Icon,
		ApplyJoinOption:  applyJoinOptions[want.Options.JoinPolicy],
		InviteJoinOption: inviteJoinOptions[settingsOf(want).InviteJoinPolicy],
		AppDefinedData:   appDataChanges(settingsOf(want).AppDefinedData, nil, nil),
	}
	if n := settingsOf(want).MaxMembers; n != nil {
		req.MaxMemberCount = int(*n)
	}
	for _, m := range members {
		req.MemberList = append(req.MemberList, memberAccount{Account: m})
	}
	return req
}

// created is the group as create_group made it from createRequest: what apply
// compares against to finish the job.
func created(id string, want vendors.GroupSpec, members []string) group {
	g := group{ID: id, Type: settingsOf(want).GroupType, Name: want.Name, Introduction: want.Description,
		Notification: want.Announcement, FaceURL: want.Icon, Owner: want.Owner,
		ApplyJoin: applyJoinOptions[want.Options.JoinPolicy], InviteJoin: inviteJoinOptions[settingsOf(want).InviteJoinPolicy],
		AppData: settingsOf(want).AppDefinedData}
	if n := settingsOf(want).MaxMembers; n != nil {
		g.MaxMembers = int(*n)
	}
	if g.Type != avChatRoom {
		if want.Owner != "" {
			g.Members = append(g.Members, want.Owner)
		}
		g.Members = append(g.Members, members...)
	}
	return g
}

// validate rejects what the vendor would reject for the group type, before any
// call, naming the spec field.
func validate(want vendors.GroupSpec) error {
	t := settingsOf(want)
	switch {
	case !slices.Contains([]string{private, public, chatRoom, avChatRoom, community}, t.GroupType):
		return invalid("tencentIM.groupType", "unknown group type %q", t.GroupType)
	case groupID(want) == "":
		return invalid("tencentIM.groupID", "there is no UID to derive a GroupId from; set spec.tencentIM.groupID")
	case t.GroupID != "":
		if err := validateGroupID(t.GroupID, t.GroupType); err != nil {
			return err
		}
	}
	if want.Options.JoinPolicy != "" {
		if applyJoinOptions[want.Options.JoinPolicy] == "" {
			return invalid("managementOptions.joinPolicy", "unknown join policy %q", want.Options.JoinPolicy)
		}
		if t.GroupType == private || t.GroupType == community {
			return invalid("managementOptions.joinPolicy", "%s groups cannot be joined by application, so they have no join policy", t.GroupType)
		}
	}
	if t.InviteJoinPolicy != "" && inviteJoinOptions[t.InviteJoinPolicy] == "" {
		return invalid("tencentIM.inviteJoinPolicy", "unknown invite policy %q", t.InviteJoinPolicy)
	}
	if t.GroupType == avChatRoom {
		return validateAVChatRoom(want)
	}
	return nil
}

// validateGroupID checks the vendor's rules for a custom GroupId.
func validateGroupID(id, groupType string) error {
	if len(id) > maxGroupIDBytes || strings.ContainsFunc(id, func(r rune) bool { return r < '!' || r > '~' }) {
		return invalid("tencentIM.groupID", "a GroupId is at most %d printable ASCII characters", maxGroupIDBytes)
	}
	if groupType == community && !strings.HasPrefix(id, communityPrefix) {
		return invalid("tencentIM.groupID", "a Community GroupId must start with %s", communityPrefix)
	}
	if groupType != community && strings.HasPrefix(id, vendorPrefix) {
		return invalid("tencentIM.groupID", "a GroupId must not start with %s, which the vendor uses for the IDs it assigns", vendorPrefix)
	}
	return nil
}

// validateAVChatRoom rejects settings an AVChatRoom (a live-streaming group with no
// member list) does not have.
func validateAVChatRoom(want vendors.GroupSpec) error {
	switch {
	case len(want.Members) > 0:
		return invalid("members", "AVChatRoom groups keep no member list")
	case settingsOf(want).MaxMembers != nil:
		return invalid("tencentIM.maxMembers", "AVChatRoom groups have no member limit")
	case settingsOf(want).InviteJoinPolicy != "":
		return invalid("tencentIM.inviteJoinPolicy", "AVChatRoom groups are joined freely, not by invitation")
	}
	return nil
}

// invalid is an ErrInvalid error about spec field.
func invalid(field, format string, args ...any) *vendors.Error {
	e := vendors.NewError(vendors.ErrInvalid, "check spec", "", fmt.Sprintf(format, args...))
	e.Field = field
	return e
}
