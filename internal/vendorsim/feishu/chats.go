package feishu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// settingValues are the documented values of the settings the simulator keeps
// (§3.1, §3.3), the first being the default at create.
var settingValues = map[string][]string{
	"chat_type":                 {"private", "public"},
	"add_member_permission":     {"all_members", "only_owner"},
	"share_card_permission":     {"allowed", "not_allowed"},
	"at_all_permission":         {"all_members", "only_owner"},
	"edit_permission":           {"all_members", "only_owner"},
	"membership_approval":       {"no_approval_required", "approval_required"},
	"join_message_visibility":   {"all_members", "only_owner", "not_anyone"},
	"leave_message_visibility":  {"all_members", "only_owner", "not_anyone"},
	"group_message_type":        {"chat", "thread"},
	"urgent_setting":            {"all_members", "only_owner"},
	"video_conference_setting":  {"all_members", "only_owner"},
	"hide_member_count_setting": {"all_members", "only_owner"},
}

// createBody is the create body (§3.1). It has no add_member_permission,
// share_card_permission or at_all_permission: decoding is strict, so sending
// them fails as the vendor's field validation would.
type createBody struct {
	Name                   string            `json:"name"`
	Description            string            `json:"description"`
	Avatar                 string            `json:"avatar"`
	I18nNames              map[string]string `json:"i18n_names"`
	OwnerID                string            `json:"owner_id"`
	UserIDList             []string          `json:"user_id_list"`
	BotIDList              []string          `json:"bot_id_list"`
	GroupMessageType       string            `json:"group_message_type"`
	ChatMode               string            `json:"chat_mode"`
	ChatType               string            `json:"chat_type"`
	JoinMessageVisibility  string            `json:"join_message_visibility"`
	LeaveMessageVisibility string            `json:"leave_message_visibility"`
	MembershipApproval     string            `json:"membership_approval"`
	RestrictedModeSetting  json.RawMessage   `json:"restricted_mode_setting"`
	UrgentSetting          string            `json:"urgent_setting"`
	VideoConferenceSetting string            `json:"video_conference_setting"`
	EditPermission         string            `json:"edit_permission"`
	HideMemberCountSetting string            `json:"hide_member_count_setting"`
}

// updateBody is the update body (§3.3): a partial PUT, nil is "not sent".
type updateBody struct {
	Avatar                 *string           `json:"avatar"`
	Name                   *string           `json:"name"`
	Description            *string           `json:"description"`
	I18nNames              map[string]string `json:"i18n_names"`
	AddMemberPermission    *string           `json:"add_member_permission"`
	ShareCardPermission    *string           `json:"share_card_permission"`
	AtAllPermission        *string           `json:"at_all_permission"`
	EditPermission         *string           `json:"edit_permission"`
	OwnerID                *string           `json:"owner_id"`
	JoinMessageVisibility  *string           `json:"join_message_visibility"`
	LeaveMessageVisibility *string           `json:"leave_message_visibility"`
	MembershipApproval     *string           `json:"membership_approval"`
	RestrictedModeSetting  json.RawMessage   `json:"restricted_mode_setting"`
	ChatType               *string           `json:"chat_type"`
	GroupMessageType       *string           `json:"group_message_type"`
	UrgentSetting          *string           `json:"urgent_setting"`
	VideoConferenceSetting *string           `json:"video_conference_setting"`
	HideMemberCountSetting *string           `json:"hide_member_count_setting"`
}

type idList struct {
	IDList []string `json:"id_list"`
}

// decode reads a JSON body strictly.
func decode(r *http.Request, v any) *apiError {
	d := json.NewDecoder(r.Body)
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return &apiError{status: http.StatusBadRequest, code: codeFieldValidation, msg: "field validation failed: " + err.Error()}
	}
	return nil
}

// idType checks the user_id_type / member_id_type query parameter (§6).
func idType(r *http.Request, name string, allowApp bool) *apiError {
	switch v := r.URL.Query().Get(name); v {
	case "", "open_id", "union_id", "user_id":
		return nil
	case "app_id":
		if allowApp {
			return nil
		}
	}
	return badParam("%s is invalid", name)
}

// create serves POST /open-apis/im/v1/chats (§3.1).
func (s *Server) create(r *http.Request, h http.Header) (any, *apiError) {
	if e := idType(r, "user_id_type", false); e != nil {
		return nil, e
	}
	q := r.URL.Query()
	uuid := q.Get("uuid")
	if utf8.RuneCountInString(uuid) > 50 {
		return nil, badParam("uuid must be at most 50 characters")
	}
	var b createBody
	if e := decode(r, &b); e != nil {
		return nil, e
	}
	if len(b.UserIDList) > MaxBatch {
		return nil, badParam("user_id_list holds at most %d IDs", MaxBatch)
	}
	settings := map[string]string{}
	for k, vals := range settingValues {
		settings[k] = vals[0]
	}
	for k, v := range map[string]string{"chat_type": b.ChatType, "group_message_type": b.GroupMessageType,
		"join_message_visibility": b.JoinMessageVisibility, "leave_message_visibility": b.LeaveMessageVisibility,
		"membership_approval": b.MembershipApproval, "urgent_setting": b.UrgentSetting,
		"video_conference_setting": b.VideoConferenceSetting, "edit_permission": b.EditPermission,
		"hide_member_count_setting": b.HideMemberCountSetting} {
		if v == "" {
			continue
		}
		if !slices.Contains(settingValues[k], v) {
			return nil, badParam("%s is invalid", k)
		}
		settings[k] = v
	}
	if settings["chat_type"] == "public" {
		if b.Name == "" {
			return nil, &apiError{status: http.StatusBadRequest, code: codePublicNoName, msg: "public chat must have a name"}
		}
		if utf8.RuneCountInString(b.Name) < 2 {
			return nil, &apiError{status: http.StatusBadRequest, code: codeNameTooShort, msg: "public chat name must be at least 2 characters"}
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	key := uuid + "\x00" + b.OwnerID
	if c, ok := s.dedupe[key]; ok && uuid != "" && now.Sub(c.CreatedAt) < DedupeWindow {
		if s.cfg.DuplicateCreateCode != 0 {
			return nil, &apiError{status: http.StatusBadRequest, code: s.cfg.DuplicateCreateCode, msg: "duplicate request"}
		}
		h.Set(vendorsim.OutcomeHeader, "deduped")
		return s.chatData(c), nil
	}
	if b.OwnerID != "" && !s.users[b.OwnerID] {
		return nil, &apiError{status: http.StatusBadRequest, code: 232030, msg: "invalid user_id: owner_id"}
	}
	for _, id := range b.UserIDList {
		if !s.users[id] {
			return nil, &apiError{status: http.StatusBadRequest, code: codeUnavailableIDs, msg: "unavailable ids: " + id}
		}
	}
	name := b.Name
	if name == "" {
		name = "(无主题)"
	}
	s.nextID++
	c := &chat{Chat: Chat{ID: fmt.Sprintf("oc_%032x", s.nextID), Name: name, Description: b.Description, Avatar: b.Avatar,
		Owner: b.OwnerID, Settings: settings, UUID: uuid, CreatedAt: now}}
	if b.OwnerID != "" {
		c.Members = append(c.Members, b.OwnerID)
	}
	for _, id := range b.UserIDList {
		if !slices.Contains(c.Members, id) {
			c.Members = append(c.Members, id)
		}
	}
	s.chats = append(s.chats, c)
	s.byID[c.ID] = c
	if uuid != "" {
		s.dedupe[key] = c
	}
	return s.chatData(c), nil
}

// chatData is get's (and create's) data (§3.1, §3.2): owner_id is absent while
// the bot owns the chat; counts are strings.
func (s *Server) chatData(c *chat) map[string]any {
	d := map[string]any{"chat_id": c.ID, "name": c.Name, "description": c.Description, "avatar": avatarURL(c.Avatar),
		"chat_mode": "group", "chat_tag": "inner", "external": false, "tenant_key": "sim-tenant",
		"user_count": strconv.Itoa(len(c.Members)), "bot_count": "1", "user_manager_id_list": []string{},
		"bot_manager_id_list": []string{}, "moderation_permission": "all_members", "chat_status": "normal"}
	for k, v := range c.Settings {
		d[k] = v
	}
	if c.Owner != "" {
		d["owner_id"], d["owner_id_type"] = c.Owner, "open_id"
	}
	return d
}

// lookup returns the chat a path names, or the error get answers (§3.2;
// dissolved: Config.DissolvedCode, open question 3). Call with s.mu held.
func (s *Server) lookup(r *http.Request) (*chat, *apiError) {
	c, ok := s.byID[r.PathValue("chat_id")]
	if !ok {
		return nil, &apiError{status: http.StatusBadRequest, code: codeInvalidChatID, msg: "invalid chat_id"}
	}
	if c.Dissolved {
		return nil, &apiError{status: http.StatusBadRequest, code: s.cfg.DissolvedCode, msg: "chat is dissolved"}
	}
	return c, nil
}

// ownerRights reports whether the bot may do what an owner may on c: it owns c,
// or it created c (the simulator's bot creates every chat) and holds
// im:chat:operate_as_owner (§3.3, §3.4).
func (s *Server) ownerRights(c *chat) bool {
	return c.Owner == "" || !s.cfg.NoOperateAsOwner
}

// get serves GET /open-apis/im/v1/chats/:chat_id (§3.2).
func (s *Server) get(r *http.Request, _ http.Header) (any, *apiError) {
	if e := idType(r, "user_id_type", false); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.lookup(r)
	if e != nil {
		return nil, e
	}
	return s.chatData(c), nil
}

// update serves PUT /open-apis/im/v1/chats/:chat_id (§3.3): fields not sent
// keep their values.
func (s *Server) update(r *http.Request, _ http.Header) (any, *apiError) {
	if e := idType(r, "user_id_type", false); e != nil {
		return nil, e
	}
	var b updateBody
	if e := decode(r, &b); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.lookup(r)
	if e != nil {
		return nil, e
	}
	sets := map[string]*string{"add_member_permission": b.AddMemberPermission, "share_card_permission": b.ShareCardPermission,
		"at_all_permission": b.AtAllPermission, "edit_permission": b.EditPermission,
		"join_message_visibility": b.JoinMessageVisibility, "leave_message_visibility": b.LeaveMessageVisibility,
		"membership_approval": b.MembershipApproval, "chat_type": b.ChatType, "group_message_type": b.GroupMessageType,
		"urgent_setting": b.UrgentSetting, "video_conference_setting": b.VideoConferenceSetting,
		"hide_member_count_setting": b.HideMemberCountSetting}
	privileged := b.OwnerID != nil || b.RestrictedModeSetting != nil
	for k, v := range sets {
		if v == nil {
			continue
		}
		privileged = true
		if !slices.Contains(settingValues[k], *v) {
			return nil, badParam("%s is invalid", k)
		}
	}
	if !s.ownerRights(c) {
		if privileged {
			return nil, &apiError{status: http.StatusBadRequest, code: codeNoPermission, msg: "no permission to change the chat's settings"}
		}
		if c.Settings["edit_permission"] != "all_members" {
			return nil, &apiError{status: http.StatusBadRequest, code: codeNoEditRight, msg: "only the owner and managers may edit the chat"}
		}
	}
	// The paired permissions (§3.3): sent together, and agreeing.
	if (b.AddMemberPermission == nil) != (b.ShareCardPermission == nil) {
		return nil, badParam("add_member_permission and share_card_permission must be sent together")
	}
	if b.AddMemberPermission != nil && (*b.AddMemberPermission == "only_owner") != (*b.ShareCardPermission == "not_allowed") {
		return nil, badParam("add_member_permission %s requires share_card_permission %s", *b.AddMemberPermission,
			map[bool]string{true: "not_allowed", false: "allowed"}[*b.AddMemberPermission == "only_owner"])
	}
	name := c.Name
	if b.Name != nil {
		name = *b.Name
	}
	chatType := c.Settings["chat_type"]
	if b.ChatType != nil {
		chatType = *b.ChatType
	}
	if chatType == "public" && utf8.RuneCountInString(name) < 2 {
		return nil, &apiError{status: http.StatusBadRequest, code: codeNameTooShort, msg: "public chat name must be at least 2 characters"}
	}
	if b.OwnerID != nil && *b.OwnerID != c.Owner {
		if c.Owner != "" && s.cfg.TransferOwnerOnly {
			return nil, &apiError{status: http.StatusBadRequest, code: codeNotOwner, msg: "only the owner may transfer the chat"}
		}
		if !slices.Contains(c.Members, *b.OwnerID) {
			return nil, &apiError{status: http.StatusBadRequest, code: codeNotOwnerMember, msg: "the new owner is not in the chat"}
		}
		c.Owner = *b.OwnerID
	}
	c.Name = name
	if b.Description != nil {
		c.Description = *b.Description
	}
	if b.Avatar != nil {
		c.Avatar = *b.Avatar
	}
	for k, v := range sets {
		if v != nil {
			c.Settings[k] = *v
		}
	}
	return nil, nil
}

// dissolve serves DELETE /open-apis/im/v1/chats/:chat_id (§3.4).
func (s *Server) dissolve(r *http.Request, _ http.Header) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byID[r.PathValue("chat_id")]
	switch {
	case !ok:
		return nil, &apiError{status: http.StatusBadRequest, code: codeInvalidChatID, msg: "invalid chat_id"}
	case c.Dissolved:
		return nil, &apiError{status: http.StatusBadRequest, code: codeDissolved, msg: "chat is dissolved"}
	case !s.ownerRights(c):
		return nil, &apiError{status: http.StatusBadRequest, code: codeNotOwner, msg: "only the owner or the creator app may dissolve the chat"}
	}
	c.Dissolved = true
	return nil, nil
}

// memberWrite runs f on the chat a member write names, answering 232019 while
// another member write on it runs (§4.1) and keeping it busy for
// Config.MemberWriteTime after.
func (s *Server) memberWrite(r *http.Request, f func(c *chat, ids []string) (any, *apiError)) (any, *apiError) {
	if e := idType(r, "member_id_type", true); e != nil {
		return nil, e
	}
	var b idList
	if e := decode(r, &b); e != nil {
		return nil, e
	}
	if len(b.IDList) == 0 || len(b.IDList) > MaxBatch {
		return nil, badParam("id_list must hold 1 to %d IDs", MaxBatch)
	}
	s.mu.Lock()
	c, e := s.lookup(r)
	if e != nil {
		s.mu.Unlock()
		return nil, e
	}
	if time.Now().Before(c.busyUntil) {
		s.mu.Unlock()
		return nil, &apiError{status: http.StatusBadRequest, code: codeChatBusy, msg: "the chat is being changed by another request; call serially"}
	}
	data, e := f(c, b.IDList)
	wait := s.cfg.MemberWriteTime
	if e == nil && wait > 0 {
		c.busyUntil = time.Now().Add(wait)
	}
	s.mu.Unlock()
	if e == nil && wait > 0 {
		time.Sleep(wait)
	}
	return data, e
}

// addMembers serves POST .../members (§4.1). Call with s.mu held (memberWrite).
func (s *Server) addMembers(r *http.Request, _ http.Header) (any, *apiError) {
	succeedType := r.URL.Query().Get("succeed_type")
	return s.memberWrite(r, func(c *chat, ids []string) (any, *apiError) {
		if c.Settings["add_member_permission"] == "only_owner" && !s.ownerRights(c) {
			return nil, &apiError{status: http.StatusBadRequest, code: codeNotOwner, msg: "only the owner and managers may add members"}
		}
		var add, missing []string
		for _, id := range ids {
			switch {
			case !s.users[id]:
				missing = append(missing, id)
			case !slices.Contains(c.Members, id) && !slices.Contains(add, id):
				add = append(add, id)
			}
		}
		if len(missing) > 0 && succeedType != "1" {
			return nil, &apiError{status: http.StatusBadRequest, code: codeIDsNotExisted, msg: "these open ids not existed"}
		}
		if len(c.Members)+len(add) > MaxMembers {
			return nil, &apiError{status: http.StatusBadRequest, code: codeChatFull, msg: "the chat is full"}
		}
		c.Members = append(c.Members, add...)
		return map[string]any{"invalid_id_list": []string{}, "not_existed_id_list": nonNil(missing), "pending_approval_id_list": []string{}}, nil
	})
}

// removeMembers serves DELETE .../members (§4.2).
func (s *Server) removeMembers(r *http.Request, _ http.Header) (any, *apiError) {
	return s.memberWrite(r, func(c *chat, ids []string) (any, *apiError) {
		if !s.ownerRights(c) {
			return nil, &apiError{status: http.StatusBadRequest, code: codeNotOwner, msg: "only the owner and managers may remove members"}
		}
		var invalid []string
		for _, id := range ids {
			if c.Owner != "" && id == c.Owner {
				return nil, &apiError{status: http.StatusBadRequest, code: codeKickOwner, msg: "Can't kick chat owner"}
			}
			if !slices.Contains(c.Members, id) {
				if s.cfg.RemoveNonMemberCode != 0 {
					return nil, &apiError{status: http.StatusBadRequest, code: s.cfg.RemoveNonMemberCode, msg: "not a member: " + id}
				}
				invalid = append(invalid, id)
			}
		}
		c.Members = slices.DeleteFunc(c.Members, func(m string) bool { return slices.Contains(ids, m) })
		return map[string]any{"invalid_id_list": nonNil(invalid)}, nil
	})
}

// page reads page_size (default 20, at most MaxPage) and page_token (§2).
func page(r *http.Request) (offset, size int, e *apiError) {
	q := r.URL.Query()
	size = 20
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPage {
			return 0, 0, badParam("page_size must be 1 to %d", MaxPage)
		}
		size = n
	}
	if t := q.Get("page_token"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			return 0, 0, badParam("page_token is invalid")
		}
		offset = n
	}
	return offset, size, nil
}

// pageData is a page's data: page_token only while has_more (§2).
func pageData(d map[string]any, offset, size, total int) map[string]any {
	d["has_more"] = offset+size < total
	if offset+size < total {
		d["page_token"] = strconv.Itoa(offset + size)
	}
	return d
}

// members serves GET .../members (§4.3): users only, the bot not listed.
func (s *Server) members(r *http.Request, _ http.Header) (any, *apiError) {
	if e := idType(r, "member_id_type", false); e != nil {
		return nil, e
	}
	offset, size, e := page(r)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.lookup(r)
	if e != nil {
		return nil, e
	}
	items := []map[string]string{}
	for _, m := range c.Members[min(offset, len(c.Members)):min(offset+size, len(c.Members))] {
		items = append(items, map[string]string{"member_id_type": "open_id", "member_id": m, "name": m, "tenant_key": "sim-tenant"})
	}
	return pageData(map[string]any{"items": items, "member_total": len(c.Members)}, offset, size, len(c.Members)), nil
}

// list serves GET /open-apis/im/v1/chats (§3.5): the bot's chats, oldest first.
func (s *Server) list(r *http.Request, _ http.Header) (any, *apiError) {
	if e := idType(r, "user_id_type", false); e != nil {
		return nil, e
	}
	if st := r.URL.Query().Get("sort_type"); st != "" && st != "ByCreateTimeAsc" && st != "ByActiveTimeDesc" {
		return nil, badParam("sort_type is invalid")
	}
	offset, size, e := page(r)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var live []*chat
	for _, c := range s.chats {
		if !c.Dissolved {
			live = append(live, c)
		}
	}
	items := []map[string]any{}
	for _, c := range live[min(offset, len(live)):min(offset+size, len(live))] {
		it := map[string]any{"chat_id": c.ID, "avatar": avatarURL(c.Avatar), "name": c.Name, "description": c.Description,
			"external": false, "tenant_key": "sim-tenant", "chat_status": "normal"}
		if c.Owner != "" {
			it["owner_id"], it["owner_id_type"] = c.Owner, "open_id"
		}
		items = append(items, it)
	}
	return pageData(map[string]any{"items": items}, offset, size, len(live)), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// avatarURL is how get, create and list report an avatar: a URL, while create
// and update take an image_key (§3.1). The URL's form is the simulator's own.
func avatarURL(key string) string {
	if key == "" {
		return ""
	}
	return "https://sim-imfile.feishucdn.test/static-resource/v1/" + key + "~"
}
