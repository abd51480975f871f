package controller

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	clientfake "sigs.k8s.io/controller-runtime/pkg/client/fake"

	"golang.org/x/time/rate"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/registry"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors/fake"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// unitConnections returns Connections reading from a fake client holding objs,
// with one fake connector for every vendor.
func unitConnections(objs ...client.Object) (*Connections, client.Client, *fake.Connector) {
	c := clientfake.NewClientBuilder().WithScheme(testScheme).WithObjects(objs...).Build()
	conn := &fake.Connector{Client: &fake.GroupClient{}}
	return &Connections{
		APIReader: c,
		Vendors:   testVendors(conn),
		Limiters:  vendors.NewLimiters(nil),
	}, c, conn
}

// unitProvider returns a ChatProvider for v reading the Secret secretName in ns.
func unitProvider(ns, name string, v v1alpha1.Vendor, secretName string, mods ...func(*v1alpha1.ChatProvider)) *v1alpha1.ChatProvider {
	p := &v1alpha1.ChatProvider{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.ChatProviderSpec{
			ProviderSettings:     providerSettings(v),
			CredentialsSecretRef: v1alpha1.LocalSecretReference{Name: secretName},
		},
	}
	for _, m := range mods {
		m(p)
	}
	return p
}

// asWaiting returns err as a waiting error, or fails.
func asWaiting(g *WithT, err error) *reasonError {
	var we *reasonError
	g.Expect(errors.As(err, &we) && !we.stalled).To(BeTrue(), "want a waiting error, got %v", err)
	return we
}

func TestConnections_Client(t *testing.T) {
	t.Run("missing Secret is a waiting error naming it", func(t *testing.T) {
		g := NewWithT(t)
		conns, _, conn := unitConnections()
		_, err := conns.Client(t.Context(), unitProvider("ns", "p", v1alpha1.DingTalk, "creds"))
		we := asWaiting(g, err)
		g.Expect(we.reason).To(Equal(v1alpha1.CredentialsNotFoundReason))
		g.Expect(we.message).To(ContainSubstring("ns/creds"))
		g.Expect(conn.Connections()).To(BeEmpty())
	})

	type lacking struct {
		name    string
		vendor  v1alpha1.Vendor
		data    map[string][]byte
		missing string
	}
	var cases []lacking
	for _, reg := range registry.Vendors() {
		full := map[string][]byte{}
		for _, k := range reg.SecretKeys {
			full[k] = []byte("v")
		}
		for _, k := range reg.SecretKeys {
			without, empty := maps.Clone(full), maps.Clone(full)
			delete(without, k)
			empty[k] = []byte{}
			cases = append(cases,
				lacking{fmt.Sprintf("%s without %s", reg.Vendor, k), reg.Vendor, without, k},
				lacking{fmt.Sprintf("%s with an empty %s", reg.Vendor, k), reg.Vendor, empty, k})
		}
	}
	for _, tc := range cases {
		t.Run("Secret lacking a key: "+tc.name, func(t *testing.T) {
			g := NewWithT(t)
			secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: "ns"}, Data: tc.data}
			conns, _, conn := unitConnections(secret)
			_, err := conns.Client(t.Context(), unitProvider("ns", "p", tc.vendor, "creds"))
			we := asWaiting(g, err)
			g.Expect(we.reason).To(Equal(v1alpha1.CredentialsNotFoundReason))
			g.Expect(we.message).To(ContainSubstring(`"` + tc.missing + `"`))
			g.Expect(we.message).To(ContainSubstring("ns/creds"))
			g.Expect(conn.Connections()).To(BeEmpty())
		})
	}

	t.Run("same Secret twice connects once", func(t *testing.T) {
		g := NewWithT(t)
		conns, _, conn := unitConnections(credentialsSecret("ns", "creds", v1alpha1.DingTalk, "s1"))
		p := unitProvider("ns", "p", v1alpha1.DingTalk, "creds")
		first, err := conns.Client(t.Context(), p)
		g.Expect(err).NotTo(HaveOccurred())
		second, err := conns.Client(t.Context(), p)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(conn.Connections()).To(HaveLen(1))
		g.Expect(second).To(BeIdenticalTo(first))
	})

	t.Run("changed Secret data connects again", func(t *testing.T) {
		g := NewWithT(t)
		secret := credentialsSecret("ns", "creds", v1alpha1.TencentIM, "s1")
		conns, c, conn := unitConnections(secret)
		p := unitProvider("ns", "p", v1alpha1.TencentIM, "creds")
		_, err := conns.Client(t.Context(), p)
		g.Expect(err).NotTo(HaveOccurred())

		stored := &corev1.Secret{}
		g.Expect(c.Get(t.Context(), client.ObjectKeyFromObject(secret), stored)).To(Succeed())
		stored.Data["secretKey"] = []byte("s2")
		g.Expect(c.Update(t.Context(), stored)).To(Succeed())

		_, err = conns.Client(t.Context(), p)
		g.Expect(err).NotTo(HaveOccurred())
		got := conn.Connections()
		g.Expect(got).To(HaveLen(2))
		g.Expect(got[1].Secret["secretKey"]).To(Equal([]byte("s2")))
		g.Expect(got[1].Limiter).NotTo(BeIdenticalTo(got[0].Limiter))
	})

	t.Run("credentials carry the provider settings", func(t *testing.T) {
		g := NewWithT(t)
		conns, _, conn := unitConnections(credentialsSecret("ns", "creds", v1alpha1.TencentIM, "s1"))
		p := unitProvider("ns", "p", v1alpha1.TencentIM, "creds", func(p *v1alpha1.ChatProvider) {
			p.Spec.Endpoint = "https://adminapisgp.im.qcloud.com"
		})
		_, err := conns.Client(t.Context(), p)
		g.Expect(err).NotTo(HaveOccurred())
		got := conn.Connections()
		g.Expect(got).To(HaveLen(1))
		g.Expect(got[0].Endpoint).To(Equal("https://adminapisgp.im.qcloud.com"))
		reg, _ := registry.Vendors().Get(v1alpha1.TencentIM)
		g.Expect(got[0].Settings).NotTo(BeNil())
		g.Expect(got[0].Settings).To(Equal(reg.Settings(p.Spec.ProviderSettings)), "the vendor's own settings, read by its registration")
		g.Expect(got[0].Secret).To(Equal(map[string][]byte{"secretKey": []byte("s1")}))
	})

	t.Run("identical credentials share a Limiter; a different Secret does not", func(t *testing.T) {
		g := NewWithT(t)
		conns, _, conn := unitConnections(
			credentialsSecret("a", "creds", v1alpha1.DingTalk, "same"),
			credentialsSecret("b", "creds", v1alpha1.DingTalk, "same"),
			credentialsSecret("c", "creds", v1alpha1.DingTalk, "other"),
		)
		for _, ns := range []string{"a", "b", "c"} {
			_, err := conns.Client(t.Context(), unitProvider(ns, "p", v1alpha1.DingTalk, "creds"))
			g.Expect(err).NotTo(HaveOccurred())
		}
		got := conn.Connections()
		g.Expect(got).To(HaveLen(3))
		g.Expect(got[0].Limiter).NotTo(BeNil())
		g.Expect(got[1].Limiter).To(BeIdenticalTo(got[0].Limiter))
		g.Expect(got[2].Limiter).NotTo(BeIdenticalTo(got[0].Limiter))
	})

	t.Run("provider rateLimit qps 5 gives QPS 5 and Burst 5", func(t *testing.T) {
		g := NewWithT(t)
		conns, _, conn := unitConnections(credentialsSecret("ns", "creds", v1alpha1.DingTalk, "s1"))
		p := unitProvider("ns", "p", v1alpha1.DingTalk, "creds", func(p *v1alpha1.ChatProvider) {
			p.Spec.RateLimit = &v1alpha1.RateLimit{QPS: 5}
		})
		_, err := conns.Client(t.Context(), p)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(conn.Connections()).To(HaveLen(1))
		g.Expect(conn.Connections()[0].Limiter.Limits()).To(Equal(vendors.Limits{QPS: 5, Burst: 5}))
	})

	t.Run("provider rateLimit with burst", func(t *testing.T) {
		g := NewWithT(t)
		conns, _, conn := unitConnections(credentialsSecret("ns", "creds", v1alpha1.DingTalk, "s1"))
		p := unitProvider("ns", "p", v1alpha1.DingTalk, "creds", func(p *v1alpha1.ChatProvider) {
			p.Spec.RateLimit = &v1alpha1.RateLimit{QPS: 5, Burst: 12}
		})
		_, err := conns.Client(t.Context(), p)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(conn.Connections()[0].Limiter.Limits()).To(Equal(vendors.Limits{QPS: 5, Burst: 12}))
	})

	t.Run("editing rateLimit takes effect", func(t *testing.T) {
		g := NewWithT(t)
		conns, _, conn := unitConnections(credentialsSecret("ns", "creds", v1alpha1.DingTalk, "s1"))
		p := unitProvider("ns", "p", v1alpha1.DingTalk, "creds")
		_, err := conns.Client(t.Context(), p)
		g.Expect(err).NotTo(HaveOccurred())
		p.Spec.RateLimit = &v1alpha1.RateLimit{QPS: 5}
		_, err = conns.Client(t.Context(), p)
		g.Expect(err).NotTo(HaveOccurred())
		got := conn.Connections()
		g.Expect(got).To(HaveLen(2), "the client is rebuilt when the provider's settings change")
		g.Expect(got[1].Limiter.Limits()).To(Equal(vendors.Limits{QPS: 5, Burst: 5}))
	})

	for _, tc := range []struct {
		vendor v1alpha1.Vendor
		want   vendors.Limits
	}{
		{v1alpha1.DingTalk, vendors.Limits{QPS: 19, Burst: 1}},
		{v1alpha1.TencentIM, vendors.Limits{QPS: 190, Burst: 1}},
		{v1alpha1.WhatsApp, vendors.Limits{QPS: 9.5, Burst: 1}},
	} {
		t.Run("default limits for "+string(tc.vendor), func(t *testing.T) {
			g := NewWithT(t)
			conns, _, conn := unitConnections(credentialsSecret("ns", "creds", tc.vendor, "s1"))
			_, err := conns.Client(t.Context(), unitProvider("ns", "p", tc.vendor, "creds"))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(conn.Connections()).To(HaveLen(1))
			g.Expect(conn.Connections()[0].Limiter.Limits()).To(Equal(tc.want))
		})
	}

	t.Run("vendor without a connector is stalled", func(t *testing.T) {
		g := NewWithT(t)
		conns, _, conn := unitConnections(credentialsSecret("ns", "creds", v1alpha1.WhatsApp, "s1"))
		conns.Vendors = slices.DeleteFunc(conns.Vendors, func(r vendors.Registration) bool { return r.Vendor == v1alpha1.WhatsApp })
		_, err := conns.Client(t.Context(), unitProvider("ns", "p", v1alpha1.WhatsApp, "creds"))
		se := asStalled(g, err)
		g.Expect(se.reason).To(Equal(v1alpha1.InvalidSpecReason))
		g.Expect(se.message).To(ContainSubstring(string(v1alpha1.WhatsApp)))
		g.Expect(conn.Connections()).To(BeEmpty())
	})

	t.Run("Connect error is returned and not cached", func(t *testing.T) {
		g := NewWithT(t)
		conns, _, conn := unitConnections(credentialsSecret("ns", "creds", v1alpha1.DingTalk, "s1"))
		conn.Err = vendors.NewError(vendors.ErrUnauthorized, "get access token", "", "bad secret")
		p := unitProvider("ns", "p", v1alpha1.DingTalk, "creds")
		_, err := conns.Client(t.Context(), p)
		g.Expect(err).To(MatchError(vendors.ErrUnauthorized))
		conn.Err = nil
		_, err = conns.Client(t.Context(), p)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(conn.Connections()).To(HaveLen(2))
	})
}

func TestFingerprint(t *testing.T) {
	type settings struct {
		AppID int64  `json:"appID"`
		Admin string `json:"admin"`
	}
	creds := func(mods ...func(*vendors.Credentials)) vendors.Credentials {
		c := vendors.Credentials{
			Endpoint: "https://api.example.com",
			Settings: settings{AppID: 1400000000, Admin: "admin"},
			Secret:   map[string][]byte{"secretKey": []byte("s1")},
		}
		for _, m := range mods {
			m(&c)
		}
		return c
	}
	const vendor = v1alpha1.TencentIM
	ref := fingerprint(vendor, creds())

	for _, tc := range []struct {
		name      string
		vendor    v1alpha1.Vendor
		c         vendors.Credentials
		wantEqual bool
	}{
		{name: "equal input", c: creds(), wantEqual: true},
		{name: "endpoint", c: creds(func(c *vendors.Credentials) { c.Endpoint = "https://other.example.com" })},
		{name: "secret value", c: creds(func(c *vendors.Credentials) { c.Secret = map[string][]byte{"secretKey": []byte("s2")} })},
		{name: "extra Secret key", c: creds(func(c *vendors.Credentials) {
			c.Secret = map[string][]byte{"secretKey": []byte("s1"), "x": []byte("y")}
		})},
		{name: "a vendor setting", c: creds(func(c *vendors.Credentials) { c.Settings = settings{AppID: 1400000001, Admin: "admin"} })},
		{name: "another vendor setting", c: creds(func(c *vendors.Credentials) { c.Settings = settings{AppID: 1400000000, Admin: "other"} })},
		{name: "no vendor settings", c: creds(func(c *vendors.Credentials) { c.Settings = nil })},
		{name: "vendor", vendor: v1alpha1.WhatsApp, c: creds()},
		{name: "secret value moved between keys", c: creds(func(c *vendors.Credentials) {
			c.Secret = map[string][]byte{"secretKey": []byte("s"), "z": []byte("1")}
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			v := cmp.Or(tc.vendor, vendor)
			got := fingerprint(v, tc.c)
			g.Expect(got).To(Equal(fingerprint(v, tc.c)), "deterministic")
			if tc.wantEqual {
				g.Expect(got).To(Equal(ref))
			} else {
				g.Expect(got).NotTo(Equal(ref))
			}
		})
	}

	t.Run("every registered vendor's settings take part", func(t *testing.T) {
		for _, reg := range registry.Vendors() {
			g := NewWithT(t)
			s := providerSettings(reg.Vendor)
			c := credentials(reg, s, map[string][]byte{"k": []byte("v")})
			g.Expect(c.Settings).NotTo(BeNil(), reg.Vendor)
			without := c
			without.Settings = nil
			g.Expect(fingerprint(reg.Vendor, c)).NotTo(Equal(fingerprint(reg.Vendor, without)), reg.Vendor)
		}
	})
}

// TestDefaultLimitsLeaveRoomForJitter feeds calls paced by the default bucket,
// each delayed by up to 40 ms of network jitter, into a vendor's per-second
// windows (the simulators' vendorsim.Sim.Allow): none is throttled. Paced at
// the documented limit itself, some are.
func TestDefaultLimitsLeaveRoomForJitter(t *testing.T) {
	throttled := func(qps float64, documented int) int {
		rng := rand.New(rand.NewPCG(7, 7))
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		bucket := rate.NewLimiter(rate.Limit(qps), 1) // as vendors.Limiter builds it
		var arrivals []time.Time
		for range 20 * documented { // twenty seconds of calls, back to back
			sent := start.Add(bucket.ReserveN(start, 1).DelayFrom(start))
			arrivals = append(arrivals, sent.Add(time.Duration(rng.Int64N(int64(40*time.Millisecond)))))
		}
		slices.SortFunc(arrivals, func(a, b time.Time) int { return a.Compare(b) })
		clk := clocktesting.NewFakePassiveClock(start)
		vendor := vendorsim.New(clk)
		n := 0
		for _, a := range arrivals {
			clk.SetTime(a)
			if !vendor.Allow("api", documented) {
				n++
			}
		}
		return n
	}
	for _, reg := range registry.Vendors() {
		documented := reg.RatePerAPI
		t.Run(string(reg.Vendor), func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(throttled(defaultLimits(reg).QPS, int(documented))).To(Equal(0))
			g.Expect(throttled(documented, int(documented))).To(BeNumerically(">", 0), "at the limit itself jitter is throttled")
		})
	}
}
