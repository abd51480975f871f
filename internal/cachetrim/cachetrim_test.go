package cachetrim

import (
	"reflect"
	"strings"
	"testing"
	"unsafe"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

func TestTransform(t *testing.T) {
	tests := []struct {
		name            string
		annotations     map[string]string
		wantAnnotations map[string]string
	}{
		{
			name:            "the operator's annotations stay, kubectl's copy goes",
			annotations:     map[string]string{v1alpha1.GroupIDAnnotation: "g1", LastAppliedAnnotation: `{"spec":{}}`},
			wantAnnotations: map[string]string{v1alpha1.GroupIDAnnotation: "g1"},
		},
		{name: "no annotations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			in := &v1alpha1.ChatGroup{ObjectMeta: metav1.ObjectMeta{
				Name: "g", Annotations: tt.annotations,
				ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}},
			}, Spec: v1alpha1.ChatGroupSpec{Members: []string{"u1"}}}
			shared := tt.annotations // the informer's copy of the map must not change under it

			out, err := Transform(in)
			g.Expect(err).NotTo(HaveOccurred())
			got := out.(*v1alpha1.ChatGroup)
			g.Expect(got.ManagedFields).To(BeNil())
			g.Expect(got.Annotations).To(Equal(tt.wantAnnotations))
			g.Expect(got.Spec.Members).To(Equal([]string{"u1"}))
			if shared != nil {
				g.Expect(shared).To(HaveKey(LastAppliedAnnotation))
			}
		})
	}

	t.Run("a tombstone passes through", func(t *testing.T) {
		g := NewWithT(t)
		tomb := cache.DeletedFinalStateUnknown{Key: "ns/g"}
		out, err := Transform(tomb)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(out).To(Equal(tomb))
	})
}

func TestTransform_InternsMemberIDs(t *testing.T) {
	g := NewWithT(t)
	// Built at run time, so that each group's strings are separate copies.
	id := func(s string) string { return strings.Clone(s) }
	newGroup := func() *v1alpha1.ChatGroup {
		cg := &v1alpha1.ChatGroup{}
		// Every string list of spec and status, vendor blocks included, lists alice.
		fillLists(reflect.ValueOf(&cg.Spec).Elem(), func() string { return id("alice") })
		fillLists(reflect.ValueOf(&cg.Status).Elem(), func() string { return id("alice") })
		cg.Spec.Members = []string{id("alice"), id("bob")}
		cg.Status.AddedMembers = []string{id("bob")}
		return cg
	}
	same := func(x, y string) bool { return x == y && unsafe.StringData(x) == unsafe.StringData(y) }
	a, b := newGroup(), newGroup()
	g.Expect(same(a.Spec.Members[0], b.Spec.Members[0])).To(BeFalse(), "separate copies to begin with")
	lists := len(stringsIn(reflect.ValueOf(a.Spec))) + len(stringsIn(reflect.ValueOf(a.Status)))
	g.Expect(lists).To(BeNumerically(">", 3), "the vendor blocks' lists are filled too")

	for _, cg := range []*v1alpha1.ChatGroup{a, b} {
		_, err := Transform(cg)
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(a.Spec.Members).To(Equal([]string{"alice", "bob"}))
	g.Expect(same(a.Spec.Members[0], b.Spec.Members[0])).To(BeTrue(), "one copy of alice across groups")
	g.Expect(same(a.Spec.Members[1], a.Status.AddedMembers[0])).To(BeTrue(), "one copy of bob across lists")
	for _, cg := range []*v1alpha1.ChatGroup{a, b} {
		for _, s := range append(stringsIn(reflect.ValueOf(cg.Spec)), stringsIn(reflect.ValueOf(cg.Status))...) {
			if s != "bob" {
				g.Expect(same(s, b.Spec.Members[0])).To(BeTrue(), "one copy of alice in every list")
			}
		}
	}
}

// fillLists sets every string list reachable from v to one fresh string,
// allocating the optional blocks on the way.
func fillLists(v reflect.Value, fresh func() string) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.Type().Elem().Kind() == reflect.Struct && v.Type().Elem() != reflect.TypeFor[metav1.Time]() {
			v.Set(reflect.New(v.Type().Elem()))
			fillLists(v.Elem(), fresh)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillLists(v.Field(i), fresh)
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.String {
			l := reflect.MakeSlice(v.Type(), 1, 1)
			l.Index(0).SetString(fresh())
			v.Set(l)
		}
	}
}

// stringsIn returns the strings of every string list reachable from v.
func stringsIn(v reflect.Value) []string {
	var out []string
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			out = stringsIn(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				out = append(out, stringsIn(v.Field(i))...)
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.String {
			for i := range v.Len() {
				out = append(out, v.Index(i).String())
			}
			break
		}
		for i := range v.Len() {
			out = append(out, stringsIn(v.Index(i))...)
		}
	}
	return out
}
