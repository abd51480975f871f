package dingtalk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// fixture is a simulator with one app and a small directory, served over HTTP.
type fixture struct {
	*Server
	clock *clocktesting.FakeClock
	url   string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	c := clocktesting.NewFakeClock(time.Unix(1_800_000_000, 0))
	s := New(Config{Apps: map[string]string{"key": "secret"}, Users: []string{"owner", "u1", "u2", "u3", "u4"}}, vendorsim.WithClock(c))
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &fixture{Server: s, clock: c, url: srv.URL}
}

// response is a decoded answer: the HTTP status and the JSON body as a map.
type response struct {
	status int
	body   map[string]any
}

func (r response) str(k string) string { s, _ := r.body[k].(string); return s }
func (r response) num(k string) int    { f, _ := r.body[k].(float64); return int(f) }

// do sends a request; body is marshalled unless it is a string.
func (f *fixture) do(t *testing.T, method, path, token string, body any) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, f.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("x-acs-dingtalk-access-token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := response{status: resp.StatusCode, body: map[string]any{}}
	if err := json.NewDecoder(resp.Body).Decode(&out.body); err != nil {
		t.Fatalf("%s %s: undecodable body: %v", method, path, err)
	}
	return out
}

func (f *fixture) token(t *testing.T) string {
	t.Helper()
	r := f.do(t, "POST", "/v1.0/oauth2/accessToken", "", map[string]string{"appKey": "key", "appSecret": "secret"})
	if r.status != 200 || r.str("accessToken") == "" {
		t.Fatalf("token: %d %v", r.status, r.body)
	}
	return r.str("accessToken")
}

// create makes a group owned by "owner" with members and returns its chatid.
func (f *fixture) create(t *testing.T, tok, name string, members ...string) string {
	t.Helper()
	r := f.do(t, "POST", "/v1.0/im/group/create", tok, map[string]any{"name": name, "owner": "owner", "useridlist": append([]string{"owner"}, members...)})
	if r.status != 200 {
		t.Fatalf("create: %d %v", r.status, r.body)
	}
	return r.str("chatid")
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%03d", prefix, i)
	}
	return out
}

func TestToken(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)

	bad := f.do(t, "POST", "/v1.0/oauth2/accessToken", "", map[string]string{"appKey": "key", "appSecret": "wrong"})
	g.Expect(bad.status).To(Equal(400))
	g.Expect(bad.str("code")).To(Equal(CodeInvalidCredentials))

	tok := f.token(t)
	g.Expect(f.token(t)).To(Equal(tok), "within its lifetime the same token is returned")
	g.Expect(f.do(t, "POST", "/v1.0/oauth2/accessToken", "", map[string]string{"appKey": "key", "appSecret": "secret"}).num("expireIn")).To(Equal(7200))

	f.clock.Step(DefaultTokenTTL + time.Second)
	r := f.do(t, "POST", "/v1.0/im/innerGroups/search", tok, map[string]any{"userId": "owner", "searchKey": "x", "maxResults": 5})
	g.Expect(r.status).To(Equal(401), "an expired token is refused")
	g.Expect(r.str("code")).To(Equal(CodeInvalidToken))
	g.Expect(f.token(t)).NotTo(Equal(tok), "a new token after expiry")

	tok = f.token(t)
	f.ExpireTokens()
	g.Expect(f.do(t, "POST", "/v1.0/im/innerGroups/search", tok, map[string]any{"userId": "owner", "searchKey": "x", "maxResults": 5}).status).To(Equal(401))
	g.Expect(f.do(t, "POST", "/v1.0/im/innerGroups/search", "", map[string]any{}).status).To(Equal(401), "no token")
	g.Expect(f.Count(OpToken, "unauthorized")).To(Equal(1))
}

func TestCreate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		body     any
		standard bool
		wantCode string
		wantMsg  string
	}{
		{name: "valid", body: map[string]any{"name": "SRE 值班", "owner": "owner", "ownerType": "emp", "useridlist": []string{"owner", "u1"}, "extidlist": []string{"union1"}, "icon": "@media", "managementOptions": map[string]int{"mentionAllAuthority": 1}}},
		{name: "20 multi-byte characters are allowed", body: map[string]any{"name": strings.Repeat("群", 20), "owner": "owner", "useridlist": []string{"owner"}}},
		{name: "21 characters", body: map[string]any{"name": strings.Repeat("a", 21), "owner": "owner", "useridlist": []string{"owner"}}, wantCode: CodeParameterInvalid, wantMsg: "name must be 1-20"},
		{name: "empty name", body: map[string]any{"name": "", "owner": "owner", "useridlist": []string{"owner"}}, wantCode: CodeParameterInvalid},
		{name: "owner outside the directory", body: map[string]any{"name": "n", "owner": "ghost", "useridlist": []string{"ghost"}}, wantCode: CodePermissionDenied, wantMsg: "visibility scope"},
		{name: "owner not in useridlist", body: map[string]any{"name": "n", "owner": "owner", "useridlist": []string{"u1"}}, wantCode: CodeParameterInvalid, wantMsg: "must be in useridlist"},
		{name: "external owner in extidlist", body: map[string]any{"name": "n", "owner": "union9", "ownerType": "ext", "useridlist": []string{"u1"}, "extidlist": []string{"union9"}}},
		{name: "external owner in useridlist", body: map[string]any{"name": "n", "owner": "u1", "ownerType": "ext", "useridlist": []string{"u1"}}, wantCode: CodeParameterInvalid, wantMsg: "must be one of the group's external contacts"},
		{name: "unknown member", body: map[string]any{"name": "n", "owner": "owner", "useridlist": []string{"owner", "ghost7"}}, wantCode: CodeParameterInvalid, wantMsg: "user ghost7 does not exist"},
		{name: "41 IDs in one list", body: map[string]any{"name": "n", "owner": "owner", "useridlist": append([]string{"owner"}, ids("m", 40)...)}, wantCode: CodeParameterInvalid, wantMsg: "at most 40"},
		{name: "standard group without allow-listing", body: map[string]any{"name": "n", "owner": "owner", "useridlist": []string{"owner"}, "conversationTag": 0}, wantCode: CodePermissionDenied},
		{name: "standard group when allow-listed", standard: true, body: map[string]any{"name": "n", "owner": "owner", "useridlist": []string{"owner"}, "conversationTag": 0}},
		{name: "option flag out of range", body: map[string]any{"name": "n", "owner": "owner", "useridlist": []string{"owner"}, "managementOptions": map[string]int{"searchable": 2}}, wantCode: CodeParameterInvalid},
		{name: "misnamed field", body: map[string]any{"name": "n", "owner": "owner", "userIdList": []string{"owner"}}, wantCode: CodeParameterInvalid, wantMsg: "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			f := newFixture(t)
			f.AddUsers(ids("m", 40)...)
			f.AllowStandardGroups(tc.standard)
			r := f.do(t, "POST", "/v1.0/im/group/create", f.token(t), tc.body)
			if tc.wantCode != "" {
				g.Expect(r.status).To(Equal(400))
				g.Expect(r.str("code")).To(Equal(tc.wantCode))
				g.Expect(r.str("message")).To(ContainSubstring(tc.wantMsg))
				g.Expect(f.Writes(Applied(OpCreate))).To(BeEmpty())
				return
			}
			g.Expect(r.status).To(Equal(200), "%v", r.body)
			g.Expect(r.str("chatid")).To(HavePrefix("chat"))
			g.Expect(r.str("openConversationId")).To(HavePrefix("cid"))
			grp, ok := f.Group(r.str("chatid"))
			g.Expect(ok).To(BeTrue())
			g.Expect(grp.OpenConversationID).To(Equal(r.str("openConversationId")))
			g.Expect(f.Writes(Applied(OpCreate))).To(HaveLen(1))
		})
	}
}

func TestCreate_StoresEverything(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	r := f.do(t, "POST", "/v1.0/im/group/create", f.token(t), map[string]any{
		"name": "ops", "owner": "owner", "ownerType": "emp", "useridlist": []string{"owner", "u1", "u1"},
		"extidlist": []string{"union1"}, "icon": "@media",
		"managementOptions": map[string]int{"mentionAllAuthority": 1, "showHistoryType": 1, "validationType": 1, "searchable": 1, "chatBannedType": 1, "managementType": 1},
	})
	g.Expect(r.num("conversationTag")).To(Equal(2), "internal group by default")
	grp, _ := f.Group(r.str("chatid"))
	g.Expect(grp).To(Equal(Group{
		ChatID: r.str("chatid"), OpenConversationID: r.str("openConversationId"), Name: "ops", Owner: "owner", OwnerType: "emp",
		Icon: "@media", Members: []string{"owner", "u1"}, ExternalMembers: []string{"union1"}, ConversationTag: 2,
		Options: Options{1, 1, 1, 1, 1, 1},
	}))
}

func TestUpdate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		body     map[string]any
		wantCode string
		wantMsg  string
		want     func(Group) Group
	}{
		{name: "rename, add and remove in one call", body: map[string]any{"name": "new", "add_useridlist": []string{"u3", "u4"}, "del_useridlist": []string{"u1"}},
			want: func(g Group) Group { g.Name = "new"; g.Members = []string{"owner", "u2", "u3", "u4"}; return g }},
		{name: "owner transfer to a member", body: map[string]any{"owner": "u1", "ownerType": "emp"},
			want: func(g Group) Group { g.Owner = "u1"; g.OwnerType = "emp"; return g }},
		{name: "new owner must already be a member", body: map[string]any{"owner": "u3", "add_useridlist": []string{"u3"}}, wantCode: CodeParameterInvalid, wantMsg: "must be one of the group members"},
		{name: "new owner outside the directory", body: map[string]any{"owner": "ghost"}, wantCode: CodePermissionDenied},
		{name: "owner transfer to an external contact", body: map[string]any{"owner": "union1", "ownerType": "ext"},
			want: func(g Group) Group { g.Owner = "union1"; g.OwnerType = "ext"; return g }},
		{name: "an external owner must already be an external contact", body: map[string]any{"owner": "u1", "ownerType": "ext"}, wantCode: CodeParameterInvalid, wantMsg: "must be one of the group members"},
		{name: "current owner cannot be removed", body: map[string]any{"owner": "u1", "del_useridlist": []string{"owner"}}, wantCode: CodeParameterInvalid, wantMsg: "cannot be removed"},
		{name: "unknown member", body: map[string]any{"add_useridlist": []string{"ghost2"}}, wantCode: CodeParameterInvalid, wantMsg: "user ghost2 does not exist"},
		{name: "41 removals", body: map[string]any{"del_useridlist": ids("m", 41)}, wantCode: CodeParameterInvalid, wantMsg: "del_useridlist has 41 IDs"},
		{name: "41 external additions", body: map[string]any{"add_extidlist": ids("x", 41)}, wantCode: CodeParameterInvalid, wantMsg: "add_extidlist has 41 IDs"},
		{name: "name too long", body: map[string]any{"name": strings.Repeat("a", 21)}, wantCode: CodeParameterInvalid},
		{name: "conversationTag is immutable", body: map[string]any{"conversationTag": 0}, wantCode: CodeParameterInvalid, wantMsg: "conversationTag cannot be changed"},
		{name: "unknown chatid", body: map[string]any{"chatid": "chat404"}, wantCode: CodeParameterInvalid, wantMsg: "does not exist"},
		{name: "partial managementOptions reset the flags not sent", body: map[string]any{"managementOptions": map[string]int{"searchable": 1}},
			want: func(g Group) Group { g.Options = Options{Searchable: 1}; return g }},
		{name: "external members and icon", body: map[string]any{"add_extidlist": []string{"union2"}, "del_extidlist": []string{"union1"}, "icon": "@new"},
			want: func(g Group) Group { g.ExternalMembers = []string{"union2"}; g.Icon = "@new"; return g }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			f := newFixture(t)
			tok := f.token(t)
			r := f.do(t, "POST", "/v1.0/im/group/create", tok, map[string]any{"name": "old", "owner": "owner", "useridlist": []string{"owner", "u1", "u2"},
				"extidlist": []string{"union1"}, "managementOptions": map[string]int{"mentionAllAuthority": 1, "showHistoryType": 1}})
			id := r.str("chatid")
			before, _ := f.Group(id)
			body := map[string]any{"chatid": id}
			for k, v := range tc.body {
				body[k] = v
			}
			r = f.do(t, "POST", "/v1.0/im/group/update", tok, body)
			after, _ := f.Group(id)
			writes := f.Writes(func(w Write) bool { return w.Op == OpUpdate })
			g.Expect(writes).To(HaveLen(1))
			if tc.wantCode != "" {
				g.Expect(r.status).To(Equal(400))
				g.Expect(r.str("code")).To(Equal(tc.wantCode))
				g.Expect(r.str("message")).To(ContainSubstring(tc.wantMsg))
				g.Expect(after).To(Equal(before), "a rejected call changes nothing")
				g.Expect(writes[0].Code).To(Equal(tc.wantCode))
				return
			}
			g.Expect(r.status).To(Equal(200), "%v", r.body)
			g.Expect(r.body).To(HaveKeyWithValue("success", true))
			g.Expect(after).To(Equal(tc.want(before)))
			g.Expect(writes[0].After).To(Equal(after))
		})
	}
}

func TestChatGet(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	tok := f.token(t)
	id := f.create(t, tok, "ops", "u1")

	r := f.do(t, "GET", "/chat/get?access_token="+tok+"&chatid="+id, "", nil)
	g.Expect(r.status).To(Equal(200))
	g.Expect(r.num("errcode")).To(Equal(0))
	info := r.body["chat_info"].(map[string]any)
	g.Expect(info).To(HaveKeyWithValue("name", "ops"))
	g.Expect(info).To(HaveKeyWithValue("owner", "owner"))
	g.Expect(info).To(HaveKeyWithValue("useridlist", ConsistOf("owner", "u1")))
	g.Expect(info).To(HaveKeyWithValue("conversationTag", BeNumerically("==", 2)))
	for _, k := range []string{"chatBannedType", "searchable", "validationType", "mentionAllAuthority", "managementType", "showHistoryType"} {
		g.Expect(info).To(HaveKey(k))
	}
	// The legacy page documents neither: the icon and external contacts are write-only.
	g.Expect(info).NotTo(HaveKey("icon"))
	g.Expect(info).NotTo(HaveKey("extidlist"))

	for _, tc := range []struct {
		name, query string
		want        int
	}{
		{name: "unknown chatid", query: "access_token=" + tok + "&chatid=chat404", want: ErrcodeChatNotFound},
		{name: "missing chatid", query: "access_token=" + tok, want: ErrcodeInvalidParam},
		{name: "bad token", query: "access_token=nope&chatid=" + id, want: ErrcodeInvalidToken},
	} {
		r := f.do(t, "GET", "/chat/get?"+tc.query, "", nil)
		g.Expect(r.status).To(Equal(200), "legacy errors are HTTP 200: %s", tc.name)
		g.Expect(r.num("errcode")).To(Equal(tc.want), tc.name)
	}
	g.Expect(f.Count(OpGet, "ok")).To(Equal(1))
	g.Expect(f.Count(OpGet, "error")).To(Equal(2))
	g.Expect(f.Count(OpGet, "unauthorized")).To(Equal(1))
}

func TestSearch(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	tok := f.token(t)
	a := f.create(t, tok, "oncall", "u1")
	b := f.create(t, tok, "oncall-2", "u2")
	f.create(t, tok, "payroll", "u1")
	ga, _ := f.Group(a)
	gb, _ := f.Group(b)

	titles := func(userID, key string, max int) []string {
		r := f.do(t, "POST", "/v1.0/im/innerGroups/search", tok, map[string]any{"userId": userID, "searchKey": key, "maxResults": max})
		g.Expect(r.status).To(Equal(200), "%v", r.body)
		var out []string
		for _, gi := range r.body["groupInfos"].([]any) {
			m := gi.(map[string]any)
			out = append(out, m["title"].(string)+"="+m["openConversationId"].(string))
		}
		return out
	}
	g.Expect(titles("owner", "oncall", 10)).To(Equal([]string{"oncall=" + ga.OpenConversationID, "oncall-2=" + gb.OpenConversationID}), "a keyword search, not an exact match")
	g.Expect(titles("u1", "oncall", 10)).To(Equal([]string{"oncall=" + ga.OpenConversationID}), "only the user's own groups")
	g.Expect(titles("owner", "oncall", 1)).To(HaveLen(1))
	g.Expect(titles("u3", "oncall", 10)).To(BeEmpty())
	r := f.do(t, "POST", "/v1.0/im/innerGroups/search", tok, map[string]any{"userId": "owner", "maxResults": 1})
	g.Expect(r.str("code")).To(Equal(CodeParameterInvalid))
}

func TestRateLimit(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	tok := f.token(t)
	search := func() response {
		return f.do(t, "POST", "/v1.0/im/innerGroups/search", tok, map[string]any{"userId": "owner", "searchKey": "x", "maxResults": 1})
	}
	for i := range DefaultQPS {
		g.Expect(search().status).To(Equal(200), "call %d", i+1)
	}
	r := search()
	g.Expect(r.status).To(Equal(403))
	g.Expect(r.str("code")).To(Equal(CodeQPSLimit))
	g.Expect(f.do(t, "GET", "/chat/get?access_token="+tok+"&chatid=x", "", nil).num("errcode")).To(Equal(ErrcodeChatNotFound), "limits are per API")
	g.Expect(f.Count(OpSearch, "throttled")).To(Equal(1))

	f.clock.Step(time.Second)
	g.Expect(search().status).To(Equal(200), "a new second")

	f.SetThrottle(OpGet, true)
	g.Expect(f.do(t, "GET", "/chat/get?access_token="+tok+"&chatid=x", "", nil).num("errcode")).To(Equal(ErrcodeQPSLimit), "legacy throttle code")
	f.SetThrottle(OpGet, false)
	g.Expect(f.do(t, "GET", "/chat/get?access_token="+tok+"&chatid=x", "", nil).num("errcode")).To(Equal(ErrcodeChatNotFound))
}

func TestMonthlyQuota(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	f.SetMonthlyQuota(2)
	tok := f.token(t)
	f.token(t) // token calls are not metered
	f.create(t, tok, "a")
	f.create(t, tok, "b")
	r := f.do(t, "POST", "/v1.0/im/group/create", tok, map[string]any{"name": "c", "owner": "owner", "useridlist": []string{"owner"}})
	g.Expect(r.status).To(Equal(403))
	g.Expect(r.str("code")).To(Equal(CodeMonthlyQuota))
	g.Expect(f.do(t, "GET", "/chat/get?access_token="+tok+"&chatid=x", "", nil).num("errcode")).To(Equal(ErrcodeMonthlyQuota))
}

func TestFaults(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	tok := f.token(t)

	f.SetOpFaults(OpCreate, vendorsim.Faults{ErrorRate: 1})
	r := f.do(t, "POST", "/v1.0/im/group/create", tok, map[string]any{"name": "a", "owner": "owner", "useridlist": []string{"owner"}})
	g.Expect(r.status).To(Equal(500))
	g.Expect(r.str("code")).To(Equal(CodeSystemError))
	g.Expect(f.GroupsNamed("a")).To(BeEmpty(), "an injected error applies nothing")

	f.SetOpFaults(OpGet, vendorsim.Faults{ErrorRate: 1})
	g.Expect(f.do(t, "GET", "/chat/get?access_token="+tok+"&chatid=x", "", nil).num("errcode")).To(Equal(ErrcodeBusy))

	f.SetOpFaults(OpCreate, vendorsim.Faults{DropRate: 1})
	body, _ := json.Marshal(map[string]any{"name": "b", "owner": "owner", "useridlist": []string{"owner"}})
	req, _ := http.NewRequest("POST", f.url+"/v1.0/im/group/create", bytes.NewReader(body))
	req.Header.Set("x-acs-dingtalk-access-token", tok)
	_, err := http.DefaultClient.Do(req)
	g.Expect(err).To(HaveOccurred(), "the response is lost")
	g.Expect(f.GroupsNamed("b")).To(HaveLen(1), "but the group was created")
	g.Expect(f.Count(OpCreate, "injected")).To(Equal(1))
	g.Expect(f.Count(OpCreate, "dropped")).To(Equal(1))
}

func TestEditAndDismiss(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	id := f.create(t, f.token(t), "ops", "u1", "u2")
	g.Expect(f.Edit(id, func(grp *Group) { grp.Members = []string{"owner", "u1"}; grp.ChatID = "hijack" })).To(Succeed())
	grp, _ := f.Group(id)
	g.Expect(grp.Members).To(Equal([]string{"owner", "u1"}))
	g.Expect(grp.ChatID).To(Equal(id), "IDs cannot be edited")
	f.Dismiss(id)
	_, ok := f.Group(id)
	g.Expect(ok).To(BeFalse())
	g.Expect(f.Edit(id, func(*Group) {})).NotTo(Succeed())
}

func TestFailWith(t *testing.T) {
	for _, tc := range []struct {
		name       string
		op         string
		code       string
		call       func(f *fixture, tok, id string) response
		wantStatus int
		wantBody   map[string]any
		outcome    string
	}{
		{name: "a documented v1.0 code with its status", op: OpUpdate, code: CodeSystemError, wantStatus: 500,
			wantBody: map[string]any{"code": CodeSystemError}, outcome: "error"},
		{name: "permission denied is a 400", op: OpUpdate, code: CodePermissionDenied, wantStatus: 400,
			wantBody: map[string]any{"code": CodePermissionDenied, "message": "Permission check failed"}, outcome: "error"},
		{name: "a throttle code is logged as throttled", op: OpUpdate, code: CodeQPSLimit, wantStatus: 403,
			wantBody: map[string]any{"code": CodeQPSLimit}, outcome: "throttled"},
		{name: "an undocumented code", op: OpUpdate, code: "chat.somethingNew", wantStatus: 400,
			wantBody: map[string]any{"code": "chat.somethingNew", "message": "simulated failure chat.somethingNew"}, outcome: "error"},
		{name: "a legacy errcode comes with HTTP 200", op: OpGet, code: "34001", wantStatus: 200,
			wantBody: map[string]any{"errcode": 34001.0}, outcome: "error"},
		{name: "errcode 88 with a sub_code", op: OpGet, code: "88/60011", wantStatus: 200,
			wantBody: map[string]any{"errcode": 88.0, "sub_code": "60011"}, outcome: "error"},
		{name: "a legacy throttle", op: OpGet, code: "90018", wantStatus: 200,
			wantBody: map[string]any{"errcode": 90018.0}, outcome: "throttled"},
		{name: "a non-numeric legacy code is 88's sub_code", op: OpGet, code: "isv.something", wantStatus: 200,
			wantBody: map[string]any{"errcode": 88.0, "sub_code": "isv.something"}, outcome: "error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			f := newFixture(t)
			tok := f.token(t)
			id := f.create(t, tok, "ops", "u1")
			call := func() response {
				if tc.op == OpGet {
					return f.do(t, "GET", "/chat/get?access_token="+tok+"&chatid="+id, "", nil)
				}
				return f.do(t, "POST", "/v1.0/im/group/update", tok, map[string]any{"chatid": id, "name": "renamed"})
			}
			f.FailWith(tc.op, tc.code)
			for range 2 {
				r := call()
				g.Expect(r.status).To(Equal(tc.wantStatus))
				for k, v := range tc.wantBody {
					g.Expect(r.body).To(HaveKeyWithValue(k, v))
				}
			}
			g.Expect(f.Count(tc.op, tc.outcome)).To(Equal(2))
			grp, _ := f.Group(id)
			g.Expect(grp.Name).To(Equal("ops"), "a failed call applies nothing")
			g.Expect(f.Count(OpCreate, "ok")).To(Equal(1), "other operations are served")

			f.FailWith(tc.op, "")
			r := call()
			g.Expect(r.status).To(Equal(200))
			g.Expect(r.body).NotTo(HaveKey("code"))
			if tc.op == OpGet {
				g.Expect(r.num("errcode")).To(Equal(0))
			}
		})
	}
}

func TestThrottleFor(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	tok := f.token(t)
	f.ThrottleFor(2 * time.Second)
	r := f.do(t, "POST", "/v1.0/im/innerGroups/search", tok, map[string]any{"userId": "owner", "searchKey": "x", "maxResults": 1})
	g.Expect(r.status).To(Equal(403))
	g.Expect(r.str("code")).To(Equal(CodeQPSLimit))
	g.Expect(f.do(t, "GET", "/chat/get?access_token="+tok+"&chatid=x", "", nil).num("errcode")).To(Equal(ErrcodeQPSLimit))
	g.Expect(f.do(t, "POST", "/v1.0/oauth2/accessToken", "", map[string]string{"appKey": "key", "appSecret": "secret"}).status).To(Equal(403))

	f.clock.Step(2 * time.Second)
	g.Expect(f.do(t, "POST", "/v1.0/im/innerGroups/search", tok, map[string]any{"userId": "owner", "searchKey": "x", "maxResults": 1}).status).To(Equal(200))
}

func TestSite(t *testing.T) {
	g := NewWithT(t)
	s := New(Config{Apps: map[string]string{"key": "secret"}, Site: "dingtalk.io"})
	call := func(host, path string) int {
		r := httptest.NewRequest(http.MethodGet, "http://"+host+path, nil)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w.Code
	}
	g.Expect(call("oapi.dingtalk.com", "/chat/get")).To(Equal(http.StatusNotFound), "another site's host")
	g.Expect(call("api.dingtalk.io", "/chat/get")).To(Equal(http.StatusNotFound), "the legacy API is on oapi")
	g.Expect(call("oapi.dingtalk.io:443", "/chat/get")).To(Equal(http.StatusOK), "an errcode answer: no token")
}

func TestPermissions(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	tok := f.token(t)
	f.Revoke("key", PermChatManage)
	r := f.do(t, "POST", "/v1.0/im/group/update", tok, map[string]any{"chatid": "chat-none"})
	g.Expect(r.status).To(Equal(400))
	g.Expect(r.str("code")).To(Equal(CodePermissionDenied), "refused before the chatid is looked at")
	g.Expect(f.do(t, "POST", "/v1.0/im/group/create", tok, map[string]any{"name": "n", "owner": "owner", "useridlist": []string{"owner"}}).str("code")).To(Equal(CodePermissionDenied))
	g.Expect(f.do(t, "GET", "/chat/get?access_token="+tok+"&chatid=x", "", nil).num("errcode")).To(Equal(ErrcodeChatNotFound), "reading needs the other permission")

	f.Revoke("key", PermChatRead)
	r = f.do(t, "GET", "/chat/get?access_token="+tok+"&chatid=x", "", nil)
	g.Expect(r.num("errcode")).To(Equal(ErrcodeSubCode))
	g.Expect(r.str("sub_code")).To(Equal("60011"))
	f.Grant("key", PermChatRead)
	f.Grant("key", PermChatManage)
	g.Expect(f.do(t, "POST", "/v1.0/im/group/update", tok, map[string]any{"chatid": "chat-none"}).str("code")).To(Equal(CodeParameterInvalid))
}
