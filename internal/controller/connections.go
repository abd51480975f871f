package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// documentedLimits are the vendors' documented calls per second per API.
var documentedLimits = map[v1alpha1.Vendor]float64{
	v1alpha1.DingTalk:  20,
	v1alpha1.TencentIM: 200,
	v1alpha1.WhatsApp:  10,
}

// defaultHeadroom is the share of a documented limit the operator paces to.
// Vendors count calls in one-second windows; calls paced at exactly the limit
// arrive with network jitter, so now and then one more than the limit lands in
// a window and is throttled (each throttle then holds the API for the vendor's
// delay). At 95% a call may arrive about 50 ms early before that happens
// (TestDefaultLimitsLeaveRoomForJitter).
const defaultHeadroom = 0.95

// defaultLimits are the per-API buckets used when a provider sets no rateLimit.
// The bucket holds a single token: a full bucket on top of a second's refill
// would allow twice the limit within one second.
var defaultLimits = func() map[v1alpha1.Vendor]vendors.Limits {
	out := map[v1alpha1.Vendor]vendors.Limits{}
	for v, qps := range documentedLimits {
		out[v] = vendors.Limits{QPS: qps * defaultHeadroom, Burst: 1}
	}
	return out
}()

// Connections turns providers into vendor clients. It reads credentials Secrets
// with direct GETs (the operator has no list/watch on Secrets), and caches one
// client per provider, rebuilt when the provider's settings or Secret change. All
// clients for the same credentials share one set of rate-limit buckets.
type Connections struct {
	// APIReader reads Secrets without a cache.
	APIReader client.Reader
	// Connectors builds clients per vendor.
	Connectors map[v1alpha1.Vendor]vendors.Connector
	// Limiters holds the shared rate-limit buckets (a new registry when nil).
	Limiters *vendors.Limiters

	mu    sync.Mutex
	cache map[string]cachedClient
}

type cachedClient struct {
	fingerprint string
	limits      vendors.Limits
	client      vendors.GroupClient
}

// Client returns the vendor client for provider p. A missing Secret or key is a
// waiting error with reason CredentialsNotFound; a vendor without a connector is
// a stalled error.
func (c *Connections) Client(ctx context.Context, p v1alpha1.Provider) (vendors.GroupClient, error) {
	settings := p.Settings()
	connector, ok := c.Connectors[settings.Vendor]
	if !ok {
		return nil, stalled(v1alpha1.InvalidSpecReason, "This build of the operator has no client for vendor %s", settings.Vendor)
	}
	data, err := c.secretData(ctx, p.SecretKey(), settings.Vendor)
	if err != nil {
		return nil, err
	}
	fp := fingerprint(settings, data)
	key := providerKey(p)

	c.mu.Lock()
	defer c.mu.Unlock()
	lim := limits(settings)
	if cached, ok := c.cache[key]; ok && cached.fingerprint == fp && cached.limits == lim {
		return cached.client, nil
	}
	if c.Limiters == nil {
		c.Limiters = vendors.NewLimiters(nil)
	}
	creds := credentials(settings, data)
	// Keyed by limits too, so providers sharing credentials but not limits do
	// not keep replacing each other's buckets.
	creds.Limiter = c.Limiters.For(fmt.Sprintf("%s/%v", fp, lim), lim)
	gc, err := connector.Connect(ctx, creds)
	if err != nil {
		return nil, err
	}
	gc = vendors.Instrument(string(settings.Vendor), gc)
	if c.cache == nil {
		c.cache = map[string]cachedClient{}
	}
	c.cache[key] = cachedClient{fingerprint: fp, limits: lim, client: gc}
	return gc, nil
}

// secretData reads the credentials Secret and checks it has vendor's keys.
func (c *Connections) secretData(ctx context.Context, key types.NamespacedName, vendor v1alpha1.Vendor) (map[string][]byte, error) {
	secret := &corev1.Secret{}
	if err := c.APIReader.Get(ctx, key, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, waiting(v1alpha1.CredentialsNotFoundReason, "Secret %s not found; create it with the keys %v", key, vendor.SecretKeys())
		}
		return nil, fmt.Errorf("read credentials Secret %s: %w", key, err)
	}
	for _, k := range vendor.SecretKeys() {
		if len(secret.Data[k]) == 0 {
			return nil, waiting(v1alpha1.CredentialsNotFoundReason, "Secret %s has no key %q (a %s provider needs %v)", key, k, vendor, vendor.SecretKeys())
		}
	}
	return secret.Data, nil
}

// providerKey identifies a provider object in the cache.
func providerKey(p v1alpha1.Provider) string {
	return fmt.Sprintf("%T/%s/%s", p, p.GetNamespace(), p.GetName())
}

// fingerprint identifies a credential: everything that changes who we talk to
// and as whom. Equal fingerprints share rate-limit buckets.
func fingerprint(s v1alpha1.ProviderSettings, data map[string][]byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", s.Vendor, s.Endpoint)
	if s.DingTalk != nil {
		fmt.Fprintf(h, "%s\x00", s.DingTalk.LegacyEndpoint)
	}
	if s.TencentIM != nil {
		fmt.Fprintf(h, "%d\x00%s\x00", s.TencentIM.SDKAppID, s.TencentIM.AdminIdentifier)
	}
	if s.WhatsApp != nil {
		fmt.Fprintf(h, "%s\x00%s\x00", s.WhatsApp.CustSpaceID, s.WhatsApp.BusinessNumber)
	}
	for _, k := range slices.Sorted(maps.Keys(data)) {
		fmt.Fprintf(h, "%s\x00%d\x00", k, len(data[k]))
		h.Write(data[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// credentials converts provider settings and Secret data to the neutral form.
func credentials(s v1alpha1.ProviderSettings, data map[string][]byte) vendors.Credentials {
	creds := vendors.Credentials{Endpoint: s.Endpoint, Secret: data}
	if s.DingTalk != nil {
		creds.LegacyEndpoint = s.DingTalk.LegacyEndpoint
	}
	if s.TencentIM != nil {
		creds.SDKAppID = s.TencentIM.SDKAppID
		creds.AdminIdentifier = s.TencentIM.AdminIdentifier
	}
	if s.WhatsApp != nil {
		creds.CustSpaceID = s.WhatsApp.CustSpaceID
		creds.BusinessNumber = s.WhatsApp.BusinessNumber
	}
	return creds
}

// limits returns the provider's rate limit, or the default for its vendor.
func limits(s v1alpha1.ProviderSettings) vendors.Limits {
	if s.RateLimit == nil {
		return defaultLimits[s.Vendor]
	}
	return vendors.Limits{QPS: float64(s.RateLimit.QPS), Burst: int(s.RateLimit.Burst)}
}
