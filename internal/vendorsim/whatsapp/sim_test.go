package whatsapp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

const (
	keyID    = "LTAI-sim-test"
	secret   = "sim-test-secret"
	space    = "cams-sim"
	business = "8613800000000"
)

type harness struct {
	t     *testing.T
	sim   *Sim
	srv   *httptest.Server
	clock *clocktesting.FakeClock
	nonce int
}

func newHarness(t *testing.T, mutate ...func(*Config)) *harness {
	c := clocktesting.NewFakeClock(time.Date(2026, 3, 27, 8, 0, 0, 0, time.UTC))
	cfg := Config{AccessKeyID: keyID, AccessKeySecret: secret, CustSpaceID: space, BusinessNumber: business, CreateDelay: 5 * time.Second}
	for _, m := range mutate {
		m(&cfg)
	}
	h := &harness{t: t, sim: New(cfg, vendorsim.WithClock(c)), clock: c}
	h.srv = httptest.NewServer(h.sim)
	t.Cleanup(h.srv.Close)
	return h
}

// request builds an unsigned call of action with the common parameters.
func (h *harness) request(action string, params map[string]string) *http.Request {
	q := url.Values{"CustSpaceId": {space}, "BusinessNumber": {business}, "Action": {action}, "Version": {Version}}
	for k, v := range params {
		q.Set(k, v)
	}
	r, err := http.NewRequest(http.MethodPost, h.srv.URL+"/?"+q.Encode(), nil)
	if err != nil {
		h.t.Fatal(err)
	}
	h.nonce++
	r.Header.Set("x-acs-action", action)
	r.Header.Set("x-acs-version", Version)
	r.Header.Set("x-acs-date", h.clock.Now().UTC().Format("2006-01-02T15:04:05Z"))
	r.Header.Set("x-acs-signature-nonce", fmt.Sprintf("nonce-%d", h.nonce))
	r.Header.Set("x-acs-content-sha256", hashHex(nil))
	return r
}

// sign signs r with id/key, using the verifier's own canonical form (checked
// against the published example in TestVerify_PublishedExample).
func sign(r *http.Request, id, key string) {
	names := []string{"host"}
	for k := range r.Header {
		if n := strings.ToLower(k); strings.HasPrefix(n, "x-acs-") {
			names = append(names, n)
		}
	}
	cr := canonicalRequest(r, names, r.Header.Get("x-acs-content-sha256"))
	r.Header.Set("Authorization", algorithm+" Credential="+id+",SignedHeaders="+strings.Join(slices.Sorted(slices.Values(names)), ";")+",Signature="+hmacHex(key, stringToSign(cr)))
}

// do sends r and decodes the answer.
func (h *harness) do(r *http.Request) (int, map[string]any) {
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, body
}

// call makes a correctly signed call.
func (h *harness) call(action string, params map[string]string) (int, map[string]any) {
	r := h.request(action, params)
	sign(r, keyID, secret)
	return h.do(r)
}

// ok makes a call that must succeed and returns its body.
func (h *harness) ok(action string, params map[string]string) map[string]any {
	h.t.Helper()
	status, body := h.call(action, params)
	if status != http.StatusOK || body["Code"] != "OK" {
		h.t.Fatalf("%s: HTTP %d %v", action, status, body)
	}
	return body
}

func list(body map[string]any) []map[string]any {
	var out []map[string]any
	for _, e := range body["Data"].(map[string]any)["List"].([]any) {
		out = append(out, e.(map[string]any))
	}
	return out
}

const firstPage = `{"Index":1,"Size":20}`

func TestVerify_PublishedExample(t *testing.T) {
	g := NewWithT(t)
	// Alibaba Cloud's worked example for signature V3 (see the client's auth_test.go
	// for the full canonical request).
	at := time.Date(2023, 10, 26, 10, 22, 32, 0, time.UTC)
	s := New(Config{AccessKeyID: "YourAccessKeyId", AccessKeySecret: "YourAccessKeySecret"}, vendorsim.WithClock(clocktesting.NewFakeClock(at)))
	newReq := func(sig string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "https://ecs.cn-shanghai.aliyuncs.com/?ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai", nil)
		r.Header.Set("x-acs-action", "RunInstances")
		r.Header.Set("x-acs-version", "2014-05-26")
		r.Header.Set("x-acs-date", "2023-10-26T10:22:32Z")
		r.Header.Set("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d")
		r.Header.Set("x-acs-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
		r.Header.Set("Authorization", "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature="+sig)
		return r
	}
	const published = "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
	r := newReq(published)
	g.Expect(stringToSign(canonicalRequest(r, []string{"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}, hashHex(nil)))).
		To(Equal("ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"))
	sig, e := s.verify(r)
	g.Expect(e).To(BeNil())
	g.Expect(sig).To(Equal(published))

	_, e = s.verify(newReq(strings.Repeat("0", 64)))
	g.Expect(e).NotTo(BeNil())
	g.Expect(e.code).To(Equal("SignatureDoesNotMatch"))
}

func TestAuthentication(t *testing.T) {
	for _, tc := range []struct {
		name       string
		build      func(h *harness) *http.Request
		wantStatus int
		wantCode   string
	}{
		{name: "unsigned", wantStatus: 400, wantCode: "IncompleteSignature",
			build: func(h *harness) *http.Request {
				return h.request("ListChatGroup", map[string]string{"Page": firstPage})
			}},
		{name: "unknown AccessKey ID", wantStatus: 404, wantCode: "InvalidAccessKeyId.NotFound",
			build: func(h *harness) *http.Request {
				r := h.request("ListChatGroup", map[string]string{"Page": firstPage})
				sign(r, "LTAI-other", secret)
				return r
			}},
		{name: "wrong secret", wantStatus: 400, wantCode: "SignatureDoesNotMatch",
			build: func(h *harness) *http.Request {
				r := h.request("ListChatGroup", map[string]string{"Page": firstPage})
				sign(r, keyID, "wrong")
				return r
			}},
		{name: "query changed after signing", wantStatus: 400, wantCode: "SignatureDoesNotMatch",
			build: func(h *harness) *http.Request {
				r := h.request("ListChatGroup", map[string]string{"Page": firstPage})
				sign(r, keyID, secret)
				r.URL.RawQuery += "&Subject=x"
				return r
			}},
		{name: "an x-acs header left unsigned", wantStatus: 400, wantCode: "IncompleteSignature",
			build: func(h *harness) *http.Request {
				r := h.request("ListChatGroup", map[string]string{"Page": firstPage})
				sign(r, keyID, secret)
				r.Header.Set("x-acs-extra", "1")
				return r
			}},
		{name: "date too old", wantStatus: 400, wantCode: "InvalidTimeStamp.Expired",
			build: func(h *harness) *http.Request {
				r := h.request("ListChatGroup", map[string]string{"Page": firstPage})
				r.Header.Set("x-acs-date", h.clock.Now().Add(-16*time.Minute).Format("2006-01-02T15:04:05Z"))
				sign(r, keyID, secret)
				return r
			}},
		{name: "wrong body hash", wantStatus: 400, wantCode: "SignatureDoesNotMatch",
			build: func(h *harness) *http.Request {
				r := h.request("ListChatGroup", map[string]string{"Page": firstPage})
				r.Header.Set("x-acs-content-sha256", hashHex([]byte("x")))
				sign(r, keyID, secret)
				return r
			}},
		{name: "reused nonce", wantStatus: 400, wantCode: "SignatureNonceUsed",
			build: func(h *harness) *http.Request {
				r := h.request("ListChatGroup", map[string]string{"Page": firstPage})
				sign(r, keyID, secret)
				status, _ := h.do(r.Clone(r.Context()))
				if status != 200 {
					h.t.Fatalf("first use: HTTP %d", status)
				}
				return r
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			h := newHarness(t)
			status, body := h.do(tc.build(h))
			g.Expect(status).To(Equal(tc.wantStatus))
			g.Expect(body["Code"]).To(Equal(tc.wantCode))
			g.Expect(h.sim.Count("ListChatGroup", "error")).To(Equal(1))
		})
	}
}

func TestCommonParameters(t *testing.T) {
	for _, tc := range []struct {
		name       string
		action     string
		params     map[string]string
		version    string
		wantStatus int
		wantCode   string
	}{
		{name: "missing CustSpaceId", action: "ListChatGroup", params: map[string]string{"CustSpaceId": "", "Page": firstPage}, wantStatus: 400, wantCode: "MissingParameter"},
		{name: "missing BusinessNumber", action: "ListChatGroup", params: map[string]string{"BusinessNumber": "", "Page": firstPage}, wantStatus: 400, wantCode: "MissingParameter"},
		{name: "another account's space", action: "ListChatGroup", params: map[string]string{"CustSpaceId": "cams-other", "Page": firstPage}, wantStatus: 400, wantCode: "InvalidParameter.CustSpaceId"},
		{name: "another channel", action: "ListChatGroup", params: map[string]string{"ChannelType": "TELEGRAM", "Page": firstPage}, wantStatus: 400, wantCode: "InvalidParameter.ChannelType"},
		{name: "unknown action", action: "SendChatappMessage", wantStatus: 404, wantCode: "InvalidAction.NotFound"},
		{name: "wrong version", action: "ListChatGroup", params: map[string]string{"Page": firstPage}, version: "2019-01-01", wantStatus: 404, wantCode: "InvalidVersion"},
		{name: "missing Page", action: "ListChatGroup", wantStatus: 400, wantCode: "InvalidParameter.Page"},
		{name: "missing GroupId", action: "DeleteChatGroup", wantStatus: 400, wantCode: "MissingParameter"},
		{name: "unknown group", action: "DeleteChatGroup", params: map[string]string{"GroupId": "EA999999"}, wantStatus: 404, wantCode: "GroupNotExist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			h := newHarness(t)
			r := h.request(tc.action, tc.params)
			if tc.version != "" {
				r.Header.Set("x-acs-version", tc.version)
				q := r.URL.Query()
				q.Set("Version", tc.version)
				r.URL.RawQuery = q.Encode()
			}
			sign(r, keyID, secret)
			status, body := h.do(r)
			g.Expect(status).To(Equal(tc.wantStatus))
			g.Expect(body["Code"]).To(Equal(tc.wantCode))
			g.Expect(body["RequestId"]).NotTo(BeEmpty())
		})
	}
}

func TestAddChatGroup_IsAsynchronous(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t)
	body := h.ok("AddChatGroup", map[string]string{"Subject": "Field team", "Description": "Site visits"})
	g.Expect(body["UniqueCode"]).NotTo(BeEmpty())
	g.Expect(body).NotTo(HaveKey("GroupId"), "CAMS does not return the group ID")

	groups := list(h.ok("ListChatGroup", map[string]string{"Subject": "Field team", "Page": firstPage}))
	g.Expect(groups).To(HaveLen(1))
	g.Expect(groups[0]["GroupStatus"]).To(Equal(StatusCreating))
	g.Expect(groups[0]["Description"]).To(Equal("Site visits"))
	id := groups[0]["GroupId"].(string)

	_, body = h.call("AddChatGroupInviteLink", map[string]string{"GroupId": id})
	g.Expect(body["Code"]).To(Equal("GroupStatusInvalid"), "no links while CREATING")

	h.clock.Step(5 * time.Second)
	g.Expect(list(h.ok("ListChatGroup", map[string]string{"Subject": "Field team", "Page": firstPage}))[0]["GroupStatus"]).To(Equal(StatusActive))
	g.Expect(h.sim.Count("AddChatGroup", "ok")).To(Equal(1))

	_, body = h.call("AddChatGroup", nil)
	g.Expect(body["Code"]).To(Equal("MissingParameter"))
}

func TestSetCreateDelay_AppliesToGroupsStillCreating(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, func(c *Config) { c.CreateDelay = time.Hour })
	h.ok("AddChatGroup", map[string]string{"Subject": "Slow"})
	created := h.sim.GroupsWithSubject("Slow")
	g.Expect(created).To(HaveLen(1))
	g.Expect(created[0].Status).To(Equal(StatusCreating))
	h.sim.SetCreateDelay(0)
	got, ok := h.sim.Group(created[0].ID)
	g.Expect(ok).To(BeTrue())
	g.Expect(got.Status).To(Equal(StatusActive))
}

func TestListChatGroup(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, func(c *Config) { c.CreateDelay = 0 })
	for i := range 25 {
		h.sim.Put(fmt.Sprintf("Team %02d", i))
	}
	h.sim.Put("Other")

	body := h.ok("ListChatGroup", map[string]string{"Subject": "Team", "Page": `{"Index":2,"Size":20}`})
	g.Expect(body["Data"].(map[string]any)["Total"]).To(BeEquivalentTo(25), "the subject filter matches substrings")
	g.Expect(list(body)).To(HaveLen(5))
	g.Expect(list(h.ok("ListChatGroup", map[string]string{"Page": `{"Index":1,"Size":100}`}))).To(HaveLen(26))
	g.Expect(list(h.ok("ListChatGroup", map[string]string{"Subject": "Team 07", "Page": firstPage}))[0]).To(And(
		HaveKeyWithValue("Subject", "Team 07"), HaveKeyWithValue("BusinessNumber", business), HaveKeyWithValue("GroupStatus", StatusActive)))
	g.Expect(list(h.ok("ListChatGroup", map[string]string{"GroupStatus": StatusCreating, "Page": firstPage}))).To(BeEmpty())
	g.Expect(h.ok("ListChatGroup", map[string]string{"Subject": "nothing", "Page": firstPage})["Data"]).To(HaveKeyWithValue("List", BeEmpty()))
	g.Expect(h.ok("ListChatGroup", map[string]string{"Subject": "nothing", "Page": firstPage})["Data"].(map[string]any)["List"]).NotTo(BeNil(), "an empty list, not null")
}

func TestUpdateChatGroup(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t)
	id := h.sim.Put("Old")
	body := h.ok("UpdateChatGroup", map[string]string{"GroupId": id, "Subject": "New", "ProfilePictureFile": "https://img.example/a.jpg"})
	g.Expect(body["Success"]).To(BeFalse(), "as in the documentation's sample")
	got, _ := h.sim.Group(id)
	g.Expect(got.Subject).To(Equal("New"))
	g.Expect(got.Description).To(BeEmpty(), "unset parameters are left alone")
	g.Expect(got.PictureSource).To(Equal("https://img.example/a.jpg"))
	g.Expect(got.ProfilePictureFile).To(HavePrefix("https://cams-media."), "CAMS lists its own copy of the picture")
	g.Expect(got.ProfilePictureFile).NotTo(Equal(got.PictureSource))

	_, body = h.call("UpdateChatGroup", map[string]string{"GroupId": id, "ProfilePictureFile": "not a url"})
	g.Expect(body["Code"]).To(Equal("InvalidParameter.ProfilePictureFile"))
	g.Expect(h.sim.Count("UpdateChatGroup", "ok")).To(Equal(1))
	g.Expect(h.sim.Count("UpdateChatGroup", "error")).To(Equal(1))
}

func TestDeleteChatGroup(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t)
	id := h.sim.Put("Doomed")
	h.ok("DeleteChatGroup", map[string]string{"GroupId": id})
	_, ok := h.sim.Group(id)
	g.Expect(ok).To(BeFalse())
	status, body := h.call("DeleteChatGroup", map[string]string{"GroupId": id})
	g.Expect(status).To(Equal(404))
	g.Expect(body["Code"]).To(Equal("GroupNotExist"))
}

func TestInviteLinksAndJoining(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t)
	id := h.sim.Put("Field team")
	g.Expect(h.sim.Join("https://chat.whatsapp.com/guess", "+8613800000001")).To(MatchError(ErrLinkInvalid))

	link := h.ok("AddChatGroupInviteLink", map[string]string{"GroupId": id})["InviteLink"].(string)
	g.Expect(link).To(HavePrefix("https://chat.whatsapp.com/"))
	got, _ := h.sim.Group(id)
	g.Expect(got.InviteLink).To(Equal(link))
	g.Expect(h.sim.Join(link, "+8613800000001")).To(Succeed())
	g.Expect(h.sim.Join(link, "+8613800000001")).To(Succeed(), "joining twice is harmless")

	participants := list(h.ok("ListChatGroupParticipants", map[string]string{"GroupId": id, "Page": firstPage}))
	g.Expect(participants).To(Equal([]map[string]any{{"ParticipantNumber": "8613800000001"}}), "numbers without +")

	newLink := h.ok("AddChatGroupInviteLink", map[string]string{"GroupId": id})["InviteLink"].(string)
	g.Expect(newLink).NotTo(Equal(link))
	g.Expect(h.sim.Join(link, "+8613800000002")).To(MatchError(ErrLinkInvalid), "a new link replaces the old one")

	h.ok("DeleteChatGroupInviteLink", map[string]string{"GroupId": id})
	g.Expect(h.sim.Join(newLink, "+8613800000002")).To(MatchError(ErrLinkInvalid), "revoked")
	got, _ = h.sim.Group(id)
	g.Expect(got.InviteLink).To(BeEmpty())
}

func TestJoin_EightParticipantsAtMost(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t)
	id := h.sim.Put("Full")
	link := h.ok("AddChatGroupInviteLink", map[string]string{"GroupId": id})["InviteLink"].(string)
	for i := range MaxParticipants {
		g.Expect(h.sim.Join(link, fmt.Sprintf("86138000000%02d", i))).To(Succeed())
	}
	g.Expect(h.sim.Join(link, "8613800000099")).To(MatchError(ErrGroupFull))
}

func TestDeleteChatGroupParticipants(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t)
	id := h.sim.Put("Team", "+8613800000001", "8613800000002", "8613800000003")
	body := h.ok("DeleteChatGroupParticipants", map[string]string{"GroupId": id, "List": `[{"ParticipantNumber":"8613800000001"},{"ParticipantNumber":"+8613800000003"},{"ParticipantNumber":"8613800000009"}]`})
	g.Expect(body["Result"]).To(BeEquivalentTo(2))
	got, _ := h.sim.Group(id)
	g.Expect(got.Participants).To(Equal([]string{"8613800000002"}))

	for _, bad := range []string{"", "[]", "not json", `[{"ParticipantNumber":"1"},{"ParticipantNumber":"2"},{"ParticipantNumber":"3"},{"ParticipantNumber":"4"},{"ParticipantNumber":"5"},{"ParticipantNumber":"6"},{"ParticipantNumber":"7"},{"ParticipantNumber":"8"},{"ParticipantNumber":"9"}]`} {
		_, body := h.call("DeleteChatGroupParticipants", map[string]string{"GroupId": id, "List": bad})
		g.Expect(body["Code"]).To(Equal("InvalidParameter.List"), bad)
	}
}

func TestThrottling(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t)
	for range DefaultRateLimit {
		h.ok("ListChatGroup", map[string]string{"Page": firstPage})
	}
	status, body := h.call("ListChatGroup", map[string]string{"Page": firstPage})
	g.Expect(status).To(Equal(400))
	g.Expect(body["Code"]).To(Equal("Throttling.User"))
	g.Expect(h.sim.Count("ListChatGroup", "throttled")).To(Equal(1))
	h.ok("ListChatGroupParticipants", map[string]string{"GroupId": h.sim.Put("x"), "Page": firstPage}) // limits are per action

	h.clock.Step(time.Second)
	h.ok("ListChatGroup", map[string]string{"Page": firstPage})
	g.Expect(h.sim.Count("ListChatGroup", "ok")).To(Equal(DefaultRateLimit + 1))
}

func TestThrottle_ForAWhile(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t)
	h.sim.Throttle(2 * time.Second)
	for _, action := range []string{"ListChatGroup", "AddChatGroup"} {
		status, body := h.call(action, map[string]string{"Page": firstPage, "Subject": "x"})
		g.Expect(status).To(Equal(400))
		g.Expect(body["Code"]).To(Equal("Throttling.User"), action)
		g.Expect(h.sim.Count(action, "throttled")).To(Equal(1))
	}
	g.Expect(h.sim.GroupsWithSubject("x")).To(BeEmpty(), "a throttled call applies nothing")

	h.clock.Step(2 * time.Second)
	h.ok("ListChatGroup", map[string]string{"Page": firstPage})
}

func TestFaults(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t)
	h.sim.SetOpFaults("AddChatGroup", vendorsim.Faults{ErrorRate: 1})
	status, body := h.call("AddChatGroup", map[string]string{"Subject": "x"})
	g.Expect(status).To(Equal(503))
	g.Expect(body["Code"]).To(Equal("ServiceUnavailable"))
	g.Expect(h.sim.GroupsWithSubject("x")).To(BeEmpty(), "an injected error applies nothing")
	g.Expect(h.sim.Count("AddChatGroup", "injected")).To(Equal(1))
}

func TestSignatures_AreRecorded(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t)
	r := h.request("ListChatGroup", map[string]string{"Page": firstPage})
	sign(r, keyID, "wrong")
	h.do(r)
	sent := r.Header.Get("Authorization")
	g.Expect(h.sim.Signatures()).To(Equal([]string{sent[strings.LastIndex(sent, "=")+1:]}))
}

func TestFailWith(t *testing.T) {
	for _, tc := range []struct {
		code       string
		wantStatus int
		wantLog    string
	}{
		{code: "Undocumented.Code", wantStatus: 400},
		{code: "Forbidden.RAM", wantStatus: 403},
		{code: "NoPermission", wantStatus: 403},
		{code: "GroupNotExist", wantStatus: 404},
		{code: "InvalidAction.NotFound", wantStatus: 404},
		{code: "Throttling.User", wantStatus: 400},
		{code: "ServiceUnavailable", wantStatus: 503},
		{code: "InternalError", wantStatus: 500},
	} {
		t.Run(tc.code, func(t *testing.T) {
			g := NewWithT(t)
			h := newHarness(t, func(c *Config) { c.CreateDelay = 0 })
			h.sim.FailWith("AddChatGroup", tc.code)

			status, body := h.call("AddChatGroup", map[string]string{"Subject": "x"})
			g.Expect(status).To(Equal(tc.wantStatus))
			g.Expect(body).To(And(HaveKeyWithValue("Code", tc.code), HaveKey("Message"), HaveKey("RequestId"), HaveKey("HostId")), "the gateway's error format")
			g.Expect(h.sim.GroupsWithSubject("x")).To(BeEmpty(), "nothing is applied")
			g.Expect(h.sim.Count("AddChatGroup", "injected")).To(Equal(1))
			h.ok("ListChatGroup", map[string]string{"Page": firstPage}) // other actions answer as usual

			r := h.request("AddChatGroup", map[string]string{"Subject": "x"})
			_, body = h.do(r)
			g.Expect(body["Code"]).To(Equal("IncompleteSignature"), "authentication comes first")

			h.sim.FailWith("AddChatGroup", "")
			h.ok("AddChatGroup", map[string]string{"Subject": "x"})
			g.Expect(h.sim.GroupsWithSubject("x")).To(HaveLen(1))
		})
	}
}

func TestUpdateChatGroup_LeavesTheGroupUpdatingForTheUpdateDelay(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t, func(c *Config) { c.UpdateDelay = 3 * time.Second })
	id := h.sim.Put("Team")
	h.ok("UpdateChatGroup", map[string]string{"GroupId": id, "Subject": "Team B"})

	g.Expect(list(h.ok("ListChatGroup", map[string]string{"Page": firstPage}))[0]["GroupStatus"]).To(Equal(StatusUpdating))
	h.ok("ListChatGroupParticipants", map[string]string{"GroupId": id, "Page": firstPage}) // reads still answer
	for _, action := range []string{"UpdateChatGroup", "AddChatGroupInviteLink", "DeleteChatGroupInviteLink"} {
		status, body := h.call(action, map[string]string{"GroupId": id, "Subject": "Team C"})
		g.Expect(status).To(Equal(400), action)
		g.Expect(body["Code"]).To(Equal("GroupStatusInvalid"), action)
	}

	h.clock.Step(3 * time.Second)
	got, _ := h.sim.Group(id)
	g.Expect(got.Status).To(Equal(StatusActive))
	g.Expect(got.Subject).To(Equal("Team B"))
	h.ok("UpdateChatGroup", map[string]string{"GroupId": id, "Subject": "Team C"})

	h.sim.SetUpdateDelay(0)
	got, _ = h.sim.Group(id)
	g.Expect(got.Status).To(Equal(StatusActive), "the new delay applies to groups still UPDATING")
}

func TestGroupStates(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t)
	id := h.sim.Put("States", "8613800000001")
	for _, st := range []string{StatusInactive, StatusSuspended, StatusDeleting, StatusUpdating} {
		g.Expect(h.sim.SetStatus(id, st)).To(Succeed())
		got, _ := h.sim.Group(id)
		g.Expect(got.Status).To(Equal(st))
		_, body := h.call("UpdateChatGroup", map[string]string{"GroupId": id, "Subject": "x"})
		g.Expect(body["Code"]).To(Equal("GroupStatusInvalid"), "a %s group takes no writes", st)
	}
	g.Expect(h.sim.SetStatus(id, "")).To(Succeed())
	got, _ := h.sim.Group(id)
	g.Expect(got.Status).To(Equal(StatusActive))
	g.Expect(h.sim.SetStatus("nope", StatusInactive)).NotTo(Succeed())
}

// A revoked RAM action is refused before the GroupId is looked at, with the
// gateway's 403 and an AccessDeniedDetail naming the action; other actions and
// a granted one reach the group (here: one that does not exist).
func TestRAMActions(t *testing.T) {
	g := NewWithT(t)
	h := newHarness(t)
	h.sim.Revoke("UpdateChatGroup")
	status, body := h.call("UpdateChatGroup", map[string]string{"GroupId": "none"})
	g.Expect(status).To(Equal(http.StatusForbidden))
	g.Expect(body["Code"]).To(Equal("Forbidden.RAM"))
	g.Expect(body["AccessDeniedDetail"]).To(HaveKeyWithValue("AuthAction", "cams:UpdateChatGroup"))
	g.Expect(h.sim.Count("UpdateChatGroup", "error")).To(Equal(1))

	status, body = h.call("DeleteChatGroup", map[string]string{"GroupId": "none"})
	g.Expect(status).To(Equal(http.StatusNotFound))
	g.Expect(body["Code"]).To(Equal("GroupNotExist"))
	g.Expect(h.sim.Count("DeleteChatGroup", "not-found")).To(Equal(1), "a call on a missing group is logged as such")

	h.sim.Grant("UpdateChatGroup")
	_, body = h.call("UpdateChatGroup", map[string]string{"GroupId": "none"})
	g.Expect(body["Code"]).To(Equal("GroupNotExist"))
}
