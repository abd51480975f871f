// Package vendors is the neutral contract between the ChatGroup reconciler and the
// vendor clients: the GroupClient interface, the error classes, the one HTTP
// caller every client uses, the rate limiter, and the Registration through which
// a vendor plugs in. It names no vendor: each lives in its own package below.
package vendors

import (
	"context"
)

// Connector builds a GroupClient for one set of resolved credentials. The
// controller caches the result per credential, so Connect may do setup work but
// should not call the vendor.
type Connector interface {
	Connect(ctx context.Context, creds Credentials) (GroupClient, error)
}

// GroupClient manages chat groups on one vendor account. Calls must be idempotent
// where the vendor allows it and never block beyond the context: Observe and Find
// have no side effects; Delete returns nil when the group is already gone.
type GroupClient interface {
	// CheckCredentials makes the cheapest authenticated call the vendor offers and
	// returns an ErrUnauthorized-classed error when the vendor rejects the credentials.
	CheckCredentials(ctx context.Context) error

	// Observe reads the group with the given ID and compares it with want.
	// A group that does not exist is reported as Exists=false, not as an error.
	Observe(ctx context.Context, id string, want GroupSpec) (Observation, error)

	// Find looks for groups that an earlier, unconfirmed Create for want may have
	// made (the owner's groups with exactly this name, the group with an ID
	// derived from the UID, the groups with this title). It returns their
	// IDs, or an ErrInProgress error while a matching group is still being created,
	// or an ErrNotFound error when it can tell for certain that no group exists and
	// creating again is safe (caller-chosen IDs).
	Find(ctx context.Context, want GroupSpec) ([]string, error)

	// Create makes the group and returns what the vendor reported, at least its ID.
	// A vendor that creates groups asynchronously returns an ErrInProgress error
	// instead; the controller then keeps calling Find until the group appears. When
	// the group was made but a follow-up call failed, Create returns the group (with
	// its ID) and the error: the ID is recorded and Update does the rest.
	Create(ctx context.Context, want GroupSpec) (ObservedGroup, error)

	// Update makes the minimal calls that turn got (from Observe) into want.
	Update(ctx context.Context, got ObservedGroup, want GroupSpec) (UpdateResult, error)

	// Delete deletes (dismisses) the group.
	Delete(ctx context.Context, id string) error
}

// Credentials are a provider's resolved account: endpoint, the vendor's own
// settings and the Secret's data. Limiter is shared by every client built for
// the same credentials.
type Credentials struct {
	// Endpoint is the API base URL; empty means the vendor's default.
	Endpoint string
	// Settings is the provider's vendor block as the vendor's Registration.Settings
	// read it: the vendor's own type, nil when the vendor has none.
	Settings any
	// Secret is the credentials Secret's data (never logged).
	Secret map[string][]byte
	// Limiter paces calls per vendor API for these credentials.
	Limiter *Limiter
}

// MemberPolicy mirrors the API's memberPolicy.
type MemberPolicy string

const (
	// Authoritative removes every member not in GroupSpec.Members, except the owner.
	Authoritative MemberPolicy = "Authoritative"
	// Additive removes only members listed in GroupSpec.AddedMembers.
	Additive MemberPolicy = "Additive"
)

// GroupSpec is the desired group, in vendor-neutral terms. Empty strings and nil
// pointers mean "not specified": the vendor's value is left alone.
type GroupSpec struct {
	// UID identifies the declaring object; vendors that accept caller-chosen IDs
	// derive the group ID from it.
	UID string
	// Name is the group's title.
	Name string
	// ObservedName is the title the group had when last observed, where the
	// controller recorded it: vendors that find groups by title look there
	// after a rename.
	ObservedName string
	// Owner is the owner's user ID.
	Owner string
	// Members are the desired members (a set; the owner is implied).
	Members []string
	// MemberPolicy says which unlisted members to remove.
	MemberPolicy MemberPolicy
	// AddedMembers are the members the operator added before (Additive policy).
	AddedMembers []string
	// Description, Announcement and Icon are the group's texts and picture.
	Description  string
	Announcement string
	Icon         string
	// Options are the group's settings.
	Options Options
	// Vendor holds the vendor-only settings as the vendor's Registration.Desired
	// set them: the vendor's own type, nil when it has none.
	Vendor any
}

// Options are a group's settings; nil or empty means "leave as the vendor has it".
type Options struct {
	MentionAllOwnerOnly     *bool
	ShowHistoryToNewMembers *bool
	JoinPolicy              string // Open | ApprovalRequired | Closed
	Searchable              *bool
	MuteAll                 *bool
	ManagedByOwnerOnly      *bool
}

// ObservedGroup is a vendor group as last read.
type ObservedGroup struct {
	// ID is the vendor's group ID.
	ID string
	// Name and Owner as the vendor holds them.
	Name  string
	Owner string
	// Members are all member IDs, owner included.
	Members []string
	// PendingMembers are desired members the vendor cannot add directly and who
	// have not joined yet: they join by themselves, with what Invitation holds.
	PendingMembers []string
	// Invitation is what PendingMembers need to join (e.g. an invite link), by
	// key. It is published in a Secret owned by the ChatGroup, never in status;
	// nil when there is nothing to share.
	Invitation map[string][]byte
	// Extra is what the vendor reports beyond the above, in the vendor's own
	// type; its Registration.Record writes it into status.
	Extra any
}

// Observation is the result of Observe.
type Observation struct {
	// Exists is false when the vendor has no group with the ID.
	Exists bool
	// UpToDate is true when the group matches the spec: Update would make no call.
	UpToDate bool
	// Diff describes what differs, for logs (no secrets).
	Diff string
	// Group is what was read.
	Group ObservedGroup
	// Changes is the same difference, in neutral terms: what Update would
	// change. The controller reports it in status.drift and holds removals with
	// it, so it must come from the very diff Update acts on.
	Changes Changes
}

// Changes is a difference between a vendor group and the spec, as spec paths
// and member IDs.
type Changes struct {
	// Fields are the spec paths that differ, other than members (e.g. "name",
	// "owner", "managementOptions").
	Fields []string
	// Add are the members Update would add (or invite, where the vendor cannot add).
	Add []string
	// Remove are the members Update would remove, an old owner the spec no longer
	// lists included, spelled as the vendor reported them.
	Remove []string
}

// Empty reports whether c changes nothing.
func (c Changes) Empty() bool {
	return len(c.Fields)+len(c.Add)+len(c.Remove) == 0
}

// UpdateResult says what an Update changed.
type UpdateResult struct {
	// Added and Removed are the members added and removed.
	Added   []string
	Removed []string
	// OwnerTransferred is true when ownership moved to GroupSpec.Owner.
	OwnerTransferred bool
	// SettingsChanged is true when anything but members and owner changed.
	SettingsChanged bool
	// Group is the group after the update, as far as the client knows it.
	Group ObservedGroup
}

// IDChooser is implemented by a GroupClient whose vendor creates groups under an
// ID the caller chooses and refuses a second group with that ID. The controller
// records the ID before it calls Create: the ID is then the create claim, and a
// create needs no write afterwards to record it.
type IDChooser interface {
	// ChosenID returns the ID Create gives the group for want ("" when it
	// cannot tell, e.g. without a UID).
	ChosenID(want GroupSpec) string
}

// Optional returns c's implementation of the optional interface T (IDChooser,
// BatchObserver), looking through wrappers that have an Unwrap method.
func Optional[T any](c GroupClient) (T, bool) {
	for c != nil {
		if t, ok := c.(T); ok {
			return t, true
		}
		u, ok := c.(interface{ Unwrap() GroupClient })
		if !ok {
			break
		}
		c = u.Unwrap()
	}
	var zero T
	return zero, false
}

// BatchObserver is implemented by a GroupClient whose vendor reads many groups
// in one call. The controller gathers the periodic drift checks of groups in
// sync into such reads; a group a batch does not vouch for is then observed on
// its own (Observe), and only that group.
type BatchObserver interface {
	// BatchSize is how many groups one ObserveBatch call should be given: the
	// vendor's per-call cap, or what one page of its listing holds.
	BatchSize() int
	// ObserveBatch reads the groups of items with the fewest calls the vendor
	// allows and reports, in the order of items, whether each still matches
	// its Want (Update would make no call). False means "changed, or cannot
	// tell": gone, unreadable, or different. With an error, the answers may
	// cover the groups read before it (true still vouches for a group) or be
	// nil; every other group counts as unread.
	ObserveBatch(ctx context.Context, items []BatchItem) ([]bool, error)
}

// BatchItem is one group of a batched drift check.
type BatchItem struct {
	// ID is the vendor's group ID.
	ID string
	// Want is the group's desired state.
	Want GroupSpec
	// MemberCount is the member count last recorded: a group whose count
	// differs is reported changed, so that its status is brought up to date.
	MemberCount int
}
