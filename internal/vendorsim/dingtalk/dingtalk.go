// Package dingtalk simulates the DingTalk APIs the operator uses: the internal-app
// access token (POST /v1.0/oauth2/accessToken), regular groups (POST
// /v1.0/im/group/create and /v1.0/im/group/update), the legacy group read (GET
// /chat/get) and the search in one user's groups (POST /v1.0/im/innerGroups/search).
//
// It enforces what the vendor documents: a token on every call that expires,
// group names of 1-20 characters, an owner who is a known member, member IDs from
// a configurable user directory, at most 40 IDs per list per call, 20 calls per
// second per API per app answered with the vendor's throttle codes, and an
// immutable conversationTag. Where the documentation is silent the simulator is
// strict (see the comments on each rule), so a client that relies on lenience
// fails here first. Fault knobs, the call log and per-operation counters come
// from vendorsim.Sim; Writes records every group write it applied or rejected;
// FailWith answers an operation with any vendor code. Harness drives it for the
// project's tools.
//
// It is written from the vendor documentation only and never imports the client.
package dingtalk

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// Operation names, as used by the call log, Count and the fault knobs.
const (
	OpToken  = "oauth2/accessToken"
	OpCreate = "group/create"
	OpUpdate = "group/update"
	OpGet    = "chat/get"
	OpSearch = "innerGroups/search"
)

// App permissions (vendor-apis.md §1.2; seed pages 000 and 002 list
// qyapi_chat_manage as the required permission of group/create and
// group/update). An app has every one unless Revoke takes it away.
const (
	PermChatManage = "qyapi_chat_manage"
	PermChatRead   = "qyapi_chat_read"
)

// needs is the permission each operation requires.
var needs = map[string]string{OpCreate: PermChatManage, OpUpdate: PermChatManage, OpGet: PermChatRead, OpSearch: PermChatRead}

// Documented limits.
const (
	// DefaultQPS is the per-app, per-API limit of a standard-edition organisation.
	DefaultQPS = 20
	// DefaultTokenTTL is an access token's lifetime.
	DefaultTokenTTL = 7200 * time.Second
	// MaxIDsPerList caps every ID list of one create or update call.
	MaxIDsPerList = 40
	// MaxNameLength is the longest group name, in characters.
	MaxNameLength = 20
)

// Vendor error codes the simulator answers with.
const (
	CodeParameterInvalid = "parameter.invalid"
	// CodePermissionDenied is spelled as the vendor spells it.
	CodePermissionDenied = "permession.checkFailed"
	CodeSystemError      = "system.error"
	CodeQPSLimit         = "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"
	CodeQPSLimitGlobal   = "Forbidden.AccessDenied.QpsLimitForApi"
	CodeMonthlyQuota     = "Forbidden.AccessDenied.ApiCountLimitForOrg"
	// CodeInvalidToken answers a missing, unknown or expired v1.0 token (HTTP 401).
	CodeInvalidToken = "InvalidAuthentication"
	// CodeInvalidCredentials answers a wrong appKey/appSecret (HTTP 400). The exact
	// code is not documented for this endpoint; clients must not depend on it.
	CodeInvalidCredentials = "invalidClientIdOrSecret"

	ErrcodeBusy         = -1
	ErrcodeInvalidToken = 40014
	ErrcodeInvalidParam = 40035
	ErrcodeQPSLimit     = 90018
	ErrcodeQPSGlobal    = 90002
	ErrcodeMonthlyQuota = 90020
	// ErrcodeSubCode means "request failed, see sub_code" (e.g. 88 with sub_code
	// 60011, no permission to call the API).
	ErrcodeSubCode = 88
	// ErrcodeChatNotFound answers chat/get for an unknown chatid. The vendor's
	// code for this case is not in the pages we have; 34001 ("invalid conversation
	// id") is our best reading of the global code list.
	ErrcodeChatNotFound = 34001
)

// Options are a group's six management flags (0 or 1 each).
type Options struct {
	MentionAllAuthority int
	ShowHistoryType     int
	ValidationType      int
	Searchable          int
	ChatBannedType      int
	ManagementType      int
}

// Group is a snapshot of a simulated group.
type Group struct {
	ChatID             string
	OpenConversationID string
	Name               string
	Owner              string
	OwnerType          string
	Icon               string
	// Members are the staff user IDs, owner included, in joining order.
	Members []string
	// ExternalMembers are the external contacts' unionIds.
	ExternalMembers []string
	ConversationTag int64
	Options         Options
}

func (g Group) clone() Group {
	g.Members = slices.Clone(g.Members)
	g.ExternalMembers = slices.Clone(g.ExternalMembers)
	return g
}

// Write is one group/create or group/update call that passed authentication and
// throttling, applied or rejected.
type Write struct {
	Op     string
	ChatID string
	// Name and Owner are the requested name and owner (update: empty when not sent).
	Name  string
	Owner string
	// Add and Del are the user ID lists (create: useridlist is Add).
	Add, Del []string
	// AddExt and DelExt are the unionId lists (create: extidlist is AddExt).
	AddExt, DelExt []string
	// Options are the flags the call set, nil when it sent none.
	Options *Options
	// Code and Message are the vendor's error; empty when the call was applied.
	Code    string
	Message string
	// After is the group after the call (zero when rejected).
	After Group
}

type token struct {
	app     string
	expires time.Time
}

// Server is a simulated DingTalk organisation. Its methods are safe for
// concurrent use. The embedded Sim holds the fault knobs and the call log.
type Server struct {
	*vendorsim.Sim
	clock clock.PassiveClock
	mux   *http.ServeMux

	mu            sync.Mutex
	apps          map[string]string // appKey -> appSecret
	tokens        map[string]token
	issued        []string // every token ever issued
	users         map[string]bool
	groups        map[string]*Group
	order         []string // chatids in creation order
	qps           int
	tokenTTL      time.Duration
	throttled     map[string]bool
	quota         int
	used          map[string]int // metered calls per app
	allowStandard bool
	writes        []Write
	site          string
	revoked       map[string]bool // appKey + "/" + permission
	templates     map[string]bool
	scenes        map[string]*SceneGroup // by openConversationId
	sceneUUIDs    map[string]string      // uuid -> openConversationId
}

// Config is a simulated organisation at start.
type Config struct {
	// Apps are the internal apps' credentials, appKey to appSecret.
	Apps map[string]string
	// Users are the staff user IDs visible to the apps.
	Users []string
	// QPS is the per-app, per-API limit; 0 means DefaultQPS.
	QPS int
	// Site, when set ("dingtalk.com" or "dingtalk.io"), makes the organisation
	// one site's: the v1.0 APIs answer only on host api.<Site> and the legacy
	// ones only on oapi.<Site> (vendor-apis.md §1.1), so tokens and calls
	// cannot cross sites. Empty serves every API on any host.
	Site string
	// Templates are the published scene-group templates.
	Templates []string
}

// route is one simulated API: its operation name, method and path.
type route struct {
	op, method, path string
}

// routes are the simulated APIs (vendor-apis.md §1.2, §1.4).
var routes = []route{
	{OpToken, http.MethodPost, "/v1.0/oauth2/accessToken"},
	{OpCreate, http.MethodPost, "/v1.0/im/group/create"},
	{OpUpdate, http.MethodPost, "/v1.0/im/group/update"},
	{OpGet, http.MethodGet, "/chat/get"},
	{OpSearch, http.MethodPost, "/v1.0/im/innerGroups/search"},
}

// New returns an organisation as cfg describes it.
func New(cfg Config, opts ...vendorsim.Option) *Server {
	o := vendorsim.BuildOptions(opts...)
	s := &Server{
		Sim: vendorsim.New(o.Clock), clock: o.Clock,
		apps: map[string]string{}, tokens: map[string]token{}, users: map[string]bool{},
		groups: map[string]*Group{}, qps: cmp.Or(cfg.QPS, DefaultQPS), tokenTTL: DefaultTokenTTL,
		throttled: map[string]bool{}, used: map[string]int{}, site: cfg.Site, revoked: map[string]bool{},
		templates: map[string]bool{}, scenes: map[string]*SceneGroup{}, sceneUUIDs: map[string]string{},
	}
	for _, t := range cfg.Templates {
		s.templates[t] = true
	}
	maps.Copy(s.apps, cfg.Apps)
	for _, id := range cfg.Users {
		s.users[id] = true
	}
	handlers := map[string]http.HandlerFunc{
		OpToken: s.handleToken, OpCreate: s.handleCreate, OpUpdate: s.handleUpdate,
		OpGet: s.handleChatGet, OpSearch: s.handleSearch,
	}
	maps.Copy(handlers, s.sceneHandlers())
	s.mux = http.NewServeMux()
	for _, r := range slices.Concat(routes, sceneRoutes) {
		transient := transientV1
		if r.op == OpGet {
			transient = transientLegacy
		}
		s.mux.Handle(r.method+" "+r.path, s.Wrap(r.op, transient, s.failable(r.op, handlers[r.op])))
	}
	return s
}

// ServeHTTP serves the simulated endpoints, on the site's hosts when it has one.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.site != "" {
		host := "api." + s.site
		if OpOf(r) == OpGet {
			host = "oapi." + s.site
		}
		if h, _, err := net.SplitHostPort(r.Host); (err == nil && h != host) || (err != nil && r.Host != host) {
			http.Error(w, "this site serves "+r.URL.Path+" on "+host, http.StatusNotFound)
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// Handler returns the Server, which serves the simulated endpoints.
func (s *Server) Handler() http.Handler { return s }

// OpOf names the operation a request calls, "" for none.
func OpOf(r *http.Request) string {
	for _, rt := range slices.Concat(routes, sceneRoutes) {
		if r.URL.Path == rt.path {
			return rt.op
		}
	}
	return ""
}

// AddApp registers an internal app's credentials.
func (s *Server) AddApp(appKey, appSecret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps[appKey] = appSecret
}

// SetUsers replaces the user directory: the staff user IDs visible to the apps.
func (s *Server) SetUsers(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users = map[string]bool{}
	for _, id := range ids {
		s.users[id] = true
	}
}

// AddUsers adds staff user IDs to the directory.
func (s *Server) AddUsers(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.users[id] = true
	}
}

// Revoke takes permission away from app, as an administrator can in the
// developer console; Grant gives it back.
func (s *Server) Revoke(appKey, permission string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked[appKey+"/"+permission] = true
}

// Grant gives app permission (back).
func (s *Server) Grant(appKey, permission string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.revoked, appKey+"/"+permission)
}

// permitted reports whether app holds the permission op needs.
func (s *Server) permitted(app, op string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.revoked[app+"/"+needs[op]]
}

// SetQPS sets the per-app, per-API calls per second (DefaultQPS by default).
func (s *Server) SetQPS(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.qps = n
}

// SetThrottle makes every call of op answer with the vendor's throttle response
// while on is true, as when the organisation is over its limit.
func (s *Server) SetThrottle(op string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttled[op] = on
}

// SetMonthlyQuota limits each app to n metered calls (every API but the token);
// 0 means unlimited.
func (s *Server) SetMonthlyQuota(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quota = n
	s.used = map[string]int{}
}

// SetTokenTTL sets the lifetime of tokens issued from now on.
func (s *Server) SetTokenTTL(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenTTL = d
}

// ExpireTokens makes every issued token invalid at once.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]token{}
}

// AllowStandardGroups lets apps create Standard groups (conversationTag 0), which
// the vendor allows only after allow-listing by its support.
func (s *Server) AllowStandardGroups(allow bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.allowStandard = allow
}

// IssuedTokens returns every access token issued so far, expired or not.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.issued)
}

// Tokens returns every access token currently valid.
func (s *Server) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.tokens))
}

// Group returns the group with chatID.
func (s *Server) Group(chatID string) (Group, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[chatID]
	if !ok {
		return Group{}, false
	}
	return g.clone(), true
}

// GroupsNamed returns the groups called name, oldest first.
func (s *Server) GroupsNamed(name string) []Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Group
	for _, id := range s.order {
		if g, ok := s.groups[id]; ok && g.Name == name {
			out = append(out, g.clone())
		}
	}
	return out
}

// Edit changes a group as a DingTalk user would in the app (outside the API):
// edit gets a copy, which replaces the group.
func (s *Server) Edit(chatID string, edit func(*Group)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[chatID]
	if !ok {
		return errors.New("no group " + chatID)
	}
	cp := g.clone()
	edit(&cp)
	cp.ChatID, cp.OpenConversationID = g.ChatID, g.OpenConversationID
	*g = cp
	return nil
}

// Dismiss removes a group, as its owner can in the DingTalk app.
func (s *Server) Dismiss(chatID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.groups, chatID)
}

// Writes returns the group writes handled so far, oldest first, optionally only
// those for which match returns true.
func (s *Server) Writes(match func(Write) bool) []Write {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Write
	for _, w := range s.writes {
		if match == nil || match(w) {
			out = append(out, w)
		}
	}
	return out
}

// For matches the writes to one group.
func For(chatID string) func(Write) bool {
	return func(w Write) bool { return w.ChatID == chatID }
}

// Applied matches the writes of op that took effect.
func Applied(op string) func(Write) bool {
	return func(w Write) bool { return w.Op == op && w.Code == "" }
}

// record appends w to the write log; the caller holds s.mu.
func (s *Server) record(w Write) {
	s.writes = append(s.writes, w)
}

// newIDs returns a fresh chatid and openConversationId in the vendor's shapes.
func newIDs() (chatID, cid string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "chat" + hex.EncodeToString(b[:16]), "cid" + base64.StdEncoding.EncodeToString(b[16:])
}

// newToken returns a fresh access token.
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
