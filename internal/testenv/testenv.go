// Package testenv is the envtest fixture every integration suite shares: a real
// kube-apiserver and etcd (binaries from bin/k8s, built by make envtest) with
// the project's CRDs, a manager running whatever reconcilers the suite sets up,
// and the steps the tests repeat: a namespace per test, a provider and its
// credentials Secret (from a simulator harness or given settings), "request a
// reconcile and wait for it", and waits on conditions, kstatus and deletion.
//
// Start it once in TestMain and Stop it when m.Run returns:
//
//	env, err := testenv.Start(setup) // setup registers reconcilers; nil: none
//	ns := env.Namespace(t)
//	env.SimProvider(t, ns, "vendor", harness, srv.URL)
//	env.WaitReady(t, cg)
//	env.RequestReconcile(t, cg)
//
// Suites outside the controller package run the operator's controllers with
// testenv/operator: operator.Start(controller.Options{Vendors: ...}).
package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/cachetrim"
)

// Env is a running control plane and manager.
type Env struct {
	// Client talks to the API server directly (no cache).
	Client client.Client
	// Config reaches the API server.
	Config *rest.Config
	// Scheme has the client-go and project types.
	Scheme *runtime.Scheme

	env         *envtest.Environment
	stopManager func()
}

// Start starts the API server and etcd, installs the CRDs, and runs a manager
// with the reconcilers setup registers (none when setup is nil). Logs go to stderr when TEST_VERBOSE_LOGS
// is set.
func Start(setup func(ctrl.Manager) error) (*Env, error) {
	level := zapcore.DPanicLevel
	if os.Getenv("TEST_VERBOSE_LOGS") != "" {
		level = zapcore.DebugLevel
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true), zap.Level(level)))

	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	scheme := runtime.NewScheme()
	if err := errors.Join(clientgoscheme.AddToScheme(scheme), v1alpha1.AddToScheme(scheme)); err != nil {
		return nil, err
	}
	e := &Env{Scheme: scheme, env: &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: filepath.Join(root, "bin", "k8s"),
	}}
	if e.Config, err = e.env.Start(); err != nil {
		return nil, fmt.Errorf("start envtest (build the binaries with 'make envtest'): %w", err)
	}
	e.stopManager = func() {}
	if e.Client, err = client.New(e.Config, client.Options{Scheme: scheme}); err == nil && setup != nil {
		e.stopManager, err = e.StartManager(setup)
	}
	if err != nil {
		_ = e.env.Stop()
		return nil, err
	}
	return e, nil
}

// StartManager runs a manager with the reconcilers setup registers against the
// API server, and returns a function that stops it and waits for it to end. Start
// already runs one; tests start more to play a restarted operator or overlapping
// replicas (leader election is off).
func (e *Env) StartManager(setup func(ctrl.Manager) error) (stop func(), err error) {
	skip := true // controller names repeat across managers in one process
	mgr, err := ctrl.NewManager(e.Config, ctrl.Options{
		Scheme:                 e.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: &skip},
		Cache:                  cache.Options{DefaultTransform: cachetrim.Transform}, // as the manager binary
	})
	if err != nil {
		return nil, err
	}
	if err := setup(mgr); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	return func() { cancel(); <-done }, nil
}

// Stop stops the manager Start started, then the control plane.
func (e *Env) Stop() {
	e.stopManager()
	_ = e.env.Stop()
}

// moduleRoot finds the directory holding go.mod, above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Namespace creates a namespace for one test.
func (e *Env) Namespace(t testing.TB) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "t-" + utilrand.String(8)}}
	NewWithT(t).Expect(e.Client.Create(context.Background(), ns)).To(Succeed())
	return ns.Name
}

// WaitFor waits until cg's Ready condition has status st and reason (any reason
// when empty) for its current generation, and returns the object.
func (e *Env) WaitFor(t testing.TB, cg *v1alpha1.ChatGroup, st metav1.ConditionStatus, reason string) *v1alpha1.ChatGroup {
	t.Helper()
	got := &v1alpha1.ChatGroup{}
	NewWithT(t).Eventually(func(g Gomega) {
		g.Expect(e.Client.Get(context.Background(), client.ObjectKeyFromObject(cg), got)).To(Succeed())
		c := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ReadyCondition)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.ObservedGeneration).To(Equal(got.Generation))
		g.Expect(c.Status).To(Equal(st), c.Message)
		if reason != "" {
			g.Expect(c.Reason).To(Equal(reason), c.Message)
		}
	}).WithTimeout(30 * time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
	return got
}

// WaitReady waits for Ready=True with status.observedGeneration current.
func (e *Env) WaitReady(t testing.TB, cg *v1alpha1.ChatGroup) *v1alpha1.ChatGroup {
	t.Helper()
	got := e.WaitFor(t, cg, metav1.ConditionTrue, v1alpha1.SucceededReason)
	NewWithT(t).Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
	return got
}

// EventReasons lists the reasons of the events recorded for obj.
func (e *Env) EventReasons(g Gomega, obj client.Object) []string {
	list := &eventsv1.EventList{}
	g.Expect(e.Client.List(context.Background(), list, client.InNamespace(obj.GetNamespace()))).To(Succeed())
	var reasons []string
	for _, ev := range list.Items {
		if ev.Regarding.Name == obj.GetName() {
			reasons = append(reasons, ev.Reason)
		}
	}
	return reasons
}

// KStatus computes obj's kstatus, as Flux, Argo CD adapters and kubectl do.
func KStatus(t testing.TB, obj client.Object) status.Status {
	t.Helper()
	g := NewWithT(t)
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	g.Expect(err).NotTo(HaveOccurred())
	res, err := status.Compute(&unstructured.Unstructured{Object: m})
	g.Expect(err).NotTo(HaveOccurred())
	return res.Status
}

// CredentialsSecret returns a Secret holding data for a provider.
func CredentialsSecret(ns, name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}
