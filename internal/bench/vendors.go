package bench

import (
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/registry"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// vendor is what the benchmark needs to know about one vendor: its simulator
// (with the documented rate limits on) and the documented limit itself.
type vendor struct {
	name v1alpha1.Vendor
	// limit is the vendor's documented calls per second per API.
	limit float64
	sim   vendorsim.Registration
}

// Vendors lists the vendors the benchmark can measure: those with a simulator.
func Vendors() []v1alpha1.Vendor {
	var out []v1alpha1.Vendor
	for _, s := range registry.Simulators() {
		out = append(out, s.Vendor)
	}
	return out
}

// lookup returns vendor name's simulator and documented limit.
func lookup(name v1alpha1.Vendor) (vendor, error) {
	reg, ok := registry.Vendors().Get(name)
	if !ok {
		return vendor{}, fmt.Errorf("unknown vendor %s", name)
	}
	for _, s := range registry.Simulators() {
		if s.Vendor == name {
			return vendor{name: name, limit: reg.RatePerAPI, sim: s}, nil
		}
	}
	return vendor{}, fmt.Errorf("no simulator for vendor %s", name)
}

// simulator is a started simulator; its user i is the owner when i is 0 and
// a member otherwise.
type simulator struct {
	vendorsim.Harness
}

// start starts v's simulator with the documented limits and an empty user
// directory (see addUsers).
func (v vendor) start() simulator {
	return simulator{v.sim.Start(vendorsim.SimConfig{})}
}

// addUsers adds the owner and m+3 members to the directory (a change adds
// three).
func (s simulator) addUsers(m int) {
	s.AddUsers(s.users(0, m+4)...)
}

// owner owns every group of the benchmark.
func (s simulator) owner() string { return s.User(0) }

// users returns the IDs of users from to to-1.
func (s simulator) users(from, to int) []string {
	out := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, s.User(i))
	}
	return out
}

// members returns the effective M for a requested m: a change lists one more
// member than before (it adds three after removing two).
func (s simulator) members(m int) int {
	if c := s.MaxMembers(); c > 0 {
		return min(m, c-1)
	}
	return m
}

// group returns the i-th ChatGroup of the benchmark with m members.
func (s simulator) group(name v1alpha1.Vendor, ns string, i, m int) *v1alpha1.ChatGroup {
	cg := &v1alpha1.ChatGroup{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bench-%05d", i), Namespace: ns},
		Spec: v1alpha1.ChatGroupSpec{
			Vendor:      name,
			ProviderRef: v1alpha1.ProviderReference{Name: "bench"},
			Name:        fmt.Sprintf("Bench %05d", i),
			Members:     s.users(1, m+1),
			// Long enough that no periodic drift check falls into a measurement:
			// the full resync is measured on its own (a manager restart).
			SyncInterval: &metav1.Duration{Duration: 6 * time.Hour},
		},
	}
	s.Spec(&cg.Spec, s.owner())
	return cg
}

// change is the change: a rename, three members added and two removed.
func (s simulator) change(spec *v1alpha1.ChatGroupSpec, m int) {
	spec.Name += "b"
	spec.Members = append(slices.Clone(spec.Members[:len(spec.Members)-2]), s.users(m+1, m+4)...)
}
