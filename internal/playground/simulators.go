// Package playground runs the operator locally the way a user meets it: every
// registered vendor simulator on loopback, the samples in config/samples pointed
// at them, a kubeconfig for kubectl, and the real manager binary as a separate
// process. It serves `make playground` (hack/playground) and the end-to-end test
// (test/e2e); the control plane itself comes from internal/testenv.
package playground

import (
	"net/http/httptest"
	"slices"
	"strings"
	"time"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// spareUsers is how many users each simulator's directory starts with besides
// the owners and members the samples name: IDs to add with kubectl.
const spareUsers = 6

// SimOptions configure the simulators.
type SimOptions struct {
	// CreateDelay is how long a new group stays being created on a vendor that
	// creates groups asynchronously.
	CreateDelay time.Duration
}

// Simulator is one vendor's simulator, served on loopback. Its account's
// credentials are not secret, but the operator must still keep them out of
// logs, events and status, which the e2e test checks (Harness.Secrets).
type Simulator struct {
	vendorsim.Harness
	// Vendor is the simulated vendor.
	Vendor v1alpha1.Vendor
	// URL is the base URL it is served at.
	URL string
	// Users are spare users in its directory: none of the samples that
	// PointAtSimulators rewrote names them.
	Users []string

	srv *httptest.Server
}

// Simulators are the registered vendors' simulators, each served on loopback.
type Simulators struct {
	list []*Simulator
}

// StartSimulators starts a simulator for each registration on a loopback port,
// each with spare users in its directory.
func StartSimulators(regs []vendorsim.Registration, o SimOptions) *Simulators {
	s := &Simulators{}
	for _, reg := range regs {
		h := reg.Start(vendorsim.SimConfig{CreateDelay: o.CreateDelay})
		sim := &Simulator{Harness: h, Vendor: reg.Vendor}
		for i := 1; i <= spareUsers; i++ {
			sim.Users = append(sim.Users, h.User(i))
		}
		h.AddUsers(sim.Users...)
		sim.srv = httptest.NewServer(h)
		sim.URL = sim.srv.URL
		s.list = append(s.list, sim)
	}
	return s
}

// All returns the simulators in registration order.
func (s *Simulators) All() []*Simulator { return slices.Clone(s.list) }

// Get returns vendor's simulator.
func (s *Simulators) Get(vendor v1alpha1.Vendor) (*Simulator, bool) {
	for _, sim := range s.list {
		if sim.Vendor == vendor {
			return sim, true
		}
	}
	return nil, false
}

// Close stops the servers.
func (s *Simulators) Close() {
	for _, sim := range s.list {
		sim.srv.Close()
	}
}

// VendorCall is one entry of a simulator's call log.
type VendorCall struct {
	Vendor v1alpha1.Vendor
	vendorsim.Call
}

// CallCursor remembers how much of each call log has been read.
type CallCursor map[v1alpha1.Vendor]int

// NewCalls returns the calls logged since the cursor last moved, oldest first,
// and moves it past them.
func (s *Simulators) NewCalls(c CallCursor) []VendorCall {
	var out []VendorCall
	for _, sim := range s.list {
		calls := sim.Core().Calls()
		for _, call := range calls[min(c[sim.Vendor], len(calls)):] {
			out = append(out, VendorCall{Vendor: sim.Vendor, Call: call})
		}
		c[sim.Vendor] = len(calls)
	}
	slices.SortStableFunc(out, func(a, b VendorCall) int {
		if n := a.At.Compare(b.At); n != 0 {
			return n
		}
		return strings.Compare(string(a.Vendor), string(b.Vendor))
	})
	return out
}
