// Package feishu simulates the Feishu / Lark open platform for one internal
// app: the tenant_access_token endpoint and the IM v1 group-chat APIs (create,
// get, update, dissolve, list the bot's chats, add, remove and list members).
// Feishu and Lark are one API, so one listener serves both.
//
// It is written from ../shared/docs/vendor-apis-feishu.md (cited below by
// section, with the vendor pages it names), never from the client: it has its
// own wire types and does not import the client. What it enforces:
//
//   - tokens (§1): POST /open-apis/auth/v3/tenant_access_token/internal with the
//     app's app_id and app_secret returns a t- token for 2 hours; asked again
//     while the current token has 30 minutes or more left it returns the same
//     token, with less it issues a new one and the old one stays valid until it
//     expires. Every API call needs "Authorization: Bearer <token>": missing is
//     99991661, unknown or expired 99991663 (HTTP 400);
//   - create (§3.1): uuid dedupe keyed by uuid + owner_id for 10 hours; at most
//     50 user_id_list entries; public chats need a name of 2+ characters
//     (232042, 232020); the three permissions create does not take are refused
//     by the strict body decoding; an ID the bot cannot see fails the whole
//     create (232043); without owner_id the bot owns the chat;
//   - update (§3.3): a partial PUT; add_member_permission and
//     share_card_permission must come together and agree; a new owner must be a
//     member (232012); a dissolved chat is 232009;
//   - dissolve (§3.4): only the owner bot or the creator bot with
//     im:chat:operate_as_owner (232017);
//   - members (§4): at most 50 IDs per add or remove; succeed_type 0 fails the
//     call on an ID that does not exist (99992351), 1 adds the rest and lists it
//     in not_existed_id_list; the owner cannot be removed (232076); a member
//     write while another is running on the same chat is 232019; member pages
//     hold at most 100 (the bot is not listed);
//   - rate limits (§7): 1000 calls per minute and 50 per second per API; over
//     either, HTTP 429 with code 99991400 and the x-ogw-ratelimit-limit and
//     x-ogw-ratelimit-reset headers;
//   - list (§3.5): the chats the bot is in, oldest first, at most 100 a page.
//
// Open questions of §11 the simulator has to answer are decided as noted at
// Config, each with a knob for the other answer.
package feishu

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// Documented limits (vendor-apis-feishu.md).
const (
	// TokenLifetime is a tenant_access_token's lifetime (§1).
	TokenLifetime = 2 * time.Hour
	// TokenReuse: a token with at least this much left is returned again (§1).
	TokenReuse = 30 * time.Minute
	// DedupeWindow is how long a create uuid (+ owner_id) makes one chat (§3.1).
	DedupeWindow = 10 * time.Hour
	// PerSecond and PerMinute are every chat API's limits (§7).
	PerSecond = 50
	PerMinute = 1000
	// MaxBatch is the most user IDs per create, add or remove (§3.1, §4.1, §4.2).
	MaxBatch = 50
	// MaxMembers is a normal group's size (§4.1).
	MaxMembers = 5000
	// MaxPage is the largest page_size of list and member pages (§3.5, §4.3).
	MaxPage = 100
)

// Vendor codes the simulator answers with (vendor-apis-feishu.md §3-§7).
const (
	codeInvalidParam    = 232001
	codeNoPermission    = 232002
	codeInvalidChatID   = 232006
	codeDissolved       = 232009
	codeNotOwnerMember  = 232012
	codeChatFull        = 232013
	codeNoEditRight     = 232016
	codeNotOwner        = 232017
	codeChatBusy        = 232019
	codeNameTooShort    = 232020
	codeUnavailableIDs  = 232043
	codePublicNoName    = 232042
	codeKickOwner       = 232076
	codeRateLimited     = 99991400
	codeTokenMissing    = 99991661
	codeTokenInvalid    = 99991663
	codeIDsNotExisted   = 99992351
	codeFieldValidation = 99992402 // strict body decoding: a field the API does not take [inference]
	// codeAppInvalid and codeSecretInvalid are the token endpoint's answers to a
	// wrong app_id or app_secret. The reference lists none for that endpoint;
	// these are Feishu's published auth codes [inference].
	codeAppInvalid    = 10003
	codeSecretInvalid = 10014
	// codeInternal is the injected transient error, sent with HTTP 500.
	codeInternal = 2200
)

// Config configures a Server.
type Config struct {
	// AppID and AppSecret are the internal app's credentials.
	AppID, AppSecret string
	// Users is the directory the app can see (IDs of the one member ID type the
	// simulator serves).
	Users []string
	// NoOperateAsOwner withholds im:chat:operate_as_owner: the creator bot of a
	// chat a user owns can then only do what a member may.
	NoOperateAsOwner bool
	// MemberWriteTime is how long a member add or remove keeps its chat busy
	// (a concurrent member write on it is 232019). 0: the write is instant.
	MemberWriteTime time.Duration

	// Open questions (vendor-apis-feishu.md §11), decided here; each knob gives
	// the other answer.
	//
	// DuplicateCreateCode (Q1): a create repeating uuid + owner_id inside the
	// window answers the chat the first one made, code 0 (the doc says the pair
	// "can create at most one chat", and the SDK's own retry-on-token-refresh
	// resends creates with the same uuid, which only works if the repeat
	// succeeds). Non-zero: the repeat answers this code instead.
	DuplicateCreateCode int
	// DissolvedCode (Q3): what get and the member APIs answer for a dissolved
	// chat: 232009 (the code the doc gives for "chat dissolved"); set 232006
	// to answer as if the ID were unknown.
	DissolvedCode int
	// RemoveNonMemberCode (Q4): removing an ID that is not a member lists it in
	// invalid_id_list with code 0; non-zero answers this code. Adding a member
	// who is already in is a no-op success.
	RemoveNonMemberCode int
	// TransferOwnerOnly (Q5): a creator bot with im:chat:operate_as_owner may
	// transfer ownership of a chat a user owns (D-update lists owner_id among
	// the fields it "may change everything" of); true makes it 232017.
	TransferOwnerOnly bool
	// PerSecond and PerMinute override the documented limits (0: documented,
	// negative: unlimited).
	PerSecond, PerMinute int
}

// Chat is a chat as a test sees it.
type Chat struct {
	ID          string
	Name        string
	Description string
	Avatar      string
	// Owner is the owner's user ID, "" while the bot owns the chat.
	Owner string
	// Members are the user IDs in the chat (owner included), in join order.
	Members []string
	// Settings by their wire names: chat_type, add_member_permission,
	// share_card_permission, at_all_permission, edit_permission,
	// membership_approval, ...
	Settings map[string]string
	// Dissolved is true once the chat was dissolved.
	Dissolved bool
	// UUID and CreatedAt are the create's dedupe key and time.
	UUID      string
	CreatedAt time.Time
}

type chat struct {
	Chat
	busyUntil time.Time // a member write runs until then
}

// Server is the simulated open platform. Serve it with httptest.NewServer.
type Server struct {
	*vendorsim.Sim
	cfg   Config
	mux   *http.ServeMux
	clock clock.PassiveClock

	mu      sync.Mutex
	users   map[string]bool
	tokens  map[string]time.Time // token -> expiry
	current string
	chats   []*chat // creation order
	byID    map[string]*chat
	dedupe  map[string]*chat // uuid + "\x00" + owner_id
	minutes map[string]*minute
	nextID  int
	// throttleUntil mirrors the Sim's ThrottleFor period, for the reset header.
	throttleUntil time.Time
}

type minute struct {
	start time.Time
	n     int
}

// New returns a Server for cfg.
func New(cfg Config, opts ...vendorsim.Option) *Server {
	o := vendorsim.BuildOptions(opts...)
	cfg.DissolvedCode = cmp.Or(cfg.DissolvedCode, codeDissolved)
	s := &Server{Sim: vendorsim.New(o.Clock), cfg: cfg, clock: o.Clock, users: map[string]bool{}, tokens: map[string]time.Time{},
		byID: map[string]*chat{}, dedupe: map[string]*chat{}, minutes: map[string]*minute{}}
	for _, u := range cfg.Users {
		s.users[u] = true
	}
	s.routes()
	return s
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Operations, as the call log names them.
const (
	OpToken         = "auth/tenant_access_token"
	OpCreate        = "chat/create"
	OpGet           = "chat/get"
	OpUpdate        = "chat/update"
	OpDelete        = "chat/delete"
	OpList          = "chat/list"
	OpMembersAdd    = "chat.members/create"
	OpMembersRemove = "chat.members/delete"
	OpMembersGet    = "chat.members/get"
)

// Writes are the operations that change something.
var Writes = []string{OpCreate, OpUpdate, OpDelete, OpMembersAdd, OpMembersRemove}

// routes maps the documented paths (§1, §3, §4) to operations.
var routes = []struct{ pattern, op string }{
	{"POST /open-apis/auth/v3/tenant_access_token/internal", OpToken},
	{"POST /open-apis/im/v1/chats", OpCreate},
	{"GET /open-apis/im/v1/chats", OpList},
	{"GET /open-apis/im/v1/chats/{chat_id}", OpGet},
	{"PUT /open-apis/im/v1/chats/{chat_id}", OpUpdate},
	{"DELETE /open-apis/im/v1/chats/{chat_id}", OpDelete},
	{"POST /open-apis/im/v1/chats/{chat_id}/members", OpMembersAdd},
	{"DELETE /open-apis/im/v1/chats/{chat_id}/members", OpMembersRemove},
	{"GET /open-apis/im/v1/chats/{chat_id}/members", OpMembersGet},
}

// OpOf names the operation r calls, "" for none.
func OpOf(r *http.Request) string {
	m := http.NewServeMux()
	for _, rt := range routes {
		m.Handle(rt.pattern, http.NotFoundHandler())
	}
	_, pattern := m.Handler(r)
	for _, rt := range routes {
		if rt.pattern == pattern {
			return rt.op
		}
	}
	return ""
}

func (s *Server) routes() {
	handlers := map[string]func(*http.Request, http.Header) (any, *apiError){
		OpCreate: s.create, OpList: s.list, OpGet: s.get, OpUpdate: s.update, OpDelete: s.dissolve,
		OpMembersAdd: s.addMembers, OpMembersRemove: s.removeMembers, OpMembersGet: s.members,
	}
	s.mux = http.NewServeMux()
	for _, rt := range routes {
		op := rt.op
		if op == OpToken {
			s.mux.HandleFunc(rt.pattern, s.Wrap(op, transient, s.token))
			continue
		}
		h := handlers[op]
		s.mux.HandleFunc(rt.pattern, s.Wrap(op, transient, func(w http.ResponseWriter, r *http.Request) {
			if e := s.admit(op, r, w.Header()); e != nil {
				e.write(w)
				return
			}
			data, e := h(r, w.Header())
			if e != nil {
				e.write(w)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"code": 0, "msg": "success", "data": cmp.Or[any](data, struct{}{})})
		}))
	}
}

// admit checks, before anything is applied, a FailWith code, a throttle
// period, the rate limits and the token.
func (s *Server) admit(op string, r *http.Request, h http.Header) *apiError {
	if c := s.Failing(op); c != "" {
		n, _ := strconv.Atoi(c)
		return &apiError{status: statusOf(n), code: n, msg: "injected by the test", reset: 1}
	}
	if s.Throttling() {
		s.mu.Lock()
		left := s.throttleUntil.Sub(s.now())
		s.mu.Unlock()
		return throttled(h, PerSecond, int(math.Ceil(left.Seconds())))
	}
	if e := s.rateLimit(op, h); e != nil {
		return e
	}
	return s.authorize(r)
}

// statusOf is the HTTP status the vendor sends with code (§2, §7).
func statusOf(code int) int {
	if code == codeRateLimited {
		return http.StatusTooManyRequests
	}
	if code == codeInternal {
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// rateLimit applies the per-second and per-minute limits of op (§7).
func (s *Server) rateLimit(op string, h http.Header) *apiError {
	perSec := limit(s.cfg.PerSecond, PerSecond)
	if !s.Allow(op, perSec) {
		return throttled(h, perSec, 1)
	}
	perMin := limit(s.cfg.PerMinute, PerMinute)
	if perMin <= 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	m, ok := s.minutes[op]
	if !ok || now.Sub(m.start) >= time.Minute {
		m = &minute{start: now}
		s.minutes[op] = m
	}
	m.n++
	if m.n > perMin {
		return throttled(h, perMin, int(math.Ceil(m.start.Add(time.Minute).Sub(now).Seconds())))
	}
	return nil
}

func limit(configured, documented int) int {
	if configured == 0 {
		return documented
	}
	return configured
}

// throttled is the frequency-control answer (§7): HTTP 429, code 99991400, the
// limit and the seconds until its window resets in headers.
func throttled(h http.Header, lim, reset int) *apiError {
	reset = max(reset, 1)
	h.Set("x-ogw-ratelimit-limit", strconv.Itoa(lim))
	h.Set("x-ogw-ratelimit-reset", strconv.Itoa(reset))
	h.Set(vendorsim.OutcomeHeader, "throttled")
	return &apiError{status: http.StatusTooManyRequests, code: codeRateLimited, msg: "request trigger frequency limit"}
}

func (s *Server) now() time.Time { return s.clock.Now() }

// authorize checks the Bearer token (§1).
func (s *Server) authorize(r *http.Request) *apiError {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return &apiError{status: http.StatusBadRequest, code: codeTokenMissing, msg: "Missing access token for authorization"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if exp, ok := s.tokens[tok]; !ok || !s.now().Before(exp) {
		return &apiError{status: http.StatusBadRequest, code: codeTokenInvalid, msg: "Invalid access token for authorization"}
	}
	return nil
}

// token serves tenant_access_token/internal (§1): the fields are top-level.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if c := s.Failing(OpToken); c != "" {
		n, _ := strconv.Atoi(c)
		(&apiError{status: statusOf(n), code: n, msg: "injected by the test"}).write(w)
		return
	}
	var req struct {
		AppID     string `json:"app_id"`
		AppSecret string `json:"app_secret"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		(&apiError{status: http.StatusBadRequest, code: codeAppInvalid, msg: "invalid param"}).write(w)
		return
	}
	switch {
	case req.AppID != s.cfg.AppID:
		(&apiError{status: http.StatusBadRequest, code: codeAppInvalid, msg: "app_id is invalid"}).write(w)
		return
	case req.AppSecret != s.cfg.AppSecret:
		(&apiError{status: http.StatusBadRequest, code: codeSecretInvalid, msg: "app secret invalid"}).write(w)
		return
	}
	s.mu.Lock()
	now := s.now()
	if exp, ok := s.tokens[s.current]; !ok || exp.Sub(now) < TokenReuse {
		s.current = "t-" + randomHex(20)
		s.tokens[s.current] = now.Add(TokenLifetime)
	}
	tok, left := s.current, s.tokens[s.current].Sub(now)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"code": 0, "msg": "ok", "tenant_access_token": tok, "expire": int(left.Seconds())})
}

// Tokens returns every token issued (for leak checks).
func (s *Server) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.tokens))
	for t := range s.tokens {
		out = append(out, t)
	}
	return out
}

// AddUsers adds IDs to the directory.
func (s *Server) AddUsers(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.users[id] = true
	}
}

// Chats returns the chats in creation order, dissolved ones included.
func (s *Server) Chats() []Chat {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Chat, 0, len(s.chats))
	for _, c := range s.chats {
		out = append(out, c.snapshot())
	}
	return out
}

// Chat returns the chat with id.
func (s *Server) Chat(id string) (Chat, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byID[id]
	if !ok {
		return Chat{}, false
	}
	return c.snapshot(), true
}

// SetMembers replaces a chat's members, as people joining and leaving in the
// Feishu app would.
func (s *Server) SetMembers(id string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.byID[id]; ok {
		c.Members = append([]string(nil), members...)
	}
}

// SetSetting changes one of a chat's settings (by its wire name) or its name,
// as a user would in the app.
func (s *Server) SetSetting(id, field, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.byID[id]; ok {
		if field == "name" {
			c.Name = value
			return
		}
		c.Settings[field] = value
	}
}

func (c *chat) snapshot() Chat {
	out := c.Chat
	out.Members = append([]string(nil), c.Members...)
	out.Settings = make(map[string]string, len(c.Settings))
	for k, v := range c.Settings {
		out.Settings[k] = v
	}
	return out
}

// apiError is an error answer in the vendor's envelope (§2).
type apiError struct {
	status int
	code   int
	msg    string
	reset  int // for FailWith(99991400): x-ogw-ratelimit-reset
}

func (e *apiError) write(w http.ResponseWriter) {
	if e.code == codeRateLimited && w.Header().Get("x-ogw-ratelimit-reset") == "" {
		w.Header().Set("x-ogw-ratelimit-reset", strconv.Itoa(max(e.reset, 1)))
	}
	w.Header().Set("X-Tt-Logid", "sim-"+randomHex(8))
	writeJSON(w, e.status, map[string]any{"code": e.code, "msg": e.msg,
		"error": map[string]any{"log_id": "sim", "helps": []map[string]string{{"url": "https://open.feishu.cn/search?q=" + strconv.Itoa(e.code)}}}})
}

func badParam(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: codeInvalidParam, msg: fmt.Sprintf(format, args...)}
}

// transient is the injected transient failure: HTTP 500 before anything is applied.
func transient(w http.ResponseWriter, _ *http.Request) {
	(&apiError{status: http.StatusInternalServerError, code: codeInternal, msg: "internal error"}).write(w)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// RevokeTokens invalidates every issued token, as when the app secret is reset
// in the console: calls with them answer 99991663.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.tokens {
		s.tokens[t] = time.Time{}
	}
	s.current = ""
}

// ThrottleFor answers every call with the throttle response for d, its
// x-ogw-ratelimit-reset counting down to the period's end.
func (s *Server) ThrottleFor(d time.Duration) {
	s.mu.Lock()
	s.throttleUntil = s.now().Add(d)
	s.mu.Unlock()
	s.Sim.ThrottleFor(d)
}
