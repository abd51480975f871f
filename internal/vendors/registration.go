package vendors

import (
	"encoding/json"
	"net/http"
	"time"

	"k8s.io/utils/clock"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

// Registration is everything the operator needs to know of a vendor outside the
// vendor's own package. The controller, main.go and the test tools iterate a
// list of them (internal/registry); none of them names a vendor.
type Registration struct {
	// Vendor is the vendor's name in spec.vendor.
	Vendor v1alpha1.Vendor
	// Connector builds clients for a provider's credentials.
	Connector Connector
	// SecretKeys are the keys a provider's credentials Secret must hold.
	SecretKeys []string
	// RatePerAPI is the vendor's documented limit for each of its APIs, in calls
	// per second. The operator paces a little below it by default.
	RatePerAPI float64
	// FindGrace is how long after an interrupted create (beyond the create
	// call's own time limit) GroupClient.Find may still miss the group that
	// create made: the vendor's lookup lag. Until then a lookup that finds
	// nothing is repeated; after it the group is created again. Zero where Find
	// is authoritative at once (e.g. a lookup by a caller-chosen ID).
	FindGrace time.Duration
	// Metered reports whether a call to api (a Request.API) counts against a
	// provider's spec.callBudget: the vendor's rule for its monthly call quota
	// (nil: every call counts).
	Metered func(api string) bool
	// Settings reads the provider's vendor block into the vendor's own type,
	// which reaches Connect as Credentials.Settings (nil: the vendor has none).
	// Its JSON form is part of the credential's identity: providers whose
	// settings differ never share a client or rate-limit buckets.
	Settings func(v1alpha1.ProviderSettings) any
	// Desired adds the vendor's own part to a desired group: GroupSpec.Vendor,
	// and what the vendor reads back from the object's status (nil: nothing).
	Desired func(obj *v1alpha1.ChatGroup, want *GroupSpec)
	// Record writes the vendor's status extras for a group as last observed or
	// updated (nil: none). inviteSecret is the Secret that holds g.Invitation,
	// "" when none is published.
	Record func(status *v1alpha1.ChatGroupStatus, g ObservedGroup, inviteSecret string)
	// Export writes what an existing group holds beyond its name, owner and
	// members into the spec that adopts it (kubectl chatgroup export): its
	// texts, settings and vendor block, read from g.Extra as the vendor's
	// Observe or ListGroups left it, so that the spec matches the group exactly
	// (nil: name, owner and members only).
	Export func(g ObservedGroup, spec *v1alpha1.ChatGroupSpec)
}

// defaultHeadroom is the share of a documented limit the operator paces to.
// Vendors count calls in one-second windows; calls paced at exactly the limit
// arrive with network jitter, so now and then one more than the limit lands in
// a window and is throttled (each throttle then holds the API for the vendor's
// delay). At 95% a call may arrive about 50 ms early before that happens
// (TestDefaultLimitsLeaveRoomForJitter in internal/controller).
const defaultHeadroom = 0.95

// DefaultLimits is the per-API bucket for a provider that sets no rateLimit.
// The bucket holds a single token: a full bucket on top of a second's refill
// would allow twice the limit within one second.
func (r Registration) DefaultLimits() Limits {
	return Limits{QPS: r.RatePerAPI * defaultHeadroom, Burst: 1}
}

// ProviderLimits is the per-API bucket for a provider: its spec.rateLimit, or
// the vendor's default.
func (r Registration) ProviderLimits(s v1alpha1.ProviderSettings) Limits {
	if s.RateLimit == nil {
		return r.DefaultLimits()
	}
	return Limits{QPS: float64(s.RateLimit.QPS), Burst: int(s.RateLimit.Burst)}
}

// AccountKey identifies the vendor account behind provider settings s as far
// as the spec tells: vendor, endpoint and the vendor's own settings (e.g. an
// application ID). Group IDs are unique within an account only.
func (r Registration) AccountKey(s v1alpha1.ProviderSettings) string {
	var settings any
	if r.Settings != nil {
		settings = r.Settings(s)
	}
	js, _ := json.Marshal(settings) // the vendors' settings are plain structs
	return string(s.Vendor) + "|" + s.Endpoint + "|" + string(js)
}

// Registry is the list of vendors a build supports.
type Registry []Registration

// Get returns the registration of vendor v.
func (r Registry) Get(v v1alpha1.Vendor) (Registration, bool) {
	for _, reg := range r {
		if reg.Vendor == v {
			return reg, true
		}
	}
	return Registration{}, false
}

// DefaultTimeout bounds one HTTP exchange with a vendor unless the caller's
// HTTP client sets its own.
const DefaultTimeout = 30 * time.Second

// ClientOptions are what every vendor client and simulator can be given beyond its
// configuration.
type ClientOptions struct {
	// HTTPClient sends the requests; its redirect policy is replaced (vendors
	// never redirect, and following one would resend credentials elsewhere).
	HTTPClient *http.Client
	// Clock dates tokens, signatures and bookkeeping.
	Clock clock.PassiveClock
}

// Option sets one of ClientOptions.
type Option func(*ClientOptions)

// WithHTTPClient sets the HTTP client; nil keeps the default (DefaultTimeout).
func WithHTTPClient(hc *http.Client) Option {
	return func(o *ClientOptions) {
		if hc != nil {
			o.HTTPClient = hc
		}
	}
}

// WithClock sets the clock; nil keeps the real one.
func WithClock(c clock.PassiveClock) Option {
	return func(o *ClientOptions) {
		if c != nil {
			o.Clock = c
		}
	}
}

// BuildOptions applies opts over the defaults.
func BuildOptions(opts ...Option) ClientOptions {
	o := ClientOptions{HTTPClient: &http.Client{Timeout: DefaultTimeout}, Clock: clock.RealClock{}}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}
