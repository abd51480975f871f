package tencentim

import (
	"encoding/json"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// upToDate is a group matching spec().
func upToDate() group {
	return group{ID: "g", Type: private, Name: "SRE", Introduction: "intro", Notification: "notice", FaceURL: "http://x/y.png",
		Owner: "alice", MaxMembers: 500, ApplyJoin: "", InviteJoin: "FreeAccess", MuteAll: false,
		AppData: map[string]string{"team": "sre"}, Members: []string{"alice", "bob", "carol"}}
}

// wantSpec is a GroupSpec with its Tencent IM settings at hand, for tests to
// modify both.
type wantSpec struct {
	vendors.GroupSpec
	TencentIM GroupSettings
}

// spec is the GroupSpec upToDate() matches.
func spec(mods ...func(*wantSpec)) vendors.GroupSpec {
	s := wantSpec{GroupSpec: vendors.GroupSpec{UID: "uid-1", Name: "SRE", Owner: "alice", Members: []string{"bob", "carol"},
		MemberPolicy: vendors.Authoritative, Description: "intro", Announcement: "notice", Icon: "http://x/y.png",
		Options: vendors.Options{MuteAll: new(false)}},
		TencentIM: GroupSettings{GroupType: private, MaxMembers: new(int32(500)), InviteJoinPolicy: "Open",
			AppDefinedData: map[string]string{"team": "sre"}}}
	for _, m := range mods {
		m(&s)
	}
	s.Vendor = s.TencentIM
	return s.GroupSpec
}

func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		name     string
		want     vendors.GroupSpec
		got      func(*group)
		wantUp   bool
		wantDiff string
	}{
		{name: "identical", want: spec(), wantUp: true},
		{name: "unset fields leave the vendor's values alone", want: spec(func(s *wantSpec) {
			s.Description, s.Announcement, s.Icon = "", "", ""
			s.Options.MuteAll, s.TencentIM.MaxMembers, s.TencentIM.InviteJoinPolicy, s.TencentIM.AppDefinedData = nil, nil, "", nil
		}), got: func(g *group) { g.Introduction, g.MuteAll, g.AppData = "other", true, map[string]string{"x": "y"} }, wantUp: true},
		{name: "renamed", want: spec(func(s *wantSpec) { s.Name = "SRE 2" }), wantDiff: "Name"},
		{name: "profile and options", want: spec(func(s *wantSpec) {
			s.Description, s.Announcement, s.Icon = "i2", "n2", "http://x/z.png"
			s.Options.MuteAll = new(true)
			s.TencentIM.MaxMembers = new(int32(800))
			s.TencentIM.InviteJoinPolicy = "Closed"
		}), wantDiff: "Introduction; Notification; FaceUrl; MaxMemberNum; InviteJoinOption; MuteAllMember"},
		{name: "app data key the operator set removed", want: spec(func(s *wantSpec) {
			s.TencentIM.AppDefinedData = map[string]string{}
			s.TencentIM.Set.AppDataKeys = []string{"team"}
		}), wantDiff: "AppDefinedData[team]"},
		{name: "app data key someone else set is left alone", want: spec(func(s *wantSpec) { s.TencentIM.AppDefinedData = map[string]string{} }),
			wantUp: true},
		{name: "texts the operator set are cleared when unset", want: spec(func(s *wantSpec) {
			s.Description, s.Announcement = "", ""
			s.TencentIM.Set.Fields = []string{fieldDescription, fieldAnnouncement}
		}), wantDiff: "Introduction; Notification"},
		{name: "an unset text already empty needs nothing", want: spec(func(s *wantSpec) {
			s.Description = ""
			s.TencentIM.Set.Fields = []string{fieldDescription}
		}), got: func(g *group) { g.Introduction = "" }, wantUp: true},
		{name: "members added and removed", want: spec(func(s *wantSpec) { s.Members = []string{"bob", "dave", "erin"} }),
			wantDiff: "members +2 -1"},
		{name: "member order does not matter", want: spec(func(s *wantSpec) { s.Members = []string{"carol", "bob"} }), wantUp: true},
		{name: "owner listed as a member too", want: spec(func(s *wantSpec) { s.Members = []string{"alice", "bob", "carol"} }), wantUp: true},
		{name: "additive keeps unlisted members it did not add", want: spec(func(s *wantSpec) {
			s.MemberPolicy, s.Members = vendors.Additive, []string{"bob"}
		}), wantUp: true},
		{name: "owner change", want: spec(func(s *wantSpec) { s.Owner = "bob" }), wantDiff: `owner "alice", want "bob"`},
		{name: "no owner wanted leaves the owner", want: spec(func(s *wantSpec) { s.Owner = "" }), wantUp: true},
		{name: "type differs", want: spec(func(s *wantSpec) { s.TencentIM.GroupType = public }), wantDiff: "Type Private, want Public (immutable)"},
		{name: "AVChatRoom has no members to compare", want: spec(func(s *wantSpec) {
			s.TencentIM.GroupType, s.Members, s.TencentIM.MaxMembers, s.TencentIM.InviteJoinPolicy = avChatRoom, nil, nil, ""
		}), got: func(g *group) { g.Type, g.Members, g.InviteJoin = avChatRoom, nil, "" }, wantUp: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got := upToDate()
			if tc.got != nil {
				tc.got(&got)
			}
			up, diff := compare(tc.want, got)
			g.Expect(up).To(Equal(tc.wantUp), diff)
			g.Expect(diff).To(Equal(tc.wantDiff))
		})
	}
}

func TestBaseInfoChanges(t *testing.T) {
	for _, tc := range []struct {
		name string
		want vendors.GroupSpec
		got  func(*group)
		// wantJSON is the request body without GroupId.
		wantJSON string
	}{
		{name: "nothing differs", want: spec(), wantJSON: `{"GroupId":""}`},
		{name: "only the name", want: spec(func(s *wantSpec) { s.Name = "New" }), wantJSON: `{"GroupId":"","Name":"New"}`},
		{name: "join policies map to the vendor's words", want: spec(func(s *wantSpec) {
			s.TencentIM.GroupType, s.Options.JoinPolicy, s.TencentIM.InviteJoinPolicy = public, "ApprovalRequired", "Closed"
		}), got: func(g *group) { g.Type, g.ApplyJoin = public, "FreeAccess" },
			wantJSON: `{"GroupId":"","ApplyJoinOption":"NeedPermission","InviteJoinOption":"DisableInvite"}`},
		{name: "mute on", want: spec(func(s *wantSpec) { s.Options.MuteAll = new(true) }), wantJSON: `{"GroupId":"","MuteAllMember":"On"}`},
		{name: "mute off", want: spec(), got: func(g *group) { g.MuteAll = true }, wantJSON: `{"GroupId":"","MuteAllMember":"Off"}`},
		{name: "member limit", want: spec(func(s *wantSpec) { s.TencentIM.MaxMembers = new(int32(2000)) }),
			wantJSON: `{"GroupId":"","MaxMemberNum":2000}`},
		{name: "app data: changed, added and deleted keys, sorted; only keys the operator set are deleted", want: spec(func(s *wantSpec) {
			s.TencentIM.AppDefinedData = map[string]string{"team": "ops", "tier": "gold"}
			s.TencentIM.Set.AppDataKeys = []string{"alpha", "old", "team"}
		}), got: func(g *group) { g.AppData = map[string]string{"team": "sre", "old": "x", "alpha": "y", "theirs": "z"} },
			wantJSON: `{"GroupId":"","AppDefinedData":[{"Key":"team","Value":"ops"},{"Key":"tier","Value":"gold"},{"Key":"alpha","Value":""},{"Key":"old","Value":""}]}`},
		{name: "clearing a text the operator set sends it empty", want: spec(func(s *wantSpec) {
			s.Announcement = ""
			s.TencentIM.Set.Fields = []string{fieldAnnouncement}
		}), wantJSON: `{"GroupId":"","Notification":""}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got := upToDate()
			if tc.got != nil {
				tc.got(&got)
			}
			m := baseInfoChanges(tc.want, got)
			raw, err := json.Marshal(m)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(string(raw)).To(MatchJSON(tc.wantJSON))
			g.Expect(m.empty()).To(Equal(tc.wantJSON == `{"GroupId":""}`))
		})
	}
}

func TestGroupID(t *testing.T) {
	for _, tc := range []struct {
		name string
		want vendors.GroupSpec
		id   string
	}{
		{name: "derived from the UID", want: spec(), id: "cg-uid-1"},
		{name: "custom wins", want: spec(func(s *wantSpec) { s.TencentIM.GroupID = "team-sre" }), id: "team-sre"},
		{name: "Community gets the required prefix", want: spec(func(s *wantSpec) { s.TencentIM.GroupType = community }), id: "@TGS#_cg-uid-1"},
		{name: "no UID and no custom ID", want: spec(func(s *wantSpec) { s.UID = "" }), id: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(groupID(tc.want)).To(Equal(tc.id))
		})
	}
	t.Run("a real UID fits the vendor's rules", func(t *testing.T) {
		g := NewWithT(t)
		for _, typ := range []string{private, community} {
			w := spec(func(s *wantSpec) { s.UID, s.TencentIM.GroupType = "0d6c3f0a-4a7f-4bb5-9a6b-0e1f3c5d7e9f", typ })
			g.Expect(validateGroupID(groupID(w), typ)).To(Succeed())
		}
	})
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name      string
		mod       func(*wantSpec)
		wantField string // "": valid
	}{
		{name: "valid Private group"},
		{name: "unknown type", mod: func(s *wantSpec) { s.TencentIM.GroupType = "Work" }, wantField: "tencentIM.groupType"},
		{name: "no UID", mod: func(s *wantSpec) { s.UID = "" }, wantField: "tencentIM.groupID"},
		{name: "custom ID with the vendor's prefix", mod: func(s *wantSpec) { s.TencentIM.GroupID = "@TGS#abc" }, wantField: "tencentIM.groupID"},
		{name: "custom ID too long", mod: func(s *wantSpec) { s.TencentIM.GroupID = string(make([]byte, 49)) }, wantField: "tencentIM.groupID"},
		{name: "custom ID with a space", mod: func(s *wantSpec) { s.TencentIM.GroupID = "a b" }, wantField: "tencentIM.groupID"},
		{name: "Community ID without @TGS#_", mod: func(s *wantSpec) {
			s.TencentIM.GroupType, s.TencentIM.GroupID = community, "abc"
		}, wantField: "tencentIM.groupID"},
		{name: "Community ID with @TGS#_", mod: func(s *wantSpec) { s.TencentIM.GroupType, s.TencentIM.GroupID = community, "@TGS#_abc" }},
		{name: "join policy on a Private group", mod: func(s *wantSpec) { s.Options.JoinPolicy = "Open" }, wantField: "managementOptions.joinPolicy"},
		{name: "join policy on a Public group", mod: func(s *wantSpec) { s.TencentIM.GroupType, s.Options.JoinPolicy = public, "Open" }},
		{name: "unknown join policy", mod: func(s *wantSpec) { s.TencentIM.GroupType, s.Options.JoinPolicy = public, "Sometimes" }, wantField: "managementOptions.joinPolicy"},
		{name: "unknown invite policy", mod: func(s *wantSpec) { s.TencentIM.InviteJoinPolicy = "Maybe" }, wantField: "tencentIM.inviteJoinPolicy"},
		{name: "AVChatRoom with members", mod: func(s *wantSpec) {
			s.TencentIM.GroupType, s.TencentIM.MaxMembers, s.TencentIM.InviteJoinPolicy = avChatRoom, nil, ""
		}, wantField: "members"},
		{name: "AVChatRoom with a member limit", mod: func(s *wantSpec) {
			s.TencentIM.GroupType, s.Members, s.TencentIM.InviteJoinPolicy = avChatRoom, nil, ""
		}, wantField: "tencentIM.maxMembers"},
		{name: "AVChatRoom with an invite policy", mod: func(s *wantSpec) {
			s.TencentIM.GroupType, s.Members, s.TencentIM.MaxMembers = avChatRoom, nil, nil
		}, wantField: "tencentIM.inviteJoinPolicy"},
		{name: "AVChatRoom with owner only", mod: func(s *wantSpec) {
			s.TencentIM.GroupType, s.Members, s.TencentIM.MaxMembers, s.TencentIM.InviteJoinPolicy = avChatRoom, nil, nil, ""
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			err := validate(spec(func(s *wantSpec) {
				if tc.mod != nil {
					tc.mod(s)
				}
			}))
			if tc.wantField == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(vendors.ErrInvalid))
			g.Expect(vendors.FieldOf(err)).To(Equal(tc.wantField))
		})
	}
}
