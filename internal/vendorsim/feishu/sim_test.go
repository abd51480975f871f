package feishu

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// client speaks the wire format from the reference, independently of the
// operator's client.
type client struct {
	t   *testing.T
	srv *httptest.Server
	tok string
}

func newServer(t *testing.T, cfg Config, clk *clocktesting.FakeClock) (*Server, *client) {
	cfg.AppID, cfg.AppSecret = "cli_x", "secret"
	if cfg.Users == nil {
		cfg.Users = []string{"ou_a", "ou_b", "ou_c", "ou_d"}
	}
	s := New(cfg, vendorsim.WithClock(clk))
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, &client{t: t, srv: srv}
}

// do sends a request and returns the status, the decoded body and the headers.
func (c *client) do(method, path string, body any) (int, map[string]any, http.Header) {
	c.t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, c.srv.URL+path, bytes.NewReader(b))
	if c.tok != "" {
		req.Header.Set("Authorization", "Bearer "+c.tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, resp.Header
}

func (c *client) token() (string, float64) {
	_, out, _ := c.do(http.MethodPost, "/open-apis/auth/v3/tenant_access_token/internal", map[string]string{"app_id": "cli_x", "app_secret": "secret"})
	tok, _ := out["tenant_access_token"].(string)
	exp, _ := out["expire"].(float64)
	c.tok = tok
	return tok, exp
}

func code(out map[string]any) int {
	n, _ := out["code"].(float64)
	return int(n)
}

func TestToken_ReusedWhileThirtyMinutesAreLeftThenRenewedWithTheOldOneStillValid(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	_, c := newServer(t, Config{}, clk)
	first, exp := c.token()
	g.Expect(first).To(HavePrefix("t-"))
	g.Expect(exp).To(Equal(7200.0))
	clk.Step(89 * time.Minute) // 31 minutes left
	again, exp := c.token()
	g.Expect(again).To(Equal(first))
	g.Expect(exp).To(Equal(31 * 60.0))
	clk.Step(2 * time.Minute) // 29 minutes left
	renewed, _ := c.token()
	g.Expect(renewed).NotTo(Equal(first))
	c.tok = first
	_, out, _ := c.do(http.MethodGet, "/open-apis/im/v1/chats", nil)
	g.Expect(code(out)).To(Equal(0), "the old token stays valid until it expires")
	clk.Step(30 * time.Minute)
	status, out, _ := c.do(http.MethodGet, "/open-apis/im/v1/chats", nil)
	g.Expect(status).To(Equal(http.StatusBadRequest))
	g.Expect(code(out)).To(Equal(codeTokenInvalid))
	c.tok = ""
	_, out, _ = c.do(http.MethodGet, "/open-apis/im/v1/chats", nil)
	g.Expect(code(out)).To(Equal(codeTokenMissing))

	_, out, _ = c.do(http.MethodPost, "/open-apis/auth/v3/tenant_access_token/internal", map[string]string{"app_id": "cli_x", "app_secret": "nope"})
	g.Expect(code(out)).To(Equal(codeSecretInvalid))
}

func TestCreate_UUIDAndOwnerDedupeForTenHours(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s, c := newServer(t, Config{}, clk)
	c.token()
	create := func(owner string) (map[string]any, http.Header) {
		_, out, h := c.do(http.MethodPost, "/open-apis/im/v1/chats?uuid=k1", map[string]any{"name": "n", "owner_id": owner})
		return out, h
	}
	a, _ := create("ou_a")
	b, _ := create("ou_a")
	g.Expect(b["data"].(map[string]any)["chat_id"]).To(Equal(a["data"].(map[string]any)["chat_id"]))
	g.Expect(s.Count(OpCreate, "deduped")).To(Equal(1))
	other, _ := create("ou_b")
	g.Expect(other["data"].(map[string]any)["chat_id"]).NotTo(Equal(a["data"].(map[string]any)["chat_id"]), "uuid + owner_id")
	c.token()
	clk.Step(10 * time.Hour)
	c.token()
	late, _ := create("ou_a")
	g.Expect(late["data"].(map[string]any)["chat_id"]).NotTo(Equal(a["data"].(map[string]any)["chat_id"]), "the window is 10 hours")
	g.Expect(s.Chats()).To(HaveLen(3))

	s2, c2 := newServer(t, Config{DuplicateCreateCode: 232068}, clk)
	c2.token()
	c2.do(http.MethodPost, "/open-apis/im/v1/chats?uuid=k1", map[string]any{"name": "n"})
	_, out, _ := c2.do(http.MethodPost, "/open-apis/im/v1/chats?uuid=k1", map[string]any{"name": "n"})
	g.Expect(code(out)).To(Equal(232068), "the knob for open question 1's other answer")
	g.Expect(s2.Chats()).To(HaveLen(1))
}

func TestCreate_RefusesWhatTheReferenceSaysItCannotTake(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Now())
	_, c := newServer(t, Config{}, clk)
	c.token()
	fifty := make([]string, 51)
	for i := range fifty {
		fifty[i] = "ou_a"
	}
	for name, tc := range map[string]struct {
		body any
		code int
	}{
		"add_member_permission at create": {map[string]any{"name": "n", "add_member_permission": "only_owner"}, codeFieldValidation},
		"51 users":                        {map[string]any{"name": "n", "user_id_list": fifty}, codeInvalidParam},
		"public without a name":           {map[string]any{"chat_type": "public"}, codePublicNoName},
		"public with one character":       {map[string]any{"name": "x", "chat_type": "public"}, codeNameTooShort},
		"a user the bot cannot see":       {map[string]any{"name": "n", "user_id_list": []string{"ou_a", "ou_zz"}}, codeUnavailableIDs},
	} {
		t.Run(name, func(t *testing.T) {
			_, out, _ := c.do(http.MethodPost, "/open-apis/im/v1/chats", tc.body)
			NewWithT(t).Expect(code(out)).To(Equal(tc.code))
		})
	}
}

func TestUpdateAndMembers_FollowTheReference(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Now())
	s, c := newServer(t, Config{}, clk)
	c.token()
	_, out, _ := c.do(http.MethodPost, "/open-apis/im/v1/chats", map[string]any{"name": "n", "owner_id": "ou_a", "user_id_list": []string{"ou_b"}})
	id := out["data"].(map[string]any)["chat_id"].(string)
	path := "/open-apis/im/v1/chats/" + id

	_, out, _ = c.do(http.MethodPut, path, map[string]any{"add_member_permission": "only_owner"})
	g.Expect(code(out)).To(Equal(codeInvalidParam), "the pair goes together")
	_, out, _ = c.do(http.MethodPut, path, map[string]any{"add_member_permission": "only_owner", "share_card_permission": "allowed"})
	g.Expect(code(out)).To(Equal(codeInvalidParam), "and agrees")
	_, out, _ = c.do(http.MethodPut, path, map[string]any{"description": "d"})
	g.Expect(code(out)).To(Equal(0))
	chat, _ := s.Chat(id)
	g.Expect(chat.Name).To(Equal("n"), "partial PUT: what is not sent stays")
	g.Expect(chat.Description).To(Equal("d"))

	_, out, _ = c.do(http.MethodPut, path, map[string]any{"owner_id": "ou_c"})
	g.Expect(code(out)).To(Equal(codeNotOwnerMember))
	_, out, _ = c.do(http.MethodDelete, path+"/members", map[string]any{"id_list": []string{"ou_a"}})
	g.Expect(code(out)).To(Equal(codeKickOwner))

	_, out, _ = c.do(http.MethodPost, path+"/members", map[string]any{"id_list": []string{"ou_c", "ou_zz"}})
	g.Expect(code(out)).To(Equal(codeIDsNotExisted), "succeed_type 0 fails on an ID that does not exist")
	_, out, _ = c.do(http.MethodPost, path+"/members?succeed_type=1", map[string]any{"id_list": []string{"ou_c", "ou_zz"}})
	g.Expect(out["data"].(map[string]any)["not_existed_id_list"]).To(Equal([]any{"ou_zz"}))
	chat, _ = s.Chat(id)
	g.Expect(chat.Members).To(Equal([]string{"ou_a", "ou_b", "ou_c"}))

	_, out, _ = c.do(http.MethodGet, path+"/members?page_size=2", nil)
	d := out["data"].(map[string]any)
	g.Expect(d["items"]).To(HaveLen(2))
	g.Expect(d["has_more"]).To(BeTrue())
	_, out, _ = c.do(http.MethodGet, path+"/members?page_size=2&page_token="+d["page_token"].(string), nil)
	d = out["data"].(map[string]any)
	g.Expect(d["items"]).To(HaveLen(1))
	g.Expect(d).NotTo(HaveKey("page_token"), "only while has_more")

	_, out, _ = c.do(http.MethodDelete, path, nil)
	g.Expect(code(out)).To(Equal(0))
	_, out, _ = c.do(http.MethodGet, path, nil)
	g.Expect(code(out)).To(Equal(codeDissolved))
	_, out, _ = c.do(http.MethodDelete, path, nil)
	g.Expect(code(out)).To(Equal(codeDissolved))
}

func TestMemberWritesOnOneChatAtOnceAre232019(t *testing.T) {
	g := NewWithT(t)
	_, c := newServer(t, Config{MemberWriteTime: 2 * time.Second}, clocktesting.NewFakeClock(time.Now()))
	c.token()
	_, out, _ := c.do(http.MethodPost, "/open-apis/im/v1/chats", map[string]any{"name": "n"})
	path := "/open-apis/im/v1/chats/" + out["data"].(map[string]any)["chat_id"].(string) + "/members"
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i, id := range []string{"ou_a", "ou_b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, out, _ := c.do(http.MethodPost, path, map[string]any{"id_list": []string{id}})
			codes[i] = code(out)
		}()
		time.Sleep(50 * time.Millisecond)
	}
	wg.Wait()
	g.Expect(codes).To(ConsistOf(0, codeChatBusy))
}

func TestRateLimits_PerSecondAndPerMinuteWithTheResetHeader(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	_, c := newServer(t, Config{PerSecond: 3, PerMinute: 5}, clk)
	c.token()
	get := func() (int, http.Header) {
		status, _, h := c.do(http.MethodGet, "/open-apis/im/v1/chats", nil)
		return status, h
	}
	for range 3 {
		st, _ := get()
		g.Expect(st).To(Equal(http.StatusOK))
	}
	st, h := get()
	g.Expect(st).To(Equal(http.StatusTooManyRequests))
	g.Expect(h.Get("x-ogw-ratelimit-reset")).To(Equal("1"))
	clk.Step(time.Second)
	for range 2 { // the throttled call did not count: 3 + 2 = 5 this minute
		st, _ = get()
		g.Expect(st).To(Equal(http.StatusOK))
	}
	st, h = get() // the third this second is within 3/s but the sixth this minute
	g.Expect(st).To(Equal(http.StatusTooManyRequests))
	g.Expect(h.Get("x-ogw-ratelimit-limit")).To(Equal("5"))
	g.Expect(h.Get("x-ogw-ratelimit-reset")).To(Equal("59"))
	g.Expect(strings.Contains(h.Get("x-ogw-ratelimit-reset"), "-")).To(BeFalse())
}
