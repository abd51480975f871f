package controller

import (
	"context"
	"errors"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"

	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

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
	case observeOnly(obj):
		r.Recorder.Eventf(obj, nil, "Normal", v1alpha1.OrphanedReason, "Delete", "Left %s group %s in place: managementPolicy ObserveOnly makes no vendor writes", obj.Spec.Vendor, id)
	case obj.Spec.Suspend:
		r.Recorder.Eventf(obj, nil, "Normal", v1alpha1.OrphanedReason, "Delete", "Left %s group %s in place: reconciliation is suspended", obj.Spec.Vendor, id)
	default:
		if err := r.deleteGroup(ctx, obj, id); err != nil {
			return classifyDeleteFailure(err, id, r.intervals())
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
	gc, _, err := r.connect(ctx, obj)
	if err != nil {
		return err
	}
	ctrl.LoggerFrom(ctx).Info("Deleting vendor group", "vendor", obj.Spec.Vendor, "groupID", id)
	if err := gc.Delete(ctx, id); err != nil && !errors.Is(err, vendors.ErrNotFound) {
		return fmt.Errorf("delete group %s: %w", id, err)
	}
	return nil
}
