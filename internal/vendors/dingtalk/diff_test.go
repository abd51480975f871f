package dingtalk

import (
	"errors"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

func ptr[T any](v T) *T { return &v }

// dt edits want's DingTalk settings.
func dt(want *vendors.GroupSpec, edit func(*GroupSettings)) {
	s := settingsOf(*want)
	edit(&s)
	want.Vendor = s
}

// observedChat is a group as chat/get reports it, for the tests.
func observedChat() chat {
	return chat{
		ID: "chat1", Name: "oncall", Owner: "o1", Members: []string{"o1", "u1", "u2"}, Tag: 2, TagKnown: true,
		Flags: flags{MentionAll: 1, ShowHistory: 1},
	}
}

// spec is a GroupSpec matching observedChat, whose external contact x1 the
// operator wrote.
func spec(mods ...func(*vendors.GroupSpec)) vendors.GroupSpec {
	s := vendors.GroupSpec{
		Name: "oncall", Owner: "o1", Members: []string{"u1", "u2"}, MemberPolicy: vendors.Authoritative,
		Vendor: GroupSettings{OwnerType: "Employee", ConversationType: "Internal", ExternalMembers: []string{"x1"},
			Written: Written{ExternalMembers: []string{"x1"}}},
	}
	for _, m := range mods {
		m(&s)
	}
	return s
}

func TestChanges(t *testing.T) {
	for _, tc := range []struct {
		name string
		want vendors.GroupSpec
		got  func(*chat)
		// wantDelta is the expected delta (Invalid compared by field only).
		wantDelta    delta
		wantInvalid  string // the Field of an Invalid difference
		wantUpToDate bool
	}{
		{name: "matching group", want: spec(), wantUpToDate: true},
		{name: "unset options keep the observed flags", want: spec(func(s *vendors.GroupSpec) {
			s.Options = vendors.Options{MentionAllOwnerOnly: ptr(true)}
		}), wantUpToDate: true},
		{name: "member order does not matter", want: spec(func(s *vendors.GroupSpec) { s.Members = []string{"u2", "u1", "o1"} }), wantUpToDate: true},
		{name: "empty icon leaves the icon alone", want: spec(func(s *vendors.GroupSpec) { dt(s, func(d *GroupSettings) { d.Written.IconHash = iconHash("@old") }) }),
			wantUpToDate: true},
		{name: "rename, add 3, remove 2", want: spec(func(s *vendors.GroupSpec) {
			s.Name = "oncall-2"
			s.Members = []string{"n1", "n2", "n3"}
		}), wantDelta: delta{Name: "oncall-2", Add: []string{"n1", "n2", "n3"}, Remove: []string{"u1", "u2"}}},
		{name: "one option changes: all six flags are sent", want: spec(func(s *vendors.GroupSpec) {
			s.Options = vendors.Options{MuteAll: ptr(true), JoinPolicy: "ApprovalRequired"}
		}), wantDelta: delta{Flags: &flags{MentionAll: 1, ShowHistory: 1, Validation: 1, Banned: 1}}},
		{name: "owner transfer to a newcomer; the unlisted old owner goes", want: spec(func(s *vendors.GroupSpec) { s.Owner = "n9" }),
			wantDelta: delta{Owner: "n9", OwnerType: "emp", Add: []string{"n9"}, RemoveOldOwner: "o1"}},
		{name: "owner transfer; a listed old owner stays", want: spec(func(s *vendors.GroupSpec) {
			s.Owner = "u1"
			s.Members = []string{"o1", "u2"}
		}), wantDelta: delta{Owner: "u1", OwnerType: "emp"}},
		{name: "an External owner is a unionId: it joins through the external contacts, never useridlist", want: spec(func(s *vendors.GroupSpec) {
			s.Owner = "e1"
			s.Members = []string{"o1", "u1", "u2"}
			dt(s, func(d *GroupSettings) { d.OwnerType = "External" })
		}), wantDelta: delta{Owner: "e1", OwnerType: "ext", AddExt: []string{"e1"}}},
		{name: "an External owner the operator wrote is up to date", want: spec(func(s *vendors.GroupSpec) {
			s.Owner = "e1"
			dt(s, func(d *GroupSettings) { d.OwnerType = "External"; d.Written.ExternalMembers = []string{"e1", "x1"} })
		}), got: func(c *chat) { c.Owner, c.Members = "e1", []string{"u1", "u2"} }, wantUpToDate: true},
		{name: "an external previous owner leaves with the external contacts, not useridlist", want: spec(func(s *vendors.GroupSpec) {
			dt(s, func(d *GroupSettings) { d.Written.ExternalMembers = []string{"e1", "x1"} })
		}), got: func(c *chat) { c.Owner, c.Members = "e1", []string{"u1", "u2"} },
			wantDelta: delta{Owner: "o1", OwnerType: "emp", Add: []string{"o1"}, RemoveExt: []string{"e1"}}},
		{name: "Additive keeps an unlisted old owner it did not add", want: spec(func(s *vendors.GroupSpec) {
			s.Owner = "u1"
			s.MemberPolicy = vendors.Additive
		}), wantDelta: delta{Owner: "u1", OwnerType: "emp"}},
		{name: "Additive removes only members it added", want: spec(func(s *vendors.GroupSpec) {
			s.Members = nil
			dt(s, func(d *GroupSettings) { d.ExternalMembers = nil })
			s.MemberPolicy = vendors.Additive
			s.AddedMembers = []string{"u2", "x1"}
		}), wantDelta: delta{Remove: []string{"u2"}, RemoveExt: []string{"x1"}}},
		{name: "external members", want: spec(func(s *vendors.GroupSpec) { dt(s, func(d *GroupSettings) { d.ExternalMembers = []string{"x2"} }) }),
			wantDelta: delta{AddExt: []string{"x2"}, RemoveExt: []string{"x1"}}},
		{name: "external members are compared with what the operator wrote", want: spec(func(s *vendors.GroupSpec) {
			dt(s, func(d *GroupSettings) { d.Written.ExternalMembers = []string{"x1", "x3"} })
		}), wantDelta: delta{RemoveExt: []string{"x3"}}},
		{name: "nothing written yet (adoption, upgrade): every external member is sent once", want: spec(func(s *vendors.GroupSpec) {
			dt(s, func(d *GroupSettings) { d.Written = Written{} })
		}), wantDelta: delta{AddExt: []string{"x1"}}},
		{name: "icon", want: spec(func(s *vendors.GroupSpec) { s.Icon = "@new" }), wantDelta: delta{Icon: "@new"}},
		{name: "an icon written before is not sent again", want: spec(func(s *vendors.GroupSpec) {
			s.Icon = "@new"
			dt(s, func(d *GroupSettings) { d.Written.IconHash = iconHash("@new") })
		}), wantUpToDate: true},
		{name: "a changed icon is sent", want: spec(func(s *vendors.GroupSpec) {
			s.Icon = "@new"
			dt(s, func(d *GroupSettings) { d.Written.IconHash = iconHash("@old") })
		}), wantDelta: delta{Icon: "@new"}},
		{name: "conversationTag cannot change", want: spec(func(s *vendors.GroupSpec) { dt(s, func(d *GroupSettings) { d.ConversationType = "Standard" }) }),
			wantInvalid: "dingtalk.conversationType"},
		{name: "joinPolicy Closed is not a DingTalk option", want: spec(func(s *vendors.GroupSpec) { s.Options.JoinPolicy = "Closed" }),
			wantInvalid: "managementOptions.joinPolicy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got := observedChat()
			if tc.got != nil {
				tc.got(&got)
			}
			d := changes(tc.want, got)
			upToDate, diff := compare(tc.want, got)
			g.Expect(upToDate).To(Equal(tc.wantUpToDate), diff)
			g.Expect(upToDate).To(Equal(diff == ""), "a diff exactly when not up to date")
			if tc.wantInvalid != "" {
				g.Expect(d.Invalid).NotTo(BeNil())
				g.Expect(d.Invalid.Field).To(Equal(tc.wantInvalid))
				g.Expect(errors.Is(d.Invalid, vendors.ErrInvalid)).To(BeTrue())
				g.Expect(diff).To(ContainSubstring("cannot apply"))
				return
			}
			g.Expect(d).To(Equal(tc.wantDelta))
		})
	}
}

func TestDeltaString(t *testing.T) {
	g := NewWithT(t)
	d := delta{Name: "n", Owner: "o2", Add: []string{"a"}, RemoveOldOwner: "o1", Flags: &flags{Banned: 1}}
	g.Expect(d.String()).To(Equal(`name -> "n"; owner -> o2; members +[a] -[o1]; managementOptions -> {MentionAll:0 ShowHistory:0 Validation:0 Searchable:0 Banned:1 Management:0}`))
}
