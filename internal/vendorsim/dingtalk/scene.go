package dingtalk

import (
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Scene groups (vendor-apis.md §1.4.5; https://open.dingtalk.com/document/development/create-a-scene-group
// and the update, member add/remove and disband pages it lists): made from a
// template published in the developer console, with snake_case bodies, a title
// of at most 30 characters, at most 1000 members, and a uuid the vendor dedupes
// a create on: a create repeating an earlier one's uuid makes nothing and
// answers with the earlier group. The docs leave open whether a repeat returns
// the group or an error (vendor-apis.md §5, question 4); the simulator returns
// the group, as practitioners rely on.
const (
	OpSceneCreate  = "sceneGroup/create"
	OpSceneUpdate  = "sceneGroup/update"
	OpSceneAdd     = "sceneGroup/member/add"
	OpSceneRemove  = "sceneGroup/member/delete"
	OpSceneQuery   = "sceneGroups/query"
	OpSceneMembers = "sceneGroups/members/batchQuery"
	OpSceneDisband = "chat/scenegroup/disband"

	// MaxSceneTitleLength is the longest scene-group title, in characters.
	MaxSceneTitleLength = 30
	// MaxSceneMembers caps a scene group's members (member/add page).
	MaxSceneMembers = 1000
	// MaxSceneIDsPerCall caps user_ids of one create (the legacy topapi
	// equivalent's documented cap; the v1.0 page states none).
	MaxSceneIDsPerCall = 999

	CodeTemplateNotFound = "groupTemplate.notFound"
	CodeMemberNotFound   = "member.notFound"
	CodeMemberExceed     = "member.exceed"
)

var sceneRoutes = []route{
	{OpSceneCreate, http.MethodPost, "/v1.0/im/sceneGroup/create"},
	{OpSceneUpdate, http.MethodPost, "/v1.0/im/sceneGroup/update"},
	{OpSceneAdd, http.MethodPost, "/v1.0/im/sceneGroup/member/add"},
	{OpSceneRemove, http.MethodPost, "/v1.0/im/sceneGroup/member/delete"},
	{OpSceneQuery, http.MethodPost, "/v1.0/im/sceneGroups/query"},
	{OpSceneMembers, http.MethodPost, "/v1.0/im/sceneGroups/members/batchQuery"},
	{OpSceneDisband, http.MethodPost, "/v1.0/im/chat/scenegroup/disband"},
}

// SceneGroup is a snapshot of a simulated scene group.
type SceneGroup struct {
	OpenConversationID string
	ChatID             string
	Title              string
	TemplateID         string
	Owner              string
	Icon               string
	UUID               string
	// Members are the user IDs, owner included, in joining order.
	Members []string
	// Options are the management_options flags as sent, by wire name.
	Options map[string]int
}

func (g SceneGroup) clone() SceneGroup {
	g.Members = slices.Clone(g.Members)
	return g
}

type sceneCreateRequest struct {
	Title             string         `json:"title"`
	TemplateID        string         `json:"template_id"`
	OwnerUserID       string         `json:"owner_user_id"`
	UserIDs           []string       `json:"user_ids,omitempty"`
	SubadminIDs       []string       `json:"subadmin_ids,omitempty"`
	UUID              string         `json:"uuid,omitempty"`
	Icon              string         `json:"icon,omitempty"`
	ManagementOptions map[string]int `json:"management_options,omitempty"`
}

type sceneCreateResponse struct {
	OpenConversationID string `json:"open_conversation_id"`
	ChatID             string `json:"chat_id"`
}

type sceneUpdateRequest struct {
	OpenConversationID string         `json:"open_conversation_id"`
	Title              string         `json:"title,omitempty"`
	Icon               string         `json:"icon,omitempty"`
	OwnerUserID        string         `json:"owner_user_id,omitempty"`
	OwnerUnionID       string         `json:"owner_union_id,omitempty"`
	ManagementOptions  map[string]int `json:"management_options,omitempty"`
}

type sceneMembersRequest struct {
	OpenConversationID string   `json:"open_conversation_id"`
	UserIDs            []string `json:"user_ids,omitempty"`
	UnionIDs           []string `json:"union_ids,omitempty"`
}

// The read APIs and disband take camelCase (the SDK's models, §1.4.5).
type sceneQueryRequest struct {
	OpenConversationID string `json:"openConversationId"`
	CoolAppCode        string `json:"coolAppCode,omitempty"`
}

type sceneQueryResponse struct {
	Title       string `json:"title"`
	OwnerUserID string `json:"ownerUserId"`
	Icon        string `json:"icon"`
	TemplateID  string `json:"templateId"`
}

type sceneMembersQuery struct {
	OpenConversationID string `json:"openConversationId"`
	MaxResults         int    `json:"maxResults"`
	NextToken          string `json:"nextToken,omitempty"`
	CoolAppCode        string `json:"coolAppCode,omitempty"`
}

type sceneMembersResponse struct {
	MemberUserIDs []string `json:"memberUserIds"`
	HasMore       bool     `json:"hasMore"`
	NextToken     string   `json:"nextToken,omitempty"`
}

type sceneDisbandRequest struct {
	OpenConversationID string `json:"openConversationId"`
}

// sceneHandlers are the scene-group APIs' handlers, by operation.
func (s *Server) sceneHandlers() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		OpSceneCreate: v1(s, OpSceneCreate, s.sceneCreate), OpSceneUpdate: v1(s, OpSceneUpdate, s.sceneUpdate),
		OpSceneAdd: v1(s, OpSceneAdd, s.sceneAdd), OpSceneRemove: v1(s, OpSceneRemove, s.sceneRemove),
		OpSceneQuery: v1(s, OpSceneQuery, s.sceneQuery), OpSceneMembers: v1(s, OpSceneMembers, s.sceneMembers),
		OpSceneDisband: v1(s, OpSceneDisband, s.sceneDisband),
	}
}

// AddTemplate publishes a scene-group template.
func (s *Server) AddTemplate(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.templates[id] = true
}

// SceneGroup returns the scene group with openConversationId cid.
func (s *Server) SceneGroup(cid string) (SceneGroup, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.scenes[cid]
	if !ok {
		return SceneGroup{}, false
	}
	return g.clone(), true
}

// SceneGroupsTitled returns the scene groups with this title.
func (s *Server) SceneGroupsTitled(title string) []SceneGroup {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SceneGroup
	for _, g := range s.scenes {
		if g.Title == title {
			out = append(out, g.clone())
		}
	}
	return out
}

func notInOrg(id string) *rejection {
	return &rejection{http.StatusBadRequest, CodeMemberNotFound, "user " + id + " does not exist in the organisation"}
}

// sceneCreate applies sceneGroup/create, deduped on uuid.
func (s *Server) sceneCreate(_ string, req *sceneCreateRequest) (any, *rejection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cid, ok := s.sceneUUIDs[req.UUID]; ok && req.UUID != "" {
		g := s.scenes[cid]
		return sceneCreateResponse{OpenConversationID: g.OpenConversationID, ChatID: g.ChatID}, nil
	}
	n := utf8.RuneCountInString(req.Title)
	members := dedupe(append([]string{req.OwnerUserID}, req.UserIDs...))
	switch {
	case n < 1 || n > MaxSceneTitleLength:
		return nil, invalid("title must be 1-%d characters", MaxSceneTitleLength)
	case req.TemplateID == "":
		return nil, invalid("template_id is required")
	case !s.templates[req.TemplateID]:
		return nil, &rejection{http.StatusBadRequest, CodeTemplateNotFound, "the group template " + req.TemplateID + " does not exist"}
	case req.OwnerUserID == "":
		return nil, invalid("owner_user_id is required")
	case len(req.UserIDs) > MaxSceneIDsPerCall || len(members) > MaxSceneMembers:
		return nil, &rejection{http.StatusBadRequest, CodeMemberExceed, "too many members"}
	}
	for _, id := range members {
		if !s.users[id] {
			return nil, notInOrg(id)
		}
	}
	chatID, cid := newIDs()
	s.scenes[cid] = &SceneGroup{OpenConversationID: cid, ChatID: chatID, Title: req.Title, TemplateID: req.TemplateID,
		Owner: req.OwnerUserID, Icon: req.Icon, UUID: req.UUID, Members: members, Options: req.ManagementOptions}
	if req.UUID != "" {
		s.sceneUUIDs[req.UUID] = cid
	}
	return sceneCreateResponse{OpenConversationID: cid, ChatID: chatID}, nil
}

// scene returns the scene group cid; the caller holds s.mu.
func (s *Server) scene(cid string) (*SceneGroup, *rejection) {
	if cid == "" {
		return nil, invalid("open_conversation_id is required")
	}
	g, ok := s.scenes[cid]
	if !ok {
		return nil, invalid("the group %s does not exist", cid)
	}
	return g, nil
}

// sceneUpdate applies sceneGroup/update. A new owner must already be a member
// (strict, as for regular groups: the page does not say).
func (s *Server) sceneUpdate(_ string, req *sceneUpdateRequest) (any, *rejection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, rej := s.scene(req.OpenConversationID)
	if rej != nil {
		return nil, rej
	}
	if n := utf8.RuneCountInString(req.Title); n > MaxSceneTitleLength {
		return nil, invalid("title must be 1-%d characters", MaxSceneTitleLength)
	}
	if req.OwnerUserID != "" && !slices.Contains(g.Members, req.OwnerUserID) {
		return nil, invalid("the new owner %s must be a member of the group", req.OwnerUserID)
	}
	if req.Title != "" {
		g.Title = req.Title
	}
	if req.Icon != "" {
		g.Icon = req.Icon
	}
	if req.OwnerUserID != "" {
		g.Owner = req.OwnerUserID
	}
	if req.ManagementOptions != nil {
		g.Options = req.ManagementOptions
	}
	return updateResponse{Success: true}, nil
}

// sceneAdd applies sceneGroup/member/add.
func (s *Server) sceneAdd(_ string, req *sceneMembersRequest) (any, *rejection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, rej := s.scene(req.OpenConversationID)
	if rej != nil {
		return nil, rej
	}
	for _, id := range req.UserIDs {
		if !s.users[id] {
			return nil, notInOrg(id)
		}
	}
	add := missing(g.Members, req.UserIDs)
	if len(g.Members)+len(add) > MaxSceneMembers {
		return nil, &rejection{http.StatusBadRequest, CodeMemberExceed, "a scene group has at most " + strconv.Itoa(MaxSceneMembers) + " members"}
	}
	g.Members = append(g.Members, add...)
	return updateResponse{Success: true}, nil
}

// sceneRemove applies sceneGroup/member/delete; the owner cannot be removed
// (strict: the page does not say).
func (s *Server) sceneRemove(_ string, req *sceneMembersRequest) (any, *rejection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, rej := s.scene(req.OpenConversationID)
	if rej != nil {
		return nil, rej
	}
	if slices.Contains(req.UserIDs, g.Owner) {
		return nil, invalid("the owner %s cannot be removed", g.Owner)
	}
	g.Members = without(g.Members, req.UserIDs)
	return updateResponse{Success: true}, nil
}

func (s *Server) sceneQuery(_ string, req *sceneQueryRequest) (any, *rejection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, rej := s.scene(req.OpenConversationID)
	if rej != nil {
		return nil, rej
	}
	return sceneQueryResponse{Title: g.Title, OwnerUserID: g.Owner, Icon: g.Icon, TemplateID: g.TemplateID}, nil
}

// sceneMembers pages through the members; nextToken is the offset.
func (s *Server) sceneMembers(_ string, req *sceneMembersQuery) (any, *rejection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, rej := s.scene(req.OpenConversationID)
	if rej != nil {
		return nil, rej
	}
	if req.MaxResults < 1 || req.MaxResults > 1000 {
		return nil, invalid("maxResults must be 1-1000")
	}
	from := 0
	if req.NextToken != "" {
		n, err := strconv.Atoi(req.NextToken)
		if err != nil || n < 0 || n > len(g.Members) {
			return nil, invalid("nextToken is not valid")
		}
		from = n
	}
	to := min(from+req.MaxResults, len(g.Members))
	resp := sceneMembersResponse{MemberUserIDs: nonNil(slices.Clone(g.Members[from:to])), HasMore: to < len(g.Members)}
	if resp.HasMore {
		resp.NextToken = strconv.Itoa(to)
	}
	return resp, nil
}

// sceneDisband dismisses the group; it is gone for every API.
func (s *Server) sceneDisband(_ string, req *sceneDisbandRequest) (any, *rejection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, rej := s.scene(req.OpenConversationID); rej != nil {
		return nil, rej
	}
	delete(s.scenes, req.OpenConversationID)
	return updateResponse{Success: true}, nil
}
