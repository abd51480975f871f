package feishu

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

const (
	// maxBatch is the most user IDs per create, add or remove (§3.1, §4.1, §4.2).
	maxBatch = 50
	// memberPage is the largest member page (§4.3).
	memberPage = 100
)

var _ vendors.GroupClient = (*Client)(nil)

// uuidOf is the create dedupe key for a ChatGroup: derived from its UID, so
// every retry of its create carries the same one (§3.1, §9; at most 50
// characters, a UID has 36).
func uuidOf(uid string) string { return "cg-" + uid }

// CheckCredentials fetches a fresh tenant_access_token: the app ID and secret
// are all a token needs (§1).
func (c *Client) CheckCredentials(ctx context.Context) error {
	_, err := c.accessToken(ctx, true)
	return err
}

// Observe reads the chat and its members and compares them with want. A
// dissolved or unknown chat (232009, 232006) does not exist (open question 3:
// whichever of the two get answers after a dissolve, both mean gone).
func (c *Client) Observe(ctx context.Context, id string, want vendors.GroupSpec) (vendors.Observation, error) {
	info, err := c.getChat(ctx, id)
	if errors.Is(err, vendors.ErrNotFound) {
		return vendors.Observation{}, nil
	}
	if err != nil {
		return vendors.Observation{}, err
	}
	if info.ChatStatus == "dissolved" || info.ChatStatus == "dissolved_save" {
		return vendors.Observation{}, nil
	}
	members, err := c.members(ctx, id)
	if err != nil {
		return vendors.Observation{}, err
	}
	d, _ := want.Vendor.(Desired)
	info.AvatarKey = d.AvatarKey
	p := planFor(info, members, want)
	return vendors.Observation{Exists: true, UpToDate: p.empty(), Diff: p.describe(), Group: observed(id, info, members), Changes: p.neutral()}, nil
}

func observed(id string, info chatInfo, members []string) vendors.ObservedGroup {
	return vendors.ObservedGroup{ID: id, Name: info.Name, Owner: info.OwnerID, Members: members, Extra: info}
}

// Find says creating again is safe (ErrNotFound): a create repeats the
// ChatGroup's uuid with the same owner, and Feishu makes at most one chat per
// uuid and owner_id for 10 hours (§3.1), answering the repeat with the chat the
// first one made (open question 1, decided so in the simulator's Config). A
// create left in doubt for longer than 10 hours, or whose owner changed in
// between, could make a second chat; the create-pending claim is resolved on
// the next pass, minutes later, so neither is expected.
func (c *Client) Find(context.Context, vendors.GroupSpec) ([]string, error) {
	return nil, vendors.NewError(vendors.ErrNotFound, "find chat", "", "the create's uuid dedupes a repeat")
}

// Create makes the chat in one call with the settings create takes and up to
// 50 members (§3.1), then one PUT for what create cannot set
// (at_all_permission, add_member_permission with share_card_permission), then
// adds the remaining members in batches. A member the bot cannot see fails the
// whole create (232043, the CLI's note): the chat is then created without the
// list, and members are added with succeed_type=1, which reports them.
func (c *Client) Create(ctx context.Context, want vendors.GroupSpec) (vendors.ObservedGroup, error) {
	others := vendors.Difference(want.Members, []string{want.Owner})
	first := others[:min(len(others), maxBatch)]
	info, err := c.createChat(ctx, want, first)
	if err != nil && codeOf(err) == "232043" && len(first) > 0 {
		first = nil
		info, err = c.createChat(ctx, want, nil)
	}
	if err != nil {
		return vendors.ObservedGroup{}, err
	}
	info.AvatarKey = want.Icon // create took it
	members := append([]string{}, first...)
	if info.OwnerID != "" {
		members = append([]string{info.OwnerID}, members...)
	}
	g := observed(info.ChatID, info, members)
	if p := patch(info, want); len(p) > 0 {
		if err := c.updateChat(ctx, info.ChatID, p); err != nil {
			return g, err
		}
	}
	added, unknown, err := c.addMembers(ctx, info.ChatID, vendors.Difference(others, first))
	g.Members = append(g.Members, added...)
	if err != nil {
		return g, err
	}
	return g, unknownErr(unknown)
}

func (c *Client) createChat(ctx context.Context, want vendors.GroupSpec, members []string) (chatInfo, error) {
	q := url.Values{"user_id_type": {c.idType}, "uuid": {uuidOf(want.UID)}}
	body := map[string]any{"name": want.Name}
	for k, v := range createSettings(want) {
		body[k] = v
	}
	if want.Description != "" {
		body["description"] = want.Description
	}
	if want.Icon != "" {
		body["avatar"] = want.Icon
	}
	if want.Owner != "" {
		body["owner_id"] = want.Owner
		// The bot stays a manager when a user owns the chat, so it keeps
		// managing members even without im:chat:operate_as_owner (§5).
		q.Set("set_bot_manager", "true")
	}
	if len(members) > 0 {
		body["user_id_list"] = members
	}
	var info chatInfo
	err := c.do(ctx, call{api: "chat/create", method: http.MethodPost, path: chatsPath, query: q, body: body, write: true}, &info)
	if err == nil && info.ChatID == "" {
		err = vendors.NewError(vendors.ErrUnavailable, "chat/create", "", "the answer holds no chat_id")
	}
	return info, err
}

// Update adds members first (a new owner must already be a member, §5), then
// makes one PUT with every changed field and the owner, then removes members
// (the old owner can only go once ownership moved, 232076). Unknown IDs are
// reported after everything else is applied.
func (c *Client) Update(ctx context.Context, got vendors.ObservedGroup, want vendors.GroupSpec) (vendors.UpdateResult, error) {
	info, _ := got.Extra.(chatInfo)
	p := planFor(info, got.Members, want)
	res := vendors.UpdateResult{Group: got}
	added, unknown, err := c.addMembers(ctx, got.ID, p.add)
	res.Added = added
	res.Group.Members = append(append([]string{}, got.Members...), added...)
	if err != nil {
		return res, err
	}
	body := map[string]any{}
	for k, v := range p.patch {
		body[k] = v
	}
	if p.owner != "" {
		body["owner_id"] = p.owner
	}
	if len(body) > 0 {
		if err := c.updateChat(ctx, got.ID, body); err != nil {
			return res, err
		}
		res.SettingsChanged = len(p.patch) > 0
		res.OwnerTransferred = p.owner != ""
		info = applied(info, p)
		res.Group.Owner, res.Group.Name, res.Group.Extra = info.OwnerID, info.Name, info
	}
	if p.owner != "" { // the old owner is an ordinary member now, and goes if unlisted
		_, p.remove = vendors.MemberChanges(want, res.Group.Members, p.owner)
	}
	removed, err := c.removeMembers(ctx, got.ID, p.remove)
	res.Removed = removed
	res.Group.Members = vendors.Difference(res.Group.Members, removed)
	if err != nil {
		return res, err
	}
	return res, unknownErr(unknown)
}

// Delete dissolves the chat (§3.4); one already gone is not an error.
func (c *Client) Delete(ctx context.Context, id string) error {
	err := c.do(ctx, call{api: "chat/delete", method: http.MethodDelete, path: chatsPath + "/" + url.PathEscape(id), write: true}, nil)
	if err == nil || errors.Is(err, vendors.ErrNotFound) {
		c.chatLocks.Delete(id) // the chat takes no more member writes
		return nil
	}
	return err
}

func (c *Client) getChat(ctx context.Context, id string) (chatInfo, error) {
	var info chatInfo
	err := c.do(ctx, call{api: "chat/get", method: http.MethodGet, path: chatsPath + "/" + url.PathEscape(id),
		query: url.Values{"user_id_type": {c.idType}}, readKey: id}, &info)
	return info, err
}

func (c *Client) updateChat(ctx context.Context, id string, body any) error {
	return c.do(ctx, call{api: "chat/update", method: http.MethodPut, path: chatsPath + "/" + url.PathEscape(id),
		query: url.Values{"user_id_type": {c.idType}}, body: body, write: true}, nil)
}

// members lists a chat's users, page by page (§4.3; bots are not listed).
func (c *Client) members(ctx context.Context, id string) ([]string, error) {
	var out []string
	token := ""
	for {
		q := url.Values{"member_id_type": {c.idType}, "page_size": {"100"}}
		if token != "" {
			q.Set("page_token", token)
		}
		var page struct {
			Items []struct {
				MemberID string `json:"member_id"`
			} `json:"items"`
			HasMore   bool   `json:"has_more"`
			PageToken string `json:"page_token"`
		}
		err := c.do(ctx, call{api: "chat.members/get", method: http.MethodGet, path: chatsPath + "/" + url.PathEscape(id) + "/members",
			query: q, readKey: id + "\x00" + token}, &page)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			out = append(out, it.MemberID)
		}
		if !page.HasMore || page.PageToken == "" {
			return vendors.Difference(out, nil), nil // pages may repeat members who joined together (§4.3)
		}
		token = page.PageToken
	}
}

// addMembers adds ids in batches of 50 with succeed_type=1: usable IDs are
// added and the rest reported (§4.1). It returns those added and those Feishu
// reported as not existing or unusable. Open question 4: adding a member who
// is already in is taken as a no-op success; the client never does it (it
// diffs first).
func (c *Client) addMembers(ctx context.Context, id string, ids []string) (added, unknown []string, err error) {
	if len(ids) == 0 {
		return nil, nil, nil
	}
	defer c.lockChat(id)()
	for _, batch := range vendors.Batches(ids, maxBatch) {
		var r struct {
			Invalid    []string `json:"invalid_id_list"`
			NotExisted []string `json:"not_existed_id_list"`
			Pending    []string `json:"pending_approval_id_list"`
		}
		err := c.do(ctx, call{api: "chat.members/create", method: http.MethodPost, path: chatsPath + "/" + url.PathEscape(id) + "/members",
			query: url.Values{"member_id_type": {c.idType}, "succeed_type": {"1"}}, body: map[string]any{"id_list": batch}, write: true}, &r)
		if err != nil {
			return added, unknown, err
		}
		bad := append(append([]string{}, r.Invalid...), r.NotExisted...)
		unknown = append(unknown, bad...)
		added = append(added, vendors.Difference(batch, append(bad, r.Pending...))...)
	}
	return added, unknown, nil
}

// removeMembers removes ids in batches of 50 (§4.2). Open question 4: an ID
// that is no longer a member comes back in invalid_id_list, and is gone
// either way.
func (c *Client) removeMembers(ctx context.Context, id string, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	defer c.lockChat(id)()
	var removed []string
	for _, batch := range vendors.Batches(ids, maxBatch) {
		err := c.do(ctx, call{api: "chat.members/delete", method: http.MethodDelete, path: chatsPath + "/" + url.PathEscape(id) + "/members",
			query: url.Values{"member_id_type": {c.idType}}, body: map[string]any{"id_list": batch}, write: true}, nil)
		if err != nil {
			return removed, err
		}
		removed = append(removed, batch...)
	}
	return removed, nil
}

// applied is info after a successful PUT of p: what the next Update (the
// controller repeats it while it isolates unknown members) compares with.
func applied(info chatInfo, p plan) chatInfo {
	for field, v := range p.patch {
		switch field {
		case "name":
			info.Name = v
		case "description":
			info.Description = v
		case "avatar":
			info.AvatarKey = v
		case "chat_type":
			info.ChatType = v
		case "at_all_permission":
			info.AtAllPermission = v
		case "edit_permission":
			info.EditPermission = v
		case "membership_approval":
			info.MembershipApproval = v
		case "add_member_permission":
			info.AddMemberPermission = v
		case "share_card_permission":
			info.ShareCardPermission = v
		}
	}
	if p.owner != "" {
		info.OwnerID = p.owner
	}
	return info
}

// unknownErr reports IDs Feishu would not add (not existing, resigned, outside
// the app's availability scope) once everything else is applied: Feishu names
// them (not_existed_id_list, invalid_id_list), so the controller leaves out
// exactly those and reports them (MembersResolved UnknownToVendor).
func unknownErr(ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	e := vendors.NewError(vendors.ErrInvalid, "chat.members/create", "99992351",
		"Feishu does not know or cannot add these users (check spec.members and the app's availability scope): "+strings.Join(ids, ", "))
	e.Field = "members"
	// The rest is applied; the controller leaves these out and reports them.
	return vendors.UnknownMembers(e, ids, ids)
}
