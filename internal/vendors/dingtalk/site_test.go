package dingtalk

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
	simdingtalk "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/dingtalk"
)

func TestLegacyOf(t *testing.T) {
	for endpoint, want := range map[string]string{
		"https://api.dingtalk.io":      "https://oapi.dingtalk.io",
		"https://api.dingtalk.io/":     "https://oapi.dingtalk.io",
		"https://api.dingtalk.com":     "https://oapi.dingtalk.com",
		"https://api.dingtalk.io:8443": "https://oapi.dingtalk.io:8443",
		"http://127.0.0.1:9000":        DefaultLegacyEndpoint,
		"https://proxy.example/dt":     DefaultLegacyEndpoint,
	} {
		NewWithT(t).Expect(legacyOf(endpoint)).To(Equal(want), endpoint)
	}
}

// Each DingTalk site serves both APIs under its own domain and honours only the
// tokens it issued: with the international endpoint and no legacyEndpoint,
// chat/get must go to oapi.dingtalk.io.
func TestSites_LegacyCallsFollowTheEndpoint(t *testing.T) {
	sites := map[string]*simdingtalk.Server{}
	for _, site := range []string{"dingtalk.com", "dingtalk.io"} {
		sites[site] = simdingtalk.New(simdingtalk.Config{Apps: map[string]string{"key": "secret"}, Users: []string{"o1", "u1"}, Site: site})
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := strings.Cut(r.Host, ":")
		for site, s := range sites {
			if strings.HasSuffix(host, "."+site) {
				s.ServeHTTP(w, r)
				return
			}
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	// Every host resolves to srv, whose certificate names example.com.
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.ServerName = "example.com"
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	hc := &http.Client{Transport: tr}

	for _, tc := range []struct{ endpoint, site string }{
		{"https://api.dingtalk.io", "dingtalk.io"},
		{"", "dingtalk.com"},
	} {
		t.Run(tc.site, func(t *testing.T) {
			g := NewWithT(t)
			c, err := New(vendors.Credentials{Endpoint: tc.endpoint, Secret: map[string][]byte{SecretAppKey: []byte("key"), SecretAppSecret: []byte("secret")}},
				vendors.WithHTTPClient(hc))
			g.Expect(err).NotTo(HaveOccurred())
			want := vendors.GroupSpec{Name: "site", Owner: "o1", Members: []string{"u1"}, Vendor: groupSettings(nil)}
			created, err := c.Create(ctx, want)
			g.Expect(err).NotTo(HaveOccurred())
			obs, err := c.Observe(ctx, created.ID, want)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(obs).To(And(HaveField("Exists", true), HaveField("UpToDate", true)))
			g.Expect(sites[tc.site].Count(simdingtalk.OpGet, "ok")).To(Equal(1), "chat/get went to the site's legacy host")
		})
	}
}

// The provider's check exercises qyapi_chat_read and qyapi_chat_manage without
// a group, names the one missing, picks up a grant, and once both passed costs
// no metered call on later rechecks.
func TestCheckCredentials_ProbesPermissions(t *testing.T) {
	g := NewWithT(t)
	s := simdingtalk.New(simdingtalk.Config{Apps: map[string]string{"key": "secret"}, Users: []string{"o1"}})
	srv := httptest.NewServer(s)
	defer srv.Close()
	c, err := New(vendors.Credentials{Endpoint: srv.URL, Settings: Settings{LegacyEndpoint: srv.URL},
		Secret: map[string][]byte{SecretAppKey: []byte("key"), SecretAppSecret: []byte("secret")}})
	g.Expect(err).NotTo(HaveOccurred())

	for _, perm := range []string{simdingtalk.PermChatRead, simdingtalk.PermChatManage} {
		s.Revoke("key", perm)
		err = c.CheckCredentials(ctx)
		g.Expect(err).To(MatchError(vendors.ErrAccessDenied), perm)
		g.Expect(err.Error()).To(ContainSubstring("grant the app the permission " + perm))
		s.Grant("key", perm)
	}
	g.Expect(c.CheckCredentials(ctx)).To(Succeed(), "granted: picked up by the next check")
	gets, updates := s.Count(simdingtalk.OpGet), s.Count(simdingtalk.OpUpdate)
	g.Expect(c.CheckCredentials(ctx)).To(Succeed())
	g.Expect(s.Count(simdingtalk.OpGet)).To(Equal(gets), "rechecks make no metered call")
	g.Expect(s.Count(simdingtalk.OpUpdate)).To(Equal(updates))
	g.Expect(s.Writes(simdingtalk.Applied(simdingtalk.OpUpdate))).To(BeEmpty(), "the probes change nothing")
}
