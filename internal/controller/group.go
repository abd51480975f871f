package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// reconcileGroup locates the vendor group (creating it when there is none) and
// updates it when it differs from the spec. It records the group in status and
// returns it as last seen.
func (r *ChatGroupReconciler) reconcileGroup(ctx context.Context, obj *v1alpha1.ChatGroup, gc vendors.GroupClient, reg vendors.Registration) (vendors.ObservedGroup, error) {
	return r.reconcileGroupOf(ctx, obj, gc, reg, people{Owner: obj.Spec.Owner, Members: obj.Spec.Members})
}

// reconcileGroupOf is reconcileGroup for the owner and members in ppl.
func (r *ChatGroupReconciler) reconcileGroupOf(ctx context.Context, obj *v1alpha1.ChatGroup, gc vendors.GroupClient, reg vendors.Registration, ppl people) (vendors.ObservedGroup, error) {
	want := desiredGroupOf(obj, reg, ppl)
	setAddedMembers(obj, obj.Status.AddedMembers) // drops a record nothing reads
	grace := reg.FindGrace
	if r.FindGrace > 0 {
		grace = r.FindGrace
	}
	obs, found, err := r.locateGroup(ctx, obj, gc, want, grace)
	if err != nil {
		return vendors.ObservedGroup{}, err
	}
	if !found {
		if observeOnly(obj) {
			return vendors.ObservedGroup{}, stalled(v1alpha1.InvalidSpecReason,
				"spec.managementPolicy ObserveOnly never creates a group: set spec.adoptGroupID to the group to observe, or use managementPolicy Full")
		}
		return r.createIsolating(ctx, obj, gc, want, ppl)
	}
	recordGroup(obj, obs.Group)
	if observeOnly(obj) { // no vendor writes: report the whole difference
		obj.Status.Drift = driftOf(obs.Changes, "")
		return obs.Group, nil
	}
	obj.Status.Drift = nil
	if obs.UpToDate {
		return obs.Group, nil
	}
	want, held, err := r.guard(ctx, obj, obs, want)
	if err != nil {
		return vendors.ObservedGroup{}, err
	}
	if held != nil && len(obs.Changes.Fields)+len(obs.Changes.Add) == 0 {
		return vendors.ObservedGroup{}, held // nothing but the held removals to do
	}
	g, err := r.applyUpdate(ctx, obj, gc, obs.Group, want, ppl)
	if err == nil && held != nil {
		return vendors.ObservedGroup{}, held
	}
	return g, err
}

// createIsolating creates the group; when the vendor refuses the create for
// members it does not know, it creates the group without the refused members
// and adds them back with applyUpdate, which leaves out the unknown ones.
func (r *ChatGroupReconciler) createIsolating(ctx context.Context, obj *v1alpha1.ChatGroup, gc vendors.GroupClient, want vendors.GroupSpec, ppl people) (vendors.ObservedGroup, error) {
	g, err := r.createGroup(ctx, obj, gc, want)
	um, ok := vendors.AsUnknownMembers(err)
	if !ok || g.ID != "" { // done, or made: the next pass's Update isolates
		return g, err
	}
	// Leave out the IDs the vendor named, or else the whole refused batch.
	named := vendors.Intersect(um.IDs, want.Members)
	drop := named
	if len(drop) == 0 {
		drop = vendors.Intersect(um.Candidates, want.Members)
	}
	if len(drop) == 0 {
		return g, err
	}
	first := want
	first.Members = vendors.Difference(want.Members, drop)
	if g, err = r.createGroup(ctx, obj, gc, first); err != nil {
		return g, err
	}
	rest := want
	rest.Members = vendors.Difference(want.Members, named)
	ppl.Rejected = append(slices.Clone(ppl.Rejected), named...)
	return r.applyUpdate(ctx, obj, gc, g, rest, ppl)
}

// applyUpdate makes the calls that turn got into want, leaving out (and
// recording in status) member IDs the vendor rejects as unknown users.
func (r *ChatGroupReconciler) applyUpdate(ctx context.Context, obj *v1alpha1.ChatGroup, gc vendors.GroupClient, got vendors.ObservedGroup, want vendors.GroupSpec, ppl people) (vendors.ObservedGroup, error) {
	ctrl.LoggerFrom(ctx).V(1).Info("Updating vendor group", "groupID", got.ID)
	res, unknown, err := updateIsolating(ctx, gc, got, want)
	if len(unknown)+len(ppl.Rejected) > 0 {
		recordPeople(&obj.Status, obj.Generation, ppl, append(slices.Clone(ppl.Rejected), unknown...))
	}
	if err != nil {
		return vendors.ObservedGroup{}, fmt.Errorf("update group %s: %w", got.ID, err)
	}
	recordGroup(obj, res.Group)
	setAddedMembers(obj, vendors.Difference(append(obj.Status.AddedMembers, res.Added...), res.Removed))
	r.notifyUpdate(obj, res, want.Owner)
	return res.Group, nil
}

// observeOnly reports whether obj allows no vendor writes.
func observeOnly(obj *v1alpha1.ChatGroup) bool {
	return obj.Spec.ManagementPolicy == v1alpha1.ObserveOnly
}

// guard applies the removal guard to the removals of obs. Within the limit, or
// approved, want is returned as it is. Over it, want keeps the members whose
// removal is held, status.drift lists them with their token, and held is the
// RemovalsHeld error to end the pass with once the rest has been applied.
func (r *ChatGroupReconciler) guard(ctx context.Context, obj *v1alpha1.ChatGroup, obs vendors.Observation, want vendors.GroupSpec) (_ vendors.GroupSpec, held error, err error) {
	remove := obs.Changes.Remove
	if len(remove) == 0 {
		return want, nil, nil
	}
	p, err := r.provider(ctx, obj)
	if err != nil {
		return want, nil, err
	}
	limit := removalLimit(obj, p.Settings().RemovalGuard)
	current := len(obs.Group.Members)
	d := guardRemovals(remove, current, limit, obj.Annotations[v1alpha1.ApproveRemovalsAnnotation])
	if !d.Hold {
		if d.Token != "" {
			ctrl.LoggerFrom(ctx).Info("Removals approved", "removals", len(remove), "token", d.Token)
		}
		return want, nil, nil
	}
	obj.Status.Drift = driftOf(vendors.Changes{Remove: remove}, d.Token)
	return withHeld(want, remove), stalled(v1alpha1.RemovalsHeldReason, "%s", heldMessage(obj, d, len(remove), current, limit)), nil
}

// locateGroup finds the group this object manages: the bound one (group-id
// annotation), the one named by spec.adoptGroupID, or the one an interrupted
// create made (create-pending). It binds the latter two. found is false when a
// group has to be created. findGrace is the vendor's lookup lag
// (vendors.Registration.FindGrace).
func (r *ChatGroupReconciler) locateGroup(ctx context.Context, obj *v1alpha1.ChatGroup, gc vendors.GroupClient, want vendors.GroupSpec, findGrace time.Duration) (vendors.Observation, bool, error) {
	if obj.Annotations[v1alpha1.GroupIDAnnotation] == "" {
		// About to look a group up or create one: the cache may not have seen the
		// ID a previous pass recorded yet, so read the annotations afresh.
		if err := r.refreshMetadata(ctx, obj); err != nil {
			return vendors.Observation{}, false, err
		}
	}
	id := obj.Annotations[v1alpha1.GroupIDAnnotation]
	adopt := obj.Spec.AdoptGroupID
	switch {
	case id != "" && adopt != "" && id != adopt:
		return vendors.Observation{}, false, stalled(v1alpha1.InvalidSpecReason,
			"spec.adoptGroupID is %q but this object already manages group %q (annotation %s); remove spec.adoptGroupID or use a new ChatGroup",
			adopt, id, v1alpha1.GroupIDAnnotation)
	case id != "":
		obs, err := gc.Observe(ctx, id, want)
		if err == nil && !obs.Exists && createUnconfirmed(obj, gc, want) {
			return obs, false, nil // the claim of a create that made nothing: create again
		}
		if err == nil && !obs.Exists {
			err = stalled(v1alpha1.GroupNotFoundReason,
				"Group %s no longer exists on %s; to create a new group remove the annotation %s",
				id, obj.Spec.Vendor, v1alpha1.GroupIDAnnotation)
		}
		return obs, err == nil, err
	case adopt != "":
		obs, err := gc.Observe(ctx, adopt, want)
		if err == nil && !obs.Exists {
			err = stalled(v1alpha1.InvalidSpecReason, "spec.adoptGroupID: no group %q exists on %s", adopt, obj.Spec.Vendor)
		}
		if err != nil {
			return obs, false, err
		}
		return obs, true, r.bind(ctx, obj, adopt, "Adopted group %s (spec.adoptGroupID)")
	case obj.Annotations[v1alpha1.CreatePendingAnnotation] != "":
		return r.recoverCreate(ctx, obj, gc, want, findGrace)
	}
	return vendors.Observation{}, false, nil
}

// refreshMetadata replaces obj's metadata with the API server's current copy,
// read past the cache.
func (r *ChatGroupReconciler) refreshMetadata(ctx context.Context, obj *v1alpha1.ChatGroup) error {
	fresh := &v1alpha1.ChatGroup{}
	if err := r.apiReader().Get(ctx, client.ObjectKeyFromObject(obj), fresh); err != nil {
		return fmt.Errorf("read ChatGroup: %w", err)
	}
	obj.ObjectMeta = fresh.ObjectMeta
	return nil
}

// recoverCreate handles a create-pending annotation with no group ID: an earlier
// create may have made the group without the ID being recorded. It adopts exactly
// one match. When the vendor says for certain that no group exists, or the
// lookup still finds none once the vendor could have shown it (recreateAfter),
// it drops the claim and found is false: a create follows. Several matches, or
// a match that cannot be adopted, stall with CreateIncomplete (unless another
// instance's create may still be under way: then it waits for that instance).
func (r *ChatGroupReconciler) recoverCreate(ctx context.Context, obj *v1alpha1.ChatGroup, gc vendors.GroupClient, want vendors.GroupSpec, findGrace time.Duration) (vendors.Observation, bool, error) {
	ids, err := gc.Find(ctx, want)
	if errors.Is(err, vendors.ErrNotFound) { // certainly no group: creating again is safe
		return vendors.Observation{}, false, r.patchMetadata(ctx, obj, func(o *v1alpha1.ChatGroup) {
			delete(o.Annotations, v1alpha1.CreatePendingAnnotation)
		})
	}
	if errors.Is(err, vendors.ErrInvalid) { // the vendor cannot identify the group by itself
		return vendors.Observation{}, false, r.stallUnlessClaimed(obj, stalled(v1alpha1.CreateIncompleteReason,
			"An earlier create of %q may not have completed: %s", want.Name, vendors.Sanitize(err.Error())))
	}
	if err != nil {
		return vendors.Observation{}, false, fmt.Errorf("look up group from an interrupted create: %w", err)
	}
	if len(ids) == 0 {
		return vendors.Observation{}, false, r.recreateAfter(ctx, obj, want, findGrace)
	}
	if len(ids) > 1 {
		return vendors.Observation{}, false, stalled(v1alpha1.CreateIncompleteReason,
			"An earlier create of %q may not have completed and %d matching groups were found on %s: %s; set spec.adoptGroupID to the one to keep (and delete the others on %s), or remove the annotation %s if none should be kept and a new group may be created",
			want.Name, len(ids), obj.Spec.Vendor, describeCandidates(ctx, gc, ids, want), obj.Spec.Vendor, v1alpha1.CreatePendingAnnotation)
	}
	obs, err := gc.Observe(ctx, ids[0], want)
	if err != nil {
		return obs, false, err
	}
	if !obs.Exists {
		return obs, false, fmt.Errorf("group %s found by lookup but not readable yet", ids[0])
	}
	// The group came from this object's own create: its members were added by the
	// operator, and after an asynchronous create this is where creation completes.
	setAddedMembers(obj, vendors.Difference(want.Members, []string{want.Owner}))
	if c := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ReadyCondition); c != nil && c.Reason == v1alpha1.CreatingReason {
		if err := r.bind(ctx, obj, ids[0], ""); err != nil {
			return obs, false, err
		}
		r.Recorder.Eventf(obj, nil, "Normal", v1alpha1.CreatedReason, "Create", "Created %s group %s", obj.Spec.Vendor, ids[0])
		return obs, true, nil
	}
	return obs, true, r.bind(ctx, obj, ids[0], "Adopted group %s, created by an earlier interrupted create")
}

// createGroup creates the vendor group. The create-pending claim is written
// first (with an optimistic lock: of two instances only one may create) and
// replaced by the group ID right after, so an ID lost to a crash or a lost
// response is looked up instead of creating a second group.
func (r *ChatGroupReconciler) createGroup(ctx context.Context, obj *v1alpha1.ChatGroup, gc vendors.GroupClient, want vendors.GroupSpec) (vendors.ObservedGroup, error) {
	chosen := chosenID(gc, want)
	if err := r.patchMetadata(ctx, obj, func(o *v1alpha1.ChatGroup) {
		controllerutil.AddFinalizer(o, v1alpha1.ChatGroupFinalizer)
		if chosen != "" { // the ID is the claim: the vendor gives it to one group only
			metav1SetAnnotation(o, v1alpha1.GroupIDAnnotation, chosen)
			return
		}
		metav1SetAnnotation(o, v1alpha1.CreatePendingAnnotation, r.claim().String())
	}); err != nil {
		return vendors.ObservedGroup{}, err
	}
	ctrl.LoggerFrom(ctx).Info("Creating vendor group", "vendor", obj.Spec.Vendor, "name", want.Name)
	g, err := gc.Create(ctx, want)
	if err != nil && g.ID != "" {
		// The group exists but a follow-up step failed: keep its ID, retry the rest.
		if berr := r.bindCreated(ctx, obj, g.ID); berr != nil {
			return vendors.ObservedGroup{}, errors.Join(err, berr)
		}
		r.Recorder.Eventf(obj, nil, "Normal", v1alpha1.CreatedReason, "Create", "Created %s group %s", obj.Spec.Vendor, g.ID)
		return vendors.ObservedGroup{}, fmt.Errorf("complete group %s: %w", g.ID, err)
	}
	if err != nil {
		if vendors.Definite(err) { // the vendor refused: nothing was created
			if perr := r.patchMetadata(ctx, obj, func(o *v1alpha1.ChatGroup) {
				delete(o.Annotations, v1alpha1.CreatePendingAnnotation)
			}); perr != nil {
				err = errors.Join(err, perr)
			}
		}
		return vendors.ObservedGroup{}, fmt.Errorf("create group: %w", err)
	}
	if err := r.bindCreated(ctx, obj, g.ID); err != nil {
		return vendors.ObservedGroup{}, err
	}
	recordGroup(obj, g)
	setAddedMembers(obj, vendors.Difference(want.Members, []string{want.Owner}))
	r.Recorder.Eventf(obj, nil, "Normal", v1alpha1.CreatedReason, "Create", "Created %s group %s with %d members", obj.Spec.Vendor, g.ID, len(g.Members))
	return g, nil
}

// bindCreated records the ID of a group this object's create made: in status
// only when the claim already recorded it (a caller-chosen ID), otherwise
// with bind. status.groupID then confirms that the create made the group.
func (r *ChatGroupReconciler) bindCreated(ctx context.Context, obj *v1alpha1.ChatGroup, id string) error {
	if obj.Annotations[v1alpha1.GroupIDAnnotation] == id {
		obj.Status.GroupID = id
		return nil
	}
	return r.bind(ctx, obj, id, "")
}

// chosenID returns the group ID gc's vendor will give the group for want, ""
// when the vendor chooses it.
func chosenID(gc vendors.GroupClient, want vendors.GroupSpec) string {
	if c, ok := vendors.Optional[vendors.IDChooser](gc); ok {
		return c.ChosenID(want)
	}
	return ""
}

// createUnconfirmed reports whether obj's group ID was recorded as the claim
// of a create (the caller-chosen ID for its spec) that never confirmed the
// group in status: when the vendor has no such group, that create made nothing
// and creating again is safe, since the vendor refuses a second group with the
// ID. A confirmed group that is gone stays a GroupNotFound stall. (Status lost
// to a backup/restore reads as unconfirmed: the group is made again, under the
// same ID.)
func createUnconfirmed(obj *v1alpha1.ChatGroup, gc vendors.GroupClient, want vendors.GroupSpec) bool {
	id := obj.Annotations[v1alpha1.GroupIDAnnotation]
	return obj.Status.GroupID != id && chosenID(gc, want) == id
}

// readyMessage says what Ready=True means for g.
func readyMessage(obj *v1alpha1.ChatGroup, g vendors.ObservedGroup) string {
	msg := fmt.Sprintf("%s group %s matches the spec", obj.Spec.Vendor, obj.Status.GroupID)
	if n := len(obj.Status.UnresolvedUsers); n > 0 {
		msg += fmt.Sprintf(" except the people and IDs left out (%d listed in status.unresolvedUsers, see MembersResolved)", n)
	}
	if n := len(g.PendingMembers); n > 0 {
		msg += fmt.Sprintf("; %d listed members have not joined through the invite link yet", n)
	}
	return msg
}

// bind records id in the group-id annotation (clearing create-pending) and in
// status. A non-empty eventFmt emits an Adopted event.
func (r *ChatGroupReconciler) bind(ctx context.Context, obj *v1alpha1.ChatGroup, id, eventFmt string) error {
	if err := r.patchMetadata(ctx, obj, func(o *v1alpha1.ChatGroup) {
		controllerutil.AddFinalizer(o, v1alpha1.ChatGroupFinalizer)
		metav1SetAnnotation(o, v1alpha1.GroupIDAnnotation, id)
		delete(o.Annotations, v1alpha1.CreatePendingAnnotation)
	}); err != nil {
		return fmt.Errorf("record group ID %s: %w", id, err)
	}
	obj.Status.GroupID = id
	if eventFmt != "" {
		r.Recorder.Eventf(obj, nil, "Normal", v1alpha1.AdoptedReason, "Adopt", eventFmt, id)
	}
	return nil
}

// notifyUpdate emits one event per kind of change an update made.
func (r *ChatGroupReconciler) notifyUpdate(obj *v1alpha1.ChatGroup, res vendors.UpdateResult, owner string) {
	if res.OwnerTransferred {
		r.Recorder.Eventf(obj, nil, "Normal", v1alpha1.OwnerTransferredReason, "Update", "Transferred ownership to %s", owner)
	}
	if len(res.Added)+len(res.Removed) > 0 {
		r.Recorder.Eventf(obj, nil, "Normal", v1alpha1.MembersChangedReason, "Update", "Added %d and removed %d members", len(res.Added), len(res.Removed))
	}
	if res.SettingsChanged {
		r.Recorder.Eventf(obj, nil, "Normal", v1alpha1.UpdatedReason, "Update", "Updated group settings")
	}
}

// recordGroup mirrors the neutral part of what is known about the vendor group
// into status; the vendor's own part is recorded once per pass, by
// publishInvitation.
func recordGroup(obj *v1alpha1.ChatGroup, g vendors.ObservedGroup) {
	if g.ID != "" {
		obj.Status.GroupID = g.ID
	}
	if g.Members != nil {
		obj.Status.MemberCount = int32(len(g.Members))
	}
}

// setAddedMembers records the members the operator added where they are read:
// with memberPolicy Additive, whose removals they limit. Authoritative reads no
// such record, so none is kept, and one left by an earlier version (a copy of
// the whole member list) is dropped on the next pass. Switching to Additive
// starts the record with the members added from then on.
func setAddedMembers(obj *v1alpha1.ChatGroup, added []string) {
	if obj.Spec.MemberPolicy != v1alpha1.Additive {
		added = nil
	}
	obj.Status.AddedMembers = added
}

// maxDescribed bounds how many candidates a CreateIncomplete message reads and
// describes.
const maxDescribed = 5

// describeCandidates lists the groups a lookup found with what the vendor says
// of them (title and member count), so a user can tell which to adopt. A
// candidate that cannot be read is listed by ID alone.
func describeCandidates(ctx context.Context, gc vendors.GroupClient, ids []string, want vendors.GroupSpec) string {
	parts := make([]string, 0, len(ids))
	for i, id := range ids {
		if i == maxDescribed {
			parts = append(parts, fmt.Sprintf("and %d more", len(ids)-maxDescribed))
			break
		}
		obs, err := gc.Observe(ctx, id, want)
		if err != nil || !obs.Exists {
			parts = append(parts, id)
			continue
		}
		parts = append(parts, fmt.Sprintf("%s (%q, %d members)", id, obs.Group.Name, len(obs.Group.Members)))
	}
	return strings.Join(parts, ", ")
}
