package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

// defaultLimits is the per-API bucket used when a provider sets no rateLimit.
func defaultLimits(reg vendors.Registration) vendors.Limits { return reg.DefaultLimits() }

// Connections turns providers into vendor clients. It reads credentials Secrets
// with direct GETs (the operator has no list/watch on Secrets), and caches one
// client per provider, rebuilt when the provider's settings or Secret change. All
// clients for the same credentials share one set of rate-limit buckets.
type Connections struct {
	// APIReader reads Secrets without a cache.
	APIReader client.Reader
	// Vendors are the registered vendors.
	Vendors vendors.Registry
	// Limiters holds the shared rate-limit buckets (a new registry when nil).
	Limiters *vendors.Limiters

	mu    sync.Mutex
	cache map[string]cachedClient
	taken map[string]meterReading
}

type cachedClient struct {
	fingerprint string
	limits      vendors.Limits
	client      vendors.GroupClient
	limiter     *vendors.Limiter
}

// meterReading is a limiter's metered count when it was last taken.
type meterReading struct {
	limiter *vendors.Limiter
	n       int64
}

// takeMetered returns the metered calls p's credentials made since it was last
// called for p: since the process started, the first time. Providers that share
// credentials share their count, as the vendor's quota does.
func (c *Connections) takeMetered(p v1alpha1.Provider, reg vendors.Registration) int64 {
	key := providerKey(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	cached, ok := c.cache[key]
	if !ok {
		return 0
	}
	n := cached.limiter.Metered(reg.Metered)
	last := c.taken[key]
	if last.limiter != cached.limiter { // new credentials: a new count
		last = meterReading{limiter: cached.limiter}
	}
	if c.taken == nil {
		c.taken = map[string]meterReading{}
	}
	c.taken[key] = meterReading{limiter: cached.limiter, n: n}
	return n - last.n
}

// Client returns the vendor client for provider p. A missing Secret or key is a
// waiting error with reason CredentialsNotFound; a vendor without a connector is
// a stalled error.
func (c *Connections) Client(ctx context.Context, p v1alpha1.Provider) (vendors.GroupClient, error) {
	settings := p.Settings()
	reg, ok := c.Vendors.Get(settings.Vendor)
	if !ok {
		return nil, stalled(v1alpha1.InvalidSpecReason, "This build of the operator has no client for vendor %s", settings.Vendor)
	}
	data, err := c.secretData(ctx, p.SecretKey(), reg)
	if err != nil {
		return nil, err
	}
	creds := credentials(reg, settings, data)
	fp := fingerprint(reg.Vendor, creds)
	key := providerKey(p)

	c.mu.Lock()
	defer c.mu.Unlock()
	lim := limits(reg, settings)
	if cached, ok := c.cache[key]; ok && cached.fingerprint == fp && cached.limits == lim {
		return cached.client, nil
	}
	if c.Limiters == nil {
		c.Limiters = vendors.NewLimiters(nil)
	}
	// Keyed by limits too, so providers sharing credentials but not limits do
	// not keep replacing each other's buckets.
	creds.Limiter = c.Limiters.For(fmt.Sprintf("%s/%v", fp, lim), lim)
	gc, err := reg.Connector.Connect(ctx, creds)
	if err != nil {
		return nil, err
	}
	gc = vendors.Instrument(string(settings.Vendor), gc)
	if c.cache == nil {
		c.cache = map[string]cachedClient{}
	}
	c.cache[key] = cachedClient{fingerprint: fp, limits: lim, client: gc, limiter: creds.Limiter}
	return gc, nil
}

// secretData reads the credentials Secret and checks it has the vendor's keys.
func (c *Connections) secretData(ctx context.Context, key types.NamespacedName, reg vendors.Registration) (map[string][]byte, error) {
	secret := &corev1.Secret{}
	if err := c.APIReader.Get(ctx, key, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, waiting(v1alpha1.CredentialsNotFoundReason, "Secret %s not found; create it with the keys %v", key, reg.SecretKeys)
		}
		return nil, fmt.Errorf("read credentials Secret %s: %w", key, err)
	}
	for _, k := range reg.SecretKeys {
		if len(secret.Data[k]) == 0 {
			return nil, waiting(v1alpha1.CredentialsNotFoundReason, "Secret %s has no key %q (a %s provider needs %v)", key, k, reg.Vendor, reg.SecretKeys)
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
func fingerprint(vendor v1alpha1.Vendor, creds vendors.Credentials) string {
	h := sha256.New()
	settings, _ := json.Marshal(creds.Settings) // the vendors' settings are plain structs
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", vendor, creds.Endpoint, settings)
	for _, k := range slices.Sorted(maps.Keys(creds.Secret)) {
		fmt.Fprintf(h, "%s\x00%d\x00", k, len(creds.Secret[k]))
		h.Write(creds.Secret[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// credentials converts provider settings and Secret data to the neutral form,
// the vendor's own settings read by its registration.
func credentials(reg vendors.Registration, s v1alpha1.ProviderSettings, data map[string][]byte) vendors.Credentials {
	creds := vendors.Credentials{Endpoint: s.Endpoint, Secret: data}
	if reg.Settings != nil {
		creds.Settings = reg.Settings(s)
	}
	return creds
}

// limits returns the provider's rate limit, or the default for its vendor.
func limits(reg vendors.Registration, s v1alpha1.ProviderSettings) vendors.Limits {
	return reg.ProviderLimits(s)
}
