package controller

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/registry"
	"github.com/chatgroup-operator/chatgroup-operator/internal/testenv"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors/fake"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// Shared by the integration tests: one API server and one manager for the
// package, started in TestMain. Tests isolate themselves by namespace and by
// group name, and count vendor calls per object.
var (
	env        *testenv.Env
	k8sClient  client.Client
	testScheme *runtime.Scheme
	vendor     *fake.Vendor
	groups     *fake.GroupClient
	connector  *fake.Connector
)

// rejectedSecret makes the fake connector reject a credential, as a vendor would.
const rejectedSecret = "canary-rejected-secret-value"

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
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
	var err error
	env, err = testenv.Start(func(mgr ctrl.Manager) error {
		return SetupWithManager(mgr, Options{
			Vendors:                 testVendors(connector),
			MaxConcurrentReconciles: 4,
			RetryInterval:           time.Second,
		})
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer env.Stop()
	k8sClient, testScheme = env.Client, env.Scheme
	return m.Run()
}

// providerName is the name newProvider gives vendor v's provider.
func providerName(v v1alpha1.Vendor) string { return strings.ToLower(string(v)) }

// lastSecretKey is the last key vendor v's credentials Secret must hold.
func lastSecretKey(v v1alpha1.Vendor) string {
	reg, _ := registry.Vendors().Get(v)
	return reg.SecretKeys[len(reg.SecretKeys)-1]
}

// newProvider creates a credentials Secret and a ChatProvider for vendor in ns.
func newProvider(t *testing.T, ns string, v v1alpha1.Vendor) *v1alpha1.ChatProvider {
	t.Helper()
	g := NewWithT(t)
	name := providerName(v)
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

// providerSettings returns valid settings of a provider for vendor v: those
// of its simulator's account (the fake vendor ignores them).
func providerSettings(v v1alpha1.Vendor) v1alpha1.ProviderSettings {
	for _, sim := range registry.Simulators() {
		if sim.Vendor == v {
			s, _ := sim.Start(vendorsim.SimConfig{}).Provider("")
			return s
		}
	}
	return v1alpha1.ProviderSettings{Vendor: v}
}

func credentialsSecret(ns, name string, v v1alpha1.Vendor, value string) *corev1.Secret {
	data := map[string]string{}
	reg, _ := registry.Vendors().Get(v)
	for _, k := range reg.SecretKeys {
		data[k] = value
	}
	return testenv.CredentialsSecret(ns, name, data)
}

// newGroup returns a valid ChatGroup for vendor, referring to the provider newProvider makes.
func newGroup(ns, name string, v v1alpha1.Vendor, mods ...func(*v1alpha1.ChatGroup)) *v1alpha1.ChatGroup {
	return testenv.Group(ns, name, v, mods...)
}

// get reads the current state of obj.
func get(g Gomega, obj client.Object) {
	g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)).To(Succeed())
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
