package tencentim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// The account a Harness simulates: the app and App admin of config/samples.
const (
	HarnessAppID     = int64(1400000000)
	HarnessAdmin     = "administrator"
	HarnessSecretKey = "tencentim-secret-key"
)

// servicePath starts the path of every group command.
const servicePath = "/v4/group_open_http_svc/"

// sampleAccounts are the accounts config/samples names (owner and members).
var sampleAccounts = []string{"alice", "bob", "carol"}

// writes are the commands that change groups; the others only read.
var writes = []string{"create_group", "modify_group_base_info", "add_group_member", "delete_group_member",
	"change_group_owner", "destroy_group"}

// throttleCodes are the frequency-limit codes the vendor documents
// (vendor-apis.md §2.4); the simulator itself answers 60007.
var throttleCodes = []int{codeRateLimited, 60011, 60018, 60019, 10006}

// Registration plugs the simulator into the project's tools.
func Registration() vendorsim.Registration {
	return vendorsim.Registration{
		Vendor: v1alpha1.TencentIM,
		Start:  func(cfg vendorsim.SimConfig) vendorsim.Harness { return NewHarness(cfg) },
		TrueFloor: func(n, m int) (converge, sweep map[string]int) {
			// create_group takes 100 members, add_group_member 300 more a call;
			// get_group_info reads 50 groups with their members
			// (https://trtc.io/document/34961).
			adds := max(0, (m-createMemberCap+addMemberCap-1)/addMemberCap)
			return map[string]int{"create_group": n, "add_group_member": n * adds},
				map[string]int{"get_group_info": (n + groupInfoCap - 1) / groupInfoCap}
		},
	}
}

// Harness is a simulated data centre hosting one app, as the playground, the
// end-to-end test, the fault suite and the benchmark drive it.
type Harness struct {
	*Server
	key string
}

var _ vendorsim.Harness = (*Harness)(nil)

// NewHarness returns a data centre hosting app HarnessAppID with App admin
// HarnessAdmin. Without cfg.Users its accounts are those config/samples names.
// Groups are created synchronously, so cfg.CreateDelay does not apply.
func NewHarness(cfg vendorsim.SimConfig, opts ...vendorsim.Option) *Harness {
	key := cmp.Or(cfg.Secret, HarnessSecretKey)
	accounts := cfg.Users
	if len(accounts) == 0 {
		accounts = sampleAccounts
	}
	s := New(Config{Apps: map[int64]App{HarnessAppID: {SecretKey: key, Admins: []string{HarnessAdmin}, Accounts: accounts}}}, opts...)
	s.SetRateLimit(HarnessAppID, cfg.RatePerAPI)
	return &Harness{Server: s, key: key}
}

// Core implements vendorsim.Harness.
func (h *Harness) Core() *vendorsim.Sim { return h.Sim }

// Provider implements vendorsim.Harness: the app's SDKAppID and admin, and its
// secret key in the Secret.
func (h *Harness) Provider(url string) (v1alpha1.ProviderSettings, map[string][]byte) {
	return v1alpha1.ProviderSettings{Vendor: v1alpha1.TencentIM, Endpoint: url,
			TencentIM: &v1alpha1.TencentIMProvider{SDKAppID: HarnessAppID, AdminIdentifier: HarnessAdmin}},
		map[string][]byte{"secretKey": []byte(h.key)}
}

// Secrets implements vendorsim.Harness: the secret key and every UserSig sent.
func (h *Harness) Secrets() []string {
	return append([]string{h.key}, h.UserSigs()...)
}

// User implements vendorsim.Harness: accounts are free-form strings.
func (h *Harness) User(i int) string { return "user" + strconv.Itoa(i) }

// AddUsers implements vendorsim.Harness: the accounts are imported into the app.
func (h *Harness) AddUsers(ids ...string) { h.ImportAccounts(HarnessAppID, ids...) }

// Spec implements vendorsim.Harness: an owner (User(0) when owner is empty) and
// a Private (Work) group unless spec.tencentIM says otherwise.
func (h *Harness) Spec(spec *v1alpha1.ChatGroupSpec, owner string) {
	spec.Owner = cmp.Or(owner, h.User(0))
	if spec.TencentIM == nil {
		spec.TencentIM = &v1alpha1.TencentIMGroup{GroupType: "Private"}
	}
}

// MaxMembers implements vendorsim.Harness: a Private group holds 6000 members,
// the owner among them.
func (h *Harness) MaxMembers() int { return groupTypes["Private"].maxMembers - 1 }

// CreateOp implements vendorsim.Harness.
func (h *Harness) CreateOp() string { return "create_group" }

// IsWrite implements vendorsim.Harness.
func (h *Harness) IsWrite(op string) bool { return slices.Contains(writes, op) }

// OpOf implements vendorsim.Harness: the command a request's path names.
func (h *Harness) OpOf(r *http.Request) string {
	op, ok := strings.CutPrefix(r.URL.Path, servicePath)
	if !ok {
		return ""
	}
	return op
}

// IsThrottle implements vendorsim.Harness: the vendor answers a throttled call
// with HTTP 200 and a frequency-limit ErrorCode.
func (h *Harness) IsThrottle(_ int, body []byte) bool {
	var env struct {
		ErrorCode int `json:"ErrorCode"`
	}
	return json.Unmarshal(body, &env) == nil && slices.Contains(throttleCodes, env.ErrorCode)
}

// GroupIDs implements vendorsim.Harness.
func (h *Harness) GroupIDs(name string) []string {
	var ids []string
	for _, g := range h.Groups(HarnessAppID) {
		if g.Name == name {
			ids = append(ids, g.ID)
		}
	}
	return ids
}

// Lookup implements vendorsim.Harness.
func (h *Harness) Lookup(id string) (string, []string, bool) {
	g, ok := h.Group(HarnessAppID, id)
	return g.Name, g.Accounts(), ok
}

// Verify implements vendorsim.Harness: the owner, Introduction and
// Notification the spec sets, and no invitation (members are added directly).
func (h *Harness) Verify(id string, spec v1alpha1.ChatGroupSpec, invitation map[string][]byte) error {
	g, ok := h.Group(HarnessAppID, id)
	if !ok {
		return fmt.Errorf("no group %s", id)
	}
	var m vendorsim.Mismatches
	m.Expect("Owner_Account", g.Owner, spec.Owner)
	m.Expect("invitation", len(invitation), 0)
	if spec.Description != "" {
		m.Expect("Introduction", g.Introduction, spec.Description)
	}
	if spec.Announcement != "" {
		m.Expect("Notification", g.Notification, spec.Announcement)
	}
	if spec.Icon != "" {
		m.Expect("FaceUrl", g.FaceURL, spec.Icon)
	}
	if o := spec.ManagementOptions; o != nil && o.MuteAll != nil {
		m.Expect("ShutUpAllMember", g.MuteAll, *o.MuteAll)
	}
	return m.Err()
}
