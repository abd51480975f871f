package controller

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

// Who may use a group: a ClusterChatProvider's allowedNamespaces, and at most
// one ChatGroup per vendor group. Both are decided from the Kubernetes side
// alone, before any vendor call.

// groupIDIndex indexes ChatGroups by "<vendor>/<group ID>" of the vendor group
// they are bound to (the group-id annotation) or would bind (spec.adoptGroupID).
const groupIDIndex = "groupID"

// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch

// boundGroupKey is the groupIDIndex key of obj, "" when it names no group yet.
func boundGroupKey(obj *v1alpha1.ChatGroup) string {
	id := obj.Annotations[v1alpha1.GroupIDAnnotation]
	if id == "" {
		id = obj.Spec.AdoptGroupID
	}
	if id == "" {
		return ""
	}
	return string(obj.Spec.Vendor) + "/" + id
}

// indexGroupID is the groupIDIndex function.
func indexGroupID(o client.Object) []string {
	if k := boundGroupKey(o.(*v1alpha1.ChatGroup)); k != "" {
		return []string{k}
	}
	return nil
}

// namespaceAllowed reports whether a namespace with nsLabels may use a
// provider with allowed (every namespace when nil).
func namespaceAllowed(allowed *v1alpha1.AllowedNamespaces, nsLabels map[string]string) (bool, error) {
	if allowed == nil {
		return true, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(&allowed.Selector)
	if err != nil {
		return false, err
	}
	return sel.Matches(labels.Set(nsLabels)), nil
}

// checkNamespace stalls obj with ProviderNotAllowed when p is a
// ClusterChatProvider whose allowedNamespaces does not match obj's namespace.
// Namespaces are read as metadata only; label changes requeue their groups.
func (r *ChatGroupReconciler) checkNamespace(ctx context.Context, obj *v1alpha1.ChatGroup, p v1alpha1.Provider) error {
	ccp, ok := p.(*v1alpha1.ClusterChatProvider)
	if !ok || ccp.Spec.AllowedNamespaces == nil {
		return nil
	}
	ns := namespaceMeta()
	if err := r.Get(ctx, types.NamespacedName{Name: obj.Namespace}, ns); err != nil {
		return fmt.Errorf("get namespace %s: %w", obj.Namespace, err)
	}
	ok, err := namespaceAllowed(ccp.Spec.AllowedNamespaces, ns.Labels)
	if err != nil {
		return stalled(v1alpha1.ProviderNotAllowedReason, "ClusterChatProvider %q has an invalid spec.allowedNamespaces.selector: %v", ccp.Name, err)
	}
	if !ok {
		return stalled(v1alpha1.ProviderNotAllowedReason,
			"ClusterChatProvider %q (spec.providerRef) may not be used from namespace %s: its spec.allowedNamespaces.selector does not match the namespace's labels",
			ccp.Name, obj.Namespace)
	}
	return nil
}

// namespaceMeta is an empty Namespace in metadata-only form.
func namespaceMeta() *metav1.PartialObjectMetadata {
	ns := &metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	return ns
}

// checkGroupInUse stalls obj with GroupInUse when another ChatGroup on the same
// vendor account holds the vendor group obj is bound to or would adopt: one
// bound to it (the group-id annotation) holds it over one that is not; between
// two alike the older holds it. p is obj's provider.
func (r *ChatGroupReconciler) checkGroupInUse(ctx context.Context, obj *v1alpha1.ChatGroup, p v1alpha1.Provider) error {
	key := boundGroupKey(obj)
	if key == "" {
		return nil
	}
	list := &v1alpha1.ChatGroupList{}
	if err := r.List(ctx, list, client.MatchingFields{groupIDIndex: key}); err != nil {
		return fmt.Errorf("list ChatGroups bound to %s: %w", key, err)
	}
	account := r.accountKey(p)
	for i := range list.Items {
		other := &list.Items[i]
		if other.UID == obj.UID || !holdsBefore(other, obj) {
			continue
		}
		op, err := r.provider(ctx, other)
		if err == nil && r.accountKey(op) != account {
			continue // another account's group that happens to share the ID
		}
		return stalled(v1alpha1.GroupInUseReason,
			"%s group %s is already managed by ChatGroup %s/%s; one vendor group has at most one ChatGroup. Delete that ChatGroup (deletionPolicy Orphan) to move the group here, or remove spec.adoptGroupID",
			obj.Spec.Vendor, strings.TrimPrefix(key, string(obj.Spec.Vendor)+"/"), other.Namespace, other.Name)
	}
	return nil
}

// holdsBefore reports whether a keeps the vendor group they both name over b.
func holdsBefore(a, b *v1alpha1.ChatGroup) bool {
	ab, bb := a.Annotations[v1alpha1.GroupIDAnnotation] != "", b.Annotations[v1alpha1.GroupIDAnnotation] != ""
	if ab != bb {
		return ab
	}
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
}

// accountKey identifies the vendor account behind p (vendors.Registration.AccountKey).
func (r *ChatGroupReconciler) accountKey(p v1alpha1.Provider) string {
	s := p.Settings()
	reg, _ := r.Connections.Vendors.Get(s.Vendor)
	return reg.AccountKey(s)
}

// groupsSharingID maps a ChatGroup to the other ChatGroups that name the same
// vendor group, so one waiting with GroupInUse takes over when the holder goes
// or lets go.
func (r *ChatGroupReconciler) groupsSharingID(ctx context.Context, o client.Object) []reconcile.Request {
	key := boundGroupKey(o.(*v1alpha1.ChatGroup))
	if key == "" {
		return nil
	}
	list := &v1alpha1.ChatGroupList{}
	if err := r.List(ctx, list, client.MatchingFields{groupIDIndex: key}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing ChatGroups bound to a group failed", "group", key)
		return nil
	}
	var reqs []reconcile.Request
	for _, g := range list.Items {
		if g.UID != o.GetUID() {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&g)})
		}
	}
	return reqs
}

// groupsInNamespace maps a Namespace to its ChatGroups that use a
// ClusterChatProvider, whose allowedNamespaces may now match differently.
func (r *ChatGroupReconciler) groupsInNamespace(ctx context.Context, o client.Object) []reconcile.Request {
	list := &v1alpha1.ChatGroupList{}
	if err := r.List(ctx, list, client.InNamespace(o.GetName())); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing ChatGroups of a namespace failed", "namespace", o.GetName())
		return nil
	}
	var reqs []reconcile.Request
	for _, g := range list.Items {
		if kindOf(g.Spec.ProviderRef) == v1alpha1.ClusterChatProviderKind {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&g)})
		}
	}
	return reqs
}
