package controller

import (
	"context"
	"errors"
	"slices"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// batchVendor adds members in batches and refuses a whole batch holding an
// ID it does not know (naming the unknown ones when names is true), as Tencent
// IM's add_group_member does with 10019.
type batchVendor struct {
	members []string
	unknown map[string]bool
	batch   int
	names   bool
	calls   int
	fail    error
}

func (v *batchVendor) Update(_ context.Context, got vendors.ObservedGroup, want vendors.GroupSpec) (vendors.UpdateResult, error) {
	v.calls++
	if v.fail != nil {
		return vendors.UpdateResult{}, v.fail
	}
	res := vendors.UpdateResult{Group: got}
	res.Group.Members = slices.Clone(v.members)
	for _, b := range vendors.Batches(vendors.Difference(want.Members, v.members), v.batch) {
		var bad []string
		for _, id := range b {
			if v.unknown[id] {
				bad = append(bad, id)
			}
		}
		if len(bad) > 0 {
			var named []string
			if v.names {
				named = bad
			}
			return res, vendors.UnknownMembers(vendors.NewError(vendors.ErrInvalid, "add", "10019", "account not found"), b, named)
		}
		v.members = append(v.members, b...)
		res.Added = append(res.Added, b...)
		res.Group.Members = slices.Clone(v.members)
	}
	return res, nil
}

func ids(prefix string, n int) []string {
	var out []string
	for i := range n {
		out = append(out, prefix+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	return out
}

func TestUpdateIsolating(t *testing.T) {
	for _, tc := range []struct {
		name        string
		want        []string
		unknown     []string
		batch       int
		names       bool
		wantUnknown []string
		wantCalls   int
		wantErr     error
	}{
		{name: "nothing unknown: one call", want: []string{"user1", "user2"}, batch: 40, wantCalls: 1},
		{name: "the playground's nobody-such: the rest applied, found in two halvings",
			want: []string{"user1", "user2", "user4", "nobody-such"}, unknown: []string{"nobody-such"}, batch: 40,
			wantUnknown: []string{"nobody-such"}, wantCalls: 4},
		{name: "vendor names the unknown ID: one more call", want: []string{"user1", "user2", "nobody-such"},
			unknown: []string{"nobody-such"}, batch: 40, names: true, wantUnknown: []string{"nobody-such"}, wantCalls: 2},
		{name: "one unknown in a full batch of 300: 1 + 1 + one or two per halving",
			want: ids("u", 300), unknown: []string{ids("u", 300)[177]}, batch: 300,
			wantUnknown: []string{ids("u", 300)[177]}, wantCalls: 15},
		{name: "two unknown IDs in different batches", want: ids("u", 100), unknown: []string{ids("u", 100)[3], ids("u", 100)[70]},
			batch: 40, wantUnknown: []string{ids("u", 100)[3], ids("u", 100)[70]}, wantCalls: 21},
		{name: "everyone unknown: bounded, resumes next pass", want: ids("u", 64), unknown: ids("u", 64), batch: 100,
			wantErr: errIsolationBudget, wantCalls: 4 + isolationSteps(64)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			v := &batchVendor{unknown: map[string]bool{}, batch: tc.batch, names: tc.names}
			for _, id := range tc.unknown {
				v.unknown[id] = true
			}
			res, unknown, err := updateIsolating(t.Context(), v, vendors.ObservedGroup{ID: "g"}, vendors.GroupSpec{Members: tc.want})
			g.Expect(v.calls).To(Equal(tc.wantCalls))
			if tc.wantErr != nil {
				g.Expect(err).To(MatchError(tc.wantErr))
				g.Expect(len(unknown)).To(BeNumerically(">", 0), "what was found is kept for the next pass")
				g.Expect(tc.unknown).To(ContainElements(unknown))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(unknown).To(ConsistOf(tc.wantUnknown))
			g.Expect(v.members).To(ConsistOf(vendors.Difference(tc.want, tc.unknown)), "everything else is applied")
			g.Expect(res.Added).To(ConsistOf(vendors.Difference(tc.want, tc.unknown)))
		})
	}

	t.Run("another error is returned as it is", func(t *testing.T) {
		g := NewWithT(t)
		boom := vendors.NewError(vendors.ErrUnavailable, "update", "", "down")
		v := &batchVendor{fail: boom, batch: 40}
		_, unknown, err := updateIsolating(t.Context(), v, vendors.ObservedGroup{ID: "g"}, vendors.GroupSpec{Members: []string{"a"}})
		g.Expect(errors.Is(err, vendors.ErrUnavailable)).To(BeTrue())
		g.Expect(unknown).To(BeEmpty())
		g.Expect(v.calls).To(Equal(1))
	})
}
