package controller

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	clientfake "sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors/fake"
)

// chooser is a fake vendor client whose vendor takes caller-chosen group IDs.
type chooser struct {
	*fake.GroupClient
	id string
}

func (c chooser) ChosenID(vendors.GroupSpec) string { return c.id }

// countingReconciler is stepReconciler with the metadata patches counted.
func countingReconciler(t *testing.T, cg *v1alpha1.ChatGroup) (*ChatGroupReconciler, *v1alpha1.ChatGroup, *int) {
	t.Helper()
	patches := new(int)
	c := clientfake.NewClientBuilder().
		WithScheme(testScheme).
		WithStatusSubresource(&v1alpha1.ChatGroup{}).
		WithObjects(cg).
		WithInterceptorFuncs(interceptor.Funcs{
			Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
				*patches++
				return c.Patch(ctx, obj, p, opts...)
			},
		}).Build()
	obj := &v1alpha1.ChatGroup{}
	NewWithT(t).Expect(c.Get(t.Context(), client.ObjectKeyFromObject(cg), obj)).To(Succeed())
	return &ChatGroupReconciler{Client: c, Recorder: events.NewFakeRecorder(100)}, obj, patches
}

// A vendor that takes caller-chosen IDs has the ID recorded with the create
// claim: one metadata write per create (none to bind the ID afterwards), and no
// create-pending annotation.
func TestCreateGroup_ChosenIDIsTheClaim(t *testing.T) {
	g := NewWithT(t)
	v := fake.NewVendor()
	fc := v.Client()
	created := ""
	create := fc.CreateFn
	fc.CreateFn = func(ctx context.Context, want vendors.GroupSpec) (vendors.ObservedGroup, error) {
		r, err := create(ctx, want)
		created = r.ID
		return r, err
	}
	r, obj, patches := countingReconciler(t, stepGroup(func(cg *v1alpha1.ChatGroup) { cg.Finalizers = nil }))
	gc := chooser{GroupClient: fc, id: "grp-1"} // the fake vendor's first ID

	got, err := r.reconcileGroup(t.Context(), obj, gc, vendors.Registration{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(created).To(Equal("grp-1"))
	g.Expect(got.ID).To(Equal("grp-1"))
	g.Expect(*patches).To(Equal(1), "finalizer and group ID in one write")
	s := stored(t, r, obj)
	g.Expect(s.Annotations).To(HaveKeyWithValue(v1alpha1.GroupIDAnnotation, "grp-1"))
	g.Expect(s.Annotations).NotTo(HaveKey(v1alpha1.CreatePendingAnnotation))
	g.Expect(s.Finalizers).To(ContainElement(v1alpha1.ChatGroupFinalizer))
	g.Expect(obj.Status.GroupID).To(Equal("grp-1"), "status confirms the create")
}

// The recorded ID of a create that never confirmed the group: when the vendor
// has no such group the create made nothing, and it is made again; a group
// whose create was confirmed and is gone stays a GroupNotFound stall.
func TestLocateGroup_UnconfirmedChosenID(t *testing.T) {
	for _, tc := range []struct {
		name      string
		statusID  string
		chosen    string
		wantFound bool
		wantStall string
	}{
		{name: "unconfirmed claim: create again", chosen: "cg-1"},
		{name: "confirmed group gone: stall", statusID: "cg-1", chosen: "cg-1", wantStall: v1alpha1.GroupNotFoundReason},
		{name: "an ID this spec would not choose: stall", chosen: "cg-other", wantStall: v1alpha1.GroupNotFoundReason},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			r, obj, patches := countingReconciler(t, stepGroup(withAnnotation(v1alpha1.GroupIDAnnotation, "cg-1")))
			obj.Status.GroupID = tc.statusID
			gc := chooser{GroupClient: fake.NewVendor().Client(), id: tc.chosen}
			_, found, err := r.locateGroup(t.Context(), obj, gc, desiredGroup(obj, vendors.Registration{}), 0)
			g.Expect(found).To(Equal(tc.wantFound))
			g.Expect(*patches).To(BeZero())
			if tc.wantStall == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(asStalled(g, err).reason).To(Equal(tc.wantStall))
		})
	}
}
