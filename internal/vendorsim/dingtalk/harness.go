package dingtalk

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// The account a Harness simulates: one internal app.
const (
	HarnessAppKey    = "dingtalk-app-key"
	HarnessAppSecret = "dingtalk-app-secret"
)

// HarnessTemplate is the scene-group template the Harness's organisation has
// published, and its provider names.
const HarnessTemplate = "harness-scene-template"

// sampleOwner owns the DingTalk group of config/samples.
const sampleOwner = "manager4220"

// Registration plugs the simulator into the project's tools.
func Registration() vendorsim.Registration {
	return vendorsim.Registration{
		Vendor: v1alpha1.DingTalk,
		Start:  func(cfg vendorsim.SimConfig) vendorsim.Harness { return NewHarness(cfg) },
		TrueFloor: func(n, m int) (converge, sweep map[string]int) {
			// chat/create takes at most 40 user IDs, the owner's included;
			// chat/update adds at most 40 more a call (vendor-apis.md §1.4). No
			// read of several groups exists: a check is one chat/get each.
			updates := max(0, ceilDiv(m+1-maxIDs, maxIDs))
			return map[string]int{OpCreate: n, OpUpdate: n * updates}, map[string]int{OpGet: n}
		},
	}
}

// maxIDs is the documented cap of user IDs per list per call.
const maxIDs = 40

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// Harness is a simulated DingTalk organisation with one internal app, as the
// playground, the end-to-end test, the fault suite and the benchmark drive it.
type Harness struct {
	*Server
	appSecret string
}

var _ vendorsim.Harness = (*Harness)(nil)

// NewHarness returns a simulated organisation. Without cfg.Users its directory
// holds the people of config/samples (manager4220) and User(1) to User(6),
// spares to add with kubectl.
func NewHarness(cfg vendorsim.SimConfig, opts ...vendorsim.Option) *Harness {
	users := cfg.Users
	if len(users) == 0 {
		users = []string{sampleOwner}
		for i := 1; i <= 6; i++ {
			users = append(users, user(i))
		}
	}
	secret := cmp.Or(cfg.Secret, HarnessAppSecret)
	return &Harness{
		Server: New(Config{Apps: map[string]string{HarnessAppKey: secret}, Users: users, QPS: cfg.RatePerAPI,
			Templates: []string{HarnessTemplate}}, opts...),
		appSecret: secret,
	}
}

// Core implements vendorsim.Harness.
func (h *Harness) Core() *vendorsim.Sim { return h.Sim }

// Provider implements vendorsim.Harness: both APIs are served at url.
func (h *Harness) Provider(url string) (v1alpha1.ProviderSettings, map[string][]byte) {
	return v1alpha1.ProviderSettings{Vendor: v1alpha1.DingTalk, Endpoint: url,
			DingTalk: &v1alpha1.DingTalkProvider{LegacyEndpoint: url, SceneGroupTemplateID: HarnessTemplate}},
		map[string][]byte{"appKey": []byte(HarnessAppKey), "appSecret": []byte(h.appSecret)}
}

// Secrets implements vendorsim.Harness: the app secret and every token issued.
func (h *Harness) Secrets() []string {
	return append([]string{h.appSecret}, h.IssuedTokens()...)
}

// User implements vendorsim.Harness: DingTalk user IDs are free-form strings.
func (h *Harness) User(i int) string { return user(i) }

func user(i int) string { return "user" + strconv.Itoa(i) }

// Spec implements vendorsim.Harness: DingTalk groups need an owner in the
// directory (User(0) when owner is empty); spec.dingtalk keeps its defaults.
func (h *Harness) Spec(spec *v1alpha1.ChatGroupSpec, owner string) {
	spec.Owner = cmp.Or(owner, user(0))
}

// MaxMembers implements vendorsim.Harness. The simulator caps only the IDs per
// call, not the group's size.
func (h *Harness) MaxMembers() int { return 0 }

// CreateOp implements vendorsim.Harness.
func (h *Harness) CreateOp() string { return OpCreate }

// IsWrite implements vendorsim.Harness: group/create and group/update change
// groups; the token, chat/get and the search only read.
func (h *Harness) IsWrite(op string) bool {
	switch op {
	case OpCreate, OpUpdate, OpSceneCreate, OpSceneUpdate, OpSceneAdd, OpSceneRemove, OpSceneDisband:
		return true
	}
	return false
}

// OpOf implements vendorsim.Harness.
func (h *Harness) OpOf(r *http.Request) string { return OpOf(r) }

// IsThrottle implements vendorsim.Harness: a v1.0 QPS code, or a legacy QPS
// errcode (alone or as errcode 88's sub_code).
func (h *Harness) IsThrottle(_ int, body []byte) bool {
	var b struct {
		Code    string `json:"code"`
		ErrCode *int   `json:"errcode"`
		SubCode string `json:"sub_code"`
	}
	if json.Unmarshal(body, &b) != nil {
		return false
	}
	if b.ErrCode != nil {
		return isLegacyThrottle(legacyError{ErrCode: *b.ErrCode, SubCode: b.SubCode})
	}
	return b.Code == CodeQPSLimit || b.Code == CodeQPSLimitGlobal
}

// GroupIDs implements vendorsim.Harness: the chatids of the groups titled name.
func (h *Harness) GroupIDs(name string) []string {
	var ids []string
	for _, g := range h.GroupsNamed(name) {
		ids = append(ids, g.ChatID)
	}
	return ids
}

// Lookup implements vendorsim.Harness.
func (h *Harness) Lookup(id string) (string, []string, bool) {
	g, ok := h.Group(id)
	return g.Name, g.Members, ok
}

// Throttle implements vendorsim.Harness.
func (h *Harness) Throttle(d time.Duration) { h.ThrottleFor(d) }

// Verify implements vendorsim.Harness: the owner and the management options
// the spec sets (vendor-apis.md §1.4), and no invitation (every member is
// added directly).
func (h *Harness) Verify(id string, spec v1alpha1.ChatGroupSpec, invitation map[string][]byte) error {
	g, ok := h.Group(id)
	if !ok {
		return fmt.Errorf("no group %s", id)
	}
	var m vendorsim.Mismatches
	m.Expect("owner", g.Owner, spec.Owner)
	m.Expect("invitation", len(invitation), 0)
	flag := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	if o := spec.ManagementOptions; o != nil {
		if o.MentionAll != "" {
			m.Expect("mentionAllAuthority", g.Options.MentionAllAuthority, flag(o.MentionAll == v1alpha1.OwnerOnly))
		}
		if o.ManagedBy != "" {
			m.Expect("managementType", g.Options.ManagementType, flag(o.ManagedBy == v1alpha1.OwnerOnly))
		}
		if o.ShowHistoryToNewMembers != nil {
			m.Expect("showHistoryType", g.Options.ShowHistoryType, flag(*o.ShowHistoryToNewMembers))
		}
		if o.Searchable != nil {
			m.Expect("searchable", g.Options.Searchable, flag(*o.Searchable))
		}
		if o.MuteAll != nil {
			m.Expect("chatBannedType", g.Options.ChatBannedType, flag(*o.MuteAll))
		}
		if o.JoinPolicy != "" {
			m.Expect("validationType", g.Options.ValidationType, flag(o.JoinPolicy == v1alpha1.ApprovalRequired))
		}
	}
	return m.Err()
}
