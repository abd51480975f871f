package dingtalk

import (
	"fmt"
	"testing"

	. "github.com/onsi/gomega"
)

func userIDs(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%03d", prefix, i)
	}
	return out
}

func TestPlan(t *testing.T) {
	many := userIDs("m", 120)
	for _, tc := range []struct {
		name  string
		delta delta
		want  []updateRequest
	}{
		{name: "nothing to do", delta: delta{}, want: []updateRequest{}},
		{name: "rename, add 3 and remove 2 in one call",
			delta: delta{Name: "n2", Add: []string{"a", "b", "c"}, Remove: []string{"d", "e"}},
			want:  []updateRequest{{ChatID: "chat1", Name: "n2", AddUserIDList: []string{"a", "b", "c"}, DelUserIDList: []string{"d", "e"}}}},
		{name: "flags alone", delta: delta{Flags: &flags{Searchable: 1}},
			want: []updateRequest{{ChatID: "chat1", ManagementOptions: &wireOptions{Searchable: 1}}}},
		{name: "120 additions in batches of 40, settings in the first call",
			delta: delta{Icon: "@i", Add: many, AddExt: []string{"x1"}},
			want: []updateRequest{
				{ChatID: "chat1", Icon: "@i", AddUserIDList: many[:40], AddExtIDList: []string{"x1"}},
				{ChatID: "chat1", AddUserIDList: many[40:80]},
				{ChatID: "chat1", AddUserIDList: many[80:]},
			}},
		{name: "additions and removals share calls",
			delta: delta{Add: many[:50], Remove: many[50:95]},
			want: []updateRequest{
				{ChatID: "chat1", AddUserIDList: many[:40], DelUserIDList: many[50:90]},
				{ChatID: "chat1", AddUserIDList: many[40:50], DelUserIDList: many[90:95]},
			}},
		{name: "owner transfer to a newcomer: add, set owner, remove the old owner",
			delta: delta{Owner: "n9", OwnerType: "emp", Add: []string{"n9"}, RemoveOldOwner: "o1"},
			want: []updateRequest{
				{ChatID: "chat1", AddUserIDList: []string{"n9"}},
				{ChatID: "chat1", Owner: "n9", OwnerType: "emp"},
				{ChatID: "chat1", DelUserIDList: []string{"o1"}},
			}},
		{name: "the new owner is added in the first batch; the transfer waits for all additions",
			delta: delta{Name: "x", Owner: "n9", OwnerType: "emp", Add: append(many[:45:45], "n9"), Remove: []string{"u1"}},
			want: []updateRequest{
				{ChatID: "chat1", Name: "x", AddUserIDList: append([]string{"n9"}, many[:39]...)},
				{ChatID: "chat1", AddUserIDList: many[39:45]},
				{ChatID: "chat1", Owner: "n9", OwnerType: "emp"},
				{ChatID: "chat1", DelUserIDList: []string{"u1"}},
			}},
		{name: "transfer to a member rides with the other changes; removals come after",
			delta: delta{Name: "x", Owner: "u1", OwnerType: "emp", Add: []string{"a"}, Remove: []string{"u2"}, RemoveOldOwner: "o1"},
			want: []updateRequest{
				{ChatID: "chat1", Name: "x", Owner: "u1", OwnerType: "emp", AddUserIDList: []string{"a"}},
				{ChatID: "chat1", DelUserIDList: []string{"u2", "o1"}},
			}},
		{name: "transfer to a new external contact: it joins through add_extidlist first; the old external owner goes last",
			delta: delta{Owner: "e2", OwnerType: "ext", AddExt: []string{"x5", "e2"}, RemoveExt: []string{"e1"}},
			want: []updateRequest{
				{ChatID: "chat1", AddExtIDList: []string{"e2", "x5"}},
				{ChatID: "chat1", Owner: "e2", OwnerType: "ext"},
				{ChatID: "chat1", DelExtIDList: []string{"e1"}},
			}},
		{name: "transfer alone, old owner stays",
			delta: delta{Owner: "u1", OwnerType: "ext"},
			want:  []updateRequest{{ChatID: "chat1", Owner: "u1", OwnerType: "ext"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got := plan("chat1", tc.delta)
			if len(tc.want) == 0 {
				g.Expect(got).To(BeEmpty())
				return
			}
			g.Expect(got).To(Equal(tc.want))
			for _, call := range got {
				for _, list := range [][]string{call.AddUserIDList, call.DelUserIDList, call.AddExtIDList, call.DelExtIDList} {
					g.Expect(len(list)).To(BeNumerically("<=", maxIDsPerCall))
				}
			}
		})
	}
}

func TestApply(t *testing.T) {
	g := NewWithT(t)
	c := observedChat()
	after := c.apply(updateRequest{Name: "n", Owner: "u1", AddUserIDList: []string{"u3", "u1"}, DelUserIDList: []string{"u2"},
		AddExtIDList: []string{"x2"}, DelExtIDList: []string{"x1"}, Icon: "@n", ManagementOptions: &wireOptions{Searchable: 1}})
	g.Expect(after.Name).To(Equal("n"))
	g.Expect(after.Owner).To(Equal("u1"))
	g.Expect(after.Members).To(Equal([]string{"o1", "u1", "u3"}))
	g.Expect(after.Flags).To(Equal(flags{Searchable: 1}))
	g.Expect(c.Members).To(Equal([]string{"o1", "u1", "u2"}), "apply does not modify its receiver")
}
