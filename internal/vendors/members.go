package vendors

import "slices"

// Difference returns the elements of a that are not in b, in a's order, without
// duplicates.
func Difference(a, b []string) []string {
	if len(a) == 0 {
		return nil
	}
	exclude := make(map[string]struct{}, len(b))
	for _, s := range b {
		exclude[s] = struct{}{}
	}
	var out []string
	for _, s := range a {
		if _, ok := exclude[s]; ok {
			continue
		}
		exclude[s] = struct{}{} // drop later duplicates
		out = append(out, s)
	}
	return out
}

// Batches splits ids into consecutive chunks of at most size elements, for
// vendors that cap the IDs per call. It returns nil for no ids.
func Batches(ids []string, size int) [][]string {
	if size <= 0 {
		panic("vendors.Batches: size must be positive")
	}
	var out [][]string
	for len(ids) > size {
		out = append(out, ids[:size:size])
		ids = ids[size:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}

// MemberChanges computes the members to add and remove to turn observed into
// want's membership. The owner (want.Owner) is always wanted, and neither the
// desired owner nor currentOwner is ever removed: ownership moves before an old
// owner can go. With the Additive policy only members in want.AddedMembers are
// removed.
func MemberChanges(want GroupSpec, observed []string, currentOwner string) (add, remove []string) {
	desired := want.Members
	if want.Owner != "" && !slices.Contains(desired, want.Owner) {
		desired = append(slices.Clip(desired), want.Owner)
	}
	add = Difference(desired, observed)

	keep := []string{want.Owner, currentOwner}
	remove = Difference(Difference(observed, desired), keep)
	if want.MemberPolicy == Additive {
		remove = Intersect(remove, want.AddedMembers)
	}
	return add, remove
}

// Intersect returns the elements of a that are also in b, in a's order.
func Intersect(a, b []string) []string {
	if len(a) == 0 || len(b) == 0 {
		return nil
	}
	in := make(map[string]struct{}, len(b))
	for _, s := range b {
		in[s] = struct{}{}
	}
	var out []string
	for _, s := range a {
		if _, ok := in[s]; ok {
			out = append(out, s)
		}
	}
	return out
}
