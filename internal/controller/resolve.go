package controller

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// connect resolves the provider and returns its vendor client and the vendor's
// registration. A missing provider or Secret is a waiting error; a provider for
// another vendor, one this namespace may not use, and a vendor group another
// ChatGroup holds are stalled: all before any vendor call.
func (r *ChatGroupReconciler) connect(ctx context.Context, obj *v1alpha1.ChatGroup) (vendors.GroupClient, vendors.Registration, error) {
	p, err := r.provider(ctx, obj)
	if err != nil {
		return nil, vendors.Registration{}, err
	}
	if err := r.checkNamespace(ctx, obj, p); err != nil {
		return nil, vendors.Registration{}, err
	}
	if err := r.checkGroupInUse(ctx, obj, p); err != nil {
		return nil, vendors.Registration{}, err
	}
	gc, err := r.Connections.Client(ctx, p)
	if err != nil {
		return nil, vendors.Registration{}, err
	}
	reg, _ := r.Connections.Vendors.Get(obj.Spec.Vendor) // Client found it
	return gc, reg, nil
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
