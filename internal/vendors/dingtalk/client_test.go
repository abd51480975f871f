package dingtalk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

var ctx = context.Background()

// request is what the fake vendor received.
type request struct {
	Method string
	Path   string
	Token  string // header or access_token query parameter
	Query  map[string]string
	Body   map[string]any
}

// fakeVendor answers DingTalk calls with canned JSON and records them. Tokens are
// "tok-1", "tok-2", … in issue order; answer picks the reply to everything else.
type fakeVendor struct {
	t      *testing.T
	mu     sync.Mutex
	issued int
	ttl    int64
	reqs   []request
	// answer returns the status and JSON body for a non-token call.
	answer func(r request) (int, string)
	// tokenAnswer, when set, replaces the token endpoint's answer.
	tokenAnswer func(r request) (int, string)
	srv         *httptest.Server
}

func newFakeVendor(t *testing.T, answer func(r request) (int, string)) *fakeVendor {
	f := &fakeVendor{t: t, ttl: 7200, answer: answer}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeVendor) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	req := request{Method: r.Method, Path: r.URL.Path, Token: r.Header.Get("x-acs-dingtalk-access-token"), Query: map[string]string{}}
	for k := range r.URL.Query() {
		req.Query[k] = r.URL.Query().Get(k)
	}
	if tok := req.Query["access_token"]; tok != "" {
		req.Token = tok
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &req.Body); err != nil {
			f.t.Errorf("body is not JSON: %s", raw)
		}
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()

	var status int
	var body string
	switch {
	case req.Path == pathToken && f.tokenAnswer != nil:
		status, body = f.tokenAnswer(req)
	case req.Path == pathToken:
		f.mu.Lock()
		f.issued++
		status, body = 200, fmt.Sprintf(`{"accessToken":"tok-%d","expireIn":%d}`, f.issued, f.ttl)
		f.mu.Unlock()
	default:
		status, body = f.answer(req)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// calls returns the recorded requests to path.
func (f *fakeVendor) calls(path string) []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []request
	for _, r := range f.reqs {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// client builds a Client of conn for the fake vendor.
func (f *fakeVendor) client(conn *Connector) *Client {
	f.t.Helper()
	c, err := connect(conn, vendors.Credentials{
		Endpoint: f.srv.URL, Settings: Settings{LegacyEndpoint: f.srv.URL + "/"},
		Secret: map[string][]byte{"appKey": []byte("key"), "appSecret": []byte("s3cr3t-app")},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// connect is conn.Connect with the concrete type.
func connect(conn *Connector, creds vendors.Credentials) (*Client, error) {
	gc, err := conn.Connect(ctx, creds)
	if err != nil {
		return nil, err
	}
	return gc.(*Client), nil
}

// pass returns the context of one reconcile pass: reads are reused within it.
func pass() context.Context { return vendors.WithPassReads(ctx) }

// chatJSON is a chat/get answer for a group owned by o1 with u1 and u2.
const chatJSON = `{"errcode":0,"errmsg":"ok","chat_info":{"name":"oncall","owner":"o1","useridlist":["o1","u1","u2"],"extidlist":["x1"],"icon":"@icon","conversationTag":2,"chatBannedType":0,"searchable":0,"validationType":0,"mentionAllAuthority":1,"managementType":0,"showHistoryType":1}}`

// groupVendor answers chat/get with chatJSON and update/create with success.
func groupVendor(t *testing.T) *fakeVendor {
	return newFakeVendor(t, func(r request) (int, string) {
		switch r.Path {
		case pathChatGet:
			return 200, chatJSON
		case pathUpdate:
			return 200, `{"success":true}`
		case pathCreate:
			return 200, `{"conversationTag":2,"openConversationId":"cidAB+c/d==","chatid":"chat1"}`
		}
		return 404, `{"code":"notFound"}`
	})
}

func TestConnect(t *testing.T) {
	for _, tc := range []struct {
		name  string
		creds vendors.Credentials
		class error
		want  [2]string
	}{
		{name: "defaults", creds: vendors.Credentials{Secret: map[string][]byte{"appKey": []byte("k"), "appSecret": []byte("s")}},
			want: [2]string{"https://api.dingtalk.com", "https://oapi.dingtalk.com"}},
		{name: "international site", creds: vendors.Credentials{Endpoint: "https://api.dingtalk.io/", Settings: Settings{LegacyEndpoint: "https://oapi.dingtalk.io"},
			Secret: map[string][]byte{"appKey": []byte("k"), "appSecret": []byte("s")}},
			want: [2]string{"https://api.dingtalk.io", "https://oapi.dingtalk.io"}},
		{name: "missing appSecret", creds: vendors.Credentials{Secret: map[string][]byte{"appKey": []byte("k")}}, class: vendors.ErrUnauthorized},
		{name: "endpoint with a query", creds: vendors.Credentials{Endpoint: "https://x?a=b", Secret: map[string][]byte{"appKey": []byte("k"), "appSecret": []byte("s")}}, class: vendors.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			gc, err := NewConnector().Connect(ctx, tc.creds)
			if tc.class != nil {
				g.Expect(errors.Is(err, tc.class)).To(BeTrue())
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			c := gc.(*Client)
			g.Expect([2]string{c.endpoint, c.legacyEndpoint}).To(Equal(tc.want))
		})
	}
}

func TestToken_CachedSharedAndRefreshedBeforeExpiry(t *testing.T) {
	g := NewWithT(t)
	f := groupVendor(t)
	clk := clocktesting.NewFakeClock(time.Unix(1_800_000_000, 0))
	conn := NewConnector(vendors.WithClock(clk))
	a, b := f.client(conn), f.client(conn)

	_, err := a.Observe(ctx, "chat1", spec())
	g.Expect(err).NotTo(HaveOccurred())
	_, err = b.Observe(ctx, "chat1", spec())
	g.Expect(err).NotTo(HaveOccurred())
	tokens := f.calls(pathToken)
	g.Expect(tokens).To(HaveLen(1), "clients of one credential share the token")
	g.Expect(tokens[0].Body).To(Equal(map[string]any{"appKey": "key", "appSecret": "s3cr3t-app"}))
	g.Expect(f.calls(pathChatGet)[1].Token).To(Equal("tok-1"))

	clk.Step(6479 * time.Second) // just under 90% of 7200s
	g.Expect(a.CheckCredentials(ctx)).To(Succeed())
	g.Expect(f.calls(pathToken)).To(HaveLen(1))
	clk.Step(2 * time.Second) // past 90%: refreshed before it expires
	g.Expect(a.CheckCredentials(ctx)).To(Succeed())
	g.Expect(f.calls(pathToken)).To(HaveLen(2))
	_, _ = a.Observe(ctx, "chat1", spec())
	gets := f.calls(pathChatGet)
	g.Expect(gets).To(HaveLen(4), "two observations, the permission probe, an observation")
	g.Expect(gets[3].Token).To(Equal("tok-2"))
}

func TestToken_ChangedSecretGetsNewToken(t *testing.T) {
	g := NewWithT(t)
	f := groupVendor(t)
	conn := NewConnector()
	g.Expect(f.client(conn).CheckCredentials(ctx)).To(Succeed())
	c, err := connect(conn, vendors.Credentials{Endpoint: f.srv.URL, Settings: Settings{LegacyEndpoint: f.srv.URL},
		Secret: map[string][]byte{"appKey": []byte("key"), "appSecret": []byte("rotated")}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.CheckCredentials(ctx)).To(Succeed())
	tokens := f.calls(pathToken)
	g.Expect(tokens).To(HaveLen(2))
	g.Expect(tokens[1].Body).To(HaveKeyWithValue("appSecret", "rotated"))
}

func TestToken_ConcurrentCallersShareOneFetch(t *testing.T) {
	g := NewWithT(t)
	release := make(chan struct{})
	f := groupVendor(t)
	f.tokenAnswer = func(request) (int, string) {
		<-release
		return 200, `{"accessToken":"slow","expireIn":7200}`
	}
	c := f.client(NewConnector())
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Go(func() { errs <- c.CheckCredentials(ctx) })
	}
	g.Eventually(func() int { return len(f.calls(pathToken)) }).Should(Equal(1))
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(f.calls(pathToken)).To(HaveLen(1))
}

func TestToken_RefusedTokenIsRefreshedOnce(t *testing.T) {
	for _, tc := range []struct {
		name     string
		path     string
		refuse   func(tok string) (int, string, bool) // refuse the call made with tok?
		call     func(c *Client) error
		wantErr  error
		wantCall int
	}{
		{name: "v1.0 401 then success", path: pathUpdate, wantCall: 2,
			refuse: func(tok string) (int, string, bool) {
				return 401, `{"code":"InvalidAuthentication","message":"expired"}`, tok == "tok-1"
			},
			call: func(c *Client) error {
				_, err := c.Update(ctx, observedChat().observed(), spec(func(s *vendors.GroupSpec) { s.Name = "n" }))
				return err
			}},
		{name: "legacy 40014 then success", path: pathChatGet, wantCall: 2,
			refuse: func(tok string) (int, string, bool) {
				return 200, `{"errcode":40014,"errmsg":"不合法的access_token"}`, tok == "tok-1"
			},
			call: func(c *Client) error { _, err := c.Observe(ctx, "chat1", spec()); return err }},
		{name: "refused twice is Unauthorized", path: pathChatGet, wantCall: 2, wantErr: vendors.ErrUnauthorized,
			refuse: func(string) (int, string, bool) {
				return 200, `{"errcode":40014,"errmsg":"不合法的access_token"}`, true
			},
			call: func(c *Client) error { _, err := c.Observe(ctx, "chat1", spec()); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			f := newFakeVendor(t, func(r request) (int, string) {
				if r.Path == tc.path {
					if status, body, refuse := tc.refuse(r.Token); refuse {
						return status, body
					}
				}
				if r.Path == pathChatGet {
					return 200, chatJSON
				}
				return 200, `{"success":true}`
			})
			c := f.client(NewConnector())
			err := tc.call(c)
			if tc.wantErr != nil {
				g.Expect(errors.Is(err, tc.wantErr)).To(BeTrue(), fmt.Sprint(err))
			} else {
				g.Expect(err).NotTo(HaveOccurred())
			}
			calls := f.calls(tc.path)
			g.Expect(calls).To(HaveLen(tc.wantCall))
			g.Expect(calls[len(calls)-1].Token).To(Equal("tok-2"), "the retry uses a fresh token")
			g.Expect(f.calls(pathToken)).To(HaveLen(2), "one refresh")
		})
	}
}

func TestToken_RejectedCredentials(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		class  error
	}{
		{name: "wrong secret", status: 400, body: `{"code":"invalidClientIdOrSecret","message":"bad secret s3cr3t-app"}`, class: vendors.ErrUnauthorized},
		{name: "throttled token call", status: 403, body: `{"code":"Forbidden.AccessDenied.QpsLimitForAppkeyAndApi","message":"slow"}`, class: vendors.ErrRateLimited},
		{name: "vendor down", status: 503, body: `{}`, class: vendors.ErrUnavailable},
		{name: "no token in the answer", status: 200, body: `{"expireIn":7200}`, class: vendors.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			f := groupVendor(t)
			f.tokenAnswer = func(request) (int, string) { return tc.status, tc.body }
			c := f.client(NewConnector())
			err := c.CheckCredentials(ctx)
			g.Expect(errors.Is(err, tc.class)).To(BeTrue(), fmt.Sprint(err))
			g.Expect(err.Error()).NotTo(ContainSubstring("s3cr3t-app"), "the app secret never appears in an error")
			_, err = c.Observe(ctx, "chat1", spec())
			g.Expect(errors.Is(err, tc.class)).To(BeTrue())
			g.Expect(f.calls(pathChatGet)).To(BeEmpty(), "no group call without a token")
		})
	}
}

func TestCreate(t *testing.T) {
	t.Run("one call with everything", func(t *testing.T) {
		g := NewWithT(t)
		f := groupVendor(t)
		c := f.client(NewConnector())
		got, err := c.Create(ctx, spec(func(s *vendors.GroupSpec) {
			s.Icon = "@icon"
			s.Members = []string{"u1", "o1", "u2"}
			s.Options = vendors.Options{MentionAllOwnerOnly: ptr(true), JoinPolicy: "ApprovalRequired"}
		}))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(got).To(Equal(vendors.ObservedGroup{ID: "chat1", Name: "oncall", Owner: "o1", Members: []string{"o1", "u1", "u2"},
			Extra: Extra{OpenConversationID: "cidAB+c/d==", Written: &Written{IconHash: iconHash("@icon"), ExternalMembers: []string{"x1"}}}}))
		creates := f.calls(pathCreate)
		g.Expect(creates).To(HaveLen(1))
		g.Expect(creates[0].Token).To(Equal("tok-1"))
		g.Expect(creates[0].Body).To(Equal(map[string]any{
			"name": "oncall", "owner": "o1", "ownerType": "emp", "useridlist": []any{"o1", "u1", "u2"},
			"conversationTag": 2.0, "extidlist": []any{"x1"}, "icon": "@icon",
			"managementOptions": map[string]any{"mentionAllAuthority": 1.0, "showHistoryType": 0.0, "validationType": 1.0,
				"searchable": 0.0, "chatBannedType": 0.0, "managementType": 0.0},
		}))
		g.Expect(f.calls(pathUpdate)).To(BeEmpty())
	})

	t.Run("more than 40 members: first batch at create, the rest in updates", func(t *testing.T) {
		g := NewWithT(t)
		f := groupVendor(t)
		members := userIDs("m", 100)
		got, err := f.client(NewConnector()).Create(ctx, spec(func(s *vendors.GroupSpec) { s.Members = members }))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(got.Members).To(HaveLen(101))
		g.Expect(f.calls(pathCreate)[0].Body["useridlist"]).To(HaveLen(40))
		updates := f.calls(pathUpdate)
		g.Expect(updates).To(HaveLen(2))
		g.Expect(updates[0].Body["add_useridlist"]).To(HaveLen(40))
		g.Expect(updates[1].Body["add_useridlist"]).To(HaveLen(21))
	})

	t.Run("unknown member is Invalid naming the field", func(t *testing.T) {
		g := NewWithT(t)
		f := newFakeVendor(t, func(request) (int, string) {
			return 400, `{"code":"parameter.invalid","message":"Invalid input parameter: user ghost1 does not exist"}`
		})
		_, err := f.client(NewConnector()).Create(ctx, spec(func(s *vendors.GroupSpec) { s.Members = []string{"ghost1"} }))
		g.Expect(errors.Is(err, vendors.ErrInvalid)).To(BeTrue())
		g.Expect(vendors.FieldOf(err)).To(Equal("members"))
		g.Expect(err.Error()).To(ContainSubstring("ghost1"))
		g.Expect(f.calls(pathCreate)).To(HaveLen(1))
	})
}

func TestObserve(t *testing.T) {
	g := NewWithT(t)
	f := newFakeVendor(t, func(r request) (int, string) {
		if r.Query["chatid"] == "gone" {
			return 200, `{"errcode":34001,"errmsg":"无效的会话id"}`
		}
		return 200, chatJSON
	})
	c := f.client(NewConnector())
	obs, err := c.Observe(ctx, "chat1", spec())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(obs).To(Equal(vendors.Observation{Exists: true, UpToDate: true,
		Group: vendors.ObservedGroup{ID: "chat1", Name: "oncall", Owner: "o1", Members: []string{"o1", "u1", "u2"}, Extra: Extra{}}}))
	get := f.calls(pathChatGet)[0]
	g.Expect(get.Method).To(Equal("GET"))
	g.Expect(get.Query).To(Equal(map[string]string{"access_token": "tok-1", "chatid": "chat1"}))

	obs, err = c.Observe(ctx, "chat1", spec(func(s *vendors.GroupSpec) { s.Members = []string{"u1"} }))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(obs.UpToDate).To(BeFalse())
	g.Expect(obs.Diff).To(Equal("members +[] -[u2]"))

	// vendor-apis.md documents no chat/get code for a group that is gone; 34001
	// reads "invalid chatid". Nothing proves the group gone, so the object is
	// not told so: the answer is retried and shown with its code.
	obs, err = c.Observe(ctx, "gone", spec())
	g.Expect(errors.Is(err, vendors.ErrUnavailable)).To(BeTrue(), fmt.Sprint(err))
	g.Expect(err.Error()).To(ContainSubstring("(34001)"))
	g.Expect(obs.Exists).To(BeFalse())
}

func TestUpdate(t *testing.T) {
	for _, tc := range []struct {
		name        string
		want        vendors.GroupSpec
		wantBodies  []map[string]any
		wantResult  func(g Gomega, r vendors.UpdateResult)
		wantChatGet int // reads besides the Observe
	}{
		{name: "rename, add 3 and remove 2 is one call", want: spec(func(s *vendors.GroupSpec) {
			s.Name = "oncall-2"
			s.Members = []string{"n1", "n2", "n3"}
		}), wantBodies: []map[string]any{{"chatid": "chat1", "name": "oncall-2", "add_useridlist": []any{"n1", "n2", "n3"}, "del_useridlist": []any{"u1", "u2"}}},
			wantResult: func(g Gomega, r vendors.UpdateResult) {
				g.Expect(r.Added).To(Equal([]string{"n1", "n2", "n3"}))
				g.Expect(r.Removed).To(Equal([]string{"u1", "u2"}))
				g.Expect(r.SettingsChanged).To(BeTrue())
				g.Expect(r.OwnerTransferred).To(BeFalse())
				g.Expect(r.Group.Members).To(ConsistOf("o1", "n1", "n2", "n3"))
				g.Expect(r.Group.Name).To(Equal("oncall-2"))
			}},
		{name: "one option: all six flags, unset ones as observed", want: spec(func(s *vendors.GroupSpec) { s.Options.Searchable = ptr(true) }),
			wantBodies: []map[string]any{{"chatid": "chat1", "managementOptions": map[string]any{"mentionAllAuthority": 1.0, "showHistoryType": 1.0,
				"validationType": 0.0, "searchable": 1.0, "chatBannedType": 0.0, "managementType": 0.0}}}},
		{name: "120 members is 3 calls", want: spec(func(s *vendors.GroupSpec) { s.Members = append([]string{"u1", "u2"}, userIDs("m", 120)...) }),
			wantBodies: []map[string]any{
				{"chatid": "chat1", "add_useridlist": toAny(userIDs("m", 120)[:40])},
				{"chatid": "chat1", "add_useridlist": toAny(userIDs("m", 120)[40:80])},
				{"chatid": "chat1", "add_useridlist": toAny(userIDs("m", 120)[80:])},
			}},
		{name: "owner transfer: add, set owner, remove the old owner", want: spec(func(s *vendors.GroupSpec) { s.Owner = "n9" }),
			wantBodies: []map[string]any{
				{"chatid": "chat1", "add_useridlist": []any{"n9"}},
				{"chatid": "chat1", "owner": "n9", "ownerType": "emp"},
				{"chatid": "chat1", "del_useridlist": []any{"o1"}},
			},
			wantResult: func(g Gomega, r vendors.UpdateResult) {
				g.Expect(r.OwnerTransferred).To(BeTrue())
				g.Expect(r.Group.Owner).To(Equal("n9"))
				g.Expect(r.Group.Members).To(ConsistOf("n9", "u1", "u2"))
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			f := groupVendor(t)
			c := f.client(NewConnector())
			ctx := pass()
			obs, err := c.Observe(ctx, "chat1", tc.want)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(obs.UpToDate).To(BeFalse())
			res, err := c.Update(ctx, obs.Group, tc.want)
			g.Expect(err).NotTo(HaveOccurred())
			var bodies []map[string]any
			for _, r := range f.calls(pathUpdate) {
				bodies = append(bodies, r.Body)
			}
			g.Expect(bodies).To(Equal(tc.wantBodies))
			g.Expect(f.calls(pathChatGet)).To(HaveLen(1), "Update uses what Observe read")
			if tc.wantResult != nil {
				tc.wantResult(g, res)
			}
		})
	}
}

func toAny(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

func TestUpdate_ReadsAgainWhenObservationIsStale(t *testing.T) {
	g := NewWithT(t)
	f := groupVendor(t)
	c := f.client(NewConnector())
	want := spec(func(s *vendors.GroupSpec) { s.Name = "x" })
	obs, _ := c.Observe(pass(), "chat1", want)
	_, err := c.Update(pass(), obs.Group, want)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(f.calls(pathChatGet)).To(HaveLen(2), "a read of an earlier pass is not reused")

	// An observation that does not match what Update is given is not trusted either.
	ctx := pass()
	obs, _ = c.Observe(ctx, "chat1", want)
	obs.Group.Members = []string{"o1"}
	_, err = c.Update(ctx, obs.Group, want)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(f.calls(pathChatGet)).To(HaveLen(4))
}

func TestUpdate_AfterAWriteReadsAgain(t *testing.T) {
	g := NewWithT(t)
	f := groupVendor(t)
	c := f.client(NewConnector())
	ctx := pass()
	want := spec(func(s *vendors.GroupSpec) { s.Name = "x" })
	obs, err := c.Observe(ctx, "chat1", want)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = c.Update(ctx, obs.Group, want)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(f.calls(pathChatGet)).To(HaveLen(1))
	_, err = c.Observe(ctx, "chat1", want)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(f.calls(pathChatGet)).To(HaveLen(2), "a write ends the reuse of the pass's reads")
}

func TestUpdate_StopsAtTheFirstFailure(t *testing.T) {
	g := NewWithT(t)
	f := newFakeVendor(t, func(r request) (int, string) {
		if r.Path == pathChatGet {
			return 200, chatJSON
		}
		if _, ok := r.Body["owner"]; ok {
			return 500, `{"code":"system.error","message":"Try again"}`
		}
		return 200, `{"success":true}`
	})
	c := f.client(NewConnector())
	ctx := pass()
	want := spec(func(s *vendors.GroupSpec) { s.Owner = "n9" })
	obs, _ := c.Observe(ctx, "chat1", want)
	_, err := c.Update(ctx, obs.Group, want)
	g.Expect(errors.Is(err, vendors.ErrUnavailable)).To(BeTrue())
	g.Expect(f.calls(pathUpdate)).To(HaveLen(2), "the old owner is not removed when the transfer failed")
}

func TestFind(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answer  string
		wantErr bool
	}{
		{name: "no exact match", answer: `{"groupInfos":[{"openConversationId":"cid1","title":"oncall-2","memberAmount":"3"}]}`},
		{name: "nothing found", answer: `{"groupInfos":[]}`},
		{name: "an exact match cannot be adopted", answer: `{"groupInfos":[{"openConversationId":"cid1","title":"oncall-2"},{"openConversationId":"cid2","title":"oncall"}]}`, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			f := newFakeVendor(t, func(request) (int, string) { return 200, tc.answer })
			ids, err := f.client(NewConnector()).Find(ctx, spec())
			g.Expect(ids).To(BeEmpty())
			search := f.calls(pathSearch)
			g.Expect(search).To(HaveLen(1))
			g.Expect(search[0].Body).To(Equal(map[string]any{"userId": "o1", "searchKey": "oncall", "maxResults": float64(searchResults)}))
			if !tc.wantErr {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(errors.Is(err, vendors.ErrInvalid)).To(BeTrue())
			g.Expect(vendors.FieldOf(err)).To(Equal("adoptGroupID"))
			g.Expect(err.Error()).To(ContainSubstring("cid2"))
			g.Expect(err.Error()).NotTo(ContainSubstring("cid1"), "only exact name matches")
		})
	}
}

func TestFind_GroupsThisProcessCreated(t *testing.T) {
	g := NewWithT(t)
	search := `{"groupInfos":[{"openConversationId":"cidAB+c/d==","title":"oncall"}]}`
	f := groupVendor(t)
	answer := f.answer
	f.answer = func(r request) (int, string) {
		if r.Path == pathSearch {
			return 200, search
		}
		return answer(r)
	}
	conn := &Connector{}
	_, err := f.client(conn).Create(ctx, spec())
	g.Expect(err).NotTo(HaveOccurred())
	ids, err := f.client(conn).Find(ctx, spec())
	g.Expect(err).NotTo(HaveOccurred(), "a group created earlier, e.g. by a pass whose ID write was lost, is found by its chatid")
	g.Expect(ids).To(Equal([]string{"chat1"}))

	search = `{"groupInfos":[{"openConversationId":"cidAB+c/d==","title":"oncall"},{"openConversationId":"cidOther","title":"oncall"}]}`
	ids, err = f.client(conn).Find(ctx, spec())
	g.Expect(errors.Is(err, vendors.ErrInvalid)).To(BeTrue(), "an unknown match is never silently ignored")
	g.Expect(err.Error()).To(ContainSubstring("cidOther"))
	g.Expect(ids).To(BeEmpty())
}

func TestDelete(t *testing.T) {
	g := NewWithT(t)
	err := (&Client{}).Delete(ctx, "chat1")
	g.Expect(errors.Is(err, vendors.ErrInvalid)).To(BeTrue())
	g.Expect(vendors.FieldOf(err)).To(Equal("deletionPolicy"))
}

func TestRateLimiterIsUsedPerAPI(t *testing.T) {
	g := NewWithT(t)
	f := groupVendor(t)
	// A bucket of 1 that refills once an hour: the second call of one API is
	// refused client-side, without reaching the vendor.
	lim := vendors.NewLimiter(vendors.Limits{QPS: 1.0 / 3600, Burst: 1}, nil)
	c, err := New(vendors.Credentials{Endpoint: f.srv.URL, Settings: Settings{LegacyEndpoint: f.srv.URL}, Limiter: lim,
		Secret: map[string][]byte{"appKey": []byte("k"), "appSecret": []byte("s")}})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = c.Observe(ctx, "chat1", spec())
	g.Expect(err).NotTo(HaveOccurred(), "one token call and one chat/get: separate buckets")
	_, err = c.Observe(ctx, "chat1", spec())
	g.Expect(errors.Is(err, vendors.ErrRateLimited)).To(BeTrue())
	g.Expect(f.calls(pathChatGet)).To(HaveLen(1))
}

func TestNoSecretInAnyError(t *testing.T) {
	const secret = "s3cr3t-app"
	for _, tc := range []struct {
		name   string
		answer func(r request) (int, string)
		call   func(c *Client) error
	}{
		{name: "vendor message echoing the token", answer: func(r request) (int, string) {
			return 400, fmt.Sprintf(`{"code":"parameter.invalid","message":"token %s is not allowed here (secret %s)"}`, r.Token, secret)
		}, call: func(c *Client) error { _, err := c.Create(ctx, spec()); return err }},
		{name: "legacy message echoing the query", answer: func(r request) (int, string) {
			return 200, fmt.Sprintf(`{"errcode":40035,"errmsg":"bad request /chat/get?access_token=%s&chatid=x"}`, r.Token)
		}, call: func(c *Client) error { _, err := c.Observe(ctx, "chat1", spec()); return err }},
		{name: "connection dropped on the legacy URL", answer: func(request) (int, string) { panic(http.ErrAbortHandler) },
			call: func(c *Client) error { _, err := c.Observe(ctx, "chat1", spec()); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			f := newFakeVendor(t, tc.answer)
			err := tc.call(f.client(NewConnector()))
			g.Expect(err).To(HaveOccurred())
			g.Expect(f.issued).To(BeNumerically(">", 0))
			for i := 1; i <= f.issued; i++ {
				g.Expect(err.Error()).NotTo(ContainSubstring(fmt.Sprintf("tok-%d", i)))
			}
			g.Expect(err.Error()).NotTo(ContainSubstring(secret))
			g.Expect(strings.Contains(err.Error(), "access_token=tok")).To(BeFalse())
		})
	}
}

func TestObserve_ReadsAreKeptForThePassOnly(t *testing.T) {
	g := NewWithT(t)
	f := groupVendor(t)
	c := f.client(NewConnector())

	ctx := pass()
	for _, id := range []string{"chat1", "chat2", "chat3"} {
		_, err := c.Observe(ctx, id, spec())
		g.Expect(err).NotTo(HaveOccurred())
	}
	obs, err := c.Observe(ctx, "chat1", spec())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(obs.Group.Name).To(Equal("oncall"))
	g.Expect(f.calls(pathChatGet)).To(HaveLen(3), "a pass reads each group once")

	_, err = c.Observe(pass(), "chat1", spec())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(f.calls(pathChatGet)).To(HaveLen(4), "the next pass reads afresh: the client keeps no group's read")
	_, err = c.Observe(ctx, "chat1", spec())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(f.calls(pathChatGet)).To(HaveLen(4))
}

func TestObserve_OpenConversationIDOfACreatedGroup(t *testing.T) {
	g := NewWithT(t)
	f := groupVendor(t)
	conn := NewConnector()
	_, err := f.client(conn).Create(ctx, spec())
	g.Expect(err).NotTo(HaveOccurred())
	obs, err := f.client(conn).Observe(ctx, "chat1", spec())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(obs.Group.Extra).To(Equal(Extra{OpenConversationID: "cidAB+c/d=="}), "chat/get does not report it; create did")
}

func TestLegacyRedirectIsRefused(t *testing.T) {
	g := NewWithT(t)
	var leaked atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { leaked.Add(1) }))
	t.Cleanup(elsewhere.Close)
	f := newFakeVendor(t, func(r request) (int, string) { return 200, chatJSON })
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == pathChatGet {
			http.Redirect(w, r, elsewhere.URL+r.URL.RequestURI(), http.StatusFound)
			return
		}
		f.srv.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(redirecting.Close)
	c, err := New(vendors.Credentials{Endpoint: f.srv.URL, Settings: Settings{LegacyEndpoint: redirecting.URL},
		Secret: map[string][]byte{"appKey": []byte("key"), "appSecret": []byte("s3cr3t-app")}})
	g.Expect(err).NotTo(HaveOccurred())

	_, err = c.Observe(ctx, "chat1", spec())
	g.Expect(errors.Is(err, vendors.ErrUnavailable)).To(BeTrue(), fmt.Sprint(err))
	g.Expect(err.Error()).To(ContainSubstring("302"))
	g.Expect(err.Error()).NotTo(ContainSubstring("tok-1"))
	g.Expect(leaked.Load()).To(BeZero(), "the token in the query string is never sent elsewhere")
}
