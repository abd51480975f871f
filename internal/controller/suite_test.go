package controller

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors/fake"
)

// Shared by the integration tests: one API server and one manager for the
// package, started in TestMain. Tests isolate themselves by namespace and by
// group name, and count vendor calls per object.
var (
	k8sClient  client.Client
	vendor     *fake.Vendor
	groups     *fake.GroupClient
	connector  *fake.Connector
	testScheme = runtime.NewScheme()
)

// rejectedSecret makes the fake connector reject a credential, as a vendor would.
const rejectedSecret = "canary-rejected-secret-value"

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true), zap.Level(zapLevel())))
	_ = clientgoscheme.AddToScheme(testScheme)
	_ = v1alpha1.AddToScheme(testScheme)

	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: filepath.Join("..", "..", "bin", "k8s"),
	}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting envtest (build the binaries with 'make envtest'): %v\n", err)
		return 1
	}
	defer func() { _ = env.Stop() }()

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 testScheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	vendor = fake.NewVendor()
	groups = vendor.Client()
	connector = &fake.Connector{Client: groups, Check: func(c vendors.Credentials) error {
		for _, v := range c.Secret {
			if string(v) == rejectedSecret {
				return vendors.NewError(vendors.ErrUnauthorized, "get access token", "InvalidAppSecret", "the app secret is wrong")
			}
		}
		return nil
	}}
	conns := &Connections{
		APIReader: mgr.GetAPIReader(),
		Connectors: map[v1alpha1.Vendor]vendors.Connector{
			v1alpha1.DingTalk: connector, v1alpha1.TencentIM: connector, v1alpha1.WhatsApp: connector,
		},
		Limiters: vendors.NewLimiters(nil),
	}
	if err := (&ChatGroupReconciler{
		Client: mgr.GetClient(), Connections: conns, Recorder: mgr.GetEventRecorder("chatgroup-controller"),
		MaxConcurrentReconciles: 4, RetryInterval: time.Second,
	}).SetupWithManager(mgr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for name, newObj := range map[string]func() ProviderObject{
		"chatprovider":        func() ProviderObject { return &v1alpha1.ChatProvider{} },
		"clusterchatprovider": func() ProviderObject { return &v1alpha1.ClusterChatProvider{} },
	} {
		if err := (&ProviderReconciler{
			Client: mgr.GetClient(), NewObject: newObj, Connections: conns,
			Recorder: mgr.GetEventRecorder(name + "-controller"), RetryInterval: time.Second,
		}).SetupWithManager(mgr, name); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	k8sClient, err = client.New(cfg, client.Options{Scheme: testScheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// zapLevel keeps test output short unless TEST_VERBOSE_LOGS is set.
func zapLevel() zapcore.Level {
	if os.Getenv("TEST_VERBOSE_LOGS") != "" {
		return zapcore.DebugLevel
	}
	return zapcore.DPanicLevel
}

// newNamespace creates a namespace for one test.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "t-" + utilrand.String(8)}}
	NewWithT(t).Expect(k8sClient.Create(context.Background(), ns)).To(Succeed())
	return ns.Name
}

// newProvider creates a credentials Secret and a ChatProvider for vendor in ns.
func newProvider(t *testing.T, ns string, v v1alpha1.Vendor) *v1alpha1.ChatProvider {
	t.Helper()
	g := NewWithT(t)
	name := strings.ToLower(string(v))
	g.Expect(k8sClient.Create(context.Background(), credentialsSecret(ns, name+"-creds", v, "s3cr3t"))).To(Succeed())
	p := &v1alpha1.ChatProvider{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.ChatProviderSpec{
			ProviderSettings:     providerSettings(v),
			CredentialsSecretRef: v1alpha1.LocalSecretReference{Name: name + "-creds"},
		},
	}
	g.Expect(k8sClient.Create(context.Background(), p)).To(Succeed())
	return p
}

func providerSettings(v v1alpha1.Vendor) v1alpha1.ProviderSettings {
	s := v1alpha1.ProviderSettings{Vendor: v}
	switch v {
	case v1alpha1.TencentIM:
		s.TencentIM = &v1alpha1.TencentIMProvider{SDKAppID: 1400000000, AdminIdentifier: "administrator"}
	case v1alpha1.WhatsApp:
		s.WhatsApp = &v1alpha1.WhatsAppProvider{CustSpaceID: "cams-test", BusinessNumber: "8613800000000"}
	}
	return s
}

func credentialsSecret(ns, name string, v v1alpha1.Vendor, value string) *corev1.Secret {
	data := map[string][]byte{}
	for _, k := range v.SecretKeys() {
		data[k] = []byte(value)
	}
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: data}
}

// newGroup returns a valid ChatGroup for vendor, referring to the provider newProvider makes.
func newGroup(ns, name string, v v1alpha1.Vendor, mods ...func(*v1alpha1.ChatGroup)) *v1alpha1.ChatGroup {
	cg := &v1alpha1.ChatGroup{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.ChatGroupSpec{
			Vendor:      v,
			ProviderRef: v1alpha1.ProviderReference{Name: strings.ToLower(string(v))},
			Name:        name,
		},
	}
	switch v {
	case v1alpha1.DingTalk:
		cg.Spec.Owner = "owner1"
		cg.Spec.Members = []string{"u1", "u2", "u3", "u4", "u5"}
	case v1alpha1.TencentIM:
		cg.Spec.Owner = "owner1"
		cg.Spec.Members = []string{"u1", "u2"}
	case v1alpha1.WhatsApp:
		cg.Spec.Members = []string{"+8613800000001"}
	}
	for _, m := range mods {
		m(cg)
	}
	return cg
}

// get reads the current state of obj.
func get(g Gomega, obj client.Object) {
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)).To(Succeed())
}

// waitFor waits until obj's Ready condition has status and reason (any reason when
// empty) for its current generation and returns the object.
func waitFor(t *testing.T, cg *v1alpha1.ChatGroup, st metav1.ConditionStatus, reason string) *v1alpha1.ChatGroup {
	t.Helper()
	got := &v1alpha1.ChatGroup{}
	NewWithT(t).Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(cg), got)).To(Succeed())
		c := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ReadyCondition)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.ObservedGeneration).To(Equal(got.Generation))
		g.Expect(c.Status).To(Equal(st), c.Message)
		if reason != "" {
			g.Expect(c.Reason).To(Equal(reason), c.Message)
		}
	}).WithTimeout(20 * time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
	return got
}

// waitReady waits for Ready=True with status.observedGeneration current.
func waitReady(t *testing.T, cg *v1alpha1.ChatGroup) *v1alpha1.ChatGroup {
	t.Helper()
	got := waitFor(t, cg, metav1.ConditionTrue, v1alpha1.SucceededReason)
	NewWithT(t).Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
	return got
}

// kstatusOf computes the kstatus of obj, as Flux, Argo CD adapters and kubectl do.
func kstatusOf(t *testing.T, obj client.Object) status.Status {
	t.Helper()
	g := NewWithT(t)
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	g.Expect(err).NotTo(HaveOccurred())
	res, err := status.Compute(&unstructured.Unstructured{Object: m})
	g.Expect(err).NotTo(HaveOccurred())
	return res.Status
}

// callsFor counts vendor calls of op made for cg (by UID, or by its group ID).
func callsFor(op string, cg *v1alpha1.ChatGroup, groupID string) int {
	return groups.Count(op, func(c fake.Call) bool {
		return (c.Spec.UID != "" && c.Spec.UID == string(cg.UID)) || (groupID != "" && c.ID == groupID)
	})
}

// writesFor counts vendor writes (create, update, delete) made for cg.
func writesFor(cg *v1alpha1.ChatGroup, groupID string) int {
	return callsFor(fake.OpCreate, cg, groupID) + callsFor(fake.OpUpdate, cg, groupID) + callsFor(fake.OpDelete, cg, groupID)
}

// eventReasons lists the reasons of the events recorded for obj.
func eventReasons(g Gomega, obj client.Object) []string {
	list := &eventsv1.EventList{}
	g.Expect(k8sClient.List(context.Background(), list, client.InNamespace(obj.GetNamespace()))).To(Succeed())
	var reasons []string
	for _, e := range list.Items {
		if e.Regarding.Name == obj.GetName() {
			reasons = append(reasons, e.Reason)
		}
	}
	return reasons
}
