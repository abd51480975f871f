package tencentim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// harnessCall posts body to command with a UserSig made from the provider's
// settings and Secret, as the operator would, and returns the HTTP status and
// the decoded answer.
func harnessCall(t *testing.T, h vendorsim.Harness, srvURL, command string, body any) (int, map[string]any) {
	t.Helper()
	g := NewWithT(t)
	settings, secret := h.Provider(srvURL)
	q := url.Values{}
	q.Set("sdkappid", strconv.FormatInt(settings.TencentIM.SDKAppID, 10))
	q.Set("identifier", settings.TencentIM.AdminIdentifier)
	q.Set("usersig", SignUserSig(string(secret["secretKey"]), settings.TencentIM.SDKAppID, settings.TencentIM.AdminIdentifier, time.Now(), time.Hour))
	q.Set("random", "7")
	q.Set("contenttype", "json")
	raw, err := json.Marshal(body)
	g.Expect(err).NotTo(HaveOccurred())
	resp, err := http.Post(settings.Endpoint+servicePath+command+"?"+q.Encode(), "application/json", strings.NewReader(string(raw)))
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	out := map[string]any{}
	g.Expect(json.NewDecoder(resp.Body).Decode(&out)).To(Succeed())
	return resp.StatusCode, out
}

// TestHarness drives the simulator the way the project's tools do, through
// vendorsim.Harness only, over HTTP in the vendor's own format.
func TestHarness(t *testing.T) {
	g := NewWithT(t)
	reg := Registration()
	g.Expect(reg.Vendor).To(Equal(v1alpha1.TencentIM))
	var h vendorsim.Harness = reg.Start(vendorsim.SimConfig{Users: []string{"user0", "user1"}, Secret: "canary-secret"})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	settings, secret := h.Provider(srv.URL)
	g.Expect(settings).To(Equal(v1alpha1.ProviderSettings{Vendor: v1alpha1.TencentIM, Endpoint: srv.URL,
		TencentIM: &v1alpha1.TencentIMProvider{SDKAppID: HarnessAppID, AdminIdentifier: HarnessAdmin}}))
	g.Expect(secret).To(Equal(map[string][]byte{"secretKey": []byte("canary-secret")}))

	spec := v1alpha1.ChatGroupSpec{Vendor: v1alpha1.TencentIM, Name: "team", Members: []string{h.User(1)}}
	h.Spec(&spec, "")
	g.Expect(spec.Owner).To(Equal("user0"))
	g.Expect(spec.TencentIM).To(Equal(&v1alpha1.TencentIMGroup{GroupType: "Private"}))

	status, resp := harnessCall(t, h, srv.URL, h.CreateOp(), map[string]any{"Type": spec.TencentIM.GroupType, "GroupId": "g1",
		"Name": spec.Name, "Owner_Account": spec.Owner, "MemberList": []map[string]string{{"Member_Account": h.User(1)}}})
	g.Expect(status).To(Equal(http.StatusOK))
	g.Expect(resp["ErrorCode"]).To(BeZero(), "the Secret's key signs for the provider's admin: %v", resp)
	g.Expect(h.GroupIDs("team")).To(Equal([]string{"g1"}))
	name, members, ok := h.Lookup("g1")
	g.Expect(ok).To(BeTrue())
	g.Expect(name).To(Equal("team"))
	g.Expect(members).To(Equal([]string{"user0", "user1"}))
	_, _, ok = h.Lookup("g404")
	g.Expect(ok).To(BeFalse())
	g.Expect(h.Core().Count(h.CreateOp(), "ok")).To(Equal(1))
	g.Expect(h.Secrets()[0]).To(Equal("canary-secret"))
	g.Expect(h.Secrets()[1:]).To(ConsistOf(h.(*Harness).UserSigs()), "and every UserSig it was sent")
	g.Expect(h.Secrets()).To(HaveLen(1 + len(h.(*Harness).UserSigs())))
	g.Expect(h.(*Harness).UserSigs()).NotTo(BeEmpty())

	add := map[string]any{"GroupId": "g1", "MemberList": []map[string]string{{"Member_Account": h.User(2)}}}
	_, resp = harnessCall(t, h, srv.URL, "add_group_member", add)
	g.Expect(resp["ErrorCode"]).To(BeNumerically("==", codeNoAccount), "user2 was not imported")
	h.AddUsers(h.User(2))
	_, resp = harnessCall(t, h, srv.URL, "add_group_member", add)
	g.Expect(resp["ErrorCode"]).To(BeZero())

	h.FailWith("modify_group_base_info", "10007")
	status, resp = harnessCall(t, h, srv.URL, "modify_group_base_info", map[string]any{"GroupId": "g1", "Name": "x"})
	g.Expect(status).To(Equal(http.StatusOK), "the vendor answers every outcome with HTTP 200")
	g.Expect(resp["ActionStatus"]).To(Equal("FAIL"))
	g.Expect(resp["ErrorCode"]).To(BeNumerically("==", 10007))
	h.FailWith("modify_group_base_info", "")
	_, resp = harnessCall(t, h, srv.URL, "modify_group_base_info", map[string]any{"GroupId": "g1", "Name": "x"})
	g.Expect(resp["ErrorCode"]).To(BeZero())

	h.Throttle(time.Minute)
	status, resp = harnessCall(t, h, srv.URL, "get_group_info", map[string]any{"GroupIdList": []string{"g1"}})
	raw, _ := json.Marshal(resp)
	g.Expect(h.IsThrottle(status, raw)).To(BeTrue())
	g.Expect(h.Core().Count("get_group_info", "throttled")).To(Equal(1))
}

func TestHarness_Defaults(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Now())
	h := NewHarness(vendorsim.SimConfig{RatePerAPI: 1}, vendorsim.WithClock(clk))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	_, secret := h.Provider(srv.URL)
	g.Expect(secret).To(Equal(map[string][]byte{"secretKey": []byte(HarnessSecretKey)}))

	create := func(id string) float64 {
		_, resp := harnessCall(t, h, srv.URL, "create_group", map[string]any{"Type": "Private", "GroupId": id, "Name": id,
			"Owner_Account": "alice", "MemberList": []map[string]string{{"Member_Account": "bob"}, {"Member_Account": "carol"}}})
		return resp["ErrorCode"].(float64)
	}
	g.Expect(create("a")).To(BeZero(), "the samples' accounts are imported")
	g.Expect(create("b")).To(BeNumerically("==", codeRateLimited), "RatePerAPI replaces the documented limit")
	clk.Step(time.Second)
	g.Expect(create("b")).To(BeZero(), "a new second, by the options' clock")
}

func TestHarness_Ops(t *testing.T) {
	g := NewWithT(t)
	h := NewHarness(vendorsim.SimConfig{})
	for path, op := range map[string]string{
		"/v4/group_open_http_svc/create_group": "create_group", "/v4/group_open_http_svc/get_group_info": "get_group_info",
		"/v4/im_open_login_svc/account_import": "", "/elsewhere": "",
	} {
		r, _ := http.NewRequest(http.MethodPost, "http://sim"+path+"?usersig=x", nil)
		g.Expect(h.OpOf(r)).To(Equal(op), path)
	}
	for op, write := range map[string]bool{
		"create_group": true, "modify_group_base_info": true, "add_group_member": true, "delete_group_member": true,
		"change_group_owner": true, "destroy_group": true,
		"get_group_info": false, "get_group_member_info": false, "get_appid_group_list": false,
	} {
		g.Expect(h.IsWrite(op)).To(Equal(write), op)
	}
	for body, throttle := range map[string]bool{
		`{"ActionStatus":"FAIL","ErrorCode":60007,"ErrorInfo":"too frequent"}`: true,
		`{"ActionStatus":"FAIL","ErrorCode":10006,"ErrorInfo":"too frequent"}`: true,
		`{"ActionStatus":"FAIL","ErrorCode":10002,"ErrorInfo":"retry"}`:        false,
		`{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`:                   false,
		`<html>60007</html>`: false,
	} {
		g.Expect(h.IsThrottle(200, []byte(body))).To(Equal(throttle), body)
	}
	g.Expect(h.MaxMembers()).To(Equal(5999))
}
