package dingtalk

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

const (
	pathCreate  = "/v1.0/im/group/create"
	pathUpdate  = "/v1.0/im/group/update"
	pathSearch  = "/v1.0/im/innerGroups/search"
	pathChatGet = "/chat/get"
)

// maxIDsPerCall caps each ID list of one create or update call: the legacy
// documented limit, which the v1.0 pages neither restate nor lift.
const maxIDsPerCall = 40

// searchResults is how many of the owner's groups a lookup by name reads.
const searchResults = 100

// wireOptions is managementOptions. Every flag is always sent: the vendor reads
// a missing showHistoryType as "new members cannot see history", so a partial
// object could reset options the spec leaves alone.
type wireOptions struct {
	MentionAllAuthority int `json:"mentionAllAuthority"`
	ShowHistoryType     int `json:"showHistoryType"`
	ValidationType      int `json:"validationType"`
	Searchable          int `json:"searchable"`
	ChatBannedType      int `json:"chatBannedType"`
	ManagementType      int `json:"managementType"`
}

func (f flags) wire() *wireOptions {
	return &wireOptions{MentionAllAuthority: f.MentionAll, ShowHistoryType: f.ShowHistory, ValidationType: f.Validation,
		Searchable: f.Searchable, ChatBannedType: f.Banned, ManagementType: f.Management}
}

type createRequest struct {
	Name              string       `json:"name"`
	Owner             string       `json:"owner"`
	OwnerType         string       `json:"ownerType"`
	UserIDList        []string     `json:"useridlist"`
	ConversationTag   int64        `json:"conversationTag"`
	ExtIDList         []string     `json:"extidlist,omitempty"`
	Icon              string       `json:"icon,omitempty"`
	ManagementOptions *wireOptions `json:"managementOptions"`
}

type createResponse struct {
	ConversationTag    int64  `json:"conversationTag"`
	OpenConversationID string `json:"openConversationId"`
	ChatID             string `json:"chatid"`
}

type updateRequest struct {
	ChatID            string       `json:"chatid"`
	Name              string       `json:"name,omitempty"`
	Owner             string       `json:"owner,omitempty"`
	OwnerType         string       `json:"ownerType,omitempty"`
	AddUserIDList     []string     `json:"add_useridlist,omitempty"`
	DelUserIDList     []string     `json:"del_useridlist,omitempty"`
	AddExtIDList      []string     `json:"add_extidlist,omitempty"`
	DelExtIDList      []string     `json:"del_extidlist,omitempty"`
	Icon              string       `json:"icon,omitempty"`
	ManagementOptions *wireOptions `json:"managementOptions,omitempty"`
}

func (r updateRequest) hasSettings() bool {
	return r.Name != "" || r.Icon != "" || r.ManagementOptions != nil
}

type updateResponse struct {
	Success bool `json:"success"`
}

type chatGetResponse struct {
	ChatInfo *struct {
		Name                string   `json:"name"`
		Owner               string   `json:"owner"`
		UserIDList          []string `json:"useridlist"`
		ConversationTag     *int64   `json:"conversationTag"`
		ChatBannedType      int      `json:"chatBannedType"`
		Searchable          int      `json:"searchable"`
		ValidationType      int      `json:"validationType"`
		MentionAllAuthority int      `json:"mentionAllAuthority"`
		ManagementType      int      `json:"managementType"`
		ShowHistoryType     int      `json:"showHistoryType"`
	} `json:"chat_info"`
}

type searchRequest struct {
	UserID     string `json:"userId"`
	SearchKey  string `json:"searchKey"`
	MaxResults int    `json:"maxResults"`
}

type searchResponse struct {
	GroupInfos []struct {
		OpenConversationID string      `json:"openConversationId"`
		Title              string      `json:"title"`
		MemberAmount       json.Number `json:"memberAmount"` // the SDK has a string; either form is read
	} `json:"groupInfos"`
}

// CheckCredentials implements vendors.GroupClient: it gets an access token (a
// token still cached proves the credentials it was issued for; a changed Secret
// is a new credential and is checked with a new token call) and, until they have
// passed once for this client, probes the two app permissions the operator
// needs (probePermissions).
func (c *Client) CheckCredentials(ctx context.Context) error {
	if _, err := c.tokens.get(ctx, c.caller); err != nil {
		return err
	}
	if c.permsChecked.Load() {
		return nil
	}
	if err := c.probePermissions(ctx); err != nil {
		return err
	}
	c.permsChecked.Store(true)
	return nil
}

// probeChatID is a chatid no group has: server-made chatids are "chat" and 32
// hex digits.
const probeChatID = "chat-permission-probe"

// probePermissions checks qyapi_chat_read (chat/get) and qyapi_chat_manage
// (group/update), the permissions the operator needs (vendor-apis.md §1.2; seed
// 000 and 002), as far as DingTalk allows without a group: both calls name a
// chatid that cannot exist and change nothing. The gateway refuses an app
// without the API's permission whatever the request, so a refusal names the
// permission to grant; any other answer (the chatid is unknown) proves it. It
// runs once per client, not on every recheck: chat/get and group/update count
// against the organisation's monthly call quota (§1.5).
func (c *Client) probePermissions(ctx context.Context) error {
	var got chatGetResponse
	if err := c.getLegacy(ctx, apiGet, pathChatGet, url.Values{"chatid": {probeChatID}}, "", &got); refused(err) {
		return err
	}
	if err := c.post(ctx, callUpdate, updateRequest{ChatID: probeChatID}, &updateResponse{}); refused(err) {
		return err
	}
	return nil
}

// refused reports whether a probe's answer is a refusal of the app rather than
// of the made-up chatid.
func refused(err error) bool {
	for _, class := range []error{vendors.ErrAccessDenied, vendors.ErrUnauthorized, vendors.ErrRateLimited, vendors.ErrQuotaExceeded} {
		if errors.Is(err, class) {
			return true
		}
	}
	return false
}

// Observe implements vendors.GroupClient with the legacy chat/get, the only
// documented read of a regular group's owner and members. vendor-apis.md
// documents no chat/get code for a group that is gone, so an unknown chatid
// comes back as ErrUnavailable with the vendor's code, never as Exists=false.
func (c *Client) Observe(ctx context.Context, id string, want vendors.GroupSpec) (vendors.Observation, error) {
	if isScene(want) {
		return c.observeScene(ctx, id, want)
	}
	got, err := c.read(ctx, id, true)
	if errors.Is(err, vendors.ErrNotFound) {
		return vendors.Observation{}, nil
	}
	if err != nil {
		return vendors.Observation{}, err
	}
	d := changes(want, got)
	return vendors.Observation{Exists: true, UpToDate: d.empty(), Diff: d.String(), Group: got.observed(), Changes: d.neutral()}, nil
}

// read gets a group with chat/get. With reuse, a read of the same group
// earlier in the reconcile pass (and after its last write) answers instead.
func (c *Client) read(ctx context.Context, id string, reuse bool) (chat, error) {
	readKey := ""
	if reuse {
		readKey = id
	}
	var resp chatGetResponse
	if err := c.getLegacy(ctx, apiGet, pathChatGet, url.Values{"chatid": {id}}, readKey, &resp); err != nil {
		return chat{}, err
	}
	info := resp.ChatInfo
	if info == nil {
		return chat{}, vendors.NewError(vendors.ErrUnavailable, apiGet, "", "the answer holds no chat_info")
	}
	g := chat{ID: id, Name: info.Name, Owner: info.Owner, Members: info.UserIDList, Flags: flags{
		MentionAll: info.MentionAllAuthority, ShowHistory: info.ShowHistoryType, Validation: info.ValidationType,
		Searchable: info.Searchable, Banned: info.ChatBannedType, Management: info.ManagementType,
	}}
	if info.ConversationTag != nil {
		g.Tag, g.TagKnown = *info.ConversationTag, true
	}
	g.OpenConversationID = c.known.cid(id) // chat/get does not return it
	return g, nil
}

// Find implements vendors.GroupClient: it searches the owner's groups for the
// name and keeps exact matches. DingTalk reports found groups only by
// openConversationId and documents a conversion from chatid to
// openConversationId but none back, so only groups this process created (and
// so knows the chatid of) can be returned. Any other match is reported as an
// Invalid error with instructions, which stalls the object rather than letting
// a second group be created.
func (c *Client) Find(ctx context.Context, want vendors.GroupSpec) ([]string, error) {
	if isScene(want) { // the vendor dedupes a repeated create on its uuid
		return nil, vendors.NewError(vendors.ErrNotFound, apiSceneCreate, "", "a repeated scene-group create returns the group an earlier one made")
	}
	var resp searchResponse
	req := searchRequest{UserID: searchUser(want), SearchKey: want.Name, MaxResults: searchResults}
	if err := c.post(ctx, callSearch, req, &resp); err != nil {
		return nil, err
	}
	var ids, unknown []string
	for _, g := range resp.GroupInfos {
		if g.Title != want.Name {
			continue
		}
		if id, ok := c.known.chatID(g.OpenConversationID); ok {
			ids = append(ids, id)
		} else {
			unknown = append(unknown, fmt.Sprintf("%s (%q, %s members)", g.OpenConversationID, g.Title, cmp.Or(g.MemberAmount.String(), "?")))
		}
	}
	if len(unknown) == 0 {
		return ids, nil
	}
	return nil, &vendors.Error{Class: vendors.ErrInvalid, Op: apiSearch, Field: "adoptGroupID", Message: fmt.Sprintf(
		"%d group(s) named %q owned by %s exist (openConversationId %s), probably made by the interrupted create; "+
			"DingTalk reports them only by openConversationId and cannot turn that into the chatid needed to manage a group, "+
			"so none is adopted automatically: set spec.adoptGroupID to the group's chatid (in the DingTalk admin console, or "+
			"from the JSAPI of a client in the group), or dismiss the group in DingTalk and remove the annotation "+
			"im.chatgroup.io/create-pending to create it again",
		len(unknown), want.Name, want.Owner, strings.Join(unknown, ", "))}
}

// searchUser is whose groups Find searches: the owner, or for an External
// owner (a unionId, not a userId) the first staff member.
func searchUser(want vendors.GroupSpec) string {
	if externalOwner(want) && len(want.Members) > 0 {
		return want.Members[0]
	}
	return want.Owner
}

// Create implements vendors.GroupClient. The owner is always in the first
// batch of its list: useridlist for an employee, extidlist for an external
// contact. A member list longer than one call allows is created with the first
// batch and completed with group/update calls.
func (c *Client) Create(ctx context.Context, want vendors.GroupSpec) (vendors.ObservedGroup, error) {
	if isScene(want) {
		return c.createScene(ctx, want)
	}
	f, ferr := wantFlags(want.Options, flags{})
	if ferr != nil {
		return vendors.ObservedGroup{}, ferr
	}
	staff := vendors.Difference(want.Members, []string{want.Owner})
	if !externalOwner(want) {
		staff = append([]string{want.Owner}, staff...)
	}
	if len(staff) == 0 {
		// useridlist is required (seed 002).
		return vendors.ObservedGroup{}, &vendors.Error{Class: vendors.ErrInvalid, Op: apiCreate, Field: "members",
			Message: "DingTalk needs at least one employee in a new group's useridlist; with an External owner list at least one employee in spec.members"}
	}
	users := vendors.Batches(staff, maxIDsPerCall)
	ext := vendors.Batches(externals(want), maxIDsPerCall)
	req := createRequest{
		Name: want.Name, Owner: want.Owner, OwnerType: ownerType(want), UserIDList: users[0],
		ConversationTag: conversationTag(want), ExtIDList: batch(ext, 0), Icon: want.Icon, ManagementOptions: f.wire(),
	}
	var resp createResponse
	if err := c.post(ctx, callCreate, req, &resp); err != nil {
		return vendors.ObservedGroup{}, unknownMembers(withField(err, want), vendors.Difference(users[0], []string{want.Owner}))
	}
	if resp.ChatID == "" {
		// Not definite: the group may exist, so the caller must not create again.
		return vendors.ObservedGroup{}, vendors.NewError(vendors.ErrUnavailable, apiCreate, "", "the answer holds no chatid")
	}
	c.known.add(resp.OpenConversationID, resp.ChatID)
	g := chat{ID: resp.ChatID, OpenConversationID: resp.OpenConversationID, Name: want.Name, Owner: want.Owner,
		Members: users[0], Tag: resp.ConversationTag, TagKnown: true, Flags: f}
	for _, call := range zip(updateRequest{ChatID: g.ID}, users[1:], nil, tail(ext), nil) {
		// A failure here comes back with the group: it exists and its ID must be
		// recorded; the controller retries the missing members through Update.
		if err := c.post(ctx, callUpdate, call, &updateResponse{}); err != nil {
			return g.observed(), unknownMembers(withField(err, want), call.AddUserIDList)
		}
		g = g.apply(call)
	}
	return withWritten(g.observed(), written(want)), nil
}

// Update implements vendors.GroupClient. Everything that differs goes into one
// group/update, split only to keep each ID list within 40. An owner change is
// ordered: the new owner joins, ownership moves, and only then may the previous
// owner be removed, so the group is never without its owner.
func (c *Client) Update(ctx context.Context, got vendors.ObservedGroup, want vendors.GroupSpec) (vendors.UpdateResult, error) {
	if isScene(want) {
		return c.updateScene(ctx, got, want)
	}
	cur, err := c.current(ctx, got)
	if err != nil {
		return vendors.UpdateResult{}, err
	}
	d := changes(want, cur)
	if d.Invalid != nil {
		return vendors.UpdateResult{}, d.Invalid
	}
	res := vendors.UpdateResult{Group: cur.observed()}
	for _, call := range plan(cur.ID, d) {
		var resp updateResponse
		err := c.post(ctx, callUpdate, call, &resp)
		if err == nil && !resp.Success {
			err = vendors.NewError(vendors.ErrUnavailable, apiUpdate, "", "the vendor did not confirm the update")
		}
		if err != nil {
			return res, unknownMembers(withField(err, want), call.AddUserIDList)
		}
		cur = cur.apply(call)
		res = record(res, call, cur)
	}
	res.Group = withWritten(res.Group, written(want))
	return res, nil
}

// withWritten adds the record of the write-only fields to g, for status.
func withWritten(g vendors.ObservedGroup, w Written) vendors.ObservedGroup {
	x, _ := g.Extra.(Extra)
	x.Written = &w
	g.Extra = x
	return g
}

// current returns the group as this pass read it (the pass read cache answers
// for the read Observe just made), or reads it afresh when that read is not
// what got says.
func (c *Client) current(ctx context.Context, got vendors.ObservedGroup) (chat, error) {
	g, err := c.read(ctx, got.ID, true)
	if err != nil {
		return chat{}, err
	}
	if g.Name == got.Name && g.Owner == got.Owner &&
		slices.Equal(slices.Sorted(slices.Values(g.Members)), slices.Sorted(slices.Values(got.Members))) {
		return g, nil
	}
	return c.read(ctx, got.ID, false)
}

// Delete implements vendors.GroupClient. DingTalk documents no way to dismiss a
// regular group (admission rejects deletionPolicy Delete for DingTalk).
// A scene group (any ID but a chatid, which regular groups have) is disbanded.
func (c *Client) Delete(ctx context.Context, id string) error {
	if !strings.HasPrefix(id, "chat") {
		return c.disband(ctx, id)
	}
	return &vendors.Error{Class: vendors.ErrInvalid, Op: "delete group", Field: "deletionPolicy",
		Message: "DingTalk has no API to dismiss a regular group; set spec.deletionPolicy to Orphan and dismiss the group in the DingTalk app"}
}

// plan turns d into ordered group/update calls for the group chatID.
//
// Without an owner change everything goes into one call per batch: call i
// carries batch i of every list, the first also the name, icon and flags. With
// one, the calls come in three steps, because the vendor documents no order
// inside a call: additions (the new owner in the first batch), then the
// transfer (folded into the first call when the new owner is already a
// member), then removals including the previous owner.
func plan(chatID string, d delta) []updateRequest {
	settings := updateRequest{ChatID: chatID, Name: d.Name, Icon: d.Icon}
	if d.Flags != nil {
		settings.ManagementOptions = d.Flags.wire()
	}
	addExt, delExt := vendors.Batches(d.AddExt, maxIDsPerCall), vendors.Batches(d.RemoveExt, maxIDsPerCall)
	if d.Owner == "" {
		return zip(settings, vendors.Batches(d.Add, maxIDsPerCall), vendors.Batches(d.Remove, maxIDsPerCall), addExt, delExt)
	}
	joining := slices.Contains(d.Add, d.Owner) || slices.Contains(d.AddExt, d.Owner)
	adds := vendors.Batches(ownerFirst(d.Add, d.Owner), maxIDsPerCall)
	addExt = vendors.Batches(ownerFirst(d.AddExt, d.Owner), maxIDsPerCall)
	calls := zip(settings, adds, nil, addExt, nil)
	if joining || len(calls) == 0 {
		calls = append(calls, updateRequest{ChatID: chatID})
	}
	transfer := &calls[len(calls)-1]
	if !joining {
		transfer = &calls[0]
	}
	transfer.Owner, transfer.OwnerType = d.Owner, d.OwnerType
	removals := append(slices.Clip(d.Remove), nonEmpty(d.RemoveOldOwner)...)
	return append(calls, zip(updateRequest{ChatID: chatID}, nil, vendors.Batches(removals, maxIDsPerCall), nil, delExt)...)
}

// ownerFirst moves owner to the front of ids, so it lands in the first batch.
func ownerFirst(ids []string, owner string) []string {
	if !slices.Contains(ids, owner) {
		return ids
	}
	return append([]string{owner}, vendors.Difference(ids, []string{owner})...)
}

// zip lays ID batches side by side: call i carries batch i of each list; the
// first call also carries first's settings. It returns no calls when there is
// nothing to send.
func zip(first updateRequest, add, del, addExt, delExt [][]string) []updateRequest {
	n := max(len(add), len(del), len(addExt), len(delExt))
	if n == 0 && first.hasSettings() {
		n = 1
	}
	calls := make([]updateRequest, n)
	for i := range calls {
		calls[i] = updateRequest{ChatID: first.ChatID}
		if i == 0 {
			calls[i] = first
		}
		calls[i].AddUserIDList, calls[i].DelUserIDList = batch(add, i), batch(del, i)
		calls[i].AddExtIDList, calls[i].DelExtIDList = batch(addExt, i), batch(delExt, i)
	}
	return calls
}

func batch(batches [][]string, i int) []string {
	if i < len(batches) {
		return batches[i]
	}
	return nil
}

func tail(batches [][]string) [][]string {
	if len(batches) == 0 {
		return nil
	}
	return batches[1:]
}

// apply returns g after call took effect, as the vendor documents it.
func (g chat) apply(call updateRequest) chat {
	g.Members = append(slices.Clone(g.Members), vendors.Difference(call.AddUserIDList, g.Members)...)
	if call.Owner != "" {
		g.Owner = call.Owner
	}
	g.Members = vendors.Difference(g.Members, call.DelUserIDList)
	if call.Name != "" {
		g.Name = call.Name
	}
	if o := call.ManagementOptions; o != nil {
		g.Flags = flags{MentionAll: o.MentionAllAuthority, ShowHistory: o.ShowHistoryType, Validation: o.ValidationType,
			Searchable: o.Searchable, Banned: o.ChatBannedType, Management: o.ManagementType}
	}
	return g
}

// record adds what call changed to res; after is the group once it took effect.
func record(res vendors.UpdateResult, call updateRequest, after chat) vendors.UpdateResult {
	res.Added = append(res.Added, call.AddUserIDList...)
	res.Added = append(res.Added, call.AddExtIDList...)
	res.Removed = append(res.Removed, call.DelUserIDList...)
	res.Removed = append(res.Removed, call.DelExtIDList...)
	res.OwnerTransferred = res.OwnerTransferred || call.Owner != ""
	res.SettingsChanged = res.SettingsChanged || call.hasSettings()
	res.Group = after.observed()
	return res
}
