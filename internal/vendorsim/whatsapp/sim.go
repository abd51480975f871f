// Package whatsapp simulates the eight chat-group actions of Alibaba Cloud Chat
// App Message Service (CAMS, API 2020-06-06) for WhatsApp groups. It is written
// from the vendor's documentation and never imports the client under test:
//
//   - every call must carry a valid ACS3-HMAC-SHA256 signature from the one
//     accepted AccessKey pair, a fresh nonce and a date within 15 minutes;
//   - CustSpaceId and BusinessNumber are required and must be the account's;
//   - AddChatGroup answers with a UniqueCode only; the group is CREATING for
//     CreateDelay, then ACTIVE (visible through ListChatGroup); after an
//     UpdateChatGroup it is UPDATING for UpdateDelay (vendor-apis.md §3.3);
//   - members join only through the group's current invite link (Join), at most
//     8 per group; the link can be revoked;
//   - each AccessKey may make RateLimit calls per second per action; more are
//     answered with Throttling.User, as is every call during a Throttle window;
//   - success is Code "OK"; UpdateChatGroup answers Success:false next to it, as
//     the documentation's sample does;
//   - the RAM user holds every cams:* action unless Revoke takes one away; a call
//     of a revoked action is refused before anything else about it is looked
//     at (Forbidden.RAM, see (*Sim).denied).
//
// Where the documentation is silent the simulator picks a plausible answer and
// says so: ListChatGroup's Subject filter matches substrings (clients must not
// rely on it being exact), participants are listed without a leading "+" (as the
// documentation spells numbers), a missing group is HTTP 404 GroupNotExist, and
// a write to a group that is not ACTIVE is HTTP 400 GroupStatusInvalid (reads
// of an UPDATING group still answer).
//
// Fault knobs, counters and the call log come from vendorsim.Sim; operations are
// the action names. FailWith answers an action with any code, in the gateway's
// error format and with the HTTP status Alibaba Cloud gives the code.
package whatsapp

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

const (
	// Version is the API version the actions belong to.
	Version = "2020-06-06"
	// MaxParticipants is WhatsApp's group size limit.
	MaxParticipants = 8
	// DefaultRateLimit is the calls per second per AccessKey and action.
	DefaultRateLimit = 10
)

// Group states: every GroupStatus ListChatGroup documents (vendor-apis.md
// §3.2, https://www.alibabacloud.com/help/en/chatapp/developer-reference/api-cams-2020-06-06-listchatgroup).
// CREATING, UPDATING and DELETING pass by themselves; INACTIVE and SUSPENDED
// are set by the vendor (SetStatus) and last until it lifts them.
const (
	StatusCreating  = "CREATING"
	StatusActive    = "ACTIVE"
	StatusUpdating  = "UPDATING"
	StatusDeleting  = "DELETING"
	StatusInactive  = "INACTIVE"
	StatusSuspended = "SUSPENDED"
)

// Errors of Join.
var (
	// ErrLinkInvalid: no group has this invite link (never opened, revoked or replaced).
	ErrLinkInvalid = errors.New("the invite link is not valid")
	// ErrGroupFull: the group already has MaxParticipants participants.
	ErrGroupFull = errors.New("the group is full")
)

// Config configures a Sim.
type Config struct {
	// AccessKeyID and AccessKeySecret are the accepted AccessKey pair.
	AccessKeyID     string
	AccessKeySecret string
	// CustSpaceID and BusinessNumber are the account's channel and WhatsApp number.
	CustSpaceID    string
	BusinessNumber string
	// CreateDelay is how long a new group stays CREATING (SetCreateDelay
	// changes it).
	CreateDelay time.Duration
	// UpdateDelay is how long a group stays UPDATING after an UpdateChatGroup
	// (SetUpdateDelay changes it).
	UpdateDelay time.Duration
	// RateLimit is the calls per second per AccessKey and action; 0 means
	// DefaultRateLimit, negative means unlimited.
	RateLimit int
}

// Group is a simulated group as a test sees it.
type Group struct {
	ID          string
	Subject     string
	Description string
	// ProfilePictureFile is the picture as ListChatGroup reports it: CAMS keeps
	// its own copy of the image it was sent, so this is not the URL sent.
	ProfilePictureFile string
	// PictureSource is the picture URL last sent with UpdateChatGroup.
	PictureSource string
	Status        string
	InviteLink    string
	// Participants are phone numbers without "+".
	Participants []string
}

type group struct {
	Group
	createdAt time.Time
	updatedAt time.Time
	// forced is a state the vendor holds the group in (SetStatus); "" for none.
	forced string
}

// Sim is a CAMS simulator; serve it with httptest.NewServer. Its methods are
// safe for concurrent use.
type Sim struct {
	*vendorsim.Sim
	cfg Config
	now func() time.Time

	mu          sync.Mutex
	createDelay time.Duration
	updateDelay time.Duration
	groups      []*group // in creation order
	nextID      int
	nonces      map[string]time.Time
	signatures  []string
	revoked     map[string]bool // actions the RAM user may not call
}

// New returns a Sim of the account cfg describes; its clock comes from opts.
func New(cfg Config, opts ...vendorsim.Option) *Sim {
	if cfg.RateLimit == 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	clk := vendorsim.BuildOptions(opts...).Clock
	return &Sim{Sim: vendorsim.New(clk), cfg: cfg, now: clk.Now, createDelay: cfg.CreateDelay, updateDelay: cfg.UpdateDelay,
		nonces: map[string]time.Time{}, revoked: map[string]bool{}}
}

// Revoke takes the RAM action cams:<action> away from the AccessKey's RAM
// user, as an administrator can in the RAM console; Grant gives it back.
func (s *Sim) Revoke(action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked[action] = true
}

// Grant gives the RAM user cams:<action> (back).
func (s *Sim) Grant(action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.revoked, action)
}

// denied is the gateway's answer to a RAM user without the API's action
// (vendor-apis.md §3.1: the RAM actions are cams:<Action> on resource "*", so
// no request can be allowed while another is not; §3.4: Forbidden*, with
// AccessDeniedDetail). The RAM authorization happens before the API runs, so
// it does not depend on the parameters: a GroupId no group has is refused the
// same way. The body follows Alibaba Cloud's "troubleshoot access denied
// errors" page (https://www.alibabacloud.com/help/en/ram/user-guide/troubleshoot-no-permission-errors):
// HTTP 403 and an AccessDeniedDetail object naming the AuthAction.
func (s *Sim) denied(action string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.revoked[action] {
		return nil
	}
	return &apiError{status: http.StatusForbidden, code: "Forbidden.RAM",
		message: "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
		detail: map[string]any{"AuthAction": "cams:" + action, "AuthPrincipalType": "SubUser",
			"NoPermissionType": "ImplicitDeny", "PolicyType": "AccountLevelIdentityBasedPolicy"}}
}

// SetStatus holds group id in status (DELETING, INACTIVE, SUSPENDED, or any
// documented state) as the vendor would, until SetStatus(id, "") lifts it.
func (s *Sim) SetStatus(id, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.find(id)
	if g == nil {
		return errors.New("no group " + id)
	}
	g.forced = status
	return nil
}

// SetCreateDelay changes how long groups stay CREATING, counted from their
// creation; it applies to groups still CREATING too (0 makes them ACTIVE).
func (s *Sim) SetCreateDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.createDelay = d
}

// SetUpdateDelay changes how long groups stay UPDATING after an
// UpdateChatGroup, counted from that call; it applies to groups still UPDATING
// too (0 makes them ACTIVE).
func (s *Sim) SetUpdateDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updateDelay = d
}

// Throttle answers every call with Throttling.User for d, as when other
// applications of the account use up its allowance.
func (s *Sim) Throttle(d time.Duration) { s.ThrottleFor(d) }

// Put stores an ACTIVE group made outside the operator and returns its ID.
func (s *Sim) Put(subject string, participants ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.add(subject, "")
	g.createdAt = time.Time{} // long ago: ACTIVE
	for _, p := range participants {
		g.Participants = append(g.Participants, strings.TrimPrefix(p, "+"))
	}
	return g.ID
}

// Join adds number to the group whose current invite link is link, as the
// person would by opening it.
func (s *Sim) Join(link, number string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	number = strings.TrimPrefix(number, "+")
	for _, g := range s.groups {
		if link == "" || g.InviteLink != link || s.status(g) == StatusCreating {
			continue
		}
		if slices.Contains(g.Participants, number) {
			return nil
		}
		if len(g.Participants) >= MaxParticipants {
			return ErrGroupFull
		}
		g.Participants = append(g.Participants, number)
		return nil
	}
	return ErrLinkInvalid
}

// Group returns the group with id.
func (s *Sim) Group(id string) (Group, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.find(id); g != nil {
		return s.snapshot(g), true
	}
	return Group{}, false
}

// GroupsWithSubject returns the groups whose subject is exactly subject.
func (s *Sim) GroupsWithSubject(subject string) []Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Group
	for _, g := range s.groups {
		if g.Subject == subject {
			out = append(out, s.snapshot(g))
		}
	}
	return out
}

// Signatures returns every request signature received, valid or not, so tests
// can check none leaks into status, events or errors.
func (s *Sim) Signatures() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.signatures)
}

// ServeHTTP serves the RPC-style API: POST (or GET) / with the action in
// x-acs-action (or the Action parameter).
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	action := r.Header.Get("x-acs-action")
	if action == "" {
		action = r.URL.Query().Get("Action")
	}
	op := action
	if _, ok := actions[action]; !ok {
		op = "unknown"
	}
	s.Wrap(op, transient, func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, action) })(w, r)
}

// serve authenticates, throttles and runs one call.
func (s *Sim) serve(w http.ResponseWriter, r *http.Request, action string) {
	out, e := s.call(r, action)
	if e != nil {
		e.write(w)
		return
	}
	out["Code"], out["RequestId"], out["Message"], out["AccessDeniedDetail"] = "OK", requestID(), "None", "None"
	if _, ok := out["Success"]; !ok {
		out["Success"] = true
	}
	writeJSON(w, http.StatusOK, out)
}

// call checks the request in the order the gateway would (signature, API,
// flow control, account) and runs the action.
func (s *Sim) call(r *http.Request, action string) (map[string]any, *apiError) {
	sig, e := s.verify(r)
	s.recordSignature(sig)
	if e != nil {
		return nil, e
	}
	run, ok := actions[action]
	switch q := r.URL.Query(); {
	case !ok:
		return nil, &apiError{http.StatusNotFound, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.", "", nil}
	case r.Header.Get("x-acs-version") != Version || (q.Has("Version") && q.Get("Version") != Version):
		return nil, &apiError{http.StatusNotFound, "InvalidVersion", "Specified parameter Version is not valid.", "", nil}
	case q.Has("Action") && q.Get("Action") != action:
		return nil, &apiError{http.StatusBadRequest, "InvalidParameter.Action", "the Action parameter differs from x-acs-action", "", nil}
	case s.denied(action) != nil:
		return nil, s.denied(action)
	case s.Failing(action) != "":
		code := s.Failing(action)
		return nil, &apiError{httpStatus(code), code, "The request failed: " + code + ".", "injected", nil}
	case s.Throttling() || !s.Allow(s.cfg.AccessKeyID+"/"+action, s.cfg.RateLimit):
		return nil, &apiError{http.StatusBadRequest, "Throttling.User", "Request was denied due to user flow control.", "", nil}
	default:
		if e := s.checkAccount(q); e != nil {
			return nil, e
		}
		return run(s, q)
	}
}

// checkAccount requires the common parameters every chat-group action has.
func (s *Sim) checkAccount(q url.Values) *apiError {
	for _, p := range []struct{ name, want string }{{"CustSpaceId", s.cfg.CustSpaceID}, {"BusinessNumber", s.cfg.BusinessNumber}} {
		switch got := q.Get(p.name); {
		case got == "":
			return &apiError{http.StatusBadRequest, "MissingParameter", p.name + " is mandatory for this action.", "", nil}
		case got != p.want:
			return &apiError{http.StatusBadRequest, "InvalidParameter." + p.name, "The " + p.name + " " + got + " does not belong to this account.", "", nil}
		}
	}
	if c := q.Get("ChannelType"); c != "" && c != "WHATSAPP" {
		return &apiError{http.StatusBadRequest, "InvalidParameter.ChannelType", "Only the WHATSAPP channel is supported.", "", nil}
	}
	return nil
}

func (s *Sim) recordSignature(sig string) {
	if sig == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signatures = append(s.signatures, sig)
}

// transient is the vendor's answer to an injected fault.
func transient(w http.ResponseWriter, _ *http.Request) {
	(&apiError{http.StatusServiceUnavailable, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.", "", nil}).write(w)
}

// httpStatus is the HTTP status the gateway answers code with: 404 for what
// does not exist, 403 for a denied permission, 5xx for its own failures, and
// 400 for everything else, throttles included (Throttling.User is a 400).
func httpStatus(code string) int {
	switch {
	case code == "ServiceUnavailable":
		return http.StatusServiceUnavailable
	case code == "InternalError":
		return http.StatusInternalServerError
	case code == "GroupNotExist", code == "InvalidVersion", strings.HasSuffix(code, ".NotFound"):
		return http.StatusNotFound
	case strings.HasPrefix(code, "Forbidden"), strings.HasPrefix(code, "NoPermission"):
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

// isThrottle reports whether code is a flow-control refusal.
func isThrottle(code string) bool { return strings.HasPrefix(code, "Throttling") }

// apiError is an error answer.
type apiError struct {
	status  int
	code    string
	message string
	// outcome names the call's outcome in the call log ("": "throttled" for a
	// throttle code, else "error").
	outcome string
	// detail is the AccessDeniedDetail of a RAM denial (nil: none).
	detail map[string]any
}

func (e *apiError) write(w http.ResponseWriter) {
	switch {
	case e.outcome != "":
		w.Header().Set(vendorsim.OutcomeHeader, e.outcome)
	case isThrottle(e.code):
		w.Header().Set(vendorsim.OutcomeHeader, "throttled")
	}
	body := map[string]any{"RequestId": requestID(), "Code": e.code, "Message": e.message, "HostId": "cams.ap-southeast-1.aliyuncs.com"}
	if e.detail != nil {
		body["AccessDeniedDetail"] = e.detail
	}
	writeJSON(w, e.status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func requestID() string { return strings.ToUpper(randomHex(16)) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
