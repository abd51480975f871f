// Package playground runs the operator locally the way a user meets it: the three
// vendor simulators on loopback, the samples in config/samples pointed at them, a
// kubeconfig for kubectl, and the real manager binary as a separate process. It
// serves `make playground` (hack/playground) and the end-to-end test (test/e2e);
// the control plane itself comes from internal/testenv.
package playground

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"time"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
	simdingtalk "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/dingtalk"
	simtencentim "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/tencentim"
	simwhatsapp "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/whatsapp"
)

// The accounts the simulators accept. They replace the samples' REPLACE_ME
// credentials and placeholder account IDs; they are not secret, but the operator
// must still keep them out of logs, events and status, which the e2e test checks.
const (
	DingTalkAppKey    = "playground-dingtalk-app-key"
	DingTalkAppSecret = "playground-dingtalk-app-secret"

	TencentIMAppID     = int64(1400000000)
	TencentIMAdmin     = "administrator"
	TencentIMSecretKey = "playground-tencentim-secret-key"

	CAMSAccessKeyID     = "playground-cams-access-key-id"
	CAMSAccessKeySecret = "playground-cams-access-key-secret"
	CAMSCustSpaceID     = "cams-playground"
	CAMSBusinessNumber  = "8613800000000"
)

// Vendor names, as in spec.vendor.
const (
	DingTalk  = "DingTalk"
	TencentIM = "TencentIM"
	WhatsApp  = "WhatsApp"
)

// Users are the user directories the simulators start with, besides the owners
// and members the samples name: spare IDs to add with kubectl.
var Users = map[string][]string{
	DingTalk:  {"manager4220", "user1", "user2", "user3", "user4", "user5", "user6"},
	TencentIM: {"alice", "bob", "carol", "dave", "erin", "frank"},
}

// SimOptions configure the simulators.
type SimOptions struct {
	// CreateDelay is how long a new WhatsApp group stays CREATING, as CAMS creates
	// groups asynchronously.
	CreateDelay time.Duration
}

// Simulators are the three vendor simulators, each served on loopback.
type Simulators struct {
	DingTalk  *simdingtalk.Server
	TencentIM *simtencentim.Server
	WhatsApp  *simwhatsapp.Sim
	// URLs are the base URLs by vendor.
	URLs map[string]string

	servers []*httptest.Server
}

// StartSimulators starts the three simulators on loopback ports with the
// accounts above and the Users directories.
func StartSimulators(o SimOptions) *Simulators {
	s := &Simulators{
		DingTalk: simdingtalk.New(nil),
		TencentIM: simtencentim.New(simtencentim.Config{Apps: map[int64]simtencentim.App{TencentIMAppID: {
			SecretKey: TencentIMSecretKey, Admins: []string{TencentIMAdmin}, Accounts: Users[TencentIM],
		}}}),
		WhatsApp: simwhatsapp.New(simwhatsapp.Options{
			AccessKeyID: CAMSAccessKeyID, AccessKeySecret: CAMSAccessKeySecret,
			CustSpaceID: CAMSCustSpaceID, BusinessNumber: CAMSBusinessNumber, CreateDelay: o.CreateDelay,
		}),
		URLs: map[string]string{},
	}
	s.DingTalk.AddApp(DingTalkAppKey, DingTalkAppSecret)
	s.DingTalk.SetUsers(Users[DingTalk]...)
	s.serve(DingTalk, s.DingTalk.Handler())
	s.serve(TencentIM, s.TencentIM)
	s.serve(WhatsApp, s.WhatsApp)
	return s
}

func (s *Simulators) serve(vendor string, h http.Handler) {
	srv := httptest.NewServer(h)
	s.servers = append(s.servers, srv)
	s.URLs[vendor] = srv.URL
}

// AddUsers adds user IDs to a vendor's directory. WhatsApp has none: any phone
// number can be invited.
func (s *Simulators) AddUsers(vendor string, ids ...string) {
	switch vendor {
	case DingTalk:
		s.DingTalk.AddUsers(ids...)
	case TencentIM:
		s.TencentIM.ImportAccounts(TencentIMAppID, ids...)
	}
}

// Close stops the servers.
func (s *Simulators) Close() {
	for _, srv := range s.servers {
		srv.Close()
	}
}

// VendorCall is one entry of a simulator's call log.
type VendorCall struct {
	Vendor string
	vendorsim.Call
}

// CallCursor remembers how much of each call log has been read.
type CallCursor map[string]int

// NewCalls returns the calls logged since the cursor last moved, oldest first,
// and moves it past them.
func (s *Simulators) NewCalls(c CallCursor) []VendorCall {
	var out []VendorCall
	for vendor, calls := range map[string][]vendorsim.Call{
		DingTalk:  s.DingTalk.Calls(),
		TencentIM: s.TencentIM.Calls(),
		WhatsApp:  s.WhatsApp.Calls(),
	} {
		for _, call := range calls[min(c[vendor], len(calls)):] {
			out = append(out, VendorCall{Vendor: vendor, Call: call})
		}
		c[vendor] = len(calls)
	}
	slices.SortStableFunc(out, func(a, b VendorCall) int {
		if n := a.At.Compare(b.At); n != 0 {
			return n
		}
		return strings.Compare(a.Vendor, b.Vendor)
	})
	return out
}
