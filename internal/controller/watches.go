package controller

import (
	"context"
	"errors"
	"maps"
	"time"

	"golang.org/x/time/rate"
	ctrl "sigs.k8s.io/controller-runtime"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

// SetupWithManager registers the reconciler. It watches ChatGroups (spec changes,
// reconcile requests and a cleared create-pending annotation), the providers
// they refer to, and the people they name (ChatUsers, and the ChatGroups they
// take people from; see people_watch.go).
func (r *ChatGroupReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Connections == nil || r.Recorder == nil {
		return errors.New("ChatGroupReconciler needs Connections and Recorder")
	}
	if r.Instance == "" {
		r.Instance = newInstanceID()
	}
	r.batches = newDriftBatches(r.DriftBatchWait, r.vendorTimeout(), max(1, r.MaxConcurrentReconciles))
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.ChatGroup{}, providerRefIndex,
		func(o client.Object) []string {
			ref := o.(*v1alpha1.ChatGroup).Spec.ProviderRef
			return []string{string(kindOf(ref)) + "/" + ref.Name}
		}); err != nil {
		return err
	}
	if err := indexPeople(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return err
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1alpha1.ChatGroup{}, groupIDIndex, indexGroupID); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.ChatGroup{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, reconcileRequested, createPendingCleared, approvalChanged))).
		Watches(&v1alpha1.ChatGroup{}, handler.EnqueueRequestsFromMapFunc(r.groupsSharingID), builder.WithPredicates(groupReleased)).
		WatchesMetadata(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.groupsInNamespace), builder.WithPredicates(labelsChanged)).
		Watches(&v1alpha1.ChatProvider{}, handler.EnqueueRequestsFromMapFunc(r.groupsFor(v1alpha1.ChatProviderKind)),
			builder.WithPredicates(notBudgetOnly)).
		Watches(&v1alpha1.ClusterChatProvider{}, handler.EnqueueRequestsFromMapFunc(r.groupsFor(v1alpha1.ClusterChatProviderKind)),
			builder.WithPredicates(notBudgetOnly)).
		Watches(&v1alpha1.ChatUser{}, r.chatUserHandler()).
		Watches(&v1alpha1.ChatGroup{}, r.chatGroupDependentsHandler()).
		WatchesRawSource(source.Channel(r.batches.events, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{
			MaxConcurrentReconciles: max(1, r.MaxConcurrentReconciles),
			RateLimiter:             retryBackoff(),
		}).
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
		c.Reason != v1alpha1.VendorMismatchReason && c.Reason != v1alpha1.ProviderNotAllowedReason &&
		c.Reason != v1alpha1.RemovalsHeldReason
}

// notBudgetOnly drops provider updates that only record call-budget use
// (status.callBudget, every minute): a pass of every group for each would
// spend the budget it counts.
var notBudgetOnly = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		old, okOld := e.ObjectOld.(v1alpha1.Provider)
		cur, okCur := e.ObjectNew.(v1alpha1.Provider)
		if !okOld || !okCur {
			return true
		}
		a, b := old.ProviderStatus().DeepCopy(), cur.ProviderStatus().DeepCopy()
		a.CallBudget, b.CallBudget = nil, nil
		return e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration() ||
			!equality.Semantic.DeepEqual(a, b) ||
			!equality.Semantic.DeepEqual(e.ObjectOld.GetAnnotations(), e.ObjectNew.GetAnnotations()) ||
			!equality.Semantic.DeepEqual(e.ObjectOld.GetLabels(), e.ObjectNew.GetLabels())
	},
}

// reconcileRequested passes updates that change the reconcile-requested-at annotation.
var reconcileRequested = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectOld.GetAnnotations()[v1alpha1.ReconcileRequestAnnotation] !=
			e.ObjectNew.GetAnnotations()[v1alpha1.ReconcileRequestAnnotation]
	},
}

// approvalChanged passes updates that change the approve-removals annotation.
var approvalChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectOld.GetAnnotations()[v1alpha1.ApproveRemovalsAnnotation] !=
			e.ObjectNew.GetAnnotations()[v1alpha1.ApproveRemovalsAnnotation]
	},
}

// groupReleased passes the events after which a ChatGroup waiting with
// GroupInUse may take the vendor group over: the holder's deletion, or its
// binding changing.
var groupReleased = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return true },
	UpdateFunc: func(e event.UpdateEvent) bool {
		return boundGroupKey(e.ObjectOld.(*v1alpha1.ChatGroup)) != boundGroupKey(e.ObjectNew.(*v1alpha1.ChatGroup))
	},
}

// labelsChanged passes Namespace label changes (allowedNamespaces).
var labelsChanged = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		return !maps.Equal(e.ObjectOld.GetLabels(), e.ObjectNew.GetLabels())
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

// maxRetryBackoff caps the backoff of a failing group. A vendor outage or an
// answer the operator does not know is retried with growing delays; once the
// vendor is well again, no group should wait longer than this to notice.
const maxRetryBackoff = 5 * time.Minute

// retryBackoff is controller-runtime's default backoff (per-item exponential
// from 5 ms, and an overall bucket) with the per-item delay capped at
// maxRetryBackoff instead of about 17 minutes.
func retryBackoff() workqueue.TypedRateLimiter[reconcile.Request] {
	return workqueue.NewTypedMaxOfRateLimiter(
		workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](5*time.Millisecond, maxRetryBackoff),
		&workqueue.TypedBucketRateLimiter[reconcile.Request]{Limiter: rate.NewLimiter(rate.Limit(10), 100)},
	)
}
