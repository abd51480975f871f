package tencentim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

const (
	testApp   = int64(1400000001)
	testKey   = "sim-secret-key"
	testAdmin = "administrator"
)

// fixture is a Server behind a real HTTP server, with one app.
type fixture struct {
	t   *testing.T
	sim *Server
	url string
	clk *clocktesting.FakeClock
}

func newFixture(t *testing.T, mods ...func(*App)) *fixture {
	t.Helper()
	clk := clocktesting.NewFakeClock(time.Unix(1700000000, 0))
	a := App{SecretKey: testKey, Admins: []string{testAdmin}, Accounts: []string{"alice", "bob", "carol", "dave"},
		GroupDataKeys: []string{"team", "tier"}}
	for _, m := range mods {
		m(&a)
	}
	sim := New(Config{Apps: map[int64]App{testApp: a}}, vendorsim.WithClock(clk))
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &fixture{t: t, sim: sim, url: srv.URL, clk: clk}
}

// query is a valid request query for the admin.
func (h *fixture) query() url.Values {
	q := url.Values{}
	q.Set("sdkappid", strconv.FormatInt(testApp, 10))
	q.Set("identifier", testAdmin)
	q.Set("usersig", SignUserSig(testKey, testApp, testAdmin, h.clk.Now(), 24*time.Hour))
	q.Set("random", "12345")
	q.Set("contenttype", "json")
	return q
}

// call posts body to command as the admin and returns the decoded answer.
func (h *fixture) call(command string, body any) map[string]any {
	return h.send(http.MethodPost, command, h.query(), body)
}

func (h *fixture) send(method, command string, q url.Values, body any) map[string]any {
	h.t.Helper()
	g := NewWithT(h.t)
	raw, ok := body.(string)
	if !ok {
		b, err := json.Marshal(body)
		g.Expect(err).NotTo(HaveOccurred())
		raw = string(b)
	}
	req, err := http.NewRequest(method, h.url+"/v4/group_open_http_svc/"+command+"?"+q.Encode(), strings.NewReader(raw))
	g.Expect(err).NotTo(HaveOccurred())
	resp, err := http.DefaultClient.Do(req)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	g.Expect(resp.StatusCode).To(Equal(http.StatusOK), "the vendor answers errors with HTTP 200")
	out := map[string]any{}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	g.Expect(dec.Decode(&out)).To(Succeed())
	return out
}

// code is an answer's ErrorCode, checking ActionStatus agrees.
func code(t *testing.T, resp map[string]any) int {
	t.Helper()
	n, err := resp["ErrorCode"].(json.Number).Int64()
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	if n == 0 {
		NewWithT(t).Expect(resp["ActionStatus"]).To(Equal("OK"))
	} else {
		NewWithT(t).Expect(resp["ActionStatus"]).To(Equal("FAIL"))
	}
	return int(n)
}

// create makes a Private group id owned by alice with members.
func (h *fixture) create(id string, members ...string) {
	h.t.Helper()
	list := []map[string]string{}
	for _, m := range members {
		list = append(list, map[string]string{"Member_Account": m})
	}
	resp := h.call("create_group", map[string]any{"Type": "Private", "GroupId": id, "Name": "n", "Owner_Account": "alice", "MemberList": list})
	NewWithT(h.t).Expect(code(h.t, resp)).To(Equal(0), resp["ErrorInfo"])
}

func TestAdmission(t *testing.T) {
	for _, tc := range []struct {
		name     string
		method   string
		mod      func(h *fixture, q url.Values)
		wantCode int
	}{
		{name: "valid", wantCode: 0},
		{name: "wrong key", mod: func(h *fixture, q url.Values) {
			q.Set("usersig", SignUserSig("another-key", testApp, testAdmin, h.clk.Now(), time.Hour))
		}, wantCode: 70009},
		{name: "sig for another identifier", mod: func(h *fixture, q url.Values) {
			q.Set("usersig", SignUserSig(testKey, testApp, "bob", h.clk.Now(), time.Hour))
		}, wantCode: 70013},
		{name: "sig for another app", mod: func(h *fixture, q url.Values) {
			q.Set("usersig", SignUserSig(testKey, testApp+1, testAdmin, h.clk.Now(), time.Hour))
		}, wantCode: 70014},
		{name: "expired sig", mod: func(h *fixture, q url.Values) {
			q.Set("usersig", SignUserSig(testKey, testApp, testAdmin, h.clk.Now().Add(-2*time.Hour), time.Hour))
		}, wantCode: 70001},
		{name: "garbage sig", mod: func(_ *fixture, q url.Values) { q.Set("usersig", "not-a-sig") }, wantCode: 70003},
		{name: "identifier not an App admin", mod: func(h *fixture, q url.Values) {
			q.Set("identifier", "bob")
			q.Set("usersig", SignUserSig(testKey, testApp, "bob", h.clk.Now(), time.Hour))
		}, wantCode: 60010},
		{name: "app hosted elsewhere", mod: func(_ *fixture, q url.Values) { q.Set("sdkappid", "1400000099") }, wantCode: 70020},
		{name: "no sdkappid", mod: func(_ *fixture, q url.Values) { q.Del("sdkappid") }, wantCode: 60012},
		{name: "random not a uint32", mod: func(_ *fixture, q url.Values) { q.Set("random", "4294967296") }, wantCode: 60002},
		{name: "not json", mod: func(_ *fixture, q url.Values) { q.Set("contenttype", "xml") }, wantCode: 60002},
		{name: "GET", method: http.MethodGet, wantCode: 60002},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newFixture(t)
			q := h.query()
			if tc.mod != nil {
				tc.mod(h, q)
			}
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			resp := h.send(method, "get_appid_group_list", q, map[string]any{"Limit": 1})
			NewWithT(t).Expect(code(t, resp)).To(Equal(tc.wantCode), resp["ErrorInfo"])
		})
	}
}

func TestRateLimits(t *testing.T) {
	g := NewWithT(t)
	h := newFixture(t)
	h.sim.SetRateLimit(testApp, 2)
	for range 2 {
		g.Expect(code(t, h.call("get_appid_group_list", map[string]any{}))).To(Equal(0))
	}
	g.Expect(code(t, h.call("get_appid_group_list", map[string]any{}))).To(Equal(60007), "third call in the same second")
	g.Expect(code(t, h.call("get_group_info", map[string]any{"GroupIdList": []string{"x"}}))).To(Equal(0), "limits are per API")
	g.Expect(h.sim.Count("get_appid_group_list", "throttled")).To(Equal(1))
	h.clk.Step(time.Second)
	g.Expect(code(t, h.call("get_appid_group_list", map[string]any{}))).To(Equal(0), "a new second")

	h.sim.SetRateLimit(testApp, 0)
	h.sim.Throttle(2 * time.Second)
	g.Expect(code(t, h.call("get_group_info", map[string]any{"GroupIdList": []string{"x"}}))).To(Equal(60007), "throttle window")
	h.clk.Step(2 * time.Second)
	g.Expect(code(t, h.call("get_group_info", map[string]any{"GroupIdList": []string{"x"}}))).To(Equal(0), "window over")
}

func TestDefaultRateLimitIs200PerSecond(t *testing.T) {
	g := NewWithT(t)
	h := newFixture(t)
	codes := map[int]int{}
	for range DefaultRateLimit + 1 {
		codes[code(t, h.call("get_appid_group_list", map[string]any{}))]++
	}
	g.Expect(codes).To(Equal(map[int]int{0: DefaultRateLimit, 60007: 1}))
}

func TestCreateGroup(t *testing.T) {
	members := func(n int, prefix string) []map[string]string {
		out := []map[string]string{}
		for i := range n {
			out = append(out, map[string]string{"Member_Account": fmt.Sprintf("%s%d", prefix, i)})
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		before   func(h *fixture)
		body     map[string]any
		wantCode int
	}{
		{name: "valid", body: map[string]any{"Type": "Public", "Name": "n", "GroupId": "g1", "ApplyJoinOption": "NeedPermission"}},
		{name: "name of 30 bytes", body: map[string]any{"Type": "Private", "Name": strings.Repeat("a", 30)}},
		{name: "name of 31 bytes", body: map[string]any{"Type": "Private", "Name": strings.Repeat("a", 31)}, wantCode: 10004},
		{name: "name of 11 three-byte characters", body: map[string]any{"Type": "Private", "Name": strings.Repeat("群", 11)}, wantCode: 10004},
		{name: "introduction of 241 bytes", body: map[string]any{"Type": "Private", "Name": "n", "Introduction": strings.Repeat("a", 241)}, wantCode: 10004},
		{name: "notification of 301 bytes", body: map[string]any{"Type": "Private", "Name": "n", "Notification": strings.Repeat("a", 301)}, wantCode: 10004},
		{name: "face URL of 101 bytes", body: map[string]any{"Type": "Private", "Name": "n", "FaceUrl": strings.Repeat("a", 101)}, wantCode: 10004},
		{name: "no name", body: map[string]any{"Type": "Private"}, wantCode: 10004},
		{name: "unknown type", body: map[string]any{"Type": "Work", "Name": "n"}, wantCode: 10004},
		{name: "101 members", before: func(h *fixture) {
			for _, m := range members(101, "u") {
				h.sim.ImportAccounts(testApp, m["Member_Account"])
			}
		}, body: map[string]any{"Type": "Private", "Name": "n", "MemberList": members(101, "u")}, wantCode: 10005},
		{name: "custom ID with the vendor prefix", body: map[string]any{"Type": "Private", "Name": "n", "GroupId": "@TGS#x"}, wantCode: 10004},
		{name: "custom ID of 49 bytes", body: map[string]any{"Type": "Private", "Name": "n", "GroupId": strings.Repeat("a", 49)}, wantCode: 10004},
		{name: "custom ID not printable", body: map[string]any{"Type": "Private", "Name": "n", "GroupId": "a\tb"}, wantCode: 10004},
		{name: "Community ID without @TGS#_", body: map[string]any{"Type": "Community", "Name": "n", "GroupId": "abc"}, wantCode: 10004},
		{name: "Community ID with @TGS#_", body: map[string]any{"Type": "Community", "Name": "n", "GroupId": "@TGS#_abc"}},
		{name: "taken ID", before: func(h *fixture) { h.create("g1") },
			body: map[string]any{"Type": "Private", "Name": "n", "GroupId": "g1"}, wantCode: 10021},
		{name: "taken ID owned by the caller", before: func(h *fixture) {
			h.call("create_group", map[string]any{"Type": "Private", "Name": "n", "GroupId": "g1", "Owner_Account": testAdmin})
		}, body: map[string]any{"Type": "Private", "Name": "n", "GroupId": "g1"}, wantCode: 10025},
		{name: "member not imported", body: map[string]any{"Type": "Private", "Name": "n", "MemberList": members(1, "stranger")}, wantCode: 10019},
		{name: "owner not imported", body: map[string]any{"Type": "Private", "Name": "n", "Owner_Account": "stranger"}, wantCode: 10019},
		{name: "members on an AVChatRoom", body: map[string]any{"Type": "AVChatRoom", "Name": "n", "MemberList": []map[string]string{{"Member_Account": "bob"}}}, wantCode: 10007},
		{name: "apply option on a Private group", body: map[string]any{"Type": "Private", "Name": "n", "ApplyJoinOption": "FreeAccess"}, wantCode: 10004},
		{name: "invite option on an AVChatRoom", body: map[string]any{"Type": "AVChatRoom", "Name": "n", "InviteJoinOption": "FreeAccess"}, wantCode: 10004},
		{name: "app data key not enabled", body: map[string]any{"Type": "Private", "Name": "n", "AppDefinedData": []map[string]string{{"Key": "x", "Value": "1"}}}, wantCode: 10004},
		{name: "a field create_group does not have", body: map[string]any{"Type": "Private", "Name": "n", "MaxMemberNum": 10}, wantCode: 10004},
		{name: "MaxMemberCount above the type's limit", body: map[string]any{"Type": "Private", "Name": "n", "MaxMemberCount": 6001}, wantCode: 10004},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			h := newFixture(t)
			if tc.before != nil {
				tc.before(h)
			}
			before := len(h.sim.Groups(testApp))
			resp := h.call("create_group", tc.body)
			g.Expect(code(t, resp)).To(Equal(tc.wantCode), resp["ErrorInfo"])
			if tc.wantCode != 0 {
				g.Expect(h.sim.Groups(testApp)).To(HaveLen(before), "a refused create makes nothing")
			}
		})
	}
}

func TestCreateGroup_State(t *testing.T) {
	g := NewWithT(t)
	h := newFixture(t)
	resp := h.call("create_group", map[string]any{"Type": "Public", "Name": "SRE", "Owner_Account": "alice",
		"Introduction": "i", "Notification": "n", "FaceUrl": "http://f", "MaxMemberCount": 50,
		"InviteJoinOption": "DisableInvite", "AppDefinedData": []map[string]string{{"Key": "team", "Value": "sre"}},
		"MemberList": []map[string]string{{"Member_Account": "bob"}, {"Member_Account": "carol"}}})
	g.Expect(code(t, resp)).To(Equal(0))
	id := resp["GroupId"].(string)
	g.Expect(id).To(HavePrefix("@TGS#"), "the vendor assigns an ID when none is given")

	grp, ok := h.sim.Group(testApp, id)
	g.Expect(ok).To(BeTrue())
	g.Expect(grp.Accounts()).To(Equal([]string{"alice", "bob", "carol"}))
	g.Expect(grp.Members[0].Role).To(Equal("Owner"))
	g.Expect(grp.Members[1].Role).To(Equal("Member"))
	g.Expect(grp.MaxMembers).To(Equal(50))
	g.Expect(grp.ApplyJoinOption).To(Equal("NeedPermission"), "the default")
	g.Expect(grp.InviteJoinOption).To(Equal("DisableInvite"))
	g.Expect(grp.AppDefinedData).To(Equal(map[string]string{"team": "sre"}))
}

func TestGetGroupInfo(t *testing.T) {
	g := NewWithT(t)
	h := newFixture(t)
	h.create("g1", "bob")
	h.call("modify_group_base_info", map[string]any{"GroupId": "g1", "AppDefinedData": []map[string]string{{"Key": "team", "Value": "sre"}}})

	t.Run("the basic form answers everything, with a per-group error for a missing group", func(t *testing.T) {
		resp := h.call("get_group_info", map[string]any{"GroupIdList": []string{"g1", "nope"}})
		g.Expect(code(t, resp)).To(Equal(0))
		infos := resp["GroupInfo"].([]any)
		g.Expect(infos).To(HaveLen(2))
		info := infos[0].(map[string]any)
		g.Expect(info).To(HaveKeyWithValue("Name", "n"))
		g.Expect(info).To(HaveKeyWithValue("Owner_Account", "alice"))
		g.Expect(info).To(HaveKeyWithValue("ShutUpAllMember", "Off"))
		g.Expect(info).To(HaveKeyWithValue("MemberNum", json.Number("2")))
		g.Expect(info["AppDefinedData"]).To(Equal([]any{map[string]any{"Key": "team", "Value": "sre"}}))
		g.Expect(info["MemberList"]).To(HaveLen(2))
		missing := infos[1].(map[string]any)
		g.Expect(missing).To(HaveKeyWithValue("ErrorCode", json.Number("10010")))
	})
	t.Run("a filter answers only what it names", func(t *testing.T) {
		resp := h.call("get_group_info", map[string]any{"GroupIdList": []string{"g1"},
			"ResponseFilter": map[string]any{"GroupBaseInfoFilter": []string{"Type"}}})
		info := resp["GroupInfo"].([]any)[0].(map[string]any)
		g.Expect(info).To(HaveKeyWithValue("Type", "Private"))
		g.Expect(info).NotTo(HaveKey("Name"))
		g.Expect(info).NotTo(HaveKey("MemberList"))
		g.Expect(info).NotTo(HaveKey("AppDefinedData"))
	})
	t.Run("at most 50 groups", func(t *testing.T) {
		ids := make([]string, 51)
		for i := range ids {
			ids[i] = fmt.Sprint("g", i)
		}
		g.Expect(code(t, h.call("get_group_info", map[string]any{"GroupIdList": ids}))).To(Equal(10004))
	})
}

func TestGetGroupMemberInfo(t *testing.T) {
	g := NewWithT(t)
	h := newFixture(t)
	h.create("g1", "bob", "carol", "dave")

	page := func(body map[string]any) (int, []string, any) {
		resp := h.call("get_group_member_info", body)
		if c := code(t, resp); c != 0 {
			return c, nil, nil
		}
		var ids []string
		for _, m := range resp["MemberList"].([]any) {
			ids = append(ids, m.(map[string]any)["Member_Account"].(string))
		}
		return 0, ids, resp["Next"]
	}
	c, ids, _ := page(map[string]any{"GroupId": "g1", "Limit": 3, "MemberInfoFilter": []string{"Role"}})
	g.Expect(c).To(Equal(0))
	g.Expect(ids).To(Equal([]string{"alice", "bob", "carol"}))
	_, ids, _ = page(map[string]any{"GroupId": "g1", "Limit": 3, "Offset": 3})
	g.Expect(ids).To(Equal([]string{"dave"}))
	c, _, _ = page(map[string]any{"GroupId": "g1", "Limit": 201})
	g.Expect(c).To(Equal(10004), "Limit is at most 200")
	c, _, _ = page(map[string]any{"GroupId": "nope"})
	g.Expect(c).To(Equal(10010))

	g.Expect(code(t, h.call("create_group", map[string]any{"Type": "Community", "GroupId": "@TGS#_c", "Name": "c", "Owner_Account": "alice",
		"MemberList": []map[string]string{{"Member_Account": "bob"}, {"Member_Account": "carol"}}}))).To(Equal(0))
	c, _, _ = page(map[string]any{"GroupId": "@TGS#_c", "Limit": 2, "Offset": 2})
	g.Expect(c).To(Equal(10004), "Community groups page with Next")
	_, ids, next := page(map[string]any{"GroupId": "@TGS#_c", "Limit": 2, "Next": ""})
	g.Expect(ids).To(Equal([]string{"alice", "bob"}))
	g.Expect(next).NotTo(BeEmpty())
	_, ids, next = page(map[string]any{"GroupId": "@TGS#_c", "Limit": 2, "Next": next})
	g.Expect(ids).To(Equal([]string{"carol"}))
	g.Expect(next).To(Equal(""))

	g.Expect(code(t, h.call("create_group", map[string]any{"Type": "AVChatRoom", "GroupId": "live", "Name": "l"}))).To(Equal(0))
	c, _, _ = page(map[string]any{"GroupId": "live"})
	g.Expect(c).To(Equal(10007), "an AVChatRoom keeps no member list")
}

func TestModifyGroupBaseInfo(t *testing.T) {
	for _, tc := range []struct {
		name     string
		body     map[string]any
		wantCode int
		check    func(g Gomega, grp Group)
	}{
		{name: "only the fields sent change", body: map[string]any{"GroupId": "g1", "Name": "new"}, check: func(g Gomega, grp Group) {
			g.Expect(grp.Name).To(Equal("new"))
			g.Expect(grp.Introduction).To(Equal("intro"))
			g.Expect(grp.AppDefinedData).To(Equal(map[string]string{"team": "sre", "tier": "gold"}))
		}},
		{name: "an empty value deletes a key", body: map[string]any{"GroupId": "g1", "AppDefinedData": []map[string]string{{"Key": "tier", "Value": ""}}},
			check: func(g Gomega, grp Group) { g.Expect(grp.AppDefinedData).To(Equal(map[string]string{"team": "sre"})) }},
		{name: "MuteAllMember", body: map[string]any{"GroupId": "g1", "MuteAllMember": "On"}, check: func(g Gomega, grp Group) { g.Expect(grp.MuteAll).To(BeTrue()) }},
		{name: "ShutUpAllMember", body: map[string]any{"GroupId": "g1", "ShutUpAllMember": "On"}, check: func(g Gomega, grp Group) { g.Expect(grp.MuteAll).To(BeTrue()) }},
		{name: "mute flag neither On nor Off", body: map[string]any{"GroupId": "g1", "MuteAllMember": "yes"}, wantCode: 10004},
		{name: "member limit below the member count", body: map[string]any{"GroupId": "g1", "MaxMemberNum": 1}, wantCode: 10004},
		{name: "member limit", body: map[string]any{"GroupId": "g1", "MaxMemberNum": 10}, check: func(g Gomega, grp Group) { g.Expect(grp.MaxMembers).To(Equal(10)) }},
		{name: "name too long", body: map[string]any{"GroupId": "g1", "Name": strings.Repeat("a", 31)}, wantCode: 10004},
		{name: "empty name", body: map[string]any{"GroupId": "g1", "Name": ""}, wantCode: 10004},
		{name: "apply option on a Private group", body: map[string]any{"GroupId": "g1", "ApplyJoinOption": "FreeAccess"}, wantCode: 10004},
		{name: "create's field name", body: map[string]any{"GroupId": "g1", "MaxMemberCount": 10}, wantCode: 10004},
		{name: "key not enabled", body: map[string]any{"GroupId": "g1", "AppDefinedData": []map[string]string{{"Key": "x", "Value": "1"}}}, wantCode: 10004},
		{name: "missing group", body: map[string]any{"GroupId": "nope", "Name": "x"}, wantCode: 10010},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			h := newFixture(t)
			g.Expect(code(t, h.call("create_group", map[string]any{"Type": "Private", "GroupId": "g1", "Name": "old", "Owner_Account": "alice",
				"Introduction": "intro", "MemberList": []map[string]string{{"Member_Account": "bob"}},
				"AppDefinedData": []map[string]string{{"Key": "team", "Value": "sre"}, {"Key": "tier", "Value": "gold"}}}))).To(Equal(0))
			before, _ := h.sim.Group(testApp, "g1")
			resp := h.call("modify_group_base_info", tc.body)
			g.Expect(code(t, resp)).To(Equal(tc.wantCode), resp["ErrorInfo"])
			after, _ := h.sim.Group(testApp, "g1")
			if tc.wantCode != 0 {
				g.Expect(after).To(Equal(before), "a refused modify changes nothing")
				return
			}
			tc.check(g, after)
		})
	}
}

func TestAddGroupMember(t *testing.T) {
	list := func(ids ...string) []map[string]string {
		out := []map[string]string{}
		for _, id := range ids {
			out = append(out, map[string]string{"Member_Account": id})
		}
		return out
	}
	t.Run("results per member", func(t *testing.T) {
		g := NewWithT(t)
		h := newFixture(t, func(a *App) { a.MaxJoinedGroups = 1 })
		h.create("g0", "dave") // dave is now in his one allowed group
		h.create("g1", "bob")
		resp := h.call("add_group_member", map[string]any{"GroupId": "g1", "MemberList": list("carol", "bob", "dave")})
		g.Expect(code(t, resp)).To(Equal(0))
		var results []string
		for _, m := range resp["MemberList"].([]any) {
			mm := m.(map[string]any)
			results = append(results, fmt.Sprint(mm["Member_Account"], "=", mm["Result"]))
		}
		g.Expect(results).To(Equal([]string{"carol=1", "bob=2", "dave=0"}))
		grp, _ := h.sim.Group(testApp, "g1")
		g.Expect(grp.Accounts()).To(Equal([]string{"alice", "bob", "carol"}))
	})
	for _, tc := range []struct {
		name     string
		setup    func(h *fixture)
		members  []map[string]string
		group    string
		wantCode int
	}{
		{name: "301 members", setup: func(h *fixture) {
			for i := range 301 {
				h.sim.ImportAccounts(testApp, fmt.Sprint("u", i))
			}
		}, members: func() []map[string]string {
			ids := make([]string, 301)
			for i := range ids {
				ids[i] = fmt.Sprint("u", i)
			}
			return list(ids...)
		}(), wantCode: 10005},
		{name: "an account not imported fails the call", members: list("carol", "stranger"), wantCode: 10019},
		{name: "group full", setup: func(h *fixture) {
			h.call("modify_group_base_info", map[string]any{"GroupId": "g1", "MaxMemberNum": 2})
		}, members: list("carol"), wantCode: 10014},
		{name: "AVChatRoom", setup: func(h *fixture) {
			h.call("create_group", map[string]any{"Type": "AVChatRoom", "GroupId": "live", "Name": "l"})
		}, group: "live", members: list("carol"), wantCode: 10007},
		{name: "missing group", group: "nope", members: list("carol"), wantCode: 10010},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			h := newFixture(t)
			h.create("g1", "bob")
			if tc.setup != nil {
				tc.setup(h)
			}
			id := tc.group
			if id == "" {
				id = "g1"
			}
			resp := h.call("add_group_member", map[string]any{"GroupId": id, "MemberList": tc.members})
			g.Expect(code(t, resp)).To(Equal(tc.wantCode), resp["ErrorInfo"])
			grp, _ := h.sim.Group(testApp, "g1")
			g.Expect(grp.Accounts()).To(Equal([]string{"alice", "bob"}), "nothing added")
		})
	}
}

func TestDeleteGroupMember(t *testing.T) {
	for _, tc := range []struct {
		name     string
		accounts []string
		wantCode int
		want     []string
	}{
		{name: "members and non-members", accounts: []string{"bob", "stranger"}, want: []string{"alice", "carol"}},
		{name: "the owner", accounts: []string{"alice"}, wantCode: 10004, want: []string{"alice", "bob", "carol"}},
		{name: "101 accounts", accounts: func() []string {
			out := make([]string, 101)
			for i := range out {
				out[i] = fmt.Sprint("u", i)
			}
			return out
		}(), wantCode: 10005, want: []string{"alice", "bob", "carol"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			h := newFixture(t)
			h.create("g1", "bob", "carol")
			resp := h.call("delete_group_member", map[string]any{"GroupId": "g1", "MemberToDel_Account": tc.accounts})
			g.Expect(code(t, resp)).To(Equal(tc.wantCode), resp["ErrorInfo"])
			grp, _ := h.sim.Group(testApp, "g1")
			g.Expect(grp.Accounts()).To(Equal(tc.want))
		})
	}
}

func TestChangeGroupOwner(t *testing.T) {
	g := NewWithT(t)
	h := newFixture(t)
	h.create("g1", "bob")
	g.Expect(code(t, h.call("change_group_owner", map[string]any{"GroupId": "g1", "NewOwner_Account": "carol"}))).
		To(Equal(10004), "the new owner must be a member")
	g.Expect(code(t, h.call("change_group_owner", map[string]any{"GroupId": "g1", "NewOwner_Account": "stranger"}))).
		To(Equal(10019))
	g.Expect(code(t, h.call("change_group_owner", map[string]any{"GroupId": "g1", "NewOwner_Account": "bob"}))).To(Equal(0))
	grp, _ := h.sim.Group(testApp, "g1")
	g.Expect(grp.Owner).To(Equal("bob"))
	g.Expect(grp.Members).To(HaveLen(2))
	roles := map[string]string{}
	for _, m := range grp.Members {
		roles[m.Account] = m.Role
	}
	g.Expect(roles).To(Equal(map[string]string{"alice": "Member", "bob": "Owner"}))
}

func TestDestroyGroup(t *testing.T) {
	g := NewWithT(t)
	h := newFixture(t)
	h.create("g1")
	g.Expect(code(t, h.call("destroy_group", map[string]any{"GroupId": "g1"}))).To(Equal(0))
	_, exists := h.sim.Group(testApp, "g1")
	g.Expect(exists).To(BeFalse())
	g.Expect(code(t, h.call("destroy_group", map[string]any{"GroupId": "g1"}))).To(Equal(10010))
}

func TestGetAppIDGroupList(t *testing.T) {
	g := NewWithT(t)
	h := newFixture(t)
	for _, id := range []string{"g1", "g2", "g3"} {
		h.create(id)
	}
	resp := h.call("get_appid_group_list", map[string]any{"Limit": 2})
	g.Expect(resp["TotalCount"]).To(Equal(json.Number("3")))
	g.Expect(resp["GroupIdList"]).To(Equal([]any{map[string]any{"GroupId": "g1"}, map[string]any{"GroupId": "g2"}}))
	g.Expect(resp["Next"]).To(Equal(json.Number("2")))
	resp = h.call("get_appid_group_list", map[string]any{"Limit": 2, "Next": 2})
	g.Expect(resp["GroupIdList"]).To(Equal([]any{map[string]any{"GroupId": "g3"}}))
	g.Expect(resp["Next"]).To(Equal(json.Number("0")), "0: the list is complete")
}

func TestFaultsAndCallLog(t *testing.T) {
	g := NewWithT(t)
	h := newFixture(t)

	h.sim.SetOpFaults("create_group", vendorsim.Faults{ErrorRate: 1})
	resp := h.call("create_group", map[string]any{"Type": "Private", "GroupId": "g1", "Name": "n"})
	g.Expect(code(t, resp)).To(Equal(10002), "the injected transient error")
	_, exists := h.sim.Group(testApp, "g1")
	g.Expect(exists).To(BeFalse(), "nothing applied")

	h.sim.SetOpFaults("create_group", vendorsim.Faults{DropRate: 1})
	req, _ := http.NewRequest(http.MethodPost, h.url+"/v4/group_open_http_svc/create_group?"+h.query().Encode(),
		bytes.NewReader([]byte(`{"Type":"Private","GroupId":"g1","Name":"n"}`)))
	_, err := http.DefaultClient.Do(req)
	g.Expect(err).To(HaveOccurred(), "the response is lost")
	_, exists = h.sim.Group(testApp, "g1")
	g.Expect(exists).To(BeTrue(), "but the create was applied")
	h.sim.SetOpFaults("create_group", vendorsim.Faults{})

	g.Expect(code(t, h.call("create_group", map[string]any{"Type": "Private", "GroupId": "g1", "Name": "n"}))).To(Equal(10021))
	g.Expect(h.sim.Count("create_group")).To(Equal(3))
	g.Expect(h.sim.Count("create_group", "injected")).To(Equal(1))
	g.Expect(h.sim.Count("create_group", "dropped")).To(Equal(1))
	g.Expect(h.sim.Count("create_group", "error")).To(Equal(1))
	g.Expect(h.sim.GroupCount("g1", "create_group")).To(Equal(3))
	g.Expect(h.sim.GroupCount("g1", "create_group", "ok")).To(Equal(1), "the dropped one was applied")
	g.Expect(h.sim.GroupCount("g1", "create_group", "injected")).To(Equal(1))
	calls := h.sim.GroupCalls("g1")
	g.Expect(calls[2].Code).To(Equal(10021))
	g.Expect(string(calls[2].Body)).To(ContainSubstring(`"GroupId":"g1"`))
	g.Expect(h.sim.AppCalls(testApp)).To(HaveLen(3))
	g.Expect(h.sim.UserSigs()).NotTo(BeEmpty())
}

func TestUnknownResource(t *testing.T) {
	g := NewWithT(t)
	h := newFixture(t)
	resp, err := http.Post(h.url+"/v4/group_open_http_svc/no_such_command?"+h.query().Encode(), "application/json", strings.NewReader("{}"))
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	g.Expect(string(body)).To(ContainSubstring(`"ErrorCode":60009`))
}

func TestFailWith(t *testing.T) {
	g := NewWithT(t)
	h := newFixture(t)
	h.create("g1", "bob")
	rename := map[string]any{"GroupId": "g1", "Name": "renamed"}

	h.sim.FailWith("modify_group_base_info", "10007")
	for range 2 {
		resp := h.call("modify_group_base_info", rename) // send checks HTTP 200
		g.Expect(code(t, resp)).To(Equal(10007), "every call, in the vendor's envelope")
		g.Expect(resp["ErrorInfo"]).To(Equal("insufficient permission"))
	}
	grp, _ := h.sim.Group(testApp, "g1")
	g.Expect(grp.Name).To(Equal("n"), "nothing applied")
	g.Expect(code(t, h.call("get_group_info", map[string]any{"GroupIdList": []string{"g1"}}))).To(Equal(0), "other commands answer as usual")
	g.Expect(h.sim.GroupCount("g1", "modify_group_base_info", "error")).To(Equal(2))
	g.Expect(h.sim.GroupCalls("g1")[len(h.sim.GroupCalls("g1"))-2].Code).To(Equal(10007))

	h.sim.FailWith("modify_group_base_info", "12345")
	resp := h.call("modify_group_base_info", rename)
	g.Expect(code(t, resp)).To(Equal(12345), "any code, documented or not")
	g.Expect(resp["ErrorInfo"]).To(Equal("error 12345"))

	h.sim.FailWith("modify_group_base_info", "60007")
	g.Expect(code(t, h.call("modify_group_base_info", rename))).To(Equal(60007))
	g.Expect(h.sim.Count("modify_group_base_info", "throttled")).To(Equal(1), "the throttle code is logged as a throttle")

	q := h.query()
	q.Set("usersig", "not-a-sig")
	g.Expect(code(t, h.send(http.MethodPost, "modify_group_base_info", q, rename))).To(Equal(70003), "admission comes first")

	h.sim.FailWith("modify_group_base_info", "")
	g.Expect(code(t, h.call("modify_group_base_info", rename))).To(Equal(0))
	grp, _ = h.sim.Group(testApp, "g1")
	g.Expect(grp.Name).To(Equal("renamed"))
}
