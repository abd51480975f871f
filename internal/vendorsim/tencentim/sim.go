// Package tencentim simulates one data centre of the Tencent Cloud IM REST API v4
// for group management (v4/group_open_http_svc): create_group, get_group_info,
// get_group_member_info, modify_group_base_info, add_group_member,
// delete_group_member, change_group_owner, destroy_group and get_appid_group_list.
//
// It is written from the vendor's documentation (../shared/docs/vendor-apis.md §2
// and the pages it cites), never from the client: it has its own wire structs and
// its own UserSig verification, so a field the client misreads fails a test.
//
// What it enforces, as the vendor documents it:
//   - the request URL (POST, sdkappid, identifier, usersig, random, contenttype=json);
//     an SDKAppID this data centre does not host is 70020;
//   - the UserSig (TLSSigAPIv2): right key (70009), identifier (70013), SDKAppID
//     (70014), not expired (70001), parseable (70003); the identifier must be an
//     App admin (60010);
//   - 200 calls per second per API per SDKAppID (60007);
//   - byte limits: Name 30, Introduction 240, Notification 300, FaceUrl 100 (10004);
//   - per-call caps: MemberList 100 on create, 300 on add, 100 on delete, 50 groups
//     per get_group_info, Limit 200 per member page (10005/10004);
//   - custom GroupIds: printable ASCII, at most 48 bytes, not starting with @TGS#
//     (Community: must start with @TGS#_); unique (10021, or 10025 when the caller
//     owns the existing group);
//   - accounts must be imported (10019); the new owner must be a member (10004);
//     the owner cannot be removed (10004); a full group refuses members (10014);
//     an account in MaxJoinedGroups groups is not added (Result 0);
//   - AppDefinedData keys must be enabled for the app (10004); an empty Value
//     deletes the key;
//   - group types: AVChatRoom keeps no member list (members at create, add,
//     transfer and member reads are 10007, delete is 10004) and has no member
//     limit or invite option; Private (Work) and Community groups cannot be joined
//     by application, so ApplyJoinOption is 10004; Community member pages use
//     Next, not Offset.
//
// Request bodies are decoded strictly: a field the vendor does not document for
// the command is 10004, so a field sent to the wrong command (MaxMemberCount to
// modify_group_base_info) shows up.
//
// Errors are answered with HTTP 200 and the ActionStatus/ErrorCode envelope, as the
// vendor does. The fault knobs of vendorsim.Sim apply per command (the injected
// transient error is 10002), FailWith answers a command with any vendor code, and
// every call is logged twice: in the Sim (by command) and here with its SDKAppID
// and group, for per-group counts.
package tencentim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// DefaultRateLimit is the vendor's default: calls per second per API per SDKAppID.
const DefaultRateLimit = 200

// Vendor codes the simulator answers with.
const (
	codeInternal        = 10002
	codeBadParam        = 10004
	codeTooManyAccounts = 10005
	codeNoPermission    = 10007
	codeGroupNotFound   = 10010
	codeGroupFull       = 10014
	codeBadGroupID      = 10015
	codeNoAccount       = 10019
	codeGroupIDUsed     = 10021
	codeGroupIDMine     = 10025
	codeBadRequest      = 60002
	codeBadJSON         = 60003
	codeRateLimited     = 60007
	codeNoAppID         = 60012
	codeNeedsAdmin      = 60010
	codeSigExpired      = 70001
	codeSigUnparsable   = 70003
	codeSigMismatch     = 70009
	codeSigIdentifier   = 70013
	codeSigAppID        = 70014
	codeAppElsewhere    = 70020
)

// App is one IM application hosted by the simulated data centre.
type App struct {
	// SecretKey signs the app's UserSigs.
	SecretKey string
	// Admins are the App admin accounts (the only valid REST identifiers).
	Admins []string
	// Accounts are the imported accounts; owners and members must be among them.
	// Admins count as imported.
	Accounts []string
	// GroupDataKeys are the group AppDefinedData keys enabled in the console.
	GroupDataKeys []string
	// MaxJoinedGroups caps the groups one account can be in (0: no cap).
	MaxJoinedGroups int
}

// Config configures a Server.
type Config struct {
	// Apps are the SDKAppIDs this data centre hosts; others are answered 70020.
	Apps map[int64]App
}

// Group is a group as the simulator holds it.
type Group struct {
	ID           string
	Type         string
	Name         string
	Introduction string
	Notification string
	FaceURL      string
	// Owner is "" for a group without owner.
	Owner            string
	MaxMembers       int
	ApplyJoinOption  string
	InviteJoinOption string
	MuteAll          bool
	AppDefinedData   map[string]string
	// Members are in join order, owner included.
	Members []Member
	Created time.Time
}

// Member is one group member.
type Member struct {
	Account string
	Role    string // Owner | Admin | Member
	Joined  time.Time
}

// Accounts lists the group's member accounts in join order.
func (g Group) Accounts() []string {
	out := make([]string, 0, len(g.Members))
	for _, m := range g.Members {
		out = append(out, m.Account)
	}
	return out
}

// Call is one entry of the per-group call log.
type Call struct {
	Op      string
	AppID   int64
	GroupID string
	// Outcome is "ok", "error", "throttled" or "injected" (a dropped response was
	// applied and is logged "ok" here; the Sim's log says "dropped").
	Outcome string
	// Code is the vendor ErrorCode answered (0 for ok).
	Code int
	// Body is the request body.
	Body []byte
	At   time.Time
}

// Server is the simulated data centre. Its methods are safe for concurrent use.
type Server struct {
	// Sim holds the fault knobs, the call log by command and the rate windows.
	*vendorsim.Sim

	// clock dates UserSig checks, rate-limit windows, groups and the call log.
	clock    clock.PassiveClock
	handlers map[string]http.Handler

	mu         sync.Mutex
	apps       map[int64]*app
	rateLimits map[int64]int
	sigs       map[string]bool
	calls      []Call
	seq        int
}

// app is an App's state.
type app struct {
	key             []byte
	admins          map[string]bool
	accounts        map[string]bool
	dataKeys        map[string]bool
	maxJoinedGroups int
	groups          map[string]*Group
	order           []string // group IDs in creation order
}

// vendorError is a failed call's ErrorCode and ErrorInfo.
type vendorError struct {
	code int
	info string
}

func fail(code int, format string, args ...any) *vendorError {
	return &vendorError{code: code, info: fmt.Sprintf(format, args...)}
}

// command handles one command for the caller's app, under the server lock. It
// returns the response fields besides the envelope.
type command func(s *Server, a *app, caller string, body []byte) (map[string]any, *vendorError)

var commands = map[string]command{
	"create_group":           (*Server).createGroup,
	"get_group_info":         (*Server).getGroupInfo,
	"get_group_member_info":  (*Server).getGroupMemberInfo,
	"modify_group_base_info": (*Server).modifyGroupBaseInfo,
	"add_group_member":       (*Server).addGroupMember,
	"delete_group_member":    (*Server).deleteGroupMember,
	"change_group_owner":     (*Server).changeGroupOwner,
	"destroy_group":          (*Server).destroyGroup,
	"get_appid_group_list":   (*Server).getAppIDGroupList,
}

// New returns a Server hosting cfg.Apps, dated by the options' clock.
func New(cfg Config, opts ...vendorsim.Option) *Server {
	clk := vendorsim.BuildOptions(opts...).Clock
	s := &Server{Sim: vendorsim.New(clk), clock: clk, handlers: map[string]http.Handler{},
		apps: map[int64]*app{}, rateLimits: map[int64]int{}, sigs: map[string]bool{}}
	for id, a := range cfg.Apps {
		s.apps[id] = newApp(a)
	}
	for name, cmd := range commands {
		s.handlers[name] = s.Wrap(name, s.transient(name), s.serve(name, cmd))
	}
	return s
}

func newApp(a App) *app {
	st := &app{key: []byte(a.SecretKey), admins: set(a.Admins), accounts: set(a.Accounts),
		dataKeys: set(a.GroupDataKeys), maxJoinedGroups: a.MaxJoinedGroups, groups: map[string]*Group{}}
	for id := range st.admins {
		st.accounts[id] = true
	}
	return st
}

func set(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// ServeHTTP routes /v4/group_open_http_svc/{command}.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, servicePath)
	h, known := s.handlers[name]
	if !ok || !known {
		writeEnvelope(w, nil, fail(60009, "no such REST resource: %s", r.URL.Path))
		return
	}
	h.ServeHTTP(w, r)
}

// transient answers the injected transient error (10002) before anything applies.
func (s *Server) transient(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		appID, _ := strconv.ParseInt(r.URL.Query().Get("sdkappid"), 10, 64)
		e := fail(codeInternal, "internal error, please retry")
		s.log(Call{Op: name, AppID: appID, GroupID: groupOf(body, nil), Outcome: "injected", Code: e.code, Body: body})
		writeEnvelope(w, nil, e)
	}
}

// serve admits a request (URL, rate limit, UserSig) and runs cmd on it.
func (s *Server) serve(name string, cmd command) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		appID, a, caller, verr := s.admit(name, r)
		if verr == nil {
			verr = s.failure(name)
		}
		var out map[string]any
		if verr == nil {
			s.mu.Lock()
			out, verr = cmd(s, a, caller, body)
			s.mu.Unlock()
		}
		c := Call{Op: name, AppID: appID, GroupID: groupOf(body, out), Outcome: "ok", Body: body}
		if verr != nil {
			c.Outcome, c.Code = "error", verr.code
			if verr.code == codeRateLimited {
				c.Outcome = "throttled"
			}
			w.Header().Set(vendorsim.OutcomeHeader, c.Outcome)
		}
		s.log(c)
		writeEnvelope(w, out, verr)
	}
}

// admit checks the request line and the UserSig and applies the rate limits. It
// returns the app and the calling admin.
func (s *Server) admit(name string, r *http.Request) (int64, *app, string, *vendorError) {
	q := r.URL.Query()
	if r.Method != http.MethodPost || q.Get("contenttype") != "json" {
		return 0, nil, "", fail(codeBadRequest, "requests are POST with contenttype=json")
	}
	if _, err := strconv.ParseUint(q.Get("random"), 10, 32); err != nil {
		return 0, nil, "", fail(codeBadRequest, "random must be a 32-bit unsigned integer")
	}
	appID, err := strconv.ParseInt(q.Get("sdkappid"), 10, 64)
	if err != nil {
		return 0, nil, "", fail(codeNoAppID, "sdkappid is missing or not a number")
	}
	s.mu.Lock()
	a := s.apps[appID]
	limit, ok := s.rateLimits[appID]
	throttled := s.Throttling()
	sig := q.Get("usersig")
	s.sigs[sig] = true
	s.mu.Unlock()
	if a == nil {
		return appID, nil, "", fail(codeAppElsewhere, "SDKAppID %d is not in this data center; use the domain of its region", appID)
	}
	if !ok {
		limit = DefaultRateLimit
	}
	if throttled || !s.Allow(fmt.Sprintf("%d/%s", appID, name), limit) {
		return appID, nil, "", fail(codeRateLimited, "REST API call frequency exceeds the limit")
	}
	caller := q.Get("identifier")
	if verr := verifyUserSig(sig, a.key, appID, caller, s.clock.Now()); verr != nil {
		return appID, nil, "", verr
	}
	if !a.admins[caller] {
		return appID, nil, "", fail(codeNeedsAdmin, "identifier %s is not an App admin", caller)
	}
	return appID, a, caller, nil
}

// groupOf finds the group a call is about: the body's GroupId or first GroupIdList
// entry, or the GroupId a create answered.
func groupOf(body []byte, out map[string]any) string {
	var peek struct {
		GroupID  string   `json:"GroupId"`
		GroupIDs []string `json:"GroupIdList"`
	}
	_ = json.Unmarshal(body, &peek)
	switch {
	case peek.GroupID != "":
		return peek.GroupID
	case len(peek.GroupIDs) > 0:
		return peek.GroupIDs[0]
	}
	if id, ok := out["GroupId"].(string); ok {
		return id
	}
	return ""
}

func (s *Server) log(c Call) {
	c.At = s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
}

// writeEnvelope answers HTTP 200 with the envelope and fields.
func writeEnvelope(w http.ResponseWriter, fields map[string]any, e *vendorError) {
	out := map[string]any{"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": ""}
	if e != nil {
		out = map[string]any{"ActionStatus": "FAIL", "ErrorCode": e.code, "ErrorInfo": e.info}
	} else {
		for k, v := range fields {
			out[k] = v
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// decode decodes a request body strictly.
func decode(body []byte, v any) *vendorError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if strings.Contains(err.Error(), "unknown field") {
			return fail(codeBadParam, "invalid parameter: %v", err)
		}
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return fail(codeBadParam, "invalid parameter type for %s", typeErr.Field)
		}
		return fail(codeBadJSON, "JSON parse error")
	}
	return nil
}

// Accessors for tests.

// ImportAccounts imports accounts into app appID.
func (s *Server) ImportAccounts(appID int64, ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.apps[appID].accounts[id] = true
	}
}

// SetRateLimit sets app appID's calls per second per API (0: the default).
func (s *Server) SetRateLimit(appID int64, perSecond int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if perSecond <= 0 {
		delete(s.rateLimits, appID)
		return
	}
	s.rateLimits[appID] = perSecond
}

// Throttle answers every call with the throttle code (60007) for d.
func (s *Server) Throttle(d time.Duration) { s.ThrottleFor(d) }

// FailWith answers every call of command with ErrorCode code, in the vendor's
// envelope and with HTTP 200 as the vendor answers every outcome, once the
// request is admitted and before anything is applied; code "" stops it. A code
// that is not a number panics: it is a mistake in the test.
func (s *Server) FailWith(command, code string) {
	if _, err := strconv.Atoi(code); code != "" && err != nil {
		panic(fmt.Sprintf("tencentim simulator: FailWith(%q, %q): the code is not a number", command, code))
	}
	s.Sim.FailWith(command, code)
}

// failure is the error FailWith set for command, or nil.
func (s *Server) failure(command string) *vendorError {
	code, err := strconv.Atoi(s.Failing(command))
	if err != nil { // none set: FailWith admits only numbers
		return nil
	}
	info, ok := errorInfo[code]
	if !ok {
		info = "error " + strconv.Itoa(code)
	}
	return fail(code, "%s", info)
}

// errorInfo is the vendor's explanation of the codes it documents (vendor-apis.md
// §2.4), for the answers FailWith makes.
var errorInfo = map[int]string{
	codeInternal:      "internal error, please retry",
	10003:             "invalid command",
	codeBadParam:      "invalid parameter",
	10006:             "operation frequency limit, please retry later",
	codeNoPermission:  "insufficient permission",
	codeGroupNotFound: "group does not exist or has been dismissed",
	codeGroupFull:     "the group is full",
	codeBadGroupID:    "invalid group id",
	codeNoAccount:     "account does not exist",
	10026:             "this command is disabled for the SDKAppID",
	codeRateLimited:   "REST API call frequency exceeds the limit",
	60008:             "service timeout, please retry",
	60011:             "SDKAppID request frequency exceeds the limit",
	60021:             "the source IP is not allowed",
	80001:             "the text contains sensitive words",
}

// Group returns a copy of group id of app appID.
func (s *Server) Group(appID int64, id string) (Group, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.apps[appID].groups[id]
	if !ok {
		return Group{}, false
	}
	return g.clone(), true
}

// Groups returns copies of app appID's groups in creation order.
func (s *Server) Groups(appID int64) []Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[appID]
	out := make([]Group, 0, len(a.order))
	for _, id := range a.order {
		out = append(out, a.groups[id].clone())
	}
	return out
}

// PutGroup stores g in app appID as if created in the console: no checks. Empty
// roles become Member; the owner's becomes Owner.
func (s *Server) PutGroup(appID int64, g Group) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[appID]
	g = g.clone()
	for i := range g.Members {
		switch {
		case g.Members[i].Account == g.Owner:
			g.Members[i].Role = "Owner"
		case g.Members[i].Role == "":
			g.Members[i].Role = "Member"
		}
	}
	if _, ok := a.groups[g.ID]; !ok {
		a.order = append(a.order, g.ID)
	}
	a.groups[g.ID] = &g
}

// WriteAppData sets a group's AppDefinedData key as another system of the app
// would (a client SDK, another backend): group custom fields are shared by
// everything that uses the app (seed 001), so a key the operator never set can
// appear at any time. An empty value deletes the key, as on the vendor.
func (s *Server) WriteAppData(appID int64, id, key, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.apps[appID].groups[id]
	if !ok {
		return
	}
	g.AppDefinedData = applyData(g.AppDefinedData, []keyValue{{Key: key, Value: value}})
}

// RemoveGroup deletes a group as if dismissed in the console.
func (s *Server) RemoveGroup(appID int64, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[appID]
	delete(a.groups, id)
	a.order = slices.DeleteFunc(a.order, func(x string) bool { return x == id })
}

// UserSigs returns every UserSig the server has been sent.
func (s *Server) UserSigs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.sigs))
	for sig := range s.sigs {
		out = append(out, sig)
	}
	return out
}

// GroupCalls returns the logged calls about group id.
func (s *Server) GroupCalls(id string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if c.GroupID == id {
			out = append(out, c)
		}
	}
	return out
}

// AppCalls returns the logged calls for app appID.
func (s *Server) AppCalls(appID int64) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if c.AppID == appID {
			out = append(out, c)
		}
	}
	return out
}

// GroupCount counts the calls of op about group id with one of outcomes (any when
// none are given).
func (s *Server) GroupCount(id, op string, outcomes ...string) int {
	n := 0
	for _, c := range s.GroupCalls(id) {
		if c.Op == op && (len(outcomes) == 0 || slices.Contains(outcomes, c.Outcome)) {
			n++
		}
	}
	return n
}

func (g *Group) clone() Group {
	cp := *g
	cp.Members = slices.Clone(g.Members)
	if g.AppDefinedData != nil {
		cp.AppDefinedData = make(map[string]string, len(g.AppDefinedData))
		for k, v := range g.AppDefinedData {
			cp.AppDefinedData[k] = v
		}
	}
	return cp
}
