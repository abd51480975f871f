package controller

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

// Field indexes that carry a ChatUser or ChatGroup change to the groups it
// affects, without listing every group:
//   - userRefIndex: the ChatUsers a group names (ownerRef, membersFrom userRef);
//   - groupRefIndex: the ChatGroups a group takes people from (groupRef);
//   - selectorIndex: "true" on groups with a membersFrom selector, so a
//     ChatUser event evaluates only those groups of its namespace.
const (
	userRefIndex  = "spec.people.userRef"
	groupRefIndex = "spec.people.groupRef"
	selectorIndex = "spec.people.selector"
)

// indexPeople registers the field indexes above.
func indexPeople(ctx context.Context, idx client.FieldIndexer) error {
	for name, fn := range map[string]func(*v1alpha1.ChatGroup) []string{
		userRefIndex: func(g *v1alpha1.ChatGroup) []string {
			var out []string
			if g.Spec.OwnerRef != nil {
				out = append(out, g.Spec.OwnerRef.Name)
			}
			for _, s := range g.Spec.MembersFrom {
				if s.UserRef != nil {
					out = append(out, s.UserRef.Name)
				}
			}
			return out
		},
		groupRefIndex: func(g *v1alpha1.ChatGroup) []string {
			var out []string
			for _, s := range g.Spec.MembersFrom {
				if s.GroupRef != nil {
					out = append(out, s.GroupRef.Name)
				}
			}
			return out
		},
		selectorIndex: func(g *v1alpha1.ChatGroup) []string {
			for _, s := range g.Spec.MembersFrom {
				if s.Selector != nil {
					return []string{"true"}
				}
			}
			return nil
		},
	} {
		if err := idx.IndexField(ctx, &v1alpha1.ChatGroup{}, name, func(o client.Object) []string {
			return fn(o.(*v1alpha1.ChatGroup))
		}); err != nil {
			return err
		}
	}
	return nil
}

type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]

// chatUserHandler enqueues the groups a ChatUser event affects: groups naming
// the user, selector groups whose selector matched its old or new labels, and
// the groups that take people from those (groupRef), transitively. A label
// change reaches only selectors whose match it changed.
func (r *ChatGroupReconciler) chatUserHandler() handler.TypedEventHandler[client.Object, reconcile.Request] {
	return handler.TypedFuncs[client.Object, reconcile.Request]{
		CreateFunc: func(ctx context.Context, e event.TypedCreateEvent[client.Object], q queue) {
			r.enqueueAffected(ctx, q, e.Object, nil, e.Object.GetLabels(), true)
		},
		UpdateFunc: func(ctx context.Context, e event.TypedUpdateEvent[client.Object], q queue) {
			oldU, ok1 := e.ObjectOld.(*v1alpha1.ChatUser)
			newU, ok2 := e.ObjectNew.(*v1alpha1.ChatUser)
			if !ok1 || !ok2 {
				return
			}
			specChanged := !equality.Semantic.DeepEqual(oldU.Spec, newU.Spec)
			if !specChanged && labels.Equals(oldU.Labels, newU.Labels) {
				return
			}
			r.enqueueAffected(ctx, q, newU, oldU.Labels, newU.Labels, specChanged)
		},
		DeleteFunc: func(ctx context.Context, e event.TypedDeleteEvent[client.Object], q queue) {
			r.enqueueAffected(ctx, q, e.Object, nil, e.Object.GetLabels(), true)
		},
	}
}

// enqueueAffected enqueues the groups of u's namespace that u's change
// affects. oldLabels is nil for a create or delete; all means the person's
// accounts (or existence) changed, so every group including them is affected,
// not only those whose selector match changed.
func (r *ChatGroupReconciler) enqueueAffected(ctx context.Context, q queue, u client.Object, oldLabels, newLabels map[string]string, all bool) {
	ns := u.GetNamespace()
	seen := map[string]bool{}
	var direct []string
	add := func(name string) {
		if !seen[name] {
			seen[name] = true
			direct = append(direct, name)
		}
	}
	if all {
		for _, g := range r.listIndexed(ctx, ns, userRefIndex, u.GetName()) {
			add(g.Name)
		}
	}
	oldSet, newSet := labels.Set(oldLabels), labels.Set(newLabels)
	for _, g := range r.listIndexed(ctx, ns, selectorIndex, "true") {
		for _, s := range g.Spec.MembersFrom {
			if s.Selector == nil {
				continue
			}
			sel, err := metav1.LabelSelectorAsSelector(s.Selector)
			if err != nil {
				continue
			}
			was, is := oldLabels != nil && sel.Matches(oldSet), sel.Matches(newSet)
			if (all && (was || is)) || was != is {
				add(g.Name)
				break
			}
		}
	}
	r.enqueueWithDependents(ctx, q, ns, direct, seen)
}

// enqueueWithDependents enqueues names and, breadth first, every group that
// takes people from one of them (groupRef). seen guards against cycles.
func (r *ChatGroupReconciler) enqueueWithDependents(ctx context.Context, q queue, ns string, names []string, seen map[string]bool) {
	for len(names) > 0 {
		name := names[0]
		names = names[1:]
		q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}})
		for _, g := range r.listIndexed(ctx, ns, groupRefIndex, name) {
			if !seen[g.Name] {
				seen[g.Name] = true
				names = append(names, g.Name)
			}
		}
	}
}

// chatGroupDependentsHandler enqueues the groups that take people from a
// ChatGroup (groupRef) when it appears, goes, or changes whom it names.
func (r *ChatGroupReconciler) chatGroupDependentsHandler() handler.TypedEventHandler[client.Object, reconcile.Request] {
	dependents := func(ctx context.Context, q queue, g client.Object) {
		seen := map[string]bool{g.GetName(): true}
		var names []string
		for _, d := range r.listIndexed(ctx, g.GetNamespace(), groupRefIndex, g.GetName()) {
			if !seen[d.Name] {
				seen[d.Name] = true
				names = append(names, d.Name)
			}
		}
		r.enqueueWithDependents(ctx, q, g.GetNamespace(), names, seen)
	}
	return handler.TypedFuncs[client.Object, reconcile.Request]{
		CreateFunc: func(ctx context.Context, e event.TypedCreateEvent[client.Object], q queue) {
			dependents(ctx, q, e.Object)
		},
		UpdateFunc: func(ctx context.Context, e event.TypedUpdateEvent[client.Object], q queue) {
			oldG, ok1 := e.ObjectOld.(*v1alpha1.ChatGroup)
			newG, ok2 := e.ObjectNew.(*v1alpha1.ChatGroup)
			if ok1 && ok2 && (!equality.Semantic.DeepEqual(oldG.Spec.OwnerRef, newG.Spec.OwnerRef) ||
				!equality.Semantic.DeepEqual(oldG.Spec.MembersFrom, newG.Spec.MembersFrom)) {
				dependents(ctx, q, newG)
			}
		},
		DeleteFunc: func(ctx context.Context, e event.TypedDeleteEvent[client.Object], q queue) {
			dependents(ctx, q, e.Object)
		},
	}
}

// listIndexed lists the groups of ns whose index holds value, read-only from
// the cache (no copies: an event may touch many groups).
func (r *ChatGroupReconciler) listIndexed(ctx context.Context, ns, index, value string) []v1alpha1.ChatGroup {
	list := &v1alpha1.ChatGroupList{}
	if err := r.List(ctx, list, client.InNamespace(ns), client.MatchingFields{index: value}, client.UnsafeDisableDeepCopy); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing ChatGroups by index failed", "index", index)
		return nil
	}
	return list.Items
}
