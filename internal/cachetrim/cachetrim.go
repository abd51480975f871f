// Package cachetrim is the manager cache's transform: it keeps cached objects
// down to what the operator reads.
package cachetrim

import (
	"maps"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LastAppliedAnnotation is where client-side kubectl apply keeps a copy of
// the whole object.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// Transform drops what the operator never reads but would otherwise hold for
// every cached object: managedFields and kubectl's last-applied copy (both
// grow with the member list). Patches are computed between two copies of the
// cached object, so what is dropped here is never sent back.
func Transform(obj any) (any, error) {
	o, ok := obj.(metav1.Object)
	if !ok {
		return obj, nil
	}
	o.SetManagedFields(nil)
	if a := o.GetAnnotations(); a[LastAppliedAnnotation] != "" {
		a = maps.Clone(a)
		delete(a, LastAppliedAnnotation)
		o.SetAnnotations(a)
	}
	return o, nil
}
