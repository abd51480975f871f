// Package cachetrim is the manager cache's transform: it keeps cached objects
// down to what the operator reads.
package cachetrim

import (
	"maps"
	"unique"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

// LastAppliedAnnotation is where client-side kubectl apply keeps a copy of
// the whole object.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// Transform drops what the operator never reads but would otherwise hold for
// every cached object: managedFields and kubectl's last-applied copy (both
// grow with the member list). Patches are computed between two copies of the
// cached object, so what is dropped here is never sent back.
//
// A ChatGroup's member IDs are interned: the same people are members of many
// groups, and each ID is listed again in status.addedMembers, so the cache
// holds one copy of each ID instead of one per list.
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
	if cg, ok := o.(*v1alpha1.ChatGroup); ok {
		intern(cg.Spec.Members)
		intern(cg.Status.AddedMembers)
		if cg.Spec.DingTalk != nil {
			intern(cg.Spec.DingTalk.ExternalMembers)
		}
		if ws := cg.Status.WhatsApp; ws != nil {
			intern(ws.PendingMembers)
		}
	}
	return o, nil
}

// intern replaces each string of ids with its canonical copy. The object is
// freshly decoded and not yet shared, so it is changed in place.
func intern(ids []string) {
	for i, id := range ids {
		ids[i] = unique.Make(id).Value()
	}
}
