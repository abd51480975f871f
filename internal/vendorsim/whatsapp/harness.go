package whatsapp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// The simulated account a Harness serves. Not secret, but the operator must
// still keep the AccessKey secret out of logs, events and status.
const (
	harnessKeyID    = "LTAI-simulated"
	harnessSecret   = "simulated-cams-access-key-secret"
	harnessSpace    = "cams-simulated"
	harnessBusiness = "8613800000000"
)

// writeActions are the actions that change something on CAMS.
var writeActions = []string{"AddChatGroup", "UpdateChatGroup", "DeleteChatGroup",
	"AddChatGroupInviteLink", "DeleteChatGroupInviteLink", "DeleteChatGroupParticipants"}

// Registration is the CAMS simulator as the project's tools know it.
func Registration() vendorsim.Registration {
	return vendorsim.Registration{
		Vendor: v1alpha1.WhatsApp,
		Start:  func(cfg vendorsim.SimConfig) vendorsim.Harness { return NewHarness(cfg) },
		TrueFloor: func(n, m int) (converge, sweep map[string]int) {
			// AddChatGroup returns no GroupId: one listing of the account learns
			// them all, at 20 a page (the page size of CAMS's examples; no larger
			// one is documented). Members join only through an invite link, one
			// per group. ListChatGroup carries no participants: a check reads
			// each group's ListChatGroupParticipants (m <= 8 fit one page).
			pages := (n + 19) / 20
			return map[string]int{"AddChatGroup": n, "AddChatGroupInviteLink": n, "ListChatGroup": pages},
				map[string]int{"ListChatGroup": pages, "ListChatGroupParticipants": n}
		},
	}
}

// Harness drives one simulated CAMS account for the playground, the end-to-end
// test, the fault suite and the benchmark (vendorsim.Harness). The embedded Sim
// offers what only CAMS has, such as Join.
type Harness struct {
	*Sim
}

var _ vendorsim.Harness = (*Harness)(nil)

// NewHarness returns a Harness for cfg. CAMS keeps no user directory: anyone
// with the invite link joins, so cfg.Users is not needed.
func NewHarness(cfg vendorsim.SimConfig, opts ...vendorsim.Option) *Harness {
	secret := harnessSecret
	if cfg.Secret != "" {
		secret = cfg.Secret
	}
	return &Harness{New(Config{
		AccessKeyID: harnessKeyID, AccessKeySecret: secret, CustSpaceID: harnessSpace, BusinessNumber: harnessBusiness,
		CreateDelay: cfg.CreateDelay, RateLimit: cfg.RatePerAPI,
	}, opts...)}
}

// Core returns the fault knobs, the call log and the rate limits.
func (h *Harness) Core() *vendorsim.Sim { return h.Sim.Sim }

// Provider returns a WhatsApp provider for this account served at url, and its
// credentials Secret's data.
func (h *Harness) Provider(url string) (v1alpha1.ProviderSettings, map[string][]byte) {
	return v1alpha1.ProviderSettings{
			Vendor:   v1alpha1.WhatsApp,
			Endpoint: url,
			WhatsApp: &v1alpha1.WhatsAppProvider{CustSpaceID: h.cfg.CustSpaceID, BusinessNumber: h.cfg.BusinessNumber},
		}, map[string][]byte{
			"accessKeyID":     []byte(h.cfg.AccessKeyID),
			"accessKeySecret": []byte(h.cfg.AccessKeySecret),
		}
}

// Secrets are the AccessKey secret and every signature the simulator was sent.
func (h *Harness) Secrets() []string {
	return append([]string{h.cfg.AccessKeySecret}, h.Signatures()...)
}

// User returns the i-th phone number, in E.164 as a ChatGroup lists it.
func (h *Harness) User(i int) string { return fmt.Sprintf("+86139%08d", i) }

// AddUsers does nothing: CAMS has no user directory, any number can be invited.
func (h *Harness) AddUsers(...string) {}

// Spec clears the owner, which WhatsApp groups do not have (the business
// number administers them; the API rejects spec.owner), and gives the group a
// description, which CAMS takes at creation.
func (h *Harness) Spec(spec *v1alpha1.ChatGroupSpec, _ string) {
	spec.Owner = ""
	if spec.Description == "" {
		spec.Description = "Simulated group"
	}
}

// MaxMembers is WhatsApp's group size limit.
func (h *Harness) MaxMembers() int { return MaxParticipants }

// CreateOp is AddChatGroup.
func (h *Harness) CreateOp() string { return "AddChatGroup" }

// IsWrite reports whether action changes something on CAMS.
func (h *Harness) IsWrite(action string) bool { return slices.Contains(writeActions, action) }

// OpOf names the action r calls, as the call log does.
func (h *Harness) OpOf(r *http.Request) string {
	if a := r.Header.Get("x-acs-action"); a != "" {
		return a
	}
	return r.URL.Query().Get("Action")
}

// IsThrottle reports whether an answer is a flow-control refusal (a
// Throttling code, whatever the HTTP status).
func (h *Harness) IsThrottle(_ int, body []byte) bool {
	var e struct{ Code string }
	return json.Unmarshal(body, &e) == nil && isThrottle(e.Code)
}

// GroupIDs lists the groups whose subject is name.
func (h *Harness) GroupIDs(name string) []string {
	var ids []string
	for _, g := range h.GroupsWithSubject(name) {
		ids = append(ids, g.ID)
	}
	return ids
}

// Lookup returns a group's subject and its participants, in E.164 as a
// ChatGroup lists them. Members join only through the invite link, so listed
// members who have not joined (Join) are not among them.
func (h *Harness) Lookup(id string) (name string, members []string, ok bool) {
	g, ok := h.Group(id)
	if !ok {
		return "", nil, false
	}
	for _, p := range g.Participants {
		members = append(members, "+"+p)
	}
	return g.Subject, members, true
}

// Verify implements vendorsim.Harness: the group is ACTIVE with the spec's
// description, and while listed members have not joined, the invitation holds
// the group's current invite link (and there is none once everyone is in).
func (h *Harness) Verify(id string, spec v1alpha1.ChatGroupSpec, invitation map[string][]byte) error {
	g, ok := h.Group(id)
	if !ok {
		return fmt.Errorf("no group %s", id)
	}
	var m vendorsim.Mismatches
	m.Expect("Status", g.Status, "ACTIVE")
	if spec.Description != "" {
		m.Expect("Description", g.Description, spec.Description)
	}
	if spec.Icon != "" {
		m.Expect("picture sent", g.PictureSource, spec.Icon)
	}
	pending := slices.ContainsFunc(spec.Members, func(number string) bool {
		return !slices.Contains(g.Participants, strings.TrimPrefix(number, "+"))
	})
	switch {
	case pending && g.InviteLink == "":
		m = append(m, "no invite link is open while members are pending")
	case pending:
		m.Expect("the published invite link", string(invitation[invitationKey]), g.InviteLink)
	default:
		m.Expect("invitation", len(invitation), 0)
	}
	return m.Err()
}

// invitationKey is the key the operator publishes the invite link under; the
// simulator reads it without importing the client (it is the key a user sees
// in the Secret, part of the operator's documented behaviour).
const invitationKey = "inviteLink"
