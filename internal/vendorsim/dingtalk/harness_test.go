package dingtalk

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// TestHarness drives the simulator the way the project's tools do, through
// vendorsim.Harness only, over HTTP in the vendor's own format.
func TestHarness(t *testing.T) {
	g := NewWithT(t)
	reg := Registration()
	g.Expect(reg.Vendor).To(Equal(v1alpha1.DingTalk))
	var h vendorsim.Harness = reg.Start(vendorsim.SimConfig{Users: []string{"user0", "user1"}, Secret: "canary-secret"})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	f := &fixture{Server: h.(*Harness).Server, url: srv.URL}

	settings, secret := h.Provider(srv.URL)
	g.Expect(settings).To(Equal(v1alpha1.ProviderSettings{Vendor: v1alpha1.DingTalk, Endpoint: srv.URL,
		DingTalk: &v1alpha1.DingTalkProvider{LegacyEndpoint: srv.URL, SceneGroupTemplateID: HarnessTemplate}}))
	tr := f.do(t, "POST", "/v1.0/oauth2/accessToken", "", map[string]string{"appKey": string(secret["appKey"]), "appSecret": string(secret["appSecret"])})
	g.Expect(tr.status).To(Equal(200), "the Secret's data opens the account")
	tok := tr.str("accessToken")
	g.Expect(h.Secrets()).To(ConsistOf("canary-secret", tok))

	spec := v1alpha1.ChatGroupSpec{Vendor: v1alpha1.DingTalk, Name: "team", Members: []string{h.User(1)}}
	h.Spec(&spec, h.User(0))
	g.Expect(spec.Owner).To(Equal("user0"))
	r := f.do(t, "POST", "/v1.0/im/group/create", tok, map[string]any{"name": spec.Name, "owner": spec.Owner, "useridlist": []string{spec.Owner, h.User(1)}})
	g.Expect(r.status).To(Equal(200), "%v", r.body)
	g.Expect(h.GroupIDs("team")).To(Equal([]string{r.str("chatid")}))
	name, members, ok := h.Lookup(r.str("chatid"))
	g.Expect(ok).To(BeTrue())
	g.Expect(name).To(Equal("team"))
	g.Expect(members).To(Equal([]string{"user0", "user1"}))
	_, _, ok = h.Lookup("chat404")
	g.Expect(ok).To(BeFalse())
	g.Expect(h.Core().Count(h.CreateOp(), "ok")).To(Equal(1))

	add := map[string]any{"chatid": r.str("chatid"), "add_useridlist": []string{h.User(2)}}
	g.Expect(f.do(t, "POST", "/v1.0/im/group/update", tok, add).str("code")).To(Equal(CodeParameterInvalid), "user2 is not in the directory")
	h.AddUsers(h.User(2))
	g.Expect(f.do(t, "POST", "/v1.0/im/group/update", tok, add).status).To(Equal(200))

	h.FailWith(OpUpdate, CodePermissionDenied)
	g.Expect(f.do(t, "POST", "/v1.0/im/group/update", tok, add).str("code")).To(Equal(CodePermissionDenied))
	h.FailWith(OpUpdate, "")

	h.Throttle(time.Minute)
	resp := f.do(t, "GET", "/chat/get?access_token="+tok+"&chatid="+r.str("chatid"), "", nil)
	g.Expect(resp.num("errcode")).To(Equal(ErrcodeQPSLimit))
	g.Expect(h.Core().Count(OpGet, "throttled")).To(Equal(1))
}

func TestHarness_Defaults(t *testing.T) {
	g := NewWithT(t)
	h := NewHarness(vendorsim.SimConfig{RatePerAPI: 1}, vendorsim.WithClock(clocktesting.NewFakeClock(time.Unix(1_800_000_000, 0))))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	f := &fixture{Server: h.Server, url: srv.URL}
	_, secret := h.Provider(srv.URL)
	g.Expect(secret).To(Equal(map[string][]byte{"appKey": []byte(HarnessAppKey), "appSecret": []byte(HarnessAppSecret)}))

	tok := f.do(t, "POST", "/v1.0/oauth2/accessToken", "", map[string]string{"appKey": HarnessAppKey, "appSecret": HarnessAppSecret}).str("accessToken")
	create := func(name string) response {
		return f.do(t, "POST", "/v1.0/im/group/create", tok, map[string]any{"name": name, "owner": "manager4220",
			"useridlist": []string{"manager4220", h.User(1), h.User(6)}})
	}
	g.Expect(create("a").status).To(Equal(200), "the samples' people are in the directory")
	g.Expect(create("b").str("code")).To(Equal(CodeQPSLimit), "RatePerAPI replaces the documented limit")
}

func TestHarness_Ops(t *testing.T) {
	g := NewWithT(t)
	h := NewHarness(vendorsim.SimConfig{})
	for path, op := range map[string]string{
		"/v1.0/oauth2/accessToken": OpToken, "/v1.0/im/group/create": OpCreate, "/v1.0/im/group/update": OpUpdate,
		"/chat/get": OpGet, "/v1.0/im/innerGroups/search": OpSearch, "/elsewhere": "",
	} {
		r, _ := http.NewRequest(http.MethodPost, "http://sim"+path+"?access_token=x", nil)
		g.Expect(h.OpOf(r)).To(Equal(op), path)
	}
	for op, write := range map[string]bool{OpToken: false, OpCreate: true, OpUpdate: true, OpGet: false, OpSearch: false} {
		g.Expect(h.IsWrite(op)).To(Equal(write), op)
	}
	for body, throttle := range map[string]bool{
		`{"code":"` + CodeQPSLimit + `"}`:         true,
		`{"code":"` + CodeQPSLimitGlobal + `"}`:   true,
		`{"errcode":90018}`:                       true,
		`{"errcode":90002}`:                       true,
		`{"errcode":88,"sub_code":"90018"}`:       true,
		`{"errcode":88,"sub_code":"60011"}`:       false,
		`{"code":"` + CodeSystemError + `"}`:      false,
		`{"errcode":0,"errmsg":"ok"}`:             false,
		`<html>Forbidden.AccessDenied.Qps</html>`: false,
	} {
		g.Expect(h.IsThrottle(200, []byte(body))).To(Equal(throttle), body)
	}
	g.Expect(h.MaxMembers()).To(BeZero())
}
