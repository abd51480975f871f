package vendorsim

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"k8s.io/utils/clock"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

// Registration is a vendor's simulator as the project's tools know it: the
// playground, the end-to-end test, the fault suite and the benchmark iterate a
// list of them (internal/registry) and name no vendor.
type Registration struct {
	// Vendor is the simulated vendor.
	Vendor v1alpha1.Vendor
	// Start returns a simulator of one account, not yet served.
	Start func(SimConfig) Harness
	// TrueFloor is the fewest calls per API the vendor's documented batch
	// sizes allow to create n groups of m members (converge) and to check n
	// unchanged groups once (sweep); the benchmark divides them by the
	// documented rate per API for the least time. Nil: not worked out.
	TrueFloor func(n, m int) (converge, sweep map[string]int)
}

// SimConfig configures a Harness.
type SimConfig struct {
	// Users are the vendor's user directory at start, as Harness.User spells
	// them (a vendor without a directory accepts anyone).
	Users []string
	// Secret replaces the account's secret (e.g. a canary the tests look for in
	// logs and status); empty keeps the simulator's own.
	Secret string
	// CreateDelay is how long an asynchronous create takes, where the vendor
	// creates groups asynchronously.
	CreateDelay time.Duration
	// RatePerAPI overrides the vendor's documented calls per second per API
	// (0: the documented limit).
	RatePerAPI int
}

// Harness drives one simulated account. Its methods are safe for concurrent
// use.
type Harness interface {
	// ServeHTTP serves the vendor's API.
	http.Handler
	// Core holds the fault knobs, the call log and the rate limits.
	Core() *Sim
	// Provider returns the settings of a provider for this account served at
	// url, and the data of its credentials Secret.
	Provider(url string) (v1alpha1.ProviderSettings, map[string][]byte)
	// Secrets are the account's secret and every token or signature the
	// simulator issued or was sent: none may appear in logs, events or status.
	Secrets() []string
	// User returns the i-th user ID in the vendor's format.
	User(i int) string
	// AddUsers adds users to the directory.
	AddUsers(ids ...string)
	// Spec fills in what the vendor needs in a ChatGroup spec beyond vendor,
	// name and members (an owner where the vendor has one, required blocks).
	Spec(spec *v1alpha1.ChatGroupSpec, owner string)
	// MaxMembers is the most members a group may list (0: no cap that matters).
	MaxMembers() int
	// CreateOp is the operation that creates a group, as the call log names it.
	CreateOp() string
	// IsWrite reports whether an operation changes something on the vendor.
	IsWrite(op string) bool
	// OpOf names the operation a request calls, as the call log does.
	OpOf(r *http.Request) string
	// IsThrottle reports whether an answer is the vendor's throttle response.
	IsThrottle(status int, body []byte) bool
	// GroupIDs lists the groups titled name.
	GroupIDs(name string) []string
	// Lookup returns a group's title and members (owner included).
	Lookup(id string) (name string, members []string, ok bool)
	// Verify checks what group id holds beyond its title and members against
	// spec (owner, texts, settings, state), and that invitation, the data of the
	// Secret the operator published for members who join by themselves (nil:
	// none), lets them join the group as it is now. It returns what differs.
	Verify(id string, spec v1alpha1.ChatGroupSpec, invitation map[string][]byte) error
	// Throttle answers every call with the vendor's throttle response for d.
	Throttle(d time.Duration)
	// FailWith makes every call of op answer with the vendor's error code (as
	// the vendor formats it, with its documented HTTP status) until called
	// again with code "".
	FailWith(op, code string)
}

// Options are what every simulator can be given beyond its configuration.
type Options struct {
	// Clock dates tokens, signature checks, rate-limit windows and asynchronous
	// creates.
	Clock clock.PassiveClock
}

// Option sets one of Options.
type Option func(*Options)

// WithClock sets the clock; nil keeps the real one.
func WithClock(c clock.PassiveClock) Option {
	return func(o *Options) {
		if c != nil {
			o.Clock = c
		}
	}
}

// BuildOptions applies opts over the defaults.
func BuildOptions(opts ...Option) Options {
	o := Options{Clock: clock.RealClock{}}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Mismatches collects what a Harness.Verify found to differ.
type Mismatches []string

// Expect records a mismatch of field when got is not want.
func (m *Mismatches) Expect(field string, got, want any) {
	if got != want {
		*m = append(*m, fmt.Sprintf("%s is %v, want %v", field, got, want))
	}
}

// Err returns the mismatches as one error, nil when there are none.
func (m Mismatches) Err() error {
	if len(m) == 0 {
		return nil
	}
	return errors.New(strings.Join(m, "; "))
}
