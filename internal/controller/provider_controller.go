package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

// defaultRecheckInterval is how often a Ready provider's credentials are checked again.
const defaultRecheckInterval = 30 * time.Minute

// ProviderObject is a provider kind as ProviderReconciler handles it.
type ProviderObject interface {
	v1alpha1.Provider
	client.Object
}

// ProviderReconciler checks ChatProvider or ClusterChatProvider credentials: Ready
// when the Secret resolves and the vendor accepts the credentials.
type ProviderReconciler struct {
	client.Client
	// NewObject returns an empty object of the kind reconciled
	// (&v1alpha1.ChatProvider{} or &v1alpha1.ClusterChatProvider{}).
	NewObject func() ProviderObject
	// Connections resolves providers to vendor clients.
	Connections *Connections
	// Recorder emits events on transitions.
	Recorder events.EventRecorder
	// RetryInterval is how long to wait for a missing Secret (default 30s).
	RetryInterval time.Duration
	// RecheckInterval is how often accepted credentials are checked again (default 30m).
	RecheckInterval time.Duration
}

// +kubebuilder:rbac:groups=im.chatgroup.io,resources=chatproviders;clusterchatproviders,verbs=get;list;watch
// +kubebuilder:rbac:groups=im.chatgroup.io,resources=chatproviders/status;clusterchatproviders/status,verbs=get;update;patch

// Reconcile resolves the provider's credentials and makes one cheap authenticated
// vendor call with them.
func (r *ProviderReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	obj := r.NewObject()
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	base := obj.DeepCopyObject().(ProviderObject)
	var out outcome
	defer func() { retErr = r.finish(ctx, base, obj, out, retErr) }()

	vctx, cancel := context.WithTimeout(ctx, defaultVendorTimeout)
	defer cancel()
	gc, err := r.Connections.Client(vctx, obj)
	if err == nil {
		err = gc.CheckCredentials(vctx)
	}
	if err != nil {
		out, res, retErr = classify(err, r.intervals())
		return res, retErr
	}
	out = ready(fmt.Sprintf("Credentials accepted by %s", obj.Settings().Vendor))
	recheck := r.RecheckInterval
	if recheck <= 0 {
		recheck = defaultRecheckInterval
	}
	return ctrl.Result{RequeueAfter: jitter(recheck)}, nil
}

func (r *ProviderReconciler) intervals() intervals {
	iv := defaultIntervals
	if r.RetryInterval > 0 {
		iv.Retry = r.RetryInterval
	}
	return iv
}

// finish summarizes the pass into conditions, emits an event on a Ready
// transition, and patches status if it changed.
func (r *ProviderReconciler) finish(ctx context.Context, base, obj ProviderObject, out outcome, retErr error) error {
	if out.state == stateUnknown && retErr != nil {
		out, _, _ = classify(retErr, r.intervals())
	}
	st := obj.ProviderStatus()
	summarize(&st.Conditions, &st.ObservedGeneration, obj.GetGeneration(), out)
	before := meta.FindStatusCondition(base.ProviderStatus().Conditions, v1alpha1.ReadyCondition)
	if typ, reason, msg, ok := transition(before, meta.FindStatusCondition(st.Conditions, v1alpha1.ReadyCondition)); ok {
		r.Recorder.Eventf(obj, nil, typ, reason, "CheckCredentials", "%s", msg)
	}
	if equality.Semantic.DeepEqual(base.ProviderStatus(), st) {
		return retErr
	}
	if err := r.Status().Patch(ctx, obj, client.MergeFrom(base)); err != nil && !apierrors.IsNotFound(err) {
		return errors.Join(retErr, fmt.Errorf("patch status: %w", err))
	}
	return retErr
}

// SetupWithManager registers the reconciler under name.
func (r *ProviderReconciler) SetupWithManager(mgr ctrl.Manager, name string) error {
	if r.Connections == nil || r.Recorder == nil || r.NewObject == nil {
		return errors.New("ProviderReconciler needs NewObject, Connections and Recorder")
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(r.NewObject(), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named(name).
		Complete(r)
}
