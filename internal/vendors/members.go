package vendors

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
// removed. add is in the order of want.Members (then the owner), remove in the
// order of observed, both without duplicates.
//
// It runs on every observation of every group, so it hashes each ID once or
// twice: one map from observed ID to a slot in a flags slice (a lookup then
// updates the slot in place, with no second map write), and IDs to add get a
// slot of their own so duplicates are dropped.
func MemberChanges(want GroupSpec, observed []string, currentOwner string) (add, remove []string) {
	m := memberSet{
		slot:  make(map[string]int32, len(observed)),
		flags: make([]memberFlags, len(observed), len(observed)+len(want.Members)/8+1),
	}
	for i, id := range observed {
		m.slot[id] = int32(i) // a duplicate's last position stands for all of them
		m.flags[i] = isObserved
	}
	kept := 0 // distinct observed IDs that are desired
	for _, id := range want.Members {
		add, kept = m.want(id, add, kept)
	}
	if want.Owner != "" {
		add, kept = m.want(want.Owner, add, kept)
	}
	if want.MemberPolicy == Additive {
		for _, id := range want.AddedMembers {
			if j, ok := m.slot[id]; ok {
				m.flags[j] |= wasAdded
			}
		}
	}
	if n := len(m.slot) - len(add) - kept; n > 0 { // distinct observed, not desired
		remove = make([]string, 0, n)
	}
	for _, id := range observed {
		j := m.slot[id]
		f := m.flags[j]
		if f&taken != 0 || !removable(f, id, want, currentOwner) {
			continue
		}
		m.flags[j] = f | taken
		remove = append(remove, id)
	}
	if len(remove) == 0 {
		remove = nil
	}
	return add, remove
}

// memberSet indexes IDs for MemberChanges: slot maps an ID to its flags.
type memberSet struct {
	slot  map[string]int32
	flags []memberFlags
}

// memberFlags says what MemberChanges knows about one ID.
type memberFlags uint8

const (
	isObserved memberFlags = 1 << iota
	isDesired
	wasAdded
	// taken marks an ID already put into add or remove, to drop duplicates.
	taken
)

// want marks id desired. An observed ID is counted in kept the first time; an
// ID not observed is appended to add the first time.
func (m *memberSet) want(id string, add []string, kept int) ([]string, int) {
	j, ok := m.slot[id]
	if !ok {
		m.slot[id] = int32(len(m.flags))
		m.flags = append(m.flags, isDesired|taken)
		return append(add, id), kept
	}
	if m.flags[j]&isDesired == 0 {
		m.flags[j] |= isDesired
		if m.flags[j]&isObserved != 0 {
			kept++
		}
	}
	return add, kept
}

// removable reports whether an ID with flags f goes: observed, not desired, not
// an owner, and under the Additive policy added by the operator.
func removable(f memberFlags, id string, want GroupSpec, currentOwner string) bool {
	if f&isObserved == 0 || f&isDesired != 0 || id == want.Owner || id == currentOwner {
		return false
	}
	return want.MemberPolicy != Additive || f&wasAdded != 0
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
