package controller

import (
	"context"
	"fmt"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors/fake"
)

// readyFor marks cg Ready for its current generation.
func readyFor(cg *v1alpha1.ChatGroup) {
	cg.Status.ObservedGeneration = cg.Generation
	cg.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ReadyCondition, Status: metav1.ConditionTrue,
		Reason: v1alpha1.SucceededReason, ObservedGeneration: cg.Generation, LastTransitionTime: metav1.Now()}}
}

func TestInSync(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*v1alpha1.ChatGroup)
		want bool
	}{
		{name: "Ready for the current generation", mod: readyFor, want: true},
		{name: "never reconciled", mod: func(*v1alpha1.ChatGroup) {}},
		{name: "spec edited since", mod: func(cg *v1alpha1.ChatGroup) { readyFor(cg); cg.Generation++ }},
		{name: "a check was requested", mod: func(cg *v1alpha1.ChatGroup) {
			readyFor(cg)
			metav1SetAnnotation(cg, v1alpha1.ReconcileRequestAnnotation, "now")
		}},
		{name: "the requested check was handled", want: true, mod: func(cg *v1alpha1.ChatGroup) {
			readyFor(cg)
			metav1SetAnnotation(cg, v1alpha1.ReconcileRequestAnnotation, "now")
			cg.Status.LastHandledReconcileAt = "now"
		}},
		{name: "not Ready", mod: func(cg *v1alpha1.ChatGroup) {
			readyFor(cg)
			cg.Status.Conditions[0].Status = metav1.ConditionFalse
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cg := stepGroup(withAnnotation(v1alpha1.GroupIDAnnotation, "grp-1"), tt.mod)
			NewWithT(t).Expect(inSync(cg)).To(Equal(tt.want))
		})
	}
}

func TestReconcile_BackgroundCheck(t *testing.T) {
	for _, tt := range []struct {
		name           string
		mod            func(*v1alpha1.ChatGroup)
		wantBackground bool
	}{
		{name: "a periodic check of a group in sync yields", mod: readyFor, wantBackground: true},
		{name: "an edited group does not", mod: func(cg *v1alpha1.ChatGroup) { readyFor(cg); cg.Generation++ }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			var background bool
			gc := &fake.GroupClient{ObserveFn: func(ctx context.Context, _ string, _ vendors.GroupSpec) (vendors.Observation, error) {
				background = vendors.IsBackground(ctx)
				if background {
					return vendors.Observation{}, fmt.Errorf("observe: %w", vendors.ErrDeferred)
				}
				return vendors.Observation{Exists: true, UpToDate: true, Group: vendors.ObservedGroup{ID: "grp-1"}}, nil
			}}
			cg := stepGroup(withAnnotation(v1alpha1.GroupIDAnnotation, "grp-1"), tt.mod)
			provider := unitProvider(stepNamespace, cg.Spec.ProviderRef.Name, v1alpha1.TencentIM, "creds")
			secret := credentialsSecret(stepNamespace, "creds", v1alpha1.TencentIM, "s3cr3t")
			r, obj, _ := stepReconciler(t, cg, provider, secret)
			r.Connections = &Connections{
				APIReader: r.Client,
				Vendors:   testVendors(&fake.Connector{Client: gc}),
				Limiters:  vendors.NewLimiters(nil),
			}

			res, err := r.Reconcile(t.Context(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(obj)})

			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(background).To(Equal(tt.wantBackground))
			got := stored(t, r, obj)
			if tt.wantBackground {
				g.Expect(res.RequeueAfter).To(BeNumerically("~", defaultIntervals.Deferred, defaultIntervals.Deferred/5))
				g.Expect(got.Status).To(Equal(obj.Status), "a deferred check leaves status as it was: still Ready")
			} else {
				g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation), "the edit was concluded")
			}
		})
	}
}
