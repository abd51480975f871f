package operator_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/controller"
	"github.com/chatgroup-operator/chatgroup-operator/internal/registry"
	"github.com/chatgroup-operator/chatgroup-operator/internal/testenv"
	"github.com/chatgroup-operator/chatgroup-operator/internal/testenv/operator"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	var err error
	env, err = operator.Start(controller.Options{Vendors: registry.Vendors()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	env.Stop()
	os.Exit(code)
}

// TestFixture walks every registered vendor through the fixture's steps: a
// provider from the simulator's harness, a group made Ready, a requested pass
// that is waited for, and a deletion waited out.
func TestFixture(t *testing.T) {
	sims := registry.Simulators()
	NewWithT(t).Expect(sims).NotTo(BeEmpty())
	for _, reg := range sims {
		t.Run(string(reg.Vendor), func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			h := reg.Start(vendorsim.SimConfig{})
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			ns := env.Namespace(t)

			p := env.SimProvider(t, ns, "vendor", h, srv.URL)
			ready := env.WaitProvider(t, p, metav1.ConditionTrue, "")
			g.Expect(ready.ObservedGeneration).To(Equal(p.Generation))

			h.AddUsers(h.User(0), h.User(1), h.User(2))
			cg := &v1alpha1.ChatGroup{
				ObjectMeta: metav1.ObjectMeta{Name: "fixture", Namespace: ns},
				Spec: v1alpha1.ChatGroupSpec{Vendor: reg.Vendor, ProviderRef: v1alpha1.ProviderReference{Name: p.Name},
					Name: "Fixture", Members: []string{h.User(1), h.User(2)}},
			}
			h.Spec(&cg.Spec, h.User(0))
			g.Expect(env.Client.Create(context.Background(), cg)).To(Succeed())
			got := env.WaitReady(t, cg)
			g.Expect(h.GroupIDs("Fixture")).To(ConsistOf(got.Status.GroupID))

			calls := h.Core().Len()
			at := env.RequestReconcile(t, got)
			g.Expect(got.Status.LastHandledReconcileAt).To(Equal(at), "got is left as the operator left it")
			g.Expect(h.Core().Len()).To(BeNumerically(">", calls), "the requested pass read the group")
			g.Expect(env.RequestReconcile(t, got)).NotTo(Equal(at), "each request is a fresh value")

			g.Expect(env.Client.Delete(context.Background(), got)).To(Succeed())
			env.WaitGone(t, got)
		})
	}
}
