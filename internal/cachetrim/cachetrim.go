// Package cachetrim is the manager cache's transform: it keeps cached objects
// down to what the operator reads.
package cachetrim

import (
	"maps"
	"reflect"
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
// A ChatGroup's lists of IDs are interned: the same people are members of many
// groups, and each ID is listed again in status (added members, a vendor's
// pending members), so the cache holds one copy of each ID instead of one per
// list. Every string list of spec and status is interned, vendor blocks
// included, so a vendor's own member lists need no entry here.
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
		internLists(reflect.ValueOf(&cg.Spec).Elem())
		internLists(reflect.ValueOf(&cg.Status).Elem())
	}
	return o, nil
}

// internLists replaces each string of every string list reachable from v
// through structs, pointers and slices with its canonical copy. The object is
// freshly decoded and not yet shared, so it is changed in place. Map values
// are not addressable and are left alone.
func internLists(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			internLists(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				internLists(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.String {
			for i := range v.Len() {
				s := v.Index(i)
				s.SetString(unique.Make(s.String()).Value())
			}
			return
		}
		for i := range v.Len() {
			internLists(v.Index(i))
		}
	}
}
