package dingtalk

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// rejection is a vendor error answer: HTTP status, code and message.
type rejection struct {
	status  int
	code    string
	message string
}

func invalid(format string, args ...any) *rejection {
	return &rejection{http.StatusBadRequest, CodeParameterInvalid, "Invalid input parameter: " + fmt.Sprintf(format, args...)}
}

// transientV1 is the vendor's documented retryable failure for v1.0 APIs.
func transientV1(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusInternalServerError, apiError{Code: CodeSystemError, Message: "Try again. If the issue persists, submit a ticket."})
}

// transientLegacy is the legacy APIs' "system busy" answer (HTTP 200, errcode -1).
func transientLegacy(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set(vendorsim.OutcomeHeader, "error")
	writeJSON(w, http.StatusOK, legacyError{ErrCode: ErrcodeBusy, ErrMsg: "系统繁忙"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeRejection(w http.ResponseWriter, r *rejection) {
	switch r.code {
	case CodeQPSLimit, CodeQPSLimitGlobal:
		w.Header().Set(vendorsim.OutcomeHeader, "throttled")
	case CodeInvalidToken, CodeInvalidCredentials:
		w.Header().Set(vendorsim.OutcomeHeader, "unauthorized")
	}
	writeJSON(w, r.status, apiError{Code: r.code, Message: r.message, RequestID: "sim"})
}

// v1Failures are the documented HTTP status and message of the v1.0 codes
// (vendor-apis.md §1.4, §1.5), for FailWith. Other codes get HTTP 400, where
// the vendor answers most refusals.
var v1Failures = map[string]rejection{
	CodeParameterInvalid:   {http.StatusBadRequest, CodeParameterInvalid, "Invalid input parameter"},
	CodePermissionDenied:   {http.StatusBadRequest, CodePermissionDenied, "Permission check failed"},
	CodeSystemError:        {http.StatusInternalServerError, CodeSystemError, "Try again. If the issue persists, submit a ticket."},
	CodeQPSLimit:           {http.StatusForbidden, CodeQPSLimit, "The API call frequency of the app exceeds the limit; try again later"},
	CodeQPSLimitGlobal:     {http.StatusForbidden, CodeQPSLimitGlobal, "The API call frequency exceeds the limit; try again later"},
	CodeMonthlyQuota:       {http.StatusForbidden, CodeMonthlyQuota, "The organisation has used up this month's API call quota"},
	CodeInvalidToken:       {http.StatusUnauthorized, CodeInvalidToken, "不合法的access_token"},
	CodeInvalidCredentials: {http.StatusBadRequest, CodeInvalidCredentials, "The appKey or appSecret is invalid"},
}

// failable answers op with the code set by FailWith, if any, and otherwise
// serves it with next.
func (s *Server) failable(op string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		code := s.Failing(op)
		switch {
		case code == "":
			next(w, r)
		case op == OpGet:
			writeLegacyFailure(w, code)
		default:
			rej, ok := v1Failures[code]
			if !ok {
				rej = rejection{http.StatusBadRequest, code, "simulated failure " + code}
			}
			writeRejection(w, &rej)
		}
	}
}

// writeLegacyFailure answers with errcode code ("N" or "88/SUB") in the legacy
// envelope, which comes with HTTP 200.
func writeLegacyFailure(w http.ResponseWriter, code string) {
	e := legacyError{ErrCode: ErrcodeSubCode, ErrMsg: "simulated failure " + code}
	top, sub, hasSub := strings.Cut(code, "/")
	if n, err := strconv.Atoi(top); err == nil {
		e.ErrCode = n
	} else {
		sub, hasSub = code, true
	}
	if hasSub {
		e.SubCode, e.SubMsg = sub, "simulated failure "+sub
	}
	outcome := "error"
	switch {
	case isLegacyThrottle(e):
		outcome = "throttled"
	case e.ErrCode == ErrcodeInvalidToken || e.ErrCode == ErrcodeSubCode && e.SubCode == strconv.Itoa(ErrcodeInvalidToken):
		outcome = "unauthorized"
	}
	w.Header().Set(vendorsim.OutcomeHeader, outcome)
	writeJSON(w, http.StatusOK, e)
}

// isLegacyThrottle reports whether e is a QPS errcode, alone or as 88's sub_code.
func isLegacyThrottle(e legacyError) bool {
	code := strconv.Itoa(e.ErrCode)
	if e.ErrCode == ErrcodeSubCode {
		code = e.SubCode
	}
	return code == strconv.Itoa(ErrcodeQPSLimit) || code == strconv.Itoa(ErrcodeQPSGlobal)
}

// decode reads a JSON body strictly: a field whose name is not exactly a
// documented one (encoding/json alone would accept any letter case) is
// rejected, so a client that misnames one learns it here rather than having it
// silently ignored.
func decode(r *http.Request, v any) *rejection {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return invalid("unreadable body")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return invalid("%v", err)
	}
	known := jsonNames(reflect.TypeOf(v).Elem())
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		if !known[name] {
			return invalid("unknown field %q", name)
		}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return invalid("%v", err)
	}
	return nil
}

// jsonNames returns the JSON field names of struct type t, embedded structs included.
func jsonNames(t reflect.Type) map[string]bool {
	names := map[string]bool{}
	for f := range t.Fields() {
		if f.Anonymous {
			maps.Copy(names, jsonNames(f.Type))
			continue
		}
		names[strings.Split(f.Tag.Get("json"), ",")[0]] = true
	}
	return names
}

// authV1 returns the app the x-acs-dingtalk-access-token header belongs to.
func (s *Server) authV1(r *http.Request) (string, *rejection) {
	app, ok := s.appFor(r.Header.Get("x-acs-dingtalk-access-token"))
	if !ok {
		return "", &rejection{http.StatusUnauthorized, CodeInvalidToken, "不合法的access_token"}
	}
	return app, nil
}

// appFor returns the app a valid token belongs to.
func (s *Server) appFor(tok string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tok]
	if !ok || tok == "" || !s.clock.Now().Before(t.expires) {
		return "", false
	}
	return t.app, true
}

// admit applies the per-app, per-API rate limit and the monthly quota.
func (s *Server) admit(app, op string) *rejection {
	s.mu.Lock()
	qps, forced := s.qps, s.throttled[op]
	s.mu.Unlock()
	forced = forced || s.Throttling()
	if forced || !s.Allow(app+"/"+op, qps) {
		return &rejection{http.StatusForbidden, CodeQPSLimit, "The API call frequency of the app exceeds the limit; try again later"}
	}
	if op == OpToken {
		return nil // token calls are not metered
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used[app]++
	if s.quota > 0 && s.used[app] > s.quota {
		return &rejection{http.StatusForbidden, CodeMonthlyQuota, "The organisation has used up this month's API call quota"}
	}
	return nil
}

// v1 authenticates and admits a v1.0 call, decodes its body into req and calls
// apply with the app. Rejections are written in the v1.0 envelope.
func v1[T any](s *Server, op string, apply func(app string, req *T) (any, *rejection)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		app, rej := s.authV1(r)
		if rej == nil {
			rej = s.admit(app, op)
		}
		if rej == nil && !s.permitted(app, op) {
			// Checked before the request's content: the gateway refuses an app
			// without the API's permission whatever it asks for (seed 000/002,
			// "Required permissions"; 400 permession.checkFailed).
			rej = &rejection{http.StatusBadRequest, CodePermissionDenied, "Permission check failed: the app lacks " + needs[op]}
		}
		var req T
		if rej == nil {
			rej = decode(r, &req)
		}
		var resp any
		if rej == nil {
			resp, rej = apply(app, &req)
		}
		if rej != nil {
			writeRejection(w, rej)
			return
		}
		writeJSON(w, http.StatusOK, resp)
	}
}

// handleToken issues an access token. Within its lifetime the same token is
// returned and its life extended, as the vendor documents.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	if rej := decode(r, &req); rej != nil {
		writeRejection(w, rej)
		return
	}
	if rej := s.admit(req.AppKey, OpToken); rej != nil {
		writeRejection(w, rej)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if secret, ok := s.apps[req.AppKey]; !ok || req.AppKey == "" || secret != req.AppSecret {
		writeRejection(w, &rejection{http.StatusBadRequest, CodeInvalidCredentials, "The appKey or appSecret is invalid"})
		return
	}
	now := s.clock.Now()
	tok := ""
	for t, info := range s.tokens {
		if info.app == req.AppKey && now.Before(info.expires) {
			tok = t
		}
	}
	if tok == "" {
		tok = newToken()
		s.issued = append(s.issued, tok)
	}
	s.tokens[tok] = token{app: req.AppKey, expires: now.Add(s.tokenTTL)}
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: tok, ExpireIn: int64(s.tokenTTL.Seconds())})
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	v1(s, OpCreate, s.create)(w, r)
}

func (s *Server) handleUpdate(w http.ResponseWriter, r *http.Request) {
	v1(s, OpUpdate, s.update)(w, r)
}

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	v1(s, OpSearch, s.search)(w, r)
}

// create validates and applies group/create.
func (s *Server) create(_ string, req *createRequest) (any, *rejection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	wr := Write{Op: OpCreate, Name: req.Name, Owner: req.Owner, Add: req.UserIDList, AddExt: req.ExtIDList}
	tag := int64(2)
	if req.ConversationTag != nil {
		tag = *req.ConversationTag
	}
	opts, rej := applyOptions(req.ManagementOptions)
	if rej == nil {
		rej = s.checkCreate(req, tag)
	}
	if rej != nil {
		wr.Code, wr.Message = rej.code, rej.message
		s.record(wr)
		return nil, rej
	}
	chatID, cid := newIDs()
	g := &Group{
		ChatID: chatID, OpenConversationID: cid, Name: req.Name, Owner: req.Owner, OwnerType: req.OwnerType,
		Icon: req.Icon, Members: dedupe(req.UserIDList), ExternalMembers: dedupe(req.ExtIDList),
		ConversationTag: tag, Options: opts,
	}
	s.groups[chatID] = g
	s.order = append(s.order, chatID)
	wr.ChatID, wr.Options, wr.After = chatID, &opts, g.clone()
	s.record(wr)
	return createResponse{ConversationTag: tag, OpenConversationID: cid, ChatID: chatID}, nil
}

// checkCreate applies the documented create rules; the caller holds s.mu.
func (s *Server) checkCreate(req *createRequest, tag int64) *rejection {
	switch {
	case !validName(req.Name):
		return invalid("name must be 1-%d characters", MaxNameLength)
	case req.Owner == "":
		return invalid("owner is required")
	case len(req.UserIDList) == 0:
		return invalid("useridlist is required")
	case tag != 0 && tag != 2:
		return invalid("conversationTag must be 0 or 2")
	case tag == 0 && !s.allowStandard:
		return &rejection{http.StatusBadRequest, CodePermissionDenied, "Permission check failed: creating Standard groups needs allow-listing by DingTalk support"}
	}
	if rej := checkOwnerType(req.OwnerType); rej != nil {
		return rej
	}
	if rej := s.checkOwner(req.Owner, req.OwnerType, req.UserIDList, req.ExtIDList); rej != nil {
		return rej
	}
	return s.checkLists(map[string][]string{"useridlist": req.UserIDList, "extidlist": req.ExtIDList}, req.UserIDList)
}

// checkOwner holds an owner to the list of its kind (seed 002 and 000: owner
// is a userId for ownerType emp, an external contact's unionId for ext, and
// must be one of the group's members): an employee must be in staff and
// within the app's visibility scope, an external contact in ext. The
// documentation says the owner must be a member only for update and the
// legacy create; the simulator holds the v1.0 create to it too. The caller
// holds s.mu.
func (s *Server) checkOwner(owner, ownerType string, staff, ext []string) *rejection {
	if ownerType == "ext" {
		if !slices.Contains(ext, owner) {
			return invalid("the external owner %s must be one of the group's external contacts (extidlist)", owner)
		}
		return nil
	}
	switch {
	case !s.users[owner]:
		return &rejection{http.StatusBadRequest, CodePermissionDenied, "The group owner is not within the app visibility scope"}
	case !slices.Contains(staff, owner):
		return invalid("the owner %s must be in useridlist", owner)
	}
	return nil
}

// checkLists enforces the per-call cap on every list and that every user in known
// is in the directory; the caller holds s.mu.
func (s *Server) checkLists(lists map[string][]string, known []string) *rejection {
	for _, name := range slices.Sorted(maps.Keys(lists)) {
		if n := len(lists[name]); n > MaxIDsPerList {
			return invalid("%s has %d IDs; at most %d are allowed per call", name, n, MaxIDsPerList)
		}
	}
	for _, id := range known {
		if !s.users[id] {
			return invalid("user %s does not exist in the organisation", id)
		}
	}
	return nil
}

// update validates and applies group/update. Every rule is checked against the
// group as it was before the call: the vendor does not document an order inside
// one call, so a new owner must already be a member and the current owner cannot
// be removed in the call that transfers ownership.
func (s *Server) update(_ string, req *updateRequest) (any, *rejection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	wr := Write{Op: OpUpdate, ChatID: req.ChatID, Owner: req.Owner,
		Add: req.AddUserIDList, Del: req.DelUserIDList, AddExt: req.AddExtIDList, DelExt: req.DelExtIDList}
	if req.Name != nil {
		wr.Name = *req.Name
	}
	g, rej := s.checkUpdate(req)
	var opts Options
	if rej == nil && req.ManagementOptions != nil {
		opts, rej = applyOptions(req.ManagementOptions)
		wr.Options = &opts
	}
	if rej != nil {
		wr.Code, wr.Message = rej.code, rej.message
		s.record(wr)
		return nil, rej
	}
	g.Members = append(g.Members, missing(g.Members, req.AddUserIDList)...)
	g.ExternalMembers = append(g.ExternalMembers, missing(g.ExternalMembers, req.AddExtIDList)...)
	if req.Owner != "" {
		g.Owner = req.Owner
		if req.OwnerType != "" {
			g.OwnerType = req.OwnerType
		}
	}
	g.Members = without(g.Members, req.DelUserIDList)
	g.ExternalMembers = without(g.ExternalMembers, req.DelExtIDList)
	if req.Name != nil {
		g.Name = *req.Name
	}
	if req.Icon != nil {
		g.Icon = *req.Icon
	}
	if req.ManagementOptions != nil {
		g.Options = opts
	}
	wr.After = g.clone()
	s.record(wr)
	return updateResponse{Success: true}, nil
}

// checkUpdate applies the update rules and returns the group; the caller holds s.mu.
func (s *Server) checkUpdate(req *updateRequest) (*Group, *rejection) {
	g, ok := s.groups[req.ChatID]
	switch {
	case req.ChatID == "":
		return nil, invalid("chatid is required")
	case !ok:
		return nil, invalid("chatid %s does not exist", req.ChatID)
	case req.ConversationTag != nil && *req.ConversationTag != g.ConversationTag:
		return nil, invalid("conversationTag cannot be changed after the group is created")
	case req.Name != nil && !validName(*req.Name):
		return nil, invalid("name must be 1-%d characters", MaxNameLength)
	case slices.Contains(req.DelUserIDList, g.Owner) || slices.Contains(req.DelExtIDList, g.Owner):
		// Undocumented; removing the owner is treated as invalid (vendor-apis.md §1.6).
		return nil, invalid("the group owner %s cannot be removed; transfer ownership first", g.Owner)
	}
	if rej := checkOwnerType(req.OwnerType); rej != nil {
		return nil, rej
	}
	if req.Owner != "" {
		// "The user must be one of the members" (seed 000), before this call.
		if rej := s.checkOwner(req.Owner, req.OwnerType, g.Members, g.ExternalMembers); rej != nil {
			if rej.code == CodeParameterInvalid {
				rej.message = fmt.Sprintf("Invalid input parameter: the new owner %s must be one of the group members", req.Owner)
			}
			return nil, rej
		}
	}
	return g, s.checkLists(map[string][]string{
		"add_useridlist": req.AddUserIDList, "del_useridlist": req.DelUserIDList,
		"add_extidlist": req.AddExtIDList, "del_extidlist": req.DelExtIDList,
	}, req.AddUserIDList)
}

// handleChatGet serves the legacy group read. Errors are HTTP 200 with errcode.
func (s *Server) handleChatGet(w http.ResponseWriter, r *http.Request) {
	legacy := func(code int, msg string, outcome string) {
		w.Header().Set(vendorsim.OutcomeHeader, outcome)
		writeJSON(w, http.StatusOK, legacyError{ErrCode: code, ErrMsg: msg})
	}
	app, ok := s.appFor(r.URL.Query().Get("access_token"))
	if !ok {
		legacy(ErrcodeInvalidToken, "不合法的access_token", "unauthorized")
		return
	}
	if rej := s.admit(app, OpGet); rej != nil {
		if rej.code == CodeQPSLimit {
			legacy(ErrcodeQPSLimit, "应用调用该接口的频率超过限制", "throttled")
		} else {
			legacy(ErrcodeMonthlyQuota, "企业调用量已超过本月限额", "error")
		}
		return
	}
	if !s.permitted(app, OpGet) {
		// The legacy envelope's "no permission to call this API": errcode 88
		// with sub_code 60011.
		w.Header().Set(vendorsim.OutcomeHeader, "error")
		writeJSON(w, http.StatusOK, legacyError{ErrCode: ErrcodeSubCode, ErrMsg: "no permission", SubCode: "60011", SubMsg: "the app lacks " + PermChatRead})
		return
	}
	chatID := r.URL.Query().Get("chatid")
	if chatID == "" {
		legacy(ErrcodeInvalidParam, "不合法的参数: chatid", "error")
		return
	}
	g, ok := s.Group(chatID)
	if !ok {
		legacy(ErrcodeChatNotFound, "无效的会话id", "error")
		return
	}
	o := g.Options
	writeJSON(w, http.StatusOK, chatGetResponse{legacyError: legacyError{ErrMsg: "ok"}, ChatInfo: &chatInfo{
		Name: g.Name, Owner: g.Owner, UserIDList: nonNil(g.Members),
		ConversationTag: g.ConversationTag, ChatBannedType: o.ChatBannedType, Searchable: o.Searchable,
		ValidationType: o.ValidationType, MentionAllAuthority: o.MentionAllAuthority,
		ManagementType: o.ManagementType, ShowHistoryType: o.ShowHistoryType,
	}})
}

// search is innerGroups/search: a keyword search of the groups userId is in.
func (s *Server) search(_ string, req *searchRequest) (any, *rejection) {
	switch {
	case req.UserID == "":
		return nil, invalid("userId is required")
	case req.SearchKey == "":
		return nil, invalid("searchKey is required")
	case req.MaxResults < 1 || req.MaxResults > 200:
		return nil, invalid("maxResults must be 1-200")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := searchResponse{GroupInfos: []searchGroup{}}
	for _, id := range s.order {
		g, ok := s.groups[id]
		if !ok || !slices.Contains(g.Members, req.UserID) || !strings.Contains(g.Name, req.SearchKey) {
			continue
		}
		if len(resp.GroupInfos) == req.MaxResults {
			break
		}
		resp.GroupInfos = append(resp.GroupInfos, searchGroup{
			OpenConversationID: g.OpenConversationID, Title: g.Name,
			MemberAmount: strconv.Itoa(len(g.Members) + len(g.ExternalMembers)), Icon: g.Icon,
		})
	}
	return resp, nil
}

// applyOptions validates the sent flags. A flag not sent takes the vendor's
// default (0): the documentation says a missing showHistoryType means "cannot
// see history", so the simulator treats every missing flag as a reset, which
// catches clients that send partial managementOptions.
func applyOptions(in *wireOptions) (Options, *rejection) {
	var out Options
	if in == nil {
		return out, nil
	}
	for _, f := range []struct {
		name string
		in   *int
		out  *int
	}{
		{"mentionAllAuthority", in.MentionAllAuthority, &out.MentionAllAuthority},
		{"showHistoryType", in.ShowHistoryType, &out.ShowHistoryType},
		{"validationType", in.ValidationType, &out.ValidationType},
		{"searchable", in.Searchable, &out.Searchable},
		{"chatBannedType", in.ChatBannedType, &out.ChatBannedType},
		{"managementType", in.ManagementType, &out.ManagementType},
	} {
		if f.in == nil {
			continue
		}
		if *f.in != 0 && *f.in != 1 {
			return Options{}, invalid("managementOptions.%s must be 0 or 1", f.name)
		}
		*f.out = *f.in
	}
	return out, nil
}

func checkOwnerType(t string) *rejection {
	if t != "" && t != "emp" && t != "ext" {
		return invalid("ownerType must be emp or ext")
	}
	return nil
}

func validName(name string) bool {
	n := utf8.RuneCountInString(name)
	return n >= 1 && n <= MaxNameLength
}

// missing returns the ids not in have, without duplicates.
func missing(have, ids []string) []string {
	var out []string
	for _, id := range ids {
		if !slices.Contains(have, id) && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func without(list, drop []string) []string {
	return slices.DeleteFunc(list, func(id string) bool { return slices.Contains(drop, id) })
}

func dedupe(ids []string) []string { return missing(nil, ids) }

func nonNil(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}
