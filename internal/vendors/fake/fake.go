// Package fake provides test doubles for the vendors package: a function-field
// GroupClient for unit tests of single steps, and Vendor, an in-memory vendor for
// integration tests that need groups to persist between passes.
package fake

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// Operation names used in Call.Op.
const (
	OpCheckCredentials = "CheckCredentials"
	OpObserve          = "Observe"
	OpFind             = "Find"
	OpCreate           = "Create"
	OpUpdate           = "Update"
	OpDelete           = "Delete"
)

// Call records one GroupClient call.
type Call struct {
	Op string
	// ID is the group ID the call was about ("" for Create, Find, CheckCredentials).
	ID string
	// Spec is the desired group passed in (zero for Delete and CheckCredentials).
	Spec vendors.GroupSpec
}

// GroupClient is a GroupClient whose behaviour is set per method. A method whose
// function is unset fails with "fake: <Method> not implemented", so unexpected
// calls fail the test. Every call is recorded.
type GroupClient struct {
	CheckCredentialsFn func(ctx context.Context) error
	ObserveFn          func(ctx context.Context, id string, want vendors.GroupSpec) (vendors.Observation, error)
	FindFn             func(ctx context.Context, want vendors.GroupSpec) ([]string, error)
	CreateFn           func(ctx context.Context, want vendors.GroupSpec) (vendors.ObservedGroup, error)
	UpdateFn           func(ctx context.Context, got vendors.ObservedGroup, want vendors.GroupSpec) (vendors.UpdateResult, error)
	DeleteFn           func(ctx context.Context, id string) error

	mu    sync.Mutex
	calls []Call
}

var _ vendors.GroupClient = &GroupClient{}

func (c *GroupClient) record(op, id string, spec vendors.GroupSpec) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, Call{Op: op, ID: id, Spec: spec})
}

// Calls returns the calls made so far.
func (c *GroupClient) Calls() []Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// Count returns how many calls of op matched match (nil matches all).
func (c *GroupClient) Count(op string, match func(Call) bool) int {
	n := 0
	for _, call := range c.Calls() {
		if call.Op == op && (match == nil || match(call)) {
			n++
		}
	}
	return n
}

func notImplemented(method string) error { return fmt.Errorf("fake: %s not implemented", method) }

// CheckCredentials implements vendors.GroupClient.
func (c *GroupClient) CheckCredentials(ctx context.Context) error {
	c.record(OpCheckCredentials, "", vendors.GroupSpec{})
	if c.CheckCredentialsFn == nil {
		return notImplemented(OpCheckCredentials)
	}
	return c.CheckCredentialsFn(ctx)
}

// Observe implements vendors.GroupClient.
func (c *GroupClient) Observe(ctx context.Context, id string, want vendors.GroupSpec) (vendors.Observation, error) {
	c.record(OpObserve, id, want)
	if c.ObserveFn == nil {
		return vendors.Observation{}, notImplemented(OpObserve)
	}
	return c.ObserveFn(ctx, id, want)
}

// Find implements vendors.GroupClient.
func (c *GroupClient) Find(ctx context.Context, want vendors.GroupSpec) ([]string, error) {
	c.record(OpFind, "", want)
	if c.FindFn == nil {
		return nil, notImplemented(OpFind)
	}
	return c.FindFn(ctx, want)
}

// Create implements vendors.GroupClient.
func (c *GroupClient) Create(ctx context.Context, want vendors.GroupSpec) (vendors.ObservedGroup, error) {
	c.record(OpCreate, "", want)
	if c.CreateFn == nil {
		return vendors.ObservedGroup{}, notImplemented(OpCreate)
	}
	return c.CreateFn(ctx, want)
}

// Update implements vendors.GroupClient.
func (c *GroupClient) Update(ctx context.Context, got vendors.ObservedGroup, want vendors.GroupSpec) (vendors.UpdateResult, error) {
	c.record(OpUpdate, got.ID, want)
	if c.UpdateFn == nil {
		return vendors.UpdateResult{}, notImplemented(OpUpdate)
	}
	return c.UpdateFn(ctx, got, want)
}

// Delete implements vendors.GroupClient.
func (c *GroupClient) Delete(ctx context.Context, id string) error {
	c.record(OpDelete, id, vendors.GroupSpec{})
	if c.DeleteFn == nil {
		return notImplemented(OpDelete)
	}
	return c.DeleteFn(ctx, id)
}

// Connector returns Client from Connect, or Err. When Check is set it vets the
// credentials first (e.g. to simulate a rejected Secret). Connections are recorded.
type Connector struct {
	Client vendors.GroupClient
	Err    error
	Check  func(vendors.Credentials) error

	mu    sync.Mutex
	creds []vendors.Credentials
}

var _ vendors.Connector = &Connector{}

// Connect implements vendors.Connector.
func (c *Connector) Connect(_ context.Context, creds vendors.Credentials) (vendors.GroupClient, error) {
	c.mu.Lock()
	c.creds = append(c.creds, creds)
	c.mu.Unlock()
	if c.Err != nil {
		return nil, c.Err
	}
	if c.Check != nil {
		if err := c.Check(creds); err != nil {
			return nil, err
		}
	}
	return c.Client, nil
}

// Connections returns the credentials Connect was called with.
func (c *Connector) Connections() []vendors.Credentials {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.creds)
}

// Fault is what Vendor.Fault returns to inject a failure into one call.
type Fault struct {
	// Err is returned by the call.
	Err error
	// AfterApply applies the call's change before returning Err: the vendor did the
	// work and the response was lost.
	AfterApply bool
}

// group is what Vendor stores per group.
type group struct {
	spec    vendors.GroupSpec
	owner   string
	members []string
	// inviteOnly groups cannot add members: they join through an invite link.
	inviteOnly bool
}

// FaultFunc decides whether to inject a fault into one call. id is "" for
// Create, Find and CheckCredentials; want is zero for Delete.
type FaultFunc func(op, id string, want vendors.GroupSpec) Fault

// Vendor is an in-memory vendor. Client returns a GroupClient backed by it; the
// client's functions can still be replaced per test.
type Vendor struct {
	mu         sync.Mutex
	next       int
	groups     map[string]*group
	faults     []FaultFunc
	inviteOnly map[string]bool
}

// InviteOnly makes groups named name behave like those of a vendor that cannot
// add members: listed members are pending until Join, and an invitation is
// published while any are pending.
func (v *Vendor) InviteOnly(name string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.inviteOnly[name] = true
}

// Join adds member to group id as if they had used the invite link.
func (v *Vendor) Join(id, member string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if g, ok := v.groups[id]; ok && !slices.Contains(g.members, member) {
		g.members = append(g.members, member)
	}
}

// AddFault registers f; before every call the faults are consulted in order and
// the first one with a non-nil Err is injected.
func (v *Vendor) AddFault(f FaultFunc) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.faults = append(v.faults, f)
}

// NewVendor returns an empty Vendor.
func NewVendor() *Vendor { return &Vendor{groups: map[string]*group{}, inviteOnly: map[string]bool{}} }

// Put stores a group as if someone had created it outside the operator and returns its ID.
func (v *Vendor) Put(spec vendors.GroupSpec) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.create(spec)
}

func (v *Vendor) create(spec vendors.GroupSpec) string {
	v.next++
	id := fmt.Sprintf("grp-%d", v.next)
	g := &group{spec: spec, owner: spec.Owner, inviteOnly: v.inviteOnly[spec.Name]}
	g.members, _ = vendors.MemberChanges(spec, nil, "")
	if g.inviteOnly {
		g.members = nil
	}
	v.groups[id] = g
	return id
}

// Group returns the stored group with id.
func (v *Vendor) Group(id string) (vendors.ObservedGroup, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	g, ok := v.groups[id]
	if !ok {
		return vendors.ObservedGroup{}, false
	}
	return g.observed(id, nil), true
}

// IDs returns the IDs of all stored groups whose name is name.
func (v *Vendor) IDs(name string) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var ids []string
	for _, id := range slices.Sorted(maps.Keys(v.groups)) {
		if v.groups[id].spec.Name == name {
			ids = append(ids, id)
		}
	}
	return ids
}

// observed returns the group as read, with the members of want that are
// pending when the group is invite-only.
func (g *group) observed(id string, want []string) vendors.ObservedGroup {
	o := vendors.ObservedGroup{ID: id, Name: g.spec.Name, Owner: g.owner, Members: slices.Clone(g.members)}
	if g.inviteOnly {
		o.PendingMembers = vendors.Difference(want, g.members)
		if len(o.PendingMembers) > 0 {
			o.Invitation = map[string][]byte{"inviteLink": []byte("https://invite.example/" + id)}
		}
	}
	return o
}

// diff lists what differs between the stored group and want.
func (g *group) diff(want vendors.GroupSpec) []string {
	var d []string
	if g.spec.Name != want.Name {
		d = append(d, "name")
	}
	if want.Owner != "" && g.owner != want.Owner {
		d = append(d, "owner")
	}
	add, remove := vendors.MemberChanges(want, g.members, g.owner)
	if g.inviteOnly {
		add = nil // cannot be added; they are pending invitees
	}
	if len(add)+len(remove) > 0 {
		d = append(d, "members")
	}
	if g.spec.Description != want.Description || g.spec.Announcement != want.Announcement || g.spec.Icon != want.Icon {
		d = append(d, "settings")
	}
	return d
}

func (v *Vendor) fault(op, id string, want vendors.GroupSpec) Fault {
	v.mu.Lock()
	faults := slices.Clone(v.faults)
	v.mu.Unlock()
	for _, f := range faults {
		if got := f(op, id, want); got.Err != nil {
			return got
		}
	}
	return Fault{}
}

// Client returns a GroupClient backed by v.
func (v *Vendor) Client() *GroupClient {
	return &GroupClient{
		CheckCredentialsFn: func(context.Context) error {
			return v.fault(OpCheckCredentials, "", vendors.GroupSpec{}).Err
		},
		ObserveFn: v.observe,
		FindFn:    v.find,
		CreateFn:  v.createFn,
		UpdateFn:  v.update,
		DeleteFn:  v.delete,
	}
}

func (v *Vendor) observe(_ context.Context, id string, want vendors.GroupSpec) (vendors.Observation, error) {
	if f := v.fault(OpObserve, id, want); f.Err != nil {
		return vendors.Observation{}, f.Err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	g, ok := v.groups[id]
	if !ok {
		return vendors.Observation{}, nil
	}
	d := g.diff(want)
	ch := vendors.Changes{Fields: slices.DeleteFunc(slices.Clone(d), func(f string) bool { return f == "members" })}
	ch.Add, ch.Remove = vendors.MemberChanges(want, g.members, g.owner)
	if g.inviteOnly {
		ch.Add = nil
	}
	return vendors.Observation{Exists: true, UpToDate: len(d) == 0, Diff: fmt.Sprint(d), Group: g.observed(id, want.Members), Changes: ch}, nil
}

func (v *Vendor) find(_ context.Context, want vendors.GroupSpec) ([]string, error) {
	if f := v.fault(OpFind, "", want); f.Err != nil {
		return nil, f.Err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	var ids []string
	for _, id := range slices.Sorted(maps.Keys(v.groups)) {
		if g := v.groups[id]; g.spec.Name == want.Name && g.owner == want.Owner {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func (v *Vendor) createFn(_ context.Context, want vendors.GroupSpec) (vendors.ObservedGroup, error) {
	f := v.fault(OpCreate, "", want)
	if f.Err != nil && !f.AfterApply {
		return vendors.ObservedGroup{}, f.Err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	id := v.create(want)
	if f.Err != nil {
		return vendors.ObservedGroup{}, f.Err
	}
	return v.groups[id].observed(id, want.Members), nil
}

func (v *Vendor) update(_ context.Context, got vendors.ObservedGroup, want vendors.GroupSpec) (vendors.UpdateResult, error) {
	f := v.fault(OpUpdate, got.ID, want)
	if f.Err != nil && !f.AfterApply {
		return vendors.UpdateResult{}, f.Err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	g, ok := v.groups[got.ID]
	if !ok {
		return vendors.UpdateResult{}, vendors.NewError(vendors.ErrNotFound, "update group", "", "no group "+got.ID)
	}
	add, remove := vendors.MemberChanges(want, g.members, g.owner)
	if g.inviteOnly {
		add = nil
	}
	res := vendors.UpdateResult{Added: add, Removed: remove}
	res.SettingsChanged = g.spec.Name != want.Name || g.spec.Description != want.Description ||
		g.spec.Announcement != want.Announcement || g.spec.Icon != want.Icon
	g.members = append(vendors.Difference(g.members, remove), add...)
	if want.Owner != "" && want.Owner != g.owner {
		g.owner = want.Owner
		res.OwnerTransferred = true
	}
	g.spec = want
	res.Group = g.observed(got.ID, want.Members)
	return res, f.Err
}

func (v *Vendor) delete(_ context.Context, id string) error {
	f := v.fault(OpDelete, id, vendors.GroupSpec{})
	if f.Err != nil && !f.AfterApply {
		return f.Err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.groups, id)
	return f.Err
}

// ErrInjected is a transient error for faults.
var ErrInjected = vendors.NewError(vendors.ErrUnavailable, "fake", "", "injected failure")
