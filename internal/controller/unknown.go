package controller

import (
	"context"
	"errors"
	"math/bits"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// updater is the one GroupClient call isolation repeats.
type updater interface {
	Update(ctx context.Context, got vendors.ObservedGroup, want vendors.GroupSpec) (vendors.UpdateResult, error)
}

// isolationSteps is how many extra Update calls the search for unknown IDs
// may spend on a refused set of n suspects: two per halving, for up to two
// unknown IDs in the set. For k unknown IDs among n suspects the search takes
// about 2·k·log2(n) calls.
func isolationSteps(n int) int { return 1 + 4*bits.Len(uint(n)) }

// suspectSet is a set of member IDs the vendor refused together: confirmed
// when it is known to hold at least one unknown ID.
type suspectSet struct {
	ids       []string
	confirmed bool
}

// updateIsolating applies want; when the vendor refuses members it does not
// know, it applies everything else first (one more Update without the refused
// batch), then finds the unknown IDs among the batch by halving it, adding the
// rest. It returns the merged result and the unknown IDs (left out). The
// number of calls is bounded; when the bound is reached it returns the unknown
// IDs found so far with a retryable error, and the next pass, leaving those
// out, goes on from there.
func updateIsolating(ctx context.Context, gc updater, got vendors.ObservedGroup, want vendors.GroupSpec) (vendors.UpdateResult, []string, error) {
	total := vendors.UpdateResult{Group: got}
	excluded := map[string]bool{}
	var unknown []string
	var suspects []suspectSet
	calls, budget := 0, 4
	update := func() error {
		calls++
		w := want
		w.Members = slices.DeleteFunc(slices.Clone(want.Members), func(id string) bool { return excluded[id] })
		res, err := gc.Update(ctx, total.Group, w)
		total = mergeResults(total, res)
		return err
	}
	exclude := func(ids []string) (fresh bool) {
		for _, id := range ids {
			if !excluded[id] {
				excluded[id], fresh = true, true
			}
		}
		return fresh
	}
	// refused records a refusal: the IDs the vendor names are unknown; when
	// it names none, all the refused call tried are suspects.
	refused := func(um *vendors.UnknownMembersError) bool {
		if len(um.IDs) > 0 {
			for _, id := range um.IDs {
				if !slices.Contains(unknown, id) {
					unknown = append(unknown, id)
				}
			}
			return exclude(um.IDs)
		}
		tried := vendors.Intersect(um.Candidates, want.Members)
		fresh := exclude(tried)
		if fresh {
			suspects = append(suspects, suspectSet{ids: tried, confirmed: true})
			budget += isolationSteps(len(tried))
		}
		return fresh
	}

	err := update()
	for err != nil { // apply everything but the refused batches
		um, ok := vendors.AsUnknownMembers(err)
		if !ok || !refused(um) {
			return total, unknown, err
		}
		if calls >= budget {
			return total, unknown, errIsolationBudget
		}
		err = update()
	}
	// Try the suspects back, halving confirmed sets, depth first: each pass
	// that runs out of calls has still found some unknown IDs.
	for len(suspects) > 0 {
		s := suspects[len(suspects)-1]
		suspects = suspects[:len(suspects)-1]
		if s.confirmed && len(s.ids) == 1 {
			unknown = append(unknown, s.ids[0])
			continue
		}
		if calls >= budget {
			return total, unknown, errIsolationBudget
		}
		try, rest := s.ids, []string(nil)
		if s.confirmed {
			try, rest = s.ids[:len(s.ids)/2], s.ids[len(s.ids)/2:]
		}
		for _, id := range try {
			delete(excluded, id)
		}
		err := update()
		if err == nil {
			if len(rest) > 0 { // the confirmed set's unknown ID is in rest
				suspects = append(suspects, suspectSet{ids: rest, confirmed: true})
			}
			continue
		}
		um, ok := vendors.AsUnknownMembers(err)
		if !ok {
			return total, unknown, err
		}
		exclude(try)
		if len(rest) > 0 {
			suspects = append(suspects, suspectSet{ids: rest})
		}
		if len(um.IDs) == 0 {
			suspects = append(suspects, suspectSet{ids: try, confirmed: true})
			continue
		}
		exclude(um.IDs)
		for _, id := range um.IDs {
			if !slices.Contains(unknown, id) {
				unknown = append(unknown, id)
			}
		}
		if others := vendors.Difference(try, um.IDs); len(others) > 0 {
			suspects = append(suspects, suspectSet{ids: others})
		}
	}
	slices.Sort(unknown)
	return total, unknown, nil
}

// errIsolationBudget ends a pass that spent its calls on isolating unknown
// IDs; the unknown IDs found are recorded, so the next pass resumes.
var errIsolationBudget = errors.New("isolating member IDs the vendor does not know took the most calls one pass may make; continuing in the next pass")

// mergeResults adds what a later Update did to what earlier ones did.
func mergeResults(a, b vendors.UpdateResult) vendors.UpdateResult {
	a.Added = append(a.Added, b.Added...)
	a.Removed = append(a.Removed, b.Removed...)
	a.OwnerTransferred = a.OwnerTransferred || b.OwnerTransferred
	a.SettingsChanged = a.SettingsChanged || b.SettingsChanged
	if b.Group.ID != "" {
		a.Group = b.Group
	}
	return a
}

// previouslyRejected returns the IDs of members that the vendor rejected as
// unknown in an earlier pass of this generation (listed in
// status.unresolvedUsers): they are left out without asking again until the
// spec changes or a check tries them again (retryRejected).
func previouslyRejected(st v1alpha1.ChatGroupStatus, generation int64, members []string) []string {
	c := meta.FindStatusCondition(st.Conditions, v1alpha1.MembersResolvedCondition)
	if c == nil || c.Status != metav1.ConditionFalse || c.ObservedGeneration != generation {
		return nil
	}
	return vendors.Intersect(st.UnresolvedUsers, members)
}

// retryRejected puts the member IDs the vendor rejected as unknown back among
// ppl's members, to be tried again: the accounts may exist by now (made in the
// vendor's console), and nothing in the spec would tell. IDs still unknown are
// left out and recorded again by the update.
func retryRejected(obj *v1alpha1.ChatGroup, ppl people) people {
	ppl.Members = append(slices.Clone(ppl.Members), ppl.Rejected...)
	ppl.Rejected = nil
	recordPeople(&obj.Status, obj.Generation, ppl, nil)
	return ppl
}
