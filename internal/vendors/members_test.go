package vendors

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// expectIDs compares ordered ID lists, treating nil and empty as equal.
func expectIDs(g *WithT, got, want []string, what string) {
	g.THelper()
	if len(want) == 0 {
		g.Expect(got).To(BeEmpty(), what)
		return
	}
	g.Expect(got).To(Equal(want), what)
}

func TestDifference(t *testing.T) {
	tests := []struct {
		name string
		a, b []string
		want []string
	}{
		{name: "nil a", a: nil, b: []string{"x"}, want: nil},
		{name: "empty a", a: []string{}, b: nil, want: nil},
		{name: "nil b keeps a", a: []string{"c", "a", "b"}, b: nil, want: []string{"c", "a", "b"}},
		{name: "order of a kept", a: []string{"d", "a", "c", "b"}, b: []string{"c"}, want: []string{"d", "a", "b"}},
		{name: "duplicates in a dropped", a: []string{"a", "b", "a", "b", "c"}, b: nil, want: []string{"a", "b", "c"}},
		{name: "duplicates of excluded dropped", a: []string{"a", "x", "a", "x"}, b: []string{"x"}, want: []string{"a"}},
		{name: "all excluded", a: []string{"a", "b"}, b: []string{"b", "a"}, want: nil},
		{name: "b elements absent from a ignored", a: []string{"a"}, b: []string{"z", "y"}, want: []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			a, b := slices.Clone(tt.a), slices.Clone(tt.b)
			expectIDs(g, Difference(tt.a, tt.b), tt.want, "difference")
			// Inputs are the caller's slices; they must not be modified.
			g.Expect(tt.a).To(Equal(a))
			g.Expect(tt.b).To(Equal(b))
		})
	}
}

func TestBatches(t *testing.T) {
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("u%d", i)
		}
		return out
	}
	tests := []struct {
		name  string
		ids   []string
		size  int
		sizes []int // expected batch lengths
	}{
		{name: "nil", ids: nil, size: 3, sizes: nil},
		{name: "empty", ids: []string{}, size: 3, sizes: nil},
		{name: "fewer than size", ids: ids(2), size: 3, sizes: []int{2}},
		{name: "exactly size", ids: ids(3), size: 3, sizes: []int{3}},
		{name: "exact multiple", ids: ids(9), size: 3, sizes: []int{3, 3, 3}},
		{name: "remainder", ids: ids(10), size: 3, sizes: []int{3, 3, 3, 1}},
		{name: "size 1", ids: ids(4), size: 1, sizes: []int{1, 1, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got := Batches(tt.ids, tt.size)
			if tt.sizes == nil {
				g.Expect(got).To(BeNil())
				return
			}
			var lens []int
			var joined []string
			for _, b := range got {
				g.Expect(len(b)).To(BeNumerically("<=", tt.size))
				lens = append(lens, len(b))
				joined = append(joined, b...)
			}
			g.Expect(lens).To(Equal(tt.sizes))
			g.Expect(joined).To(Equal(tt.ids), "concatenated batches must be the input, in order")
		})
	}

	t.Run("appending to a batch does not overwrite the next", func(t *testing.T) {
		g := NewWithT(t)
		in := ids(4)
		got := Batches(in, 2)
		_ = append(got[0], "intruder")
		g.Expect(got[1]).To(Equal([]string{"u2", "u3"}))
		g.Expect(in).To(Equal(ids(4)))
	})

	t.Run("non-positive size panics", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(func() { Batches(ids(1), 0) }).To(Panic())
		g.Expect(func() { Batches(ids(1), -1) }).To(Panic())
	})
}

func TestMemberChanges(t *testing.T) {
	tests := []struct {
		name         string
		want         GroupSpec
		observed     []string
		currentOwner string
		add, remove  []string
	}{
		{
			name:         "authoritative removes unlisted, adds missing",
			want:         GroupSpec{Owner: "o", Members: []string{"a", "b"}, MemberPolicy: Authoritative},
			observed:     []string{"o", "a", "c", "d"},
			currentOwner: "o",
			add:          []string{"b"},
			remove:       []string{"c", "d"},
		},
		{
			name:         "authoritative keeps unlisted desired owner",
			want:         GroupSpec{Owner: "o", Members: []string{"a"}, MemberPolicy: Authoritative},
			observed:     []string{"a", "o", "x"},
			currentOwner: "o",
			remove:       []string{"x"},
		},
		{
			name:         "authoritative keeps unlisted current owner",
			want:         GroupSpec{Owner: "o", Members: []string{"a"}, MemberPolicy: Authoritative},
			observed:     []string{"x", "a", "o", "y"},
			currentOwner: "x",
			remove:       []string{"y"},
		},
		{
			name:         "authoritative without owner removes every unlisted member",
			want:         GroupSpec{Members: []string{"a"}, MemberPolicy: Authoritative},
			observed:     []string{"a", "b", "c"},
			currentOwner: "",
			remove:       []string{"b", "c"},
		},
		{
			name:     "owner added when missing and unlisted",
			want:     GroupSpec{Owner: "o", Members: []string{"a"}, MemberPolicy: Authoritative},
			observed: []string{"a"},
			add:      []string{"o"},
		},
		{
			name:     "owner listed in members is added once",
			want:     GroupSpec{Owner: "o", Members: []string{"o", "a"}, MemberPolicy: Authoritative},
			observed: nil,
			add:      []string{"o", "a"},
		},
		{
			name:     "owner added under additive policy too",
			want:     GroupSpec{Owner: "o", Members: []string{"a"}, MemberPolicy: Additive},
			observed: []string{"a", "stranger"},
			add:      []string{"o"},
		},
		{
			name:     "duplicates collapse",
			want:     GroupSpec{Owner: "o", Members: []string{"a", "a", "b"}, MemberPolicy: Authoritative},
			observed: []string{"o", "c", "c"},
			add:      []string{"a", "b"},
			remove:   []string{"c"},
		},
		{
			name:         "additive removes only previously added members",
			want:         GroupSpec{Owner: "o", Members: []string{"a"}, MemberPolicy: Additive, AddedMembers: []string{"b", "gone"}},
			observed:     []string{"o", "a", "b", "c"},
			currentOwner: "o",
			remove:       []string{"b"},
		},
		{
			name:         "additive never removes owners even if added before",
			want:         GroupSpec{Owner: "o", Members: []string{"a"}, MemberPolicy: Additive, AddedMembers: []string{"o", "x", "b"}},
			observed:     []string{"o", "x", "a", "b"},
			currentOwner: "x",
			remove:       []string{"b"},
		},
		{
			name:         "additive keeps added members still desired",
			want:         GroupSpec{Owner: "o", Members: []string{"a", "b"}, MemberPolicy: Additive, AddedMembers: []string{"a", "b"}},
			observed:     []string{"o", "a", "b"},
			currentOwner: "o",
		},
		{
			name:         "additive with no added members removes nothing",
			want:         GroupSpec{Owner: "o", Members: nil, MemberPolicy: Additive},
			observed:     []string{"o", "a", "b"},
			currentOwner: "o",
		},
		{
			// Ownership moves to b first; a must stay until it no longer owns the group.
			name:         "owner transfer adds new owner and keeps old",
			want:         GroupSpec{Owner: "b", Members: []string{"c"}, MemberPolicy: Authoritative},
			observed:     []string{"a", "c"},
			currentOwner: "a",
			add:          []string{"b"},
		},
		{
			name:         "owner transfer still removes other unlisted members",
			want:         GroupSpec{Owner: "b", Members: []string{"c"}, MemberPolicy: Authoritative},
			observed:     []string{"a", "c", "d"},
			currentOwner: "a",
			add:          []string{"b"},
			remove:       []string{"d"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			add, remove := MemberChanges(tt.want, tt.observed, tt.currentOwner)
			expectIDs(g, add, tt.add, "add")
			expectIDs(g, remove, tt.remove, "remove")
			if tt.want.Owner != "" {
				g.Expect(remove).NotTo(ContainElement(tt.want.Owner))
			}
			if tt.currentOwner != "" {
				g.Expect(remove).NotTo(ContainElement(tt.currentOwner))
			}
		})
	}

	t.Run("owner is not appended into the caller's members array", func(t *testing.T) {
		g := NewWithT(t)
		// Spare capacity would let a plain append write into the spec's backing array.
		members := make([]string, 1, 8)
		members[0] = "a"
		spec := GroupSpec{Owner: "o", Members: members, MemberPolicy: Authoritative}
		add, _ := MemberChanges(spec, nil, "")
		g.Expect(add).To(Equal([]string{"a", "o"}))
		g.Expect(members[:2]).To(Equal([]string{"a", ""}))
	})
}

func TestIntersect(t *testing.T) {
	tests := []struct {
		name string
		a, b []string
		want []string
	}{
		{name: "nil a", a: nil, b: []string{"a"}},
		{name: "nil b", a: []string{"a"}, b: nil},
		{name: "empty both", a: []string{}, b: []string{}},
		{name: "disjoint", a: []string{"a", "b"}, b: []string{"c"}},
		{name: "order of a kept", a: []string{"d", "c", "b", "a"}, b: []string{"a", "c"}, want: []string{"c", "a"}},
		{name: "identical", a: []string{"a", "b"}, b: []string{"b", "a"}, want: []string{"a", "b"}},
		// Documented as "the elements of a": duplicates in a are kept.
		{name: "duplicates in a kept", a: []string{"a", "a", "b"}, b: []string{"a"}, want: []string{"a", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			expectIDs(g, Intersect(tt.a, tt.b), tt.want, "intersect")
		})
	}
}

// splitIDs turns a comma-separated fuzz string into IDs, dropping empty ones.
func splitIDs(s string) []string {
	var out []string
	for _, id := range strings.Split(s, ",") {
		if id != "" {
			out = append(out, id)
		}
	}
	return out
}

func setOf(ids ...[]string) map[string]struct{} {
	m := map[string]struct{}{}
	for _, l := range ids {
		for _, id := range l {
			m[id] = struct{}{}
		}
	}
	return m
}

func FuzzMemberChanges(f *testing.F) {
	f.Add("a,b,c", "a,d,e", "", "o", "o", false)
	f.Add("c", "a,c", "", "b", "a", false)
	f.Add("a,a,b", "b,b,c,o", "c", "o", "", true)
	f.Add("", "x,y", "x", "", "", false)
	f.Add("o,a", "", "", "o", "o", false)
	f.Add("a,b", "a,b,z", "z,a", "o", "z", true)
	f.Fuzz(func(t *testing.T, members, observedS, added, owner, currentOwner string, additive bool) {
		want := GroupSpec{
			Owner:        owner,
			Members:      splitIDs(members),
			AddedMembers: splitIDs(added),
			MemberPolicy: Authoritative,
		}
		if additive {
			want.MemberPolicy = Additive
		}
		observed := splitIDs(observedS)
		wantMembers, wantAdded, observedCopy := slices.Clone(want.Members), slices.Clone(want.AddedMembers), slices.Clone(observed)

		add, remove := MemberChanges(want, observed, currentOwner)

		refAdd, refRemove := referenceMemberChanges(want, observed, currentOwner)
		if !slices.Equal(add, refAdd) || !slices.Equal(remove, refRemove) {
			t.Fatalf("add=%q remove=%q, the set-difference version gives add=%q remove=%q", add, remove, refAdd, refRemove)
		}
		if !slices.Equal(want.Members, wantMembers) || !slices.Equal(want.AddedMembers, wantAdded) || !slices.Equal(observed, observedCopy) {
			t.Fatalf("inputs modified")
		}
		addSet, removeSet := setOf(add), setOf(remove)
		if len(addSet) != len(add) || len(removeSet) != len(remove) {
			t.Fatalf("duplicates: add=%q remove=%q", add, remove)
		}
		for id := range addSet {
			if _, ok := removeSet[id]; ok {
				t.Fatalf("%q both added and removed", id)
			}
		}
		if _, ok := removeSet[owner]; ok && owner != "" {
			t.Fatalf("desired owner %q removed", owner)
		}
		if _, ok := removeSet[currentOwner]; ok && currentOwner != "" {
			t.Fatalf("current owner %q removed", currentOwner)
		}

		desired := setOf(want.Members)
		if owner != "" {
			desired[owner] = struct{}{}
		}
		// Apply remove, then add, as a vendor client would.
		result := setOf(Difference(observed, remove), add)
		for id := range desired {
			if _, ok := result[id]; !ok {
				t.Fatalf("desired %q missing after applying add=%q remove=%q", id, add, remove)
			}
		}
		if additive {
			for id := range removeSet {
				if !slices.Contains(want.AddedMembers, id) {
					t.Fatalf("additive removed %q not in AddedMembers", id)
				}
			}
			return
		}
		_, ownerDesired := desired[currentOwner]
		if currentOwner == "" || ownerDesired {
			if len(result) != len(desired) {
				t.Fatalf("result %v != desired %v (add=%q remove=%q)", result, desired, add, remove)
			}
		}
	})
}

// referenceMemberChanges is the plain set-difference form of MemberChanges (one
// set per list), which MemberChanges replaced to allocate less. The fuzz target
// checks both give the same lists in the same order.
func referenceMemberChanges(want GroupSpec, observed []string, currentOwner string) (add, remove []string) {
	desired := want.Members
	if want.Owner != "" && !slices.Contains(desired, want.Owner) {
		desired = append(slices.Clip(desired), want.Owner)
	}
	add = Difference(desired, observed)
	remove = Difference(Difference(observed, desired), []string{want.Owner, currentOwner})
	if want.MemberPolicy == Additive {
		remove = Intersect(remove, want.AddedMembers)
	}
	return add, remove
}

func FuzzBatches(f *testing.F) {
	f.Add("a,b,c,d,e", 2)
	f.Add("", 3)
	f.Add("a", 1)
	f.Add("a,b,c", 3)
	f.Add("a,a,b,,c", 40)
	f.Fuzz(func(t *testing.T, idsS string, size int) {
		if size <= 0 || size > 1000 {
			size = 1 + abs(size)%1000 // Batches panics on a non-positive size, by contract
		}
		ids := strings.Split(idsS, ",")
		in := slices.Clone(ids)

		got := Batches(ids, size)

		var joined []string
		for i, b := range got {
			if len(b) == 0 || len(b) > size {
				t.Fatalf("batch %d has %d IDs, cap %d", i, len(b), size)
			}
			if i < len(got)-1 && len(b) != size {
				t.Fatalf("batch %d of %d has %d IDs: only the last may be short", i, len(got), len(b))
			}
			joined = append(joined, b...)
		}
		if !slices.Equal(joined, in) {
			t.Fatalf("batches concatenate to %q, want the input %q", joined, in)
		}
		if want := (len(in) + size - 1) / size; len(got) != want {
			t.Fatalf("%d batches for %d IDs of cap %d, want %d", len(got), len(in), size, want)
		}
		if !slices.Equal(ids, in) {
			t.Fatalf("input modified")
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// benchmarkMemberChanges measures the diff of an n-member group where desired
// drops the first n/100 observed members and adds n/100 new ones.
func benchmarkMemberChanges(b *testing.B, n int) {
	delta := n / 100
	observed := make([]string, n)
	for i := range observed {
		observed[i] = fmt.Sprintf("user-%06d", i)
	}
	members := slices.Clone(observed[delta:])
	for i := range delta {
		members = append(members, fmt.Sprintf("new-%06d", i))
	}
	want := GroupSpec{Owner: observed[n-1], Members: members, MemberPolicy: Authoritative}

	add, remove := MemberChanges(want, observed, observed[n-1])
	if len(add) != delta || len(remove) != delta {
		b.Fatalf("add=%d remove=%d, want %d each", len(add), len(remove), delta)
	}
	b.ReportAllocs()
	for b.Loop() {
		MemberChanges(want, observed, observed[n-1])
	}
}

func BenchmarkMemberChanges10k(b *testing.B)  { benchmarkMemberChanges(b, 10_000) }
func BenchmarkMemberChanges100k(b *testing.B) { benchmarkMemberChanges(b, 100_000) }
