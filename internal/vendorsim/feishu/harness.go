package feishu

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// The app a Harness simulates: the one config/samples names.
const (
	HarnessAppID     = "cli_a1b2c3d4e5f60718"
	HarnessAppSecret = "feishu-app-secret"
)

// sampleUsers are the open_ids config/samples names (owner and members).
var sampleUsers = []string{"ou_alice", "ou_bob", "ou_carol"}

// Registration plugs the simulator into the project's tools.
func Registration() vendorsim.Registration {
	return vendorsim.Registration{
		Vendor: v1alpha1.Feishu,
		Start:  func(cfg vendorsim.SimConfig) vendorsim.Harness { return NewHarness(cfg) },
	}
}

// Harness is a simulated tenant with one internal app, as the playground, the
// end-to-end test, the fault suite and the benchmark drive it.
type Harness struct {
	*Server
	secret string
}

var _ vendorsim.Harness = (*Harness)(nil)

// NewHarness returns a tenant whose app is HarnessAppID. Without cfg.Users its
// directory is the users config/samples names. Chats are created
// synchronously, so cfg.CreateDelay does not apply; cfg.RatePerAPI replaces the
// per-second limit and lifts the per-minute one.
func NewHarness(cfg vendorsim.SimConfig, opts ...vendorsim.Option) *Harness {
	secret := cmp.Or(cfg.Secret, HarnessAppSecret)
	users := cfg.Users
	if len(users) == 0 {
		users = sampleUsers
	}
	c := Config{AppID: HarnessAppID, AppSecret: secret, Users: users}
	if cfg.RatePerAPI != 0 {
		c.PerSecond, c.PerMinute = cfg.RatePerAPI, -1
	}
	return &Harness{Server: New(c, opts...), secret: secret}
}

// Core implements vendorsim.Harness.
func (h *Harness) Core() *vendorsim.Sim { return h.Sim }

// Provider implements vendorsim.Harness: no settings block (open_id is the
// default) and the app's ID and secret in the Secret.
func (h *Harness) Provider(url string) (v1alpha1.ProviderSettings, map[string][]byte) {
	return v1alpha1.ProviderSettings{Vendor: v1alpha1.Feishu, Endpoint: url},
		map[string][]byte{"appID": []byte(HarnessAppID), "appSecret": []byte(h.secret)}
}

// Secrets implements vendorsim.Harness: the app secret and every token issued.
func (h *Harness) Secrets() []string { return append([]string{h.secret}, h.Tokens()...) }

// User implements vendorsim.Harness: open_ids ("ou_" and 32 hex digits).
func (h *Harness) User(i int) string { return fmt.Sprintf("ou_%032x", i) }

// Spec implements vendorsim.Harness: owner (User(0) when empty) owns the chat;
// Feishu needs nothing else.
func (h *Harness) Spec(spec *v1alpha1.ChatGroupSpec, owner string) {
	spec.Owner = cmp.Or(owner, h.User(0))
}

// MaxMembers implements vendorsim.Harness: a chat holds 5000 users, the owner
// among them.
func (h *Harness) MaxMembers() int { return MaxMembers - 1 }

// CreateOp implements vendorsim.Harness.
func (h *Harness) CreateOp() string { return OpCreate }

// IsWrite implements vendorsim.Harness.
func (h *Harness) IsWrite(op string) bool { return slices.Contains(Writes, op) }

// OpOf implements vendorsim.Harness.
func (h *Harness) OpOf(r *http.Request) string { return OpOf(r) }

// IsThrottle implements vendorsim.Harness: 99991400 (HTTP 429) and the per-chat
// 232019 (§7).
func (h *Harness) IsThrottle(status int, body []byte) bool {
	var env struct {
		Code int `json:"code"`
	}
	_ = json.Unmarshal(body, &env)
	return status == http.StatusTooManyRequests || env.Code == codeRateLimited || env.Code == codeChatBusy
}

// GroupIDs implements vendorsim.Harness: the chats named name that are not
// dissolved.
func (h *Harness) GroupIDs(name string) []string {
	var ids []string
	for _, c := range h.Chats() {
		if c.Name == name && !c.Dissolved {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// Lookup implements vendorsim.Harness; a dissolved chat is not found.
func (h *Harness) Lookup(id string) (string, []string, bool) {
	c, ok := h.Chat(id)
	if !ok || c.Dissolved {
		return "", nil, false
	}
	return c.Name, c.Members, true
}

// Throttle implements vendorsim.Harness.
func (h *Harness) Throttle(d time.Duration) { h.ThrottleFor(d) }

// Verify implements vendorsim.Harness: the owner, texts and settings the spec
// sets, and no invitation (members are added directly).
func (h *Harness) Verify(id string, spec v1alpha1.ChatGroupSpec, invitation map[string][]byte) error {
	c, ok := h.Chat(id)
	if !ok || c.Dissolved {
		return fmt.Errorf("no chat %s", id)
	}
	var m vendorsim.Mismatches
	if spec.Owner != "" {
		m.Expect("owner_id", c.Owner, spec.Owner)
	}
	m.Expect("invitation", len(invitation), 0)
	if spec.Description != "" {
		m.Expect("description", c.Description, spec.Description)
	}
	if spec.Icon != "" {
		m.Expect("avatar", c.Avatar, spec.Icon)
	}
	audience := map[v1alpha1.Audience]string{v1alpha1.Everyone: "all_members", v1alpha1.OwnerOnly: "only_owner"}
	if o := spec.ManagementOptions; o != nil {
		if o.MentionAll != "" {
			m.Expect("at_all_permission", c.Settings["at_all_permission"], audience[o.MentionAll])
		}
		if o.ManagedBy != "" {
			m.Expect("edit_permission", c.Settings["edit_permission"], audience[o.ManagedBy])
		}
		if o.JoinPolicy != "" {
			want := map[v1alpha1.JoinPolicy]string{v1alpha1.Open: "no_approval_required", v1alpha1.ApprovalRequired: "approval_required"}[o.JoinPolicy]
			m.Expect("membership_approval", c.Settings["membership_approval"], want)
		}
	}
	if f := spec.Feishu; f != nil {
		if f.ChatType != "" {
			m.Expect("chat_type", c.Settings["chat_type"], map[v1alpha1.FeishuChatType]string{"Private": "private", "Public": "public"}[f.ChatType])
		}
		if f.AddMembers != "" {
			m.Expect("add_member_permission", c.Settings["add_member_permission"], audience[f.AddMembers])
			m.Expect("share_card_permission", c.Settings["share_card_permission"],
				map[v1alpha1.Audience]string{v1alpha1.Everyone: "allowed", v1alpha1.OwnerOnly: "not_allowed"}[f.AddMembers])
		}
	}
	return m.Err()
}
