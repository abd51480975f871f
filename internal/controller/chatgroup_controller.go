package controller

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// providerRefIndex indexes ChatGroups by "<kind>/<name>" of their provider.
const providerRefIndex = "spec.providerRef"

// defaultSyncInterval applies when spec.syncInterval is unset (the CRD defaults it).
const defaultSyncInterval = 10 * time.Minute

// defaultVendorTimeout bounds the vendor work of one pass.
const defaultVendorTimeout = time.Minute

// ChatGroupReconciler makes vendor groups match ChatGroups.
type ChatGroupReconciler struct {
	client.Client
	// APIReader reads past the cache: annotations before a create, and the
	// invite-link Secret (no list/watch on Secrets).
	APIReader client.Reader
	// Connections resolves providers to vendor clients.
	Connections *Connections
	// Recorder emits events on transitions.
	Recorder events.EventRecorder
	// MaxConcurrentReconciles is the number of workers (default 1).
	MaxConcurrentReconciles int
	// RetryInterval is how long to wait for a missing provider or Secret (default 30s).
	RetryInterval time.Duration
	// VendorTimeout bounds the vendor calls of one pass (default 1m), apart from
	// the reconcile context, so a hung vendor cannot hold a worker.
	VendorTimeout time.Duration
	// Instance names this operator process in the create claims it writes
	// (create-pending); SetupWithManager sets a random one when it is empty.
	Instance string
	// Clock dates create claims (time.Now when nil).
	Clock func() time.Time
}

// vendorTimeout returns VendorTimeout or its default.
func (r *ChatGroupReconciler) vendorTimeout() time.Duration {
	if r.VendorTimeout <= 0 {
		return defaultVendorTimeout
	}
	return r.VendorTimeout
}

// vendorContext returns ctx bounded by VendorTimeout.
func (r *ChatGroupReconciler) vendorContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.vendorTimeout())
}

// apiReader returns APIReader, or the client when it is unset (unit tests).
func (r *ChatGroupReconciler) apiReader() client.Reader {
	if r.APIReader != nil {
		return r.APIReader
	}
	return r.Client
}

// intervals returns the requeue delays, with RetryInterval applied.
func (r *ChatGroupReconciler) intervals() intervals {
	iv := defaultIntervals
	if r.RetryInterval > 0 {
		iv.Retry = r.RetryInterval
	}
	return iv
}

// +kubebuilder:rbac:groups=im.chatgroup.io,resources=chatgroups,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=im.chatgroup.io,resources=chatgroups/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=im.chatgroup.io,resources=chatgroups/finalizers,verbs=update
// +kubebuilder:rbac:groups=im.chatgroup.io,resources=chatproviders;clusterchatproviders,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;create;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile observes the vendor group and makes the fewest calls that bring it to
// the spec. Status is written once, by the deferred finish.
func (r *ChatGroupReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	obj := &v1alpha1.ChatGroup{}
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	base := obj.DeepCopy()
	var out outcome
	defer func() { retErr = r.finish(ctx, base, obj, &out, retErr) }()

	if !obj.DeletionTimestamp.IsZero() {
		out, res, retErr = r.reconcileDelete(ctx, obj)
		return res, retErr
	}
	if managesGroup(obj) {
		if err := r.patchMetadata(ctx, obj, func(o *v1alpha1.ChatGroup) {
			controllerutil.AddFinalizer(o, v1alpha1.ChatGroupFinalizer)
		}); err != nil {
			return ctrl.Result{}, err
		}
	}
	obj.Status.LastHandledReconcileAt = obj.Annotations[v1alpha1.ReconcileRequestAnnotation]
	if obj.Spec.Suspend {
		out = outcome{state: stateSuspended, message: "Reconciliation is suspended (spec.suspend); no vendor calls are made"}
		return ctrl.Result{}, nil
	}

	vctx, cancel := r.vendorContext(ctx)
	defer cancel()
	vctx = vendors.WithPassReads(vctx)
	if inSync(obj) {
		vctx = vendors.Background(vctx) // a periodic check: changes go first
	}
	var g vendors.ObservedGroup
	gc, err := r.connect(vctx, obj)
	if err == nil {
		g, err = r.reconcileGroup(vctx, obj, gc)
	}
	if err == nil {
		err = r.reconcileInvites(ctx, obj, g)
	}
	if errors.Is(err, vendors.ErrDeferred) {
		// The check made way for groups with changes; nothing is known to be
		// wrong, so status stays as it is.
		return ctrl.Result{RequeueAfter: jitter(deferredCheckDelay)}, nil
	}
	if err != nil {
		out, res, retErr = classify(err, r.intervals())
		return res, retErr
	}
	out = ready(readyMessage(obj, g))
	return ctrl.Result{RequeueAfter: jitter(syncInterval(obj))}, nil
}

// deferredCheckDelay is when a periodic check that made way for changes is
// tried again.
const deferredCheckDelay = time.Second

// inSync reports whether obj's last pass concluded its current generation
// Ready and nobody has asked for a check since: a pass now is a periodic
// check (or a restart's), whose vendor calls yield to those of changed groups.
func inSync(obj *v1alpha1.ChatGroup) bool {
	c := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ReadyCondition)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == obj.Generation &&
		obj.Status.ObservedGeneration == obj.Generation &&
		obj.Annotations[v1alpha1.ReconcileRequestAnnotation] == obj.Status.LastHandledReconcileAt
}

// managesGroup reports whether obj is bound, or may be bound, to a vendor group.
// Such an object needs the finalizer now; an object with no group yet gets it
// with the metadata patch that claims a create or binds a group, one API write
// fewer per create, and an object deleted before that is released at once.
func managesGroup(obj *v1alpha1.ChatGroup) bool {
	return obj.Annotations[v1alpha1.GroupIDAnnotation] != "" || obj.Annotations[v1alpha1.CreatePendingAnnotation] != ""
}

// finish summarizes the pass into conditions, emits an event when Ready changed,
// and patches status once if anything changed. An error returned before an
// outcome was decided is classified here.
func (r *ChatGroupReconciler) finish(ctx context.Context, base, obj *v1alpha1.ChatGroup, out *outcome, retErr error) error {
	if out.state == stateUnknown && retErr != nil {
		*out, _, _ = classify(retErr, r.intervals())
	}
	if out.state == stateUnknown {
		return retErr // object gone or nothing decided
	}
	summarize(&obj.Status.Conditions, &obj.Status.ObservedGeneration, obj.Generation, *out)
	before := meta.FindStatusCondition(base.Status.Conditions, v1alpha1.ReadyCondition)
	after := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.ReadyCondition)
	if typ, reason, msg, ok := transition(before, after); ok {
		r.Recorder.Eventf(obj, nil, typ, reason, "Reconcile", "%s", msg)
	}
	if equality.Semantic.DeepEqual(base.Status, obj.Status) {
		return retErr
	}
	patchBase := base.DeepCopy()
	patchBase.ObjectMeta = obj.ObjectMeta // metadata was patched separately; send only status
	if err := r.Status().Patch(ctx, obj, client.MergeFrom(patchBase)); err != nil && !apierrors.IsNotFound(err) {
		return errors.Join(retErr, fmt.Errorf("patch status: %w", err))
	}
	return retErr
}

// connect resolves the provider and returns its vendor client. A missing provider
// or Secret is a waiting error; a provider for another vendor is stalled.
func (r *ChatGroupReconciler) connect(ctx context.Context, obj *v1alpha1.ChatGroup) (vendors.GroupClient, error) {
	p, err := r.provider(ctx, obj)
	if err != nil {
		return nil, err
	}
	return r.Connections.Client(ctx, p)
}

// provider gets the provider obj refers to and checks it is for the same vendor.
func (r *ChatGroupReconciler) provider(ctx context.Context, obj *v1alpha1.ChatGroup) (v1alpha1.Provider, error) {
	ref := obj.Spec.ProviderRef
	var p interface {
		v1alpha1.Provider
		client.Object
	}
	key := types.NamespacedName{Name: ref.Name}
	if ref.Kind == v1alpha1.ClusterChatProviderKind {
		p = &v1alpha1.ClusterChatProvider{}
	} else {
		p = &v1alpha1.ChatProvider{}
		key.Namespace = obj.Namespace
	}
	if err := r.Get(ctx, key, p); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, waiting(v1alpha1.ProviderNotFoundReason, "%s %q (spec.providerRef) not found", kindOf(ref), ref.Name)
		}
		return nil, fmt.Errorf("get %s %s: %w", kindOf(ref), ref.Name, err)
	}
	if v := p.Settings().Vendor; v != obj.Spec.Vendor {
		return nil, stalled(v1alpha1.VendorMismatchReason,
			"spec.vendor is %s but %s %q (spec.providerRef) is a %s account; refer to a %s provider",
			obj.Spec.Vendor, kindOf(ref), ref.Name, v, obj.Spec.Vendor)
	}
	return p, nil
}

func kindOf(ref v1alpha1.ProviderReference) v1alpha1.ProviderKind {
	if ref.Kind == "" {
		return v1alpha1.ChatProviderKind
	}
	return ref.Kind
}

// reconcileGroup locates the vendor group (creating it when there is none) and
// updates it when it differs from the spec. It records the group in status and
// returns it as last seen.
func (r *ChatGroupReconciler) reconcileGroup(ctx context.Context, obj *v1alpha1.ChatGroup, gc vendors.GroupClient) (vendors.ObservedGroup, error) {
	want := desiredGroup(obj)
	obs, found, err := r.locateGroup(ctx, obj, gc, want)
	if err != nil {
		return vendors.ObservedGroup{}, err
	}
	if !found {
		return r.createGroup(ctx, obj, gc, want)
	}
	recordGroup(obj, obs.Group)
	if obs.UpToDate {
		return obs.Group, nil
	}
	ctrl.LoggerFrom(ctx).V(1).Info("Updating vendor group", "groupID", obs.Group.ID, "diff", obs.Diff)
	res, err := gc.Update(ctx, obs.Group, want)
	if err != nil {
		return vendors.ObservedGroup{}, fmt.Errorf("update group %s: %w", obs.Group.ID, err)
	}
	recordGroup(obj, res.Group)
	obj.Status.AddedMembers = vendors.Difference(append(obj.Status.AddedMembers, res.Added...), res.Removed)
	r.notifyUpdate(obj, res)
	return res.Group, nil
}

// locateGroup finds the group this object manages: the bound one (group-id
// annotation), the one named by spec.adoptGroupID, or the one an interrupted
// create made (create-pending). It binds the latter two. found is false when a
// group has to be created.
func (r *ChatGroupReconciler) locateGroup(ctx context.Context, obj *v1alpha1.ChatGroup, gc vendors.GroupClient, want vendors.GroupSpec) (vendors.Observation, bool, error) {
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
		return r.recoverCreate(ctx, obj, gc, want)
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
// one match and otherwise stalls with CreateIncomplete, unless the vendor says
// for certain that no group exists: then found is false and a create may follow.
// Where the lookup finds no group it can adopt while another operator instance's
// create may still be under way, it waits for that instance instead of stalling.
func (r *ChatGroupReconciler) recoverCreate(ctx context.Context, obj *v1alpha1.ChatGroup, gc vendors.GroupClient, want vendors.GroupSpec) (vendors.Observation, bool, error) {
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
	if len(ids) != 1 {
		err := stalled(v1alpha1.CreateIncompleteReason,
			"An earlier create of %q may not have completed and %d matching groups were found on %s (%v); set spec.adoptGroupID to the right group, or remove the annotation %s if none should be kept and a new group may be created",
			want.Name, len(ids), obj.Spec.Vendor, ids, v1alpha1.CreatePendingAnnotation)
		if len(ids) == 0 {
			err = r.stallUnlessClaimed(obj, err)
		}
		return vendors.Observation{}, false, err
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
	obj.Status.AddedMembers = vendors.Difference(want.Members, []string{want.Owner})
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
	if err := r.patchMetadata(ctx, obj, func(o *v1alpha1.ChatGroup) {
		controllerutil.AddFinalizer(o, v1alpha1.ChatGroupFinalizer)
		metav1SetAnnotation(o, v1alpha1.CreatePendingAnnotation, r.claim().String())
	}); err != nil {
		return vendors.ObservedGroup{}, err
	}
	ctrl.LoggerFrom(ctx).Info("Creating vendor group", "vendor", obj.Spec.Vendor, "name", want.Name)
	g, err := gc.Create(ctx, want)
	if err != nil && g.ID != "" {
		// The group exists but a follow-up step failed: keep its ID, retry the rest.
		if berr := r.bind(ctx, obj, g.ID, ""); berr != nil {
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
	if err := r.bind(ctx, obj, g.ID, ""); err != nil {
		return vendors.ObservedGroup{}, err
	}
	recordGroup(obj, g)
	obj.Status.AddedMembers = vendors.Difference(want.Members, []string{want.Owner})
	r.Recorder.Eventf(obj, nil, "Normal", v1alpha1.CreatedReason, "Create", "Created %s group %s with %d members", obj.Spec.Vendor, g.ID, len(g.Members))
	return g, nil
}

// readyMessage says what Ready=True means for g.
func readyMessage(obj *v1alpha1.ChatGroup, g vendors.ObservedGroup) string {
	msg := fmt.Sprintf("%s group %s matches the spec", obj.Spec.Vendor, obj.Status.GroupID)
	if n := len(g.PendingMembers); n > 0 {
		msg += fmt.Sprintf("; %d listed members have not joined through the invite link yet", n)
	}
	return msg
}

// inviteLinkKey is the key of the invite link in its Secret.
const inviteLinkKey = "inviteLink"

// reconcileInvites publishes the invite link for members who can only join
// through one (WhatsApp). While any are pending it keeps the link in a Secret
// owned by the ChatGroup, lists them in status.whatsapp and sets
// MembersSynced=False/AwaitingInvitees; once nobody is pending it deletes the
// Secret and sets MembersSynced=True. The Secret is read with a direct GET and
// written only when its content changes.
func (r *ChatGroupReconciler) reconcileInvites(ctx context.Context, obj *v1alpha1.ChatGroup, g vendors.ObservedGroup) error {
	if len(g.PendingMembers) == 0 {
		if ws := obj.Status.WhatsApp; ws != nil {
			if ws.InviteLinkSecretName != "" {
				secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: ws.InviteLinkSecretName, Namespace: obj.Namespace}}
				if err := r.Delete(ctx, secret); client.IgnoreNotFound(err) != nil {
					return fmt.Errorf("delete invite link Secret: %w", err)
				}
			}
			ws.PendingMembers, ws.InviteLinkSecretName = nil, ""
		}
		setCondition(&obj.Status.Conditions, obj.Generation, v1alpha1.MembersSyncedCondition, metav1.ConditionTrue,
			v1alpha1.SucceededReason, "Every listed member is in the group")
		return nil
	}
	ws := &v1alpha1.WhatsAppStatus{PendingMembers: g.PendingMembers}
	if cur := obj.Status.WhatsApp; cur != nil {
		ws.Subject = cur.Subject
	}
	if g.InviteLink != "" {
		name, err := r.ensureInviteSecret(ctx, obj, g.InviteLink)
		if err != nil {
			return err
		}
		ws.InviteLinkSecretName = name
	}
	obj.Status.WhatsApp = ws
	setCondition(&obj.Status.Conditions, obj.Generation, v1alpha1.MembersSyncedCondition, metav1.ConditionFalse,
		v1alpha1.AwaitingInviteesReason, fmt.Sprintf("%d listed members have not joined yet; share the invite link in Secret %q with them",
			len(g.PendingMembers), ws.InviteLinkSecretName))
	return nil
}

// ensureInviteSecret makes the ChatGroup's invite-link Secret hold link and returns its name.
func (r *ChatGroupReconciler) ensureInviteSecret(ctx context.Context, obj *v1alpha1.ChatGroup, link string) (string, error) {
	want := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: inviteSecretName(obj), Namespace: obj.Namespace},
		Data:       map[string][]byte{inviteLinkKey: []byte(link)},
	}
	if err := controllerutil.SetControllerReference(obj, want, r.Scheme()); err != nil {
		return "", err
	}
	got := &corev1.Secret{}
	err := r.apiReader().Get(ctx, client.ObjectKeyFromObject(want), got)
	switch {
	case apierrors.IsNotFound(err):
		err = r.Create(ctx, want)
	case err == nil && string(got.Data[inviteLinkKey]) != link:
		patch := client.MergeFrom(got.DeepCopy())
		got.Data = want.Data
		err = r.Patch(ctx, got, patch)
	}
	if err != nil {
		return "", fmt.Errorf("write invite link Secret: %w", err)
	}
	return want.Name, nil
}

// inviteSecretName is the name of obj's invite-link Secret.
func inviteSecretName(obj *v1alpha1.ChatGroup) string {
	const suffix = "-invite-link"
	name := obj.Name
	if len(name)+len(suffix) > 253 {
		name = name[:253-len(suffix)]
	}
	return name + suffix
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
func (r *ChatGroupReconciler) notifyUpdate(obj *v1alpha1.ChatGroup, res vendors.UpdateResult) {
	if res.OwnerTransferred {
		r.Recorder.Eventf(obj, nil, "Normal", v1alpha1.OwnerTransferredReason, "Update", "Transferred ownership to %s", obj.Spec.Owner)
	}
	if len(res.Added)+len(res.Removed) > 0 {
		r.Recorder.Eventf(obj, nil, "Normal", v1alpha1.MembersChangedReason, "Update", "Added %d and removed %d members", len(res.Added), len(res.Removed))
	}
	if res.SettingsChanged {
		r.Recorder.Eventf(obj, nil, "Normal", v1alpha1.UpdatedReason, "Update", "Updated group settings")
	}
}

// reconcileDelete carries out spec.deletionPolicy and then removes the finalizer.
// With Delete it deletes the vendor group first (already gone counts as done);
// while that fails the finalizer stays and Ready says why.
func (r *ChatGroupReconciler) reconcileDelete(ctx context.Context, obj *v1alpha1.ChatGroup) (outcome, ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(obj, v1alpha1.ChatGroupFinalizer) {
		return outcome{}, ctrl.Result{}, nil
	}
	id := obj.Annotations[v1alpha1.GroupIDAnnotation]
	switch {
	case id == "":
	case obj.Spec.DeletionPolicy != v1alpha1.Delete:
		r.Recorder.Eventf(obj, nil, "Normal", v1alpha1.OrphanedReason, "Delete", "Left %s group %s in place (deletionPolicy Orphan)", obj.Spec.Vendor, id)
	case obj.Spec.Suspend:
		r.Recorder.Eventf(obj, nil, "Normal", v1alpha1.OrphanedReason, "Delete", "Left %s group %s in place: reconciliation is suspended", obj.Spec.Vendor, id)
	default:
		if err := r.deleteGroup(ctx, obj, id); err != nil {
			out, res, err := classify(err, r.intervals())
			if out.state != stateStalled { // stalled stays stalled: only a spec change helps
				out.state = stateRetrying
			}
			out.reason = v1alpha1.DeleteFailedReason
			out.message = fmt.Sprintf("Cannot delete group %s: %s. To remove the object and keep the group, set spec.deletionPolicy to Orphan", id, out.message)
			if res.RequeueAfter == 0 && err == nil {
				res.RequeueAfter = r.intervals().Retry
			}
			return out, res, err
		}
		r.Recorder.Eventf(obj, nil, "Normal", v1alpha1.DeletedReason, "Delete", "Deleted %s group %s", obj.Spec.Vendor, id)
	}
	return outcome{}, ctrl.Result{}, r.patchMetadata(ctx, obj, func(o *v1alpha1.ChatGroup) {
		controllerutil.RemoveFinalizer(o, v1alpha1.ChatGroupFinalizer)
	})
}

// deleteGroup deletes the vendor group; NotFound counts as done.
func (r *ChatGroupReconciler) deleteGroup(ctx context.Context, obj *v1alpha1.ChatGroup, id string) error {
	ctx, cancel := r.vendorContext(ctx)
	defer cancel()
	gc, err := r.connect(ctx, obj)
	if err != nil {
		return err
	}
	ctrl.LoggerFrom(ctx).Info("Deleting vendor group", "vendor", obj.Spec.Vendor, "groupID", id)
	if err := gc.Delete(ctx, id); err != nil && !errors.Is(err, vendors.ErrNotFound) {
		return fmt.Errorf("delete group %s: %w", id, err)
	}
	return nil
}

// patchMetadata applies mutate to obj's metadata with a merge patch, at once and
// apart from the status patch, keeping obj's in-memory status. It makes no call
// when mutate changes nothing. Annotations merge key by key; a finalizer change
// replaces the whole list, and a create claim must fail if anyone else changed
// the object since it was read, so both are sent with an optimistic lock.
func (r *ChatGroupReconciler) patchMetadata(ctx context.Context, obj *v1alpha1.ChatGroup, mutate func(*v1alpha1.ChatGroup)) error {
	cp := obj.DeepCopy()
	mutate(cp)
	if equality.Semantic.DeepEqual(cp.ObjectMeta, obj.ObjectMeta) {
		return nil
	}
	// Not bound by the vendor deadline: a group ID must be recorded even when the
	// create that returned it used up the pass's time.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	patch := client.MergeFrom(obj)
	claims := cp.Annotations[v1alpha1.CreatePendingAnnotation] != "" &&
		cp.Annotations[v1alpha1.CreatePendingAnnotation] != obj.Annotations[v1alpha1.CreatePendingAnnotation]
	if claims || !slices.Equal(cp.Finalizers, obj.Finalizers) {
		patch = client.MergeFromWithOptions(obj, client.MergeFromWithOptimisticLock{})
	}
	if err := r.Patch(ctx, cp, patch); err != nil {
		return fmt.Errorf("patch metadata: %w", err)
	}
	obj.ObjectMeta = cp.ObjectMeta
	return nil
}

func metav1SetAnnotation(obj *v1alpha1.ChatGroup, key, value string) {
	if obj.Annotations == nil {
		obj.Annotations = map[string]string{}
	}
	obj.Annotations[key] = value
}

// recordGroup mirrors what is known about the vendor group into status.
func recordGroup(obj *v1alpha1.ChatGroup, g vendors.ObservedGroup) {
	if g.ID != "" {
		obj.Status.GroupID = g.ID
	}
	if g.Members != nil {
		obj.Status.MemberCount = int32(len(g.Members))
	}
	if g.OpenConversationID != "" {
		obj.Status.DingTalk = &v1alpha1.DingTalkStatus{OpenConversationID: g.OpenConversationID}
	}
	if obj.Spec.Vendor == v1alpha1.WhatsApp && g.Name != "" {
		if obj.Status.WhatsApp == nil {
			obj.Status.WhatsApp = &v1alpha1.WhatsAppStatus{}
		}
		obj.Status.WhatsApp.Subject = g.Name
	}
}

// syncInterval returns spec.syncInterval or the default.
func syncInterval(obj *v1alpha1.ChatGroup) time.Duration {
	if obj.Spec.SyncInterval == nil || obj.Spec.SyncInterval.Duration <= 0 {
		return defaultSyncInterval
	}
	return obj.Spec.SyncInterval.Duration
}

// jitter spreads periodic checks by adding up to 10%, so groups created together
// do not all hit the vendor at the same moment.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration(rand.Int64N(int64(d)/10+1))
}

// SetupWithManager registers the reconciler. It watches ChatGroups (spec changes,
// reconcile requests and a cleared create-pending annotation) and the providers
// they refer to.
func (r *ChatGroupReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Connections == nil || r.Recorder == nil {
		return errors.New("ChatGroupReconciler needs Connections and Recorder")
	}
	if r.Instance == "" {
		r.Instance = newInstanceID()
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.ChatGroup{}, providerRefIndex,
		func(o client.Object) []string {
			ref := o.(*v1alpha1.ChatGroup).Spec.ProviderRef
			return []string{string(kindOf(ref)) + "/" + ref.Name}
		}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.ChatGroup{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, reconcileRequested, createPendingCleared))).
		Watches(&v1alpha1.ChatProvider{}, handler.EnqueueRequestsFromMapFunc(r.groupsFor(v1alpha1.ChatProviderKind))).
		Watches(&v1alpha1.ClusterChatProvider{}, handler.EnqueueRequestsFromMapFunc(r.groupsFor(v1alpha1.ClusterChatProviderKind))).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, r.MaxConcurrentReconciles)}).
		Named("chatgroup").
		Complete(r)
}

// groupsFor maps a provider to the ChatGroups that refer to it.
func (r *ChatGroupReconciler) groupsFor(kind v1alpha1.ProviderKind) handler.MapFunc {
	return func(ctx context.Context, p client.Object) []reconcile.Request {
		list := &v1alpha1.ChatGroupList{}
		opts := []client.ListOption{client.MatchingFields{providerRefIndex: string(kind) + "/" + p.GetName()}}
		if kind == v1alpha1.ChatProviderKind {
			opts = append(opts, client.InNamespace(p.GetNamespace()))
		}
		if err := r.List(ctx, list, opts...); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "Listing ChatGroups for provider failed", "provider", p.GetName())
			return nil
		}
		reqs := make([]reconcile.Request, 0, len(list.Items))
		for _, g := range list.Items {
			if stalledByOwnSpec(&g) {
				continue
			}
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&g)})
		}
		return reqs
	}
}

// stalledByOwnSpec reports whether g is stalled for a reason a provider change
// cannot fix, so a provider event need not repeat a refused request.
func stalledByOwnSpec(g *v1alpha1.ChatGroup) bool {
	c := meta.FindStatusCondition(g.Status.Conditions, v1alpha1.StalledCondition)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == g.Generation &&
		c.Reason != v1alpha1.VendorMismatchReason
}

// reconcileRequested passes updates that change the reconcile-requested-at annotation.
var reconcileRequested = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectOld.GetAnnotations()[v1alpha1.ReconcileRequestAnnotation] !=
			e.ObjectNew.GetAnnotations()[v1alpha1.ReconcileRequestAnnotation]
	},
}

// createPendingCleared passes updates where a user removed create-pending from an
// object stalled with CreateIncomplete, allowing a new create. The operator's own
// removals (after a create the vendor refused) happen in other states, so they do
// not trigger a pass that would repeat the refused create.
var createPendingCleared = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		old, cur := e.ObjectOld.GetAnnotations(), e.ObjectNew.GetAnnotations()
		if old[v1alpha1.CreatePendingAnnotation] == "" || cur[v1alpha1.CreatePendingAnnotation] != "" || cur[v1alpha1.GroupIDAnnotation] != "" {
			return false
		}
		cg, ok := e.ObjectNew.(*v1alpha1.ChatGroup)
		return ok && meta.IsStatusConditionTrue(cg.Status.Conditions, v1alpha1.StalledCondition) &&
			meta.FindStatusCondition(cg.Status.Conditions, v1alpha1.StalledCondition).Reason == v1alpha1.CreateIncompleteReason
	},
}
