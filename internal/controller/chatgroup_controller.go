package controller

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"k8s.io/utils/clock"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

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
	// FindGrace, when positive, replaces the vendor's lookup grace
	// (vendors.Registration.FindGrace).
	FindGrace time.Duration
	// Instance names this operator process in the create claims it writes
	// (create-pending); SetupWithManager sets a random one when it is empty.
	Instance string
	// Clock dates create claims (the real clock when nil).
	Clock clock.PassiveClock
	// DriftBatchWait is how long a periodic drift check waits to share a
	// batched read with others (DefaultDriftBatchWait when zero).
	DriftBatchWait time.Duration

	batches *driftBatches
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
// +kubebuilder:rbac:groups=im.chatgroup.io,resources=chatusers,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;create;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile observes the vendor group and makes the fewest calls that bring it to
// the spec. Status is written once, by the deferred finish.
func (r *ChatGroupReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	obj := &v1alpha1.ChatGroup{}
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) && r.batches != nil {
			r.batches.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	base := obj.DeepCopy()
	var out outcome
	defer func() { retErr = r.finish(ctx, base, obj, &out, retErr) }()

	if !obj.DeletionTimestamp.IsZero() {
		out, res, retErr = r.reconcileDelete(ctx, obj)
		return res, retErr
	}
	if err := r.keepFinalizer(ctx, obj); err != nil {
		return ctrl.Result{}, err
	}
	periodic := inSync(obj) // before this pass answers a reconcile request
	check := periodic || obj.Annotations[v1alpha1.ReconcileRequestAnnotation] != obj.Status.LastHandledReconcileAt
	obj.Status.LastHandledReconcileAt = obj.Annotations[v1alpha1.ReconcileRequestAnnotation]
	if obj.Spec.Suspend {
		out = suspended("Reconciliation is suspended (spec.suspend); no vendor calls are made")
		return ctrl.Result{}, nil
	}
	out, res, retErr = r.reconcileVendor(ctx, obj, periodic, check)
	return res, retErr
}

// reconcileVendor brings the vendor group to the spec: resolve the provider,
// locate or create the group, update it, publish what pending members need.
// A periodic drift check (nothing asked for it) may go to a batched read. A
// check (periodic or requested) tries member IDs the vendor rejected as
// unknown again.
func (r *ChatGroupReconciler) reconcileVendor(ctx context.Context, obj *v1alpha1.ChatGroup, periodic, check bool) (outcome, ctrl.Result, error) {
	before := obj.Status.DeepCopy()
	ppl, err := r.resolveMembers(ctx, obj)
	if err != nil {
		return classify(err, r.intervals())
	}
	// A resolution that changed status or the people named (a ChatUser changed)
	// is news, not a drift check. sameResolution runs on every pass: it records
	// this pass's people for the next.
	same := r.sameResolution(obj, ppl)
	periodic = periodic && same && equality.Semantic.DeepEqual(before, &obj.Status)
	if check && len(ppl.Rejected) > 0 {
		ppl, periodic = retryRejected(obj, ppl), false
	}
	vctx, cancel := r.passContext(ctx, obj)
	defer cancel()
	gc, reg, err := r.connect(vctx, obj)
	every, budgeted := r.driftInterval(ctx, obj)
	next := jitter(every)
	if err == nil && periodic && r.batched(ctx, obj, gc, desiredGroupOf(obj, reg, ppl)) {
		return outcome{}, ctrl.Result{RequeueAfter: next}, nil
	}
	var g vendors.ObservedGroup
	if err == nil {
		g, err = r.reconcileGroupOf(vctx, obj, gc, reg, ppl)
	}
	if err == nil {
		err = r.publishInvitation(ctx, obj, g, reg)
	}
	if err != nil {
		out, res, err := classify(err, r.intervals())
		if out.reason == v1alpha1.RemovalsHeldReason {
			// Still drift-checked: the vendor group may change under the hold.
			return out, ctrl.Result{RequeueAfter: next}, nil
		}
		return out, res, err
	}
	out := r.concluded(obj, g)
	if budgeted && out.state == stateReady {
		out.message += nextCheckNote(r.clock().Add(next), every)
	}
	return out, ctrl.Result{RequeueAfter: next}, nil
}

// concluded is the outcome of a pass that did all it could: Ready, or with
// managementPolicy ObserveOnly InSync or DriftDetected.
func (r *ChatGroupReconciler) concluded(obj *v1alpha1.ChatGroup, g vendors.ObservedGroup) outcome {
	if !observeOnly(obj) {
		return ready(readyMessage(obj, g))
	}
	if d := obj.Status.Drift; d != nil {
		return outcome{state: stateDrift, reason: v1alpha1.DriftDetectedReason,
			message: fmt.Sprintf("%s group %s differs from the spec (%s); managementPolicy ObserveOnly changes nothing: see status.drift",
				obj.Spec.Vendor, obj.Status.GroupID, d.Summary)}
	}
	return outcome{state: stateReady, reason: v1alpha1.InSyncReason,
		message: fmt.Sprintf("%s group %s matches the spec (managementPolicy ObserveOnly)", obj.Spec.Vendor, obj.Status.GroupID)}
}

// passContext bounds a pass's vendor work by VendorTimeout, gives it its own
// read cache, and marks a periodic check of a group in sync as background work
// (changes go first).
func (r *ChatGroupReconciler) passContext(ctx context.Context, obj *v1alpha1.ChatGroup) (context.Context, context.CancelFunc) {
	vctx, cancel := r.vendorContext(ctx)
	vctx = vendors.WithPassReads(vctx)
	if inSync(obj) {
		vctx = vendors.Background(vctx)
	}
	return vctx, cancel
}

// keepFinalizer adds the finalizer to an object bound, or being bound, to a
// vendor group.
func (r *ChatGroupReconciler) keepFinalizer(ctx context.Context, obj *v1alpha1.ChatGroup) error {
	if !managesGroup(obj) {
		return nil
	}
	return r.patchMetadata(ctx, obj, func(o *v1alpha1.ChatGroup) {
		controllerutil.AddFinalizer(o, v1alpha1.ChatGroupFinalizer)
	})
}

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
	if err := r.Status().Patch(ctx, obj, client.MergeFrom(patchBase)); err != nil {
		if apierrors.IsNotFound(err) {
			return retErr
		}
		return errors.Join(retErr, fmt.Errorf("patch status: %w", err))
	}
	r.awaitCache(ctx, obj, obj.ResourceVersion)
	return retErr
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
