package controller

import (
	"context"
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

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
