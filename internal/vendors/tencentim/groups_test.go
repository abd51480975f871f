package tencentim

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// infoReply answers get_group_info with g as the vendor renders it.
func infoReply(g group) string {
	data := []map[string]string{}
	for k, v := range g.AppData {
		data = append(data, map[string]string{"Key": k, "Value": v})
	}
	item := map[string]any{"GroupId": g.ID, "ErrorCode": 0, "ErrorInfo": "", "Type": g.Type, "Name": g.Name,
		"Introduction": g.Introduction, "Notification": g.Notification, "FaceUrl": g.FaceURL,
		"Owner_Account": g.Owner, "MemberNum": len(g.Members), "MaxMemberNum": g.MaxMembers,
		"ApplyJoinOption": g.ApplyJoin, "InviteJoinOption": g.InviteJoin, "MuteAllMember": onOff(g.MuteAll),
		"AppDefinedData": data}
	raw, _ := json.Marshal([]any{item})
	return ok(`"GroupInfo":` + string(raw))
}

// missingReply answers get_group_info for a group that does not exist.
func missingReply(id string, code int) string {
	return ok(fmt.Sprintf(`"GroupInfo":[{"GroupId":%q,"ErrorCode":%d,"ErrorInfo":"group not found"}]`, id, code))
}

// membersReply pages members by the request's Offset and Limit; owner gets the
// Owner role.
func membersReply(owner string, members []string) func(map[string]any) string {
	return func(body map[string]any) string {
		off, _ := body["Offset"].(float64)
		limit, _ := body["Limit"].(float64)
		start := min(int(off), len(members))
		end := min(start+int(limit), len(members))
		var list []map[string]string
		for _, m := range members[start:end] {
			role := "Member"
			if m == owner {
				role = "Owner"
			}
			list = append(list, map[string]string{"Member_Account": m, "Role": role})
		}
		raw, _ := json.Marshal(list)
		return ok(fmt.Sprintf(`"MemberNum":%d,"MemberList":%s`, len(members), raw))
	}
}

// addReply answers add_group_member with result for every requested member,
// except those in special.
func addReply(result int, special map[string]int) func(map[string]any) string {
	return func(body map[string]any) string {
		var list []map[string]any
		for _, m := range body["MemberList"].([]any) {
			id := m.(map[string]any)["Member_Account"].(string)
			r, ok := special[id]
			if !ok {
				r = result
			}
			list = append(list, map[string]any{"Member_Account": id, "Result": r})
		}
		raw, _ := json.Marshal(list)
		return ok(`"MemberList":` + string(raw))
	}
}

// accounts returns n generated account IDs with prefix.
func accounts(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return out
}

// listOf extracts a JSON list of strings or of {Member_Account} objects.
func listOf(v any) []string {
	var out []string
	for _, item := range v.([]any) {
		if m, isMap := item.(map[string]any); isMap {
			out = append(out, m["Member_Account"].(string))
			continue
		}
		out = append(out, item.(string))
	}
	return out
}

func TestClient_Create(t *testing.T) {
	publicSpec := spec(func(s *wantSpec) { s.TencentIM.GroupType, s.Options.JoinPolicy = public, "ApprovalRequired" })
	many := accounts("m", 450)
	for _, tc := range []struct {
		name        string
		want        vendors.GroupSpec
		replies     map[string][]any
		wantCalls   []string
		wantClass   error // nil: success
		wantField   string
		wantMembers []string
		check       func(g Gomega, s *stub)
	}{
		{name: "sends every field and the derived GroupId", want: publicSpec,
			replies:     map[string][]any{"create_group": {ok(`"GroupId":"cg-uid-1"`)}},
			wantCalls:   []string{"create_group"},
			wantMembers: []string{"alice", "bob", "carol"},
			check: func(g Gomega, s *stub) {
				raw, _ := json.Marshal(s.bodies("create_group")[0])
				g.Expect(string(raw)).To(MatchJSON(`{"Type":"Public","GroupId":"cg-uid-1","Name":"SRE","Owner_Account":"alice",
					"Introduction":"intro","Notification":"notice","FaceUrl":"http://x/y.png","MaxMemberCount":500,
					"ApplyJoinOption":"NeedPermission","InviteJoinOption":"FreeAccess",
					"AppDefinedData":[{"Key":"team","Value":"sre"}],
					"MemberList":[{"Member_Account":"bob"},{"Member_Account":"carol"}]}`))
			}},
		{name: "members beyond create's 100 are added in calls of at most 300",
			want:        spec(func(s *wantSpec) { s.Members = many }),
			replies:     map[string][]any{"add_group_member": {addReply(1, nil)}},
			wantCalls:   []string{"create_group", "add_group_member", "add_group_member"},
			wantMembers: append([]string{"alice"}, many...),
			check: func(g Gomega, s *stub) {
				g.Expect(listOf(s.bodies("create_group")[0]["MemberList"])).To(Equal(many[:100]))
				adds := s.bodies("add_group_member")
				g.Expect(listOf(adds[0]["MemberList"])).To(Equal(many[100:400]))
				g.Expect(listOf(adds[1]["MemberList"])).To(Equal(many[400:]))
			}},
		{name: "mute-all is set right after create, which has no field for it",
			want:        spec(func(s *wantSpec) { s.Options.MuteAll = new(true) }),
			wantCalls:   []string{"create_group", "modify_group_base_info"},
			wantMembers: []string{"alice", "bob", "carol"},
			check: func(g Gomega, s *stub) {
				g.Expect(s.bodies("modify_group_base_info")[0]).To(Equal(map[string]any{"GroupId": "cg-uid-1", "MuteAllMember": "On"}))
			}},
		{name: "GroupId taken (10021): the group is read, adopted and brought to the spec",
			want: spec(),
			replies: map[string][]any{
				"create_group":          {failed(10021, "group id has been used")},
				"get_group_info":        {infoReply(func() group { g := upToDate(); g.ID, g.Name = "cg-uid-1", "Old"; return g }())},
				"get_group_member_info": {membersReply("alice", []string{"alice", "bob", "zed"})},
				"add_group_member":      {addReply(1, nil)},
			},
			wantCalls:   []string{"create_group", "get_group_info", "get_group_member_info", "modify_group_base_info", "add_group_member", "delete_group_member"},
			wantMembers: []string{"alice", "bob", "carol"},
			check: func(g Gomega, s *stub) {
				g.Expect(s.bodies("modify_group_base_info")[0]).To(Equal(map[string]any{"GroupId": "cg-uid-1", "Name": "SRE"}))
				g.Expect(listOf(s.bodies("delete_group_member")[0]["MemberToDel_Account"])).To(Equal([]string{"zed"}))
			}},
		{name: "GroupId taken by the caller (10025): an up-to-date group is adopted as is",
			want: spec(),
			replies: map[string][]any{
				"create_group":          {failed(10025, "group id has been used by you")},
				"get_group_info":        {infoReply(func() group { g := upToDate(); g.ID = "cg-uid-1"; return g }())},
				"get_group_member_info": {membersReply("alice", []string{"alice", "bob", "carol"})},
			},
			wantCalls:   []string{"create_group", "get_group_info", "get_group_member_info"},
			wantMembers: []string{"alice", "bob", "carol"}},
		{name: "unknown account (10019) is invalid and names members",
			want:      spec(),
			replies:   map[string][]any{"create_group": {failed(10019, "account carol not found")}},
			wantCalls: []string{"create_group"}, wantClass: vendors.ErrInvalid, wantField: "members"},
		{name: "a failure after the group exists returns the group with the error",
			want:      spec(func(s *wantSpec) { s.Members = many }),
			replies:   map[string][]any{"add_group_member": {failed(10019, "account m120 not found")}},
			wantCalls: []string{"create_group", "add_group_member"}, wantClass: vendors.ErrInvalid, wantField: "members",
			wantMembers: append([]string{"alice"}, many[:100]...)},
		{name: "a spec the group type cannot have makes no call",
			want:      spec(func(s *wantSpec) { s.Options.JoinPolicy = "Open" }),
			wantCalls: nil, wantClass: vendors.ErrInvalid, wantField: "managementOptions.joinPolicy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c, s := newStubClient(t, tc.replies, nil, nil)
			got, err := c.Create(context.Background(), tc.want)
			g.Expect(s.calls()).To(Equal(tc.wantCalls))
			if tc.wantClass != nil {
				g.Expect(err).To(MatchError(tc.wantClass))
				g.Expect(vendors.FieldOf(err)).To(Equal(tc.wantField))
			} else {
				g.Expect(err).NotTo(HaveOccurred())
			}
			if tc.wantMembers == nil {
				g.Expect(got.ID).To(BeEmpty(), "no group was made")
				return
			}
			g.Expect(got.ID).To(Equal("cg-uid-1"))
			g.Expect(got.Owner).To(Equal("alice"))
			g.Expect(got.Members).To(ConsistOf(tc.wantMembers))
			if tc.check != nil {
				tc.check(g, s)
			}
		})
	}
}

func TestClient_Observe(t *testing.T) {
	many := append([]string{"alice"}, accounts("m", 449)...)
	for _, tc := range []struct {
		name        string
		want        vendors.GroupSpec
		replies     map[string][]any
		wantCalls   []string
		wantExists  bool
		wantUp      bool
		wantMembers []string
		wantClass   error
		check       func(g Gomega, s *stub)
	}{
		{name: "a missing group (10010) does not exist", want: spec(),
			replies:   map[string][]any{"get_group_info": {missingReply("g", 10010)}},
			wantCalls: []string{"get_group_info"}},
		{name: "a bad group ID (10015) does not exist", want: spec(),
			replies:   map[string][]any{"get_group_info": {missingReply("g", 10015)}},
			wantCalls: []string{"get_group_info"}},
		{name: "another per-group error is classified", want: spec(),
			replies:   map[string][]any{"get_group_info": {missingReply("g", 10007)}},
			wantCalls: []string{"get_group_info"}, wantClass: vendors.ErrAccessDenied},
		{name: "an undocumented per-group error is unavailable", want: spec(),
			replies:   map[string][]any{"get_group_info": {missingReply("g", 10099)}},
			wantCalls: []string{"get_group_info"}, wantClass: vendors.ErrUnavailable},
		{name: "an up-to-date group", want: spec(),
			replies: map[string][]any{"get_group_info": {infoReply(upToDate())},
				"get_group_member_info": {membersReply("alice", []string{"alice", "bob", "carol"})}},
			wantCalls: []string{"get_group_info", "get_group_member_info"}, wantExists: true, wantUp: true,
			wantMembers: []string{"alice", "bob", "carol"},
			check: func(g Gomega, s *stub) {
				g.Expect(s.bodies("get_group_info")[0]).To(Equal(map[string]any{"GroupIdList": []any{"g"}}),
					"the basic form: the whole profile and every AppDefinedData key")
				g.Expect(s.bodies("get_group_member_info")[0]).To(Equal(map[string]any{
					"GroupId": "g", "Limit": float64(200), "MemberInfoFilter": []any{"Role"}}))
			}},
		{name: "members are paged with Offset", want: spec(),
			replies: map[string][]any{"get_group_info": {infoReply(upToDate())},
				"get_group_member_info": {membersReply("alice", many)}},
			wantCalls:  []string{"get_group_info", "get_group_member_info", "get_group_member_info", "get_group_member_info"},
			wantExists: true, wantMembers: many,
			check: func(g Gomega, s *stub) {
				var offsets []any
				for _, b := range s.bodies("get_group_member_info") {
					offsets = append(offsets, b["Offset"])
				}
				g.Expect(offsets).To(Equal([]any{nil, float64(200), float64(400)}))
			}},
		{name: "Community members are paged with Next", want: spec(func(s *wantSpec) { s.TencentIM.GroupType = community }),
			replies: map[string][]any{"get_group_info": {infoReply(func() group { g := upToDate(); g.Type = community; return g }())},
				"get_group_member_info": {
					ok(`"MemberNum":3,"MemberList":[{"Member_Account":"alice","Role":"Owner"},{"Member_Account":"bob","Role":"Member"}],"Next":"p2"`),
					ok(`"MemberNum":3,"MemberList":[{"Member_Account":"carol","Role":"Member"}],"Next":""`),
				}},
			wantCalls:  []string{"get_group_info", "get_group_member_info", "get_group_member_info"},
			wantExists: true, wantUp: true, wantMembers: []string{"alice", "bob", "carol"},
			check: func(g Gomega, s *stub) {
				bodies := s.bodies("get_group_member_info")
				g.Expect(bodies[0]["Next"]).To(Equal(""))
				g.Expect(bodies[1]["Next"]).To(Equal("p2"))
				g.Expect(bodies[1]).NotTo(HaveKey("Offset"))
			}},
		{name: "an AVChatRoom has no member list to read",
			want: spec(func(s *wantSpec) {
				s.TencentIM.GroupType, s.Members, s.TencentIM.MaxMembers, s.TencentIM.InviteJoinPolicy = avChatRoom, nil, nil, ""
			}),
			replies: map[string][]any{"get_group_info": {infoReply(func() group {
				g := upToDate()
				g.Type, g.Members, g.InviteJoin = avChatRoom, nil, ""
				return g
			}())}},
			wantCalls: []string{"get_group_info"}, wantExists: true, wantUp: true},
		{name: "the older mute flag name is read too", want: spec(func(s *wantSpec) { s.Options.MuteAll = new(true) }),
			replies: map[string][]any{
				"get_group_info": {ok(`"GroupInfo":[{"GroupId":"g","ErrorCode":0,"Type":"Private","Name":"SRE","Introduction":"intro",
					"Notification":"notice","FaceUrl":"http://x/y.png","Owner_Account":"alice","MaxMemberNum":500,
					"InviteJoinOption":"FreeAccess","ShutUpAllMember":"On","AppDefinedData":[{"Key":"team","Value":"sre"}]}]`)},
				"get_group_member_info": {membersReply("alice", []string{"alice", "bob", "carol"})}},
			wantCalls: []string{"get_group_info", "get_group_member_info"}, wantExists: true, wantUp: true,
			wantMembers: []string{"alice", "bob", "carol"}},
		{name: "the owner is taken from the roles when the profile has none", want: spec(),
			replies: map[string][]any{"get_group_info": {infoReply(func() group { g := upToDate(); g.Owner = ""; return g }())},
				"get_group_member_info": {membersReply("alice", []string{"alice", "bob", "carol"})}},
			wantCalls: []string{"get_group_info", "get_group_member_info"}, wantExists: true, wantUp: true,
			wantMembers: []string{"alice", "bob", "carol"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c, s := newStubClient(t, tc.replies, nil, nil)
			obs, err := c.Observe(context.Background(), "g", tc.want)
			g.Expect(s.calls()).To(Equal(tc.wantCalls))
			if tc.wantClass != nil {
				g.Expect(err).To(MatchError(tc.wantClass))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(obs.Exists).To(Equal(tc.wantExists))
			g.Expect(obs.UpToDate).To(Equal(tc.wantUp), obs.Diff)
			if tc.wantExists {
				g.Expect(obs.Group.ID).To(Equal("g"))
				g.Expect(obs.Group.Owner).To(Equal("alice"))
				g.Expect(obs.Group.Members).To(Equal(tc.wantMembers))
			}
			if tc.check != nil {
				tc.check(g, s)
			}
		})
	}
}

func TestClient_Update(t *testing.T) {
	current := vendors.ObservedGroup{ID: "g", Name: "SRE", Owner: "alice", Members: []string{"alice", "bob", "carol", "dave", "erin"}}
	seven := accounts("n", 700)
	old := accounts("o", 150)
	for _, tc := range []struct {
		name      string
		got       vendors.ObservedGroup
		info      group
		want      vendors.GroupSpec
		replies   map[string][]any
		wantCalls []string
		wantClass error
		wantField string
		check     func(g Gomega, s *stub, res vendors.UpdateResult)
	}{
		{name: "rename, add 3 and remove 2: one modify, one add, one delete",
			got: current, info: upToDate(),
			want:      spec(func(s *wantSpec) { s.Name, s.Members = "SRE 2", []string{"bob", "carol", "x", "y", "z"} }),
			replies:   map[string][]any{"add_group_member": {addReply(1, nil)}},
			wantCalls: []string{"get_group_info", "modify_group_base_info", "add_group_member", "delete_group_member"},
			check: func(g Gomega, s *stub, res vendors.UpdateResult) {
				g.Expect(s.bodies("modify_group_base_info")[0]).To(Equal(map[string]any{"GroupId": "g", "Name": "SRE 2"}))
				g.Expect(listOf(s.bodies("add_group_member")[0]["MemberList"])).To(Equal([]string{"x", "y", "z"}))
				g.Expect(listOf(s.bodies("delete_group_member")[0]["MemberToDel_Account"])).To(Equal([]string{"dave", "erin"}))
				g.Expect(res.Added).To(Equal([]string{"x", "y", "z"}))
				g.Expect(res.Removed).To(Equal([]string{"dave", "erin"}))
				g.Expect(res.SettingsChanged).To(BeTrue())
				g.Expect(res.OwnerTransferred).To(BeFalse())
				g.Expect(res.Group.Name).To(Equal("SRE 2"))
				g.Expect(res.Group.Members).To(ConsistOf("alice", "bob", "carol", "x", "y", "z"))
			}},
		{name: "an up-to-date group gets no write", got: vendors.ObservedGroup{ID: "g", Owner: "alice", Members: []string{"alice", "bob", "carol"}},
			info: upToDate(), want: spec(), wantCalls: []string{"get_group_info"}},
		{name: "700 additions in 3 calls, 150 removals in 2",
			got:  vendors.ObservedGroup{ID: "g", Owner: "alice", Members: append([]string{"alice"}, old...)},
			info: upToDate(), want: spec(func(s *wantSpec) { s.Members = seven }),
			replies: map[string][]any{"add_group_member": {addReply(1, nil)}},
			wantCalls: []string{"get_group_info", "add_group_member", "add_group_member", "add_group_member",
				"delete_group_member", "delete_group_member"},
			check: func(g Gomega, s *stub, res vendors.UpdateResult) {
				var adds, dels []int
				for _, b := range s.bodies("add_group_member") {
					adds = append(adds, len(listOf(b["MemberList"])))
				}
				for _, b := range s.bodies("delete_group_member") {
					dels = append(dels, len(listOf(b["MemberToDel_Account"])))
				}
				g.Expect(adds).To(Equal([]int{300, 300, 100}))
				g.Expect(dels).To(Equal([]int{100, 50}))
				g.Expect(res.Group.Members).To(HaveLen(701))
			}},
		{name: "owner transfer to a newcomer: add, transfer, then remove the unlisted old owner",
			got:  vendors.ObservedGroup{ID: "g", Owner: "alice", Members: []string{"alice", "bob", "carol"}},
			info: upToDate(), want: spec(func(s *wantSpec) { s.Owner = "dave" }),
			replies:   map[string][]any{"add_group_member": {addReply(1, nil)}},
			wantCalls: []string{"get_group_info", "add_group_member", "change_group_owner", "delete_group_member"},
			check: func(g Gomega, s *stub, res vendors.UpdateResult) {
				g.Expect(listOf(s.bodies("add_group_member")[0]["MemberList"])).To(Equal([]string{"dave"}))
				g.Expect(s.bodies("change_group_owner")[0]).To(Equal(map[string]any{"GroupId": "g", "NewOwner_Account": "dave"}))
				g.Expect(listOf(s.bodies("delete_group_member")[0]["MemberToDel_Account"])).To(Equal([]string{"alice"}))
				g.Expect(res.OwnerTransferred).To(BeTrue())
				g.Expect(res.Group.Owner).To(Equal("dave"))
				g.Expect(res.Group.Members).To(ConsistOf("dave", "bob", "carol"))
			}},
		{name: "owner transfer to a member: the listed old owner stays",
			got:  vendors.ObservedGroup{ID: "g", Owner: "alice", Members: []string{"alice", "bob", "carol"}},
			info: upToDate(), want: spec(func(s *wantSpec) { s.Owner, s.Members = "bob", []string{"alice", "carol"} }),
			wantCalls: []string{"get_group_info", "change_group_owner"},
			check: func(g Gomega, s *stub, res vendors.UpdateResult) {
				g.Expect(res.Group.Members).To(ConsistOf("alice", "bob", "carol"))
			}},
		{name: "additive policy never removes members it did not add, even an old owner",
			got:  vendors.ObservedGroup{ID: "g", Owner: "alice", Members: []string{"alice", "bob", "carol", "x"}},
			info: upToDate(), want: spec(func(s *wantSpec) {
				s.Owner, s.Members, s.MemberPolicy, s.AddedMembers = "bob", []string{"carol"}, vendors.Additive, []string{"x"}
			}),
			wantCalls: []string{"get_group_info", "change_group_owner", "delete_group_member"},
			check: func(g Gomega, s *stub, res vendors.UpdateResult) {
				g.Expect(res.Removed).To(Equal([]string{"x"}))
			}},
		{name: "Result 2 (already a member) joins without counting as added",
			got:  vendors.ObservedGroup{ID: "g", Owner: "alice", Members: []string{"alice", "bob", "carol"}},
			info: upToDate(), want: spec(func(s *wantSpec) { s.Members = []string{"bob", "carol", "x", "y"} }),
			replies:   map[string][]any{"add_group_member": {addReply(1, map[string]int{"y": 2})}},
			wantCalls: []string{"get_group_info", "add_group_member"},
			check: func(g Gomega, s *stub, res vendors.UpdateResult) {
				g.Expect(res.Added).To(Equal([]string{"x"}))
				g.Expect(res.Group.Members).To(ConsistOf("alice", "bob", "carol", "x", "y"))
			}},
		{name: "Result 0 (refused) is invalid on members, after the rest were added",
			got:  vendors.ObservedGroup{ID: "g", Owner: "alice", Members: []string{"alice", "bob", "carol"}},
			info: upToDate(), want: spec(func(s *wantSpec) { s.Members = []string{"bob", "carol", "x", "y"} }),
			replies:   map[string][]any{"add_group_member": {addReply(1, map[string]int{"y": 0})}},
			wantCalls: []string{"get_group_info", "add_group_member"}, wantClass: vendors.ErrInvalid, wantField: "members",
			check: func(g Gomega, s *stub, res vendors.UpdateResult) {
				g.Expect(res.Added).To(Equal([]string{"x"}))
			}},
		{name: "the new owner refused: no transfer is attempted",
			got:  vendors.ObservedGroup{ID: "g", Owner: "alice", Members: []string{"alice", "bob", "carol"}},
			info: upToDate(), want: spec(func(s *wantSpec) { s.Owner = "dave" }),
			replies:   map[string][]any{"add_group_member": {failed(10019, "dave not found")}},
			wantCalls: []string{"get_group_info", "add_group_member"}, wantClass: vendors.ErrInvalid, wantField: "members"},
		{name: "the group type cannot change",
			got:  vendors.ObservedGroup{ID: "g", Owner: "alice", Members: []string{"alice", "bob", "carol"}},
			info: func() group { g := upToDate(); g.Type = public; return g }(), want: spec(),
			wantCalls: []string{"get_group_info"}, wantClass: vendors.ErrInvalid, wantField: "tencentIM.groupType"},
		{name: "a group gone since Observe is not found",
			got: current, want: spec(), replies: map[string][]any{"get_group_info": {missingReply("g", 10010)}},
			wantCalls: []string{"get_group_info"}, wantClass: vendors.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			replies := map[string][]any{"get_group_info": {infoReply(tc.info)}}
			for k, v := range tc.replies {
				replies[k] = v
			}
			c, s := newStubClient(t, replies, nil, nil)
			res, err := c.Update(context.Background(), tc.got, tc.want)
			g.Expect(s.calls()).To(Equal(tc.wantCalls))
			if tc.wantClass != nil {
				g.Expect(err).To(MatchError(tc.wantClass))
				g.Expect(vendors.FieldOf(err)).To(Equal(tc.wantField))
			} else {
				g.Expect(err).NotTo(HaveOccurred())
			}
			if tc.check != nil {
				tc.check(g, s, res)
			}
		})
	}
}

func TestClient_Delete(t *testing.T) {
	for _, tc := range []struct {
		name      string
		reply     string
		wantClass error
	}{
		{name: "destroyed", reply: ok("")},
		{name: "already gone (10010) counts as done", reply: failed(10010, "group not found")},
		{name: "bad ID (10015) counts as done", reply: failed(10015, "invalid group id")},
		{name: "internal error is unavailable", reply: failed(10002, "retry"), wantClass: vendors.ErrUnavailable},
		{name: "no permission is access denied", reply: failed(10007, "no permission"), wantClass: vendors.ErrAccessDenied},
		{name: "an undocumented code is unavailable", reply: failed(10099, "new"), wantClass: vendors.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c, s := newStubClient(t, map[string][]any{"destroy_group": {tc.reply}}, nil, nil)
			err := c.Delete(context.Background(), "g")
			if tc.wantClass == nil {
				g.Expect(err).NotTo(HaveOccurred())
			} else {
				g.Expect(err).To(MatchError(tc.wantClass))
			}
			g.Expect(s.bodies("destroy_group")).To(Equal([]map[string]any{{"GroupId": "g"}}))
		})
	}
}

func TestClient_Find(t *testing.T) {
	for _, tc := range []struct {
		name    string
		reply   string
		wantIDs []string
	}{
		{name: "the derived GroupId exists", reply: ok(`"GroupInfo":[{"GroupId":"cg-uid-1","ErrorCode":0,"Type":"Private"}]`), wantIDs: []string{"cg-uid-1"}},
		{name: "no group", reply: missingReply("cg-uid-1", 10010)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c, s := newStubClient(t, map[string][]any{"get_group_info": {tc.reply}}, nil, nil)
			ids, err := c.Find(context.Background(), spec())
			if tc.wantIDs == nil {
				g.Expect(err).To(MatchError(vendors.ErrNotFound), "certainly no group: a new create is safe")
			} else {
				g.Expect(err).NotTo(HaveOccurred())
			}
			g.Expect(ids).To(Equal(tc.wantIDs))
			g.Expect(s.bodies("get_group_info")).To(Equal([]map[string]any{{
				"GroupIdList": []any{"cg-uid-1"}, "ResponseFilter": map[string]any{"GroupBaseInfoFilter": []any{"Type"}}}}))
		})
	}
}

func TestClient_CheckCredentials(t *testing.T) {
	for _, tc := range []struct {
		name      string
		reply     string
		wantClass error
	}{
		{name: "accepted", reply: ok(`"TotalCount":0,"GroupIdList":[],"Next":0`)},
		{name: "wrong key", reply: failed(70009, "sig verify failed"), wantClass: vendors.ErrUnauthorized},
		{name: "wrong region", reply: failed(70020, "sdkappid not in this region"), wantClass: vendors.ErrUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c, s := newStubClient(t, map[string][]any{"get_appid_group_list": {tc.reply}}, nil, nil)
			err := c.CheckCredentials(context.Background())
			if tc.wantClass == nil {
				g.Expect(err).NotTo(HaveOccurred())
			} else {
				g.Expect(err).To(MatchError(tc.wantClass))
			}
			g.Expect(s.bodies("get_appid_group_list")).To(Equal([]map[string]any{{"Limit": float64(1)}}))
		})
	}
}

// TestClient_PassReads: within a reconcile pass the whole-profile read that
// Observe made answers Update's, until a write; other reads are not shared.
func TestClient_PassReads(t *testing.T) {
	replies := func() map[string][]any {
		return map[string][]any{"get_group_info": {infoReply(upToDate())},
			"get_group_member_info": {membersReply("alice", []string{"alice", "bob", "carol"})}}
	}
	renamed := spec(func(s *wantSpec) { s.Name = "SRE 2" })
	for _, tc := range []struct {
		name      string
		pass      func(ctx context.Context, c *Client) error
		wantCalls []string
	}{
		{name: "Update reuses Observe's read", pass: func(ctx context.Context, c *Client) error {
			obs, err := c.Observe(ctx, "g", renamed)
			if err != nil {
				return err
			}
			_, err = c.Update(ctx, obs.Group, renamed)
			return err
		}, wantCalls: []string{"get_group_info", "get_group_member_info", "modify_group_base_info"}},
		{name: "a write ends the reuse", pass: func(ctx context.Context, c *Client) error {
			obs, err := c.Observe(ctx, "g", renamed)
			if err == nil {
				_, err = c.Update(ctx, obs.Group, renamed)
			}
			if err == nil {
				_, err = c.Observe(ctx, "g", renamed)
			}
			return err
		}, wantCalls: []string{"get_group_info", "get_group_member_info", "modify_group_base_info",
			"get_group_info", "get_group_member_info"}},
		{name: "Find's filtered read is not the profile", pass: func(ctx context.Context, c *Client) error {
			custom := spec(func(s *wantSpec) { s.TencentIM.GroupID = "g" })
			if _, err := c.Find(ctx, custom); err != nil {
				return err
			}
			_, err := c.Observe(ctx, "g", custom)
			return err
		}, wantCalls: []string{"get_group_info", "get_group_info", "get_group_member_info"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c, s := newStubClient(t, replies(), nil, nil)
			g.Expect(tc.pass(vendors.WithPassReads(context.Background()), c)).To(Succeed())
			g.Expect(s.calls()).To(Equal(tc.wantCalls))
		})
	}
}
