package whatsapp

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// callAs makes a signed call of action on srv with a provider's settings and
// credentials, as the operator would, and returns the status and body.
func callAs(t *testing.T, srv *httptest.Server, settings v1alpha1.ProviderSettings, secret map[string][]byte, action string, params map[string]string) (int, []byte) {
	t.Helper()
	q := url.Values{"CustSpaceId": {settings.WhatsApp.CustSpaceID}, "BusinessNumber": {settings.WhatsApp.BusinessNumber}, "Action": {action}, "Version": {Version}}
	for k, v := range params {
		q.Set(k, v)
	}
	r, err := http.NewRequest(http.MethodPost, settings.Endpoint+"/?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("x-acs-action", action)
	r.Header.Set("x-acs-version", Version)
	r.Header.Set("x-acs-date", time.Now().UTC().Format("2006-01-02T15:04:05Z"))
	r.Header.Set("x-acs-signature-nonce", randomHex(16))
	r.Header.Set("x-acs-content-sha256", hashHex(nil))
	sign(r, string(secret["accessKeyID"]), string(secret["accessKeySecret"]))
	resp, err := srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func TestRegistration_StartsAHarnessForTheAccountItDescribes(t *testing.T) {
	g := NewWithT(t)
	reg := Registration()
	g.Expect(reg.Vendor).To(Equal(v1alpha1.WhatsApp))
	h := reg.Start(vendorsim.SimConfig{Secret: "canary-secret", RatePerAPI: 2})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	settings, secret := h.Provider(srv.URL)
	g.Expect(settings.Vendor).To(Equal(v1alpha1.WhatsApp))
	g.Expect(settings.Endpoint).To(Equal(srv.URL))
	g.Expect(secret).To(HaveKeyWithValue("accessKeySecret", []byte("canary-secret")))
	g.Expect(secret).To(HaveKey("accessKeyID"))

	status, body := callAs(t, srv, settings, secret, "AddChatGroup", map[string]string{"Subject": "Team"})
	g.Expect(status).To(Equal(http.StatusOK), string(body))
	g.Expect(h.Core().Count(h.CreateOp(), "ok")).To(Equal(1), "the call log names the create operation")
	g.Expect(h.GroupIDs("Team")).To(HaveLen(1))
	g.Expect(h.Secrets()).To(ContainElement("canary-secret"))
	g.Expect(h.Secrets()).To(HaveLen(2), "the secret and the one signature sent")

	_, _ = callAs(t, srv, settings, secret, "ListChatGroup", map[string]string{"Page": firstPage})
	_, _ = callAs(t, srv, settings, secret, "ListChatGroup", map[string]string{"Page": firstPage})
	status, body = callAs(t, srv, settings, secret, "ListChatGroup", map[string]string{"Page": firstPage})
	g.Expect(h.IsThrottle(status, body)).To(BeTrue(), "RatePerAPI 2: the third call in a second is throttled")
	g.Expect(h.Core().Count("ListChatGroup", "throttled")).To(Equal(1))
	g.Expect(h.IsThrottle(http.StatusOK, []byte(`{"Code":"OK"}`))).To(BeFalse())
	g.Expect(h.IsThrottle(http.StatusBadRequest, []byte(`not json Throttling`))).To(BeFalse())
}

func TestHarness_FailWithAndThrottle(t *testing.T) {
	g := NewWithT(t)
	h := NewHarness(vendorsim.SimConfig{})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	settings, secret := h.Provider(srv.URL)

	h.FailWith("ListChatGroup", "Undocumented.Code")
	status, body := callAs(t, srv, settings, secret, "ListChatGroup", map[string]string{"Page": firstPage})
	g.Expect(status).To(Equal(http.StatusBadRequest))
	var e struct{ Code string }
	g.Expect(json.Unmarshal(body, &e)).To(Succeed())
	g.Expect(e.Code).To(Equal("Undocumented.Code"))
	h.FailWith("ListChatGroup", "")
	status, _ = callAs(t, srv, settings, secret, "ListChatGroup", map[string]string{"Page": firstPage})
	g.Expect(status).To(Equal(http.StatusOK))

	h.Throttle(time.Minute)
	status, body = callAs(t, srv, settings, secret, "AddChatGroup", map[string]string{"Subject": "x"})
	g.Expect(h.IsThrottle(status, body)).To(BeTrue())
	g.Expect(h.GroupIDs("x")).To(BeEmpty())
}

func TestHarness_VendorKnowledge(t *testing.T) {
	g := NewWithT(t)
	h := NewHarness(vendorsim.SimConfig{})

	e164 := regexp.MustCompile(`^[+]?[1-9][0-9]{6,14}$`) // the API's rule for WhatsApp members
	for _, i := range []int{0, 7, 9999, 123456} {
		g.Expect(h.User(i)).To(MatchRegexp(e164.String()))
	}
	g.Expect(h.User(1)).NotTo(Equal(h.User(2)))
	g.Expect(h.MaxMembers()).To(Equal(8))

	spec := v1alpha1.ChatGroupSpec{Vendor: v1alpha1.WhatsApp, Name: "Team", Owner: "owner1"}
	h.Spec(&spec, "owner1")
	g.Expect(spec.Owner).To(BeEmpty(), "WhatsApp groups have no owner")
	g.Expect(spec.Description).NotTo(BeEmpty())

	for action, write := range map[string]bool{
		"AddChatGroup": true, "UpdateChatGroup": true, "DeleteChatGroup": true, "AddChatGroupInviteLink": true,
		"DeleteChatGroupInviteLink": true, "DeleteChatGroupParticipants": true,
		"ListChatGroup": false, "ListChatGroupParticipants": false,
	} {
		g.Expect(h.IsWrite(action)).To(Equal(write), action)
		r := httptest.NewRequest(http.MethodPost, "/?Action="+action, nil)
		g.Expect(h.OpOf(r)).To(Equal(action))
		r.Header.Set("x-acs-action", action)
		g.Expect(h.OpOf(r)).To(Equal(action))
	}

	id := h.Put("Team", h.User(1))
	name, members, ok := h.Lookup(id)
	g.Expect(ok).To(BeTrue())
	g.Expect(name).To(Equal("Team"))
	g.Expect(members).To(Equal([]string{h.User(1)}), "spelled as a ChatGroup lists them")
	g.Expect(h.GroupIDs("Team")).To(Equal([]string{id}))
	g.Expect(h.GroupIDs("Tea")).To(BeEmpty(), "exact titles only")
	_, _, ok = h.Lookup("EA999999")
	g.Expect(ok).To(BeFalse())
	h.AddUsers(h.User(3)) // no directory: harmless
}
