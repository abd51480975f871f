package controller

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

// mapDirectory is a namespace's ChatUsers and ChatGroups, in memory.
type mapDirectory struct {
	users  []*v1alpha1.ChatUser
	groups []*v1alpha1.ChatGroup
}

func (d mapDirectory) user(name string) *v1alpha1.ChatUser {
	for _, u := range d.users {
		if u.Name == name {
			return u
		}
	}
	return nil
}

func (d mapDirectory) selectUsers(sel labels.Selector) []*v1alpha1.ChatUser {
	var out []*v1alpha1.ChatUser
	for _, u := range d.users {
		if sel.Matches(labels.Set(u.Labels)) {
			out = append(out, u)
		}
	}
	return out
}

func (d mapDirectory) group(name string) *v1alpha1.ChatGroup {
	for _, g := range d.groups {
		if g.Name == name {
			return g
		}
	}
	return nil
}

// person is a ChatUser with the given labels and accounts.
func person(name string, lbls map[string]string, accounts ...v1alpha1.ChatUserAccount) *v1alpha1.ChatUser {
	return &v1alpha1.ChatUser{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: lbls},
		Spec: v1alpha1.ChatUserSpec{Accounts: accounts}}
}

func acct(v v1alpha1.Vendor, id string) v1alpha1.ChatUserAccount {
	return v1alpha1.ChatUserAccount{Vendor: v, ID: id}
}

func acctFor(v v1alpha1.Vendor, kind v1alpha1.ProviderKind, provider, id string) v1alpha1.ChatUserAccount {
	return v1alpha1.ChatUserAccount{Vendor: v, ID: id, ProviderRef: &v1alpha1.ProviderReference{Kind: kind, Name: provider}}
}

func userRef(n string) v1alpha1.MembersSource {
	return v1alpha1.MembersSource{UserRef: &v1alpha1.ChatUserReference{Name: n}}
}

func groupRef(n string) v1alpha1.MembersSource {
	return v1alpha1.MembersSource{GroupRef: &v1alpha1.ChatGroupReference{Name: n}}
}

func selecting(k, v string) v1alpha1.MembersSource {
	return v1alpha1.MembersSource{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{k: v}}}
}

// peopleGroup is a TencentIM group of provider "im" named name, taking people from srcs.
func peopleGroup(name string, srcs ...v1alpha1.MembersSource) *v1alpha1.ChatGroup {
	return &v1alpha1.ChatGroup{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.ChatGroupSpec{
		Vendor: v1alpha1.TencentIM, ProviderRef: v1alpha1.ProviderReference{Kind: v1alpha1.ChatProviderKind, Name: "im"},
		MembersFrom: srcs,
	}}
}

func TestResolvePeople(t *testing.T) {
	sre := map[string]string{"team": "sre"}
	dir := mapDirectory{users: []*v1alpha1.ChatUser{
		person("alice", sre, acct(v1alpha1.TencentIM, "alice-im"), acct(v1alpha1.DingTalk, "0420")),
		person("bob", sre, acct(v1alpha1.TencentIM, "bob-im"),
			acctFor(v1alpha1.TencentIM, v1alpha1.ChatProviderKind, "im", "bob-im-here"),
			acctFor(v1alpha1.TencentIM, v1alpha1.ClusterChatProviderKind, "im", "bob-cluster")),
		person("carol", sre, acct(v1alpha1.DingTalk, "carol-dt")), // no TencentIM account
		person("dave", map[string]string{"team": "dev"}, acct(v1alpha1.TencentIM, "dave-im")),
	}}
	withGroups := func(gs ...*v1alpha1.ChatGroup) mapDirectory {
		d := dir
		d.groups = gs
		return d
	}
	for _, tc := range []struct {
		name           string
		obj            *v1alpha1.ChatGroup
		dir            mapDirectory
		wantOwner      string
		wantMembers    []string
		wantUnresolved []unresolved
		wantErr        string
	}{
		{
			name:        "literal members only: unchanged, owner kept as listed",
			obj:         &v1alpha1.ChatGroup{Spec: v1alpha1.ChatGroupSpec{Owner: "o", Members: []string{"b", "a", "o"}}},
			dir:         dir,
			wantOwner:   "o",
			wantMembers: []string{"b", "a", "o"},
		},
		{
			name: "selector: provider-specific account beats the vendor-wide one; unmapped person reported",
			obj:  peopleGroup("g", selecting("team", "sre")),
			dir:  dir, wantMembers: []string{"alice-im", "bob-im-here"},
			wantUnresolved: []unresolved{{"carol", v1alpha1.UnmappedUsersReason}},
		},
		{
			name: "missing user",
			obj:  peopleGroup("g", userRef("alice"), userRef("zed")),
			dir:  dir, wantMembers: []string{"alice-im"},
			wantUnresolved: []unresolved{{"zed", v1alpha1.UserNotFoundReason}},
		},
		{
			name: "duplicates between literal members and people, and between sources, appear once",
			obj: func() *v1alpha1.ChatGroup {
				g := peopleGroup("g", userRef("alice"), selecting("team", "sre"), userRef("dave"))
				g.Spec.Members = []string{"dave-im", "x1"}
				return g
			}(),
			dir:            dir,
			wantMembers:    []string{"dave-im", "x1", "alice-im", "bob-im-here"},
			wantUnresolved: []unresolved{{"carol", v1alpha1.UnmappedUsersReason}},
		},
		{
			name: "owner from ownerRef is included once, not again as a selected member",
			obj: func() *v1alpha1.ChatGroup {
				g := peopleGroup("g", userRef("alice"), userRef("dave"))
				g.Spec.OwnerRef = &v1alpha1.ChatUserReference{Name: "alice"}
				return g
			}(),
			dir: dir, wantOwner: "alice-im", wantMembers: []string{"dave-im"},
		},
		{
			name: "ownerRef that does not resolve is reported",
			obj: func() *v1alpha1.ChatGroup {
				g := peopleGroup("g", userRef("dave"))
				g.Spec.OwnerRef = &v1alpha1.ChatUserReference{Name: "carol"}
				return g
			}(),
			dir: dir, wantMembers: []string{"dave-im"},
			wantUnresolved: []unresolved{{"carol", v1alpha1.UnmappedUsersReason}},
		},
		{
			name: "groupRef takes the other group's people and owner, recursively, not its literal members",
			obj:  peopleGroup("top", groupRef("mid")),
			dir: withGroups(
				func() *v1alpha1.ChatGroup {
					g := peopleGroup("mid", groupRef("leaf"))
					g.Spec.OwnerRef = &v1alpha1.ChatUserReference{Name: "dave"}
					g.Spec.Members = []string{"literal-not-taken"}
					return g
				}(),
				peopleGroup("leaf", userRef("alice"))),
			wantMembers: []string{"alice-im", "dave-im"},
		},
		{
			name: "diamond: a group reached twice is no cycle",
			obj:  peopleGroup("top", groupRef("a"), groupRef("b")),
			dir: withGroups(peopleGroup("a", groupRef("c")), peopleGroup("b", groupRef("c")),
				peopleGroup("c", userRef("alice"))),
			wantMembers: []string{"alice-im"},
		},
		{
			name: "missing referenced group is reported",
			obj:  peopleGroup("top", groupRef("gone"), userRef("alice")),
			dir:  dir, wantMembers: []string{"alice-im"},
			wantUnresolved: []unresolved{{"chatgroup/gone", v1alpha1.UserNotFoundReason}},
		},
		{
			name:    "cycle through other groups is named",
			obj:     peopleGroup("a", groupRef("b")),
			dir:     withGroups(peopleGroup("a", groupRef("b")), peopleGroup("b", groupRef("c")), peopleGroup("c", groupRef("a"))),
			wantErr: "spec.membersFrom: groupRef cycle a -> b -> c -> a",
		},
		{
			name:    "self reference is a cycle",
			obj:     peopleGroup("a", groupRef("a")),
			dir:     dir,
			wantErr: "groupRef cycle a -> a",
		},
		{
			name:    "cycle further down is named from where it starts",
			obj:     peopleGroup("top", groupRef("b")),
			dir:     withGroups(peopleGroup("b", groupRef("c")), peopleGroup("c", groupRef("b"))),
			wantErr: "groupRef cycle b -> c -> b",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := resolvePeople(tc.obj, tc.dir)
			if tc.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got.Owner).To(Equal(tc.wantOwner))
			g.Expect(got.Members).To(Equal(tc.wantMembers))
			g.Expect(got.Unresolved).To(Equal(tc.wantUnresolved))
		})
	}
}

func TestMembersResolved(t *testing.T) {
	for _, tc := range []struct {
		name       string
		ppl        people
		unknown    []string
		wantStatus metav1.ConditionStatus
		wantReason string
		wantMsg    string
		wantList   []string
	}{
		{"literal only, nothing rejected: no condition", people{}, nil, "", "", "", nil},
		{"everyone resolved", people{UsesPeople: true}, nil, metav1.ConditionTrue, v1alpha1.ResolvedReason, "Every person", nil},
		{"missing beats unmapped", people{UsesPeople: true, Unresolved: []unresolved{
			{"bob", v1alpha1.UnmappedUsersReason}, {"zed", v1alpha1.UserNotFoundReason}}}, []string{"ghost"},
			metav1.ConditionFalse, v1alpha1.UserNotFoundReason,
			"1 not found: zed; 1 without an account for this group's vendor and provider: bob; 1 member IDs the vendor rejected as unknown users: ghost",
			[]string{"bob", "zed", "ghost"}},
		{"unknown to the vendor, on a literal-only group", people{}, []string{"nobody-such"},
			metav1.ConditionFalse, v1alpha1.UnknownToVendorReason, "nobody-such", []string{"nobody-such"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			st := &v1alpha1.ChatGroupStatus{}
			recordPeople(st, 3, tc.ppl, tc.unknown)
			g.Expect(st.UnresolvedUsers).To(Equal(tc.wantList))
			if tc.wantStatus == "" {
				g.Expect(st.Conditions).To(BeEmpty())
				return
			}
			g.Expect(st.Conditions).To(HaveLen(1))
			c := st.Conditions[0]
			g.Expect(c.Type).To(Equal(v1alpha1.MembersResolvedCondition))
			g.Expect(c.Status).To(Equal(tc.wantStatus))
			g.Expect(c.Reason).To(Equal(tc.wantReason))
			g.Expect(c.Message).To(ContainSubstring(tc.wantMsg))
			g.Expect(c.ObservedGeneration).To(Equal(int64(3)))
		})
	}

	t.Run("at most 50 listed", func(t *testing.T) {
		g := NewWithT(t)
		st := &v1alpha1.ChatGroupStatus{}
		var ids []string
		for i := range 60 {
			ids = append(ids, string(rune('a'+i%26))+string(rune('a'+i/26)))
		}
		recordPeople(st, 1, people{}, ids)
		g.Expect(st.UnresolvedUsers).To(HaveLen(50))
		g.Expect(st.Conditions[0].Message).To(ContainSubstring("60 member IDs"))
		g.Expect(st.Conditions[0].Message).To(ContainSubstring("and 50 more"))
	})
}
