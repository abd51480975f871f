package dingtalk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// Scene groups (vendor-apis.md §1.4.5): made from a template published in the
// developer console, created exactly once through the uuid the vendor dedupes
// on, managed with snake_case APIs, and dismissable. Their ID in the operator
// is the openConversationId every scene-group API takes.
const (
	apiSceneCreate    = "sceneGroup/create"
	apiSceneUpdate    = "sceneGroup/update"
	apiSceneAdd       = "sceneGroup/member/add"
	apiSceneRemove    = "sceneGroup/member/delete"
	apiSceneQuery     = "sceneGroups/query"
	apiSceneMembers   = "sceneGroups/members/batchQuery"
	apiSceneDisband   = "chat/scenegroup/disband"
	pathSceneCreate   = "/v1.0/im/sceneGroup/create"
	pathSceneUpdate   = "/v1.0/im/sceneGroup/update"
	pathSceneAdd      = "/v1.0/im/sceneGroup/member/add"
	pathSceneRemove   = "/v1.0/im/sceneGroup/member/delete"
	pathSceneQuery    = "/v1.0/im/sceneGroups/query"
	pathSceneMembers  = "/v1.0/im/sceneGroups/members/batchQuery"
	pathSceneDisband  = "/v1.0/im/chat/scenegroup/disband"
	sceneMembersPage  = 100
	maxSceneIDsPerAdd = 999 // the legacy topapi equivalent's cap on user_ids (§1.4.5)
)

// Scene is spec.dingtalk.groupKind for scene groups.
const Scene = "Scene"

var (
	callSceneCreate  = v1Call{api: apiSceneCreate, path: pathSceneCreate, write: true}
	callSceneUpdate  = v1Call{api: apiSceneUpdate, path: pathSceneUpdate, write: true}
	callSceneAdd     = v1Call{api: apiSceneAdd, path: pathSceneAdd, write: true}
	callSceneRemove  = v1Call{api: apiSceneRemove, path: pathSceneRemove, write: true}
	callSceneQuery   = v1Call{api: apiSceneQuery, path: pathSceneQuery}
	callSceneMembers = v1Call{api: apiSceneMembers, path: pathSceneMembers}
	callSceneDisband = v1Call{api: apiSceneDisband, path: pathSceneDisband, write: true}
)

// sceneOptions is the scene APIs' management_options (snake_case; the same six
// flags as regular groups).
type sceneOptions struct {
	MentionAllAuthority int `json:"mention_all_authority"`
	ShowHistoryType     int `json:"show_history_type"`
	ValidationType      int `json:"validation_type"`
	Searchable          int `json:"searchable"`
	ChatBannedType      int `json:"chat_banned_type"`
	ManagementType      int `json:"management_type"`
}

func (f flags) scene() *sceneOptions {
	return &sceneOptions{MentionAllAuthority: f.MentionAll, ShowHistoryType: f.ShowHistory, ValidationType: f.Validation,
		Searchable: f.Searchable, ChatBannedType: f.Banned, ManagementType: f.Management}
}

type sceneCreateRequest struct {
	Title             string        `json:"title"`
	TemplateID        string        `json:"template_id"`
	OwnerUserID       string        `json:"owner_user_id"`
	UserIDs           []string      `json:"user_ids,omitempty"`
	UUID              string        `json:"uuid"`
	Icon              string        `json:"icon,omitempty"`
	ManagementOptions *sceneOptions `json:"management_options"`
}

type sceneCreateResponse struct {
	OpenConversationID string `json:"open_conversation_id"`
	ChatID             string `json:"chat_id"`
}

type sceneUpdateRequest struct {
	OpenConversationID string `json:"open_conversation_id"`
	Title              string `json:"title,omitempty"`
	OwnerUserID        string `json:"owner_user_id,omitempty"`
	Icon               string `json:"icon,omitempty"`
}

type sceneMembersRequest struct {
	OpenConversationID string   `json:"open_conversation_id"`
	UserIDs            []string `json:"user_ids"`
}

type sceneQueryRequest struct {
	OpenConversationID string `json:"openConversationId"`
}

type sceneQueryResponse struct {
	Title       string `json:"title"`
	OwnerUserID string `json:"ownerUserId"`
	TemplateID  string `json:"templateId"`
}

type sceneMembersQuery struct {
	OpenConversationID string `json:"openConversationId"`
	MaxResults         int    `json:"maxResults"`
	NextToken          string `json:"nextToken,omitempty"`
}

type sceneMembersResponse struct {
	MemberUserIDs []string `json:"memberUserIds"`
	HasMore       bool     `json:"hasMore"`
	NextToken     string   `json:"nextToken"`
}

type sceneDisbandRequest struct {
	OpenConversationID string `json:"openConversationId"`
}

// isScene reports whether want is a scene group.
func isScene(want vendors.GroupSpec) bool { return settingsOf(want).Kind == Scene }

// sceneUUID is the dedupe key of want's create: its object's UID, so a repeated
// create (after a lost answer or a crash) returns the same group.
func sceneUUID(want vendors.GroupSpec) string { return want.UID }

// noTemplate is the error for a scene group on a provider without a template.
func noTemplate() error {
	return &vendors.Error{Class: vendors.ErrInvalid, Op: apiSceneCreate, Message: "scene groups (spec.dingtalk.groupKind Scene) are made " +
		"from a template: set the provider's spec.dingtalk.sceneGroupTemplateID to a scene-group template published in the DingTalk developer console"}
}

// createScene makes a scene group with sceneGroup/create. The vendor dedupes on
// uuid, so repeating it after an answer was lost returns the same group.
func (c *Client) createScene(ctx context.Context, want vendors.GroupSpec) (vendors.ObservedGroup, error) {
	if c.template == "" {
		return vendors.ObservedGroup{}, noTemplate()
	}
	f, ferr := wantFlags(want.Options, flags{})
	if ferr != nil {
		return vendors.ObservedGroup{}, ferr
	}
	users := vendors.Batches(append([]string{want.Owner}, vendors.Difference(want.Members, []string{want.Owner})...), maxSceneIDsPerAdd)
	req := sceneCreateRequest{Title: want.Name, TemplateID: c.template, OwnerUserID: want.Owner, UserIDs: users[0],
		UUID: sceneUUID(want), Icon: want.Icon, ManagementOptions: f.scene()}
	var resp sceneCreateResponse
	if err := c.post(ctx, callSceneCreate, req, &resp); err != nil {
		return vendors.ObservedGroup{}, withField(err, want)
	}
	if resp.OpenConversationID == "" {
		return vendors.ObservedGroup{}, vendors.NewError(vendors.ErrUnavailable, apiSceneCreate, "", "the answer holds no open_conversation_id")
	}
	g := chat{ID: resp.OpenConversationID, OpenConversationID: resp.OpenConversationID, Name: want.Name, Owner: want.Owner, Members: users[0], Flags: f}
	for _, batch := range users[1:] {
		if err := c.sceneWrite(ctx, callSceneAdd, sceneMembersRequest{OpenConversationID: g.ID, UserIDs: batch}); err != nil {
			return g.observed(), withField(err, want)
		}
		g.Members = append(g.Members, batch...)
	}
	return withWritten(g.observed(), written(want)), nil
}

// readScene reads a scene group: sceneGroups/query and every page of its
// members. A group the vendor does not know comes back as the vendor's error
// (no not-found code is documented), never as Exists=false.
func (c *Client) readScene(ctx context.Context, id string, want vendors.GroupSpec) (chat, error) {
	var q sceneQueryResponse
	if err := c.post(ctx, callSceneQuery, sceneQueryRequest{OpenConversationID: id}, &q); err != nil {
		return chat{}, err
	}
	g := chat{ID: id, OpenConversationID: id, Name: q.Title, Owner: q.OwnerUserID}
	for token, pages := "", 0; ; pages++ {
		if pages > 1000 {
			return chat{}, vendors.NewError(vendors.ErrUnavailable, apiSceneMembers, "", "the member list does not end")
		}
		var m sceneMembersResponse
		if err := c.post(ctx, callSceneMembers, sceneMembersQuery{OpenConversationID: id, MaxResults: sceneMembersPage, NextToken: token}, &m); err != nil {
			return chat{}, err
		}
		g.Members = append(g.Members, m.MemberUserIDs...)
		if !m.HasMore || m.NextToken == "" {
			break
		}
		token = m.NextToken
	}
	// sceneGroups/query does not report management_options: they are set at
	// create and taken as the spec asks.
	g.Flags, _ = wantFlags(want.Options, flags{})
	return g, nil
}

// sceneChanges is changes for a scene group: external contacts are not
// managed through the scene-group APIs the operator uses.
func sceneChanges(want vendors.GroupSpec, got chat) delta {
	d := changes(want, got)
	d.AddExt, d.RemoveExt = nil, nil
	return d
}

// observeScene implements Observe for a scene group.
func (c *Client) observeScene(ctx context.Context, id string, want vendors.GroupSpec) (vendors.Observation, error) {
	g, err := c.readScene(ctx, id, want)
	if err != nil {
		return vendors.Observation{}, err
	}
	d := sceneChanges(want, g)
	return vendors.Observation{Exists: true, UpToDate: d.empty(), Diff: d.String(), Group: g.observed()}, nil
}

// updateScene implements Update for a scene group, ordered like a regular
// group's: members join, then the title, icon and owner change, then members
// (and a previous owner the policy lets go) leave.
func (c *Client) updateScene(ctx context.Context, got vendors.ObservedGroup, want vendors.GroupSpec) (vendors.UpdateResult, error) {
	cur, err := c.readScene(ctx, got.ID, want)
	if err != nil {
		return vendors.UpdateResult{}, err
	}
	d := sceneChanges(want, cur)
	if d.Invalid != nil {
		return vendors.UpdateResult{}, d.Invalid
	}
	res := vendors.UpdateResult{Group: cur.observed()}
	add := d.Add
	if d.Owner != "" && !slices.Contains(cur.Members, d.Owner) && !slices.Contains(add, d.Owner) {
		add = append([]string{d.Owner}, add...)
	}
	for _, batch := range vendors.Batches(add, maxSceneIDsPerAdd) {
		if err := c.sceneWrite(ctx, callSceneAdd, sceneMembersRequest{OpenConversationID: cur.ID, UserIDs: batch}); err != nil {
			return res, withField(err, want)
		}
		cur.Members = append(cur.Members, batch...)
		res.Added = append(res.Added, batch...)
	}
	if d.Name != "" || d.Icon != "" || d.Owner != "" {
		if err := c.sceneWrite(ctx, callSceneUpdate, sceneUpdateRequest{OpenConversationID: cur.ID, Title: d.Name, OwnerUserID: d.Owner, Icon: d.Icon}); err != nil {
			return res, withField(err, want)
		}
		cur.Name, cur.Owner = cmpOr(d.Name, cur.Name), cmpOr(d.Owner, cur.Owner)
		res.OwnerTransferred = d.Owner != ""
		res.SettingsChanged = d.Name != "" || d.Icon != ""
	}
	remove := append(slices.Clip(d.Remove), nonEmpty(d.RemoveOldOwner)...)
	for _, batch := range vendors.Batches(remove, maxSceneIDsPerAdd) {
		if err := c.sceneWrite(ctx, callSceneRemove, sceneMembersRequest{OpenConversationID: cur.ID, UserIDs: batch}); err != nil {
			return res, withField(err, want)
		}
		cur.Members = vendors.Difference(cur.Members, batch)
		res.Removed = append(res.Removed, batch...)
	}
	res.Group = withWritten(cur.observed(), written(want))
	return res, nil
}

// sceneWrite makes one scene-group write and checks the vendor confirmed it.
func (c *Client) sceneWrite(ctx context.Context, call v1Call, in any) error {
	var resp updateResponse
	if err := c.post(ctx, call, in, &resp); err != nil {
		return err
	}
	if !resp.Success {
		return vendors.NewError(vendors.ErrUnavailable, call.api, "", "the vendor did not confirm the change")
	}
	return nil
}

// disband dismisses the scene group id (chat/scenegroup/disband). A group the
// vendor no longer knows is reported with an undocumented code: it is retried,
// never taken for done.
func (c *Client) disband(ctx context.Context, id string) error {
	err := c.sceneWrite(ctx, callSceneDisband, sceneDisbandRequest{OpenConversationID: id})
	var e *vendors.Error
	if errors.As(err, &e) && e.Class == vendors.ErrAccessDenied {
		e.Message = fmt.Sprintf("%s (disbanding needs qyapi_chat_manage)", strings.TrimSuffix(e.Message, "."))
	}
	return err
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
