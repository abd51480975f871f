//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/playground"
)

// helmBinary is built by 'make helm' (make e2e does).
var helmBinary = filepath.Join(root, "bin", "helm")

// The chart's release in TestChartInstall, and the namespaces it manages and
// does not manage.
const (
	chartRelease   = "chart-e2e"
	chartNamespace = "chart-system"
	chartWatched   = "chart-team"
	chartUnwatched = "chart-other"
	// chartAccount is the ServiceAccount the chart runs the operator as.
	chartAccount = "system:serviceaccount:" + chartNamespace + ":" + chartRelease + "-chatgroup-operator-controller-manager"
)

// TestChartInstall installs the operator with 'helm install' from
// charts/chatgroup-operator, limited to one namespace, and runs bin/manager
// with the Deployment's flags as the chart's ServiceAccount, so that exactly the
// chart's RBAC applies: a sample group in the watched namespace becomes Ready
// and is deleted on the vendor, one in another namespace is left alone.
// It uninstalls the release afterwards (the CRDs stay, as helm leaves them)
// and removes what it created, so TestUserJourney starts from the same state
// whichever runs first.
func TestChartInstall(t *testing.T) {
	g := NewWithT(t)
	if _, err := os.Stat(helmBinary); err != nil {
		t.Fatalf("%s is missing: run 'make e2e', which builds it", helmBinary)
	}

	out := helm(t, "install", chartRelease, filepath.Join(root, "charts", "chatgroup-operator"),
		"--namespace", chartNamespace, "--create-namespace",
		"--set", "watchNamespaces={"+chartWatched+"}", "--set", "maxConcurrentReconciles=2")
	g.Expect(out).To(ContainSubstring("STATUS: deployed"))
	g.Expect(out).To(ContainSubstring("Next, create a provider"), "NOTES.txt")
	g.Expect(out).To(ContainSubstring("It manages ChatGroups and ChatProviders in " + chartWatched + " only"))
	t.Cleanup(func() { helm(t, "uninstall", chartRelease, "--namespace", chartNamespace) })

	// What the chart grants its ServiceAccount.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "secrets", "-n", chartWatched}, "yes"},
		{[]string{"list", "secrets", "-A"}, "no"},
		{[]string{"watch", "secrets", "-A"}, "no"},
		{[]string{"update", "chatgroups.im.chatgroup.io/status", "-A"}, "yes"},
		{[]string{"delete", "chatgroups.im.chatgroup.io", "-A"}, "no"},
		{[]string{"create", "leases.coordination.k8s.io", "-n", chartNamespace}, "yes"},
		{[]string{"create", "leases.coordination.k8s.io", "-n", "default"}, "no"},
	} {
		got, _, _ := tryKubectl(t, append([]string{"auth", "can-i", "--as=" + chartAccount}, c.args...)...)
		g.Expect(strings.TrimSpace(got)).To(Equal(c.want), "can-i %s", strings.Join(c.args, " "))
	}

	// The manager runs with the Deployment's flags, less those for a pod: the
	// bind addresses (StartManager picks free ports) and --leader-elect, which
	// outside a pod has no namespace for its Lease.
	var args []string
	g.Expect(json.Unmarshal([]byte(kubectl(t, "get", "-n", chartNamespace,
		"deployment/"+chartRelease+"-chatgroup-operator-controller-manager",
		"-o", "jsonpath={.spec.template.spec.containers[0].args}")), &args)).To(Succeed())
	g.Expect(args).To(ContainElements("--leader-elect", "--watch-namespaces="+chartWatched, "--max-concurrent-reconciles=2"))
	args = slices.DeleteFunc(args, func(a string) bool {
		return a == "--leader-elect" || strings.HasPrefix(a, "--metrics-bind-address") || strings.HasPrefix(a, "--health-probe-bind-address")
	})
	path := filepath.Join(tmp, "chart-operator.kubeconfig")
	g.Expect(playground.WriteKubeconfig(restConfig, "chart-operator", path, chartAccount)).To(Succeed())
	logPath := filepath.Join(tmp, "chart-manager.log")
	m, err := playground.StartManager(playground.ManagerOptions{
		Binary: managerBinary, Kubeconfig: path, LogPath: logPath,
		Args: append(args, "--retry-interval=1s"),
	})
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() {
		m.Stop(10 * time.Second)
		if t.Failed() {
			t.Logf("The chart's manager's log ends with:\n%s", playground.Tail(logPath, 40))
		}
	})

	// The sample group the operator deletes on the vendor, with its provider
	// and Secret, in the watched namespace, and the group in another one too.
	kubectl(t, "create", "namespace", chartWatched)
	kubectl(t, "create", "namespace", chartUnwatched)
	samples, err := playground.LoadSamples(filepath.Join(root, "config", "samples"))
	g.Expect(err).NotTo(HaveOccurred())
	objs := deletableSample(g, samples)
	for _, u := range objs {
		u.SetNamespace(chartWatched)
	}
	_, err = sims.PointAtSimulators(objs)
	g.Expect(err).NotTo(HaveOccurred())
	chartGroup, chartProvider := objs[2].GetName(), objs[1].GetName()
	other := objs[2].DeepCopy()
	other.SetNamespace(chartUnwatched)
	manifests := filepath.Join(tmp, "chart-samples.yaml")
	g.Expect(playground.WriteManifests(append(objs, other), manifests)).To(Succeed())
	kubectl(t, "apply", "--server-side", "-f", manifests)
	t.Cleanup(func() {
		// Before the manager stops (cleanups run last first): the watched group
		// is gone by now, and nothing holds the other one.
		tryKubectl(t, "delete", "-n", chartWatched, "chatprovider/"+chartProvider, "--wait=false")
		tryKubectl(t, "delete", "-n", chartUnwatched, "chatgroup/"+chartGroup, "--wait=false")
	})

	group := "chatgroup/" + chartGroup
	kubectl(t, "wait", "-n", chartWatched, group, "--for=condition=Ready", "--timeout=60s")
	groupID := kubectl(t, "get", "-n", chartWatched, group, "-o", "jsonpath={.status.groupID}")
	g.Expect(groupID).NotTo(BeEmpty())
	g.Expect(kubectl(t, "get", "-n", chartUnwatched, group, "-o", "jsonpath={.status.conditions}{.metadata.finalizers}")).
		To(BeEmpty(), "a ChatGroup outside watchNamespaces is not the operator's")

	// Deleting needs the chart's finalizer and vendor permissions, and the
	// sample's deletionPolicy Delete removes the group on the vendor.
	kubectl(t, "delete", "-n", chartWatched, group, "--timeout=60s")
	g.Expect(strings.Fields(kubectl(t, "get", "events", "-n", chartWatched, "-o", "jsonpath={.items[*].reason}"))).
		To(ContainElements("Created", "Deleted"), "the group was created and deleted on the vendor, with events")
	g.Expect(chartManagerLog(logPath)).NotTo(ContainSubstring("forbidden"), "the chart's RBAC lacks a permission the manager used")
}

// deletableSample returns the Secret, the ChatProvider and the ChatGroup of
// the sample whose group has deletionPolicy Delete, in that order.
func deletableSample(g Gomega, samples []*unstructured.Unstructured) []*unstructured.Unstructured {
	find := func(kind, name string, match func(*unstructured.Unstructured) bool) *unstructured.Unstructured {
		for _, u := range samples {
			if u.GetKind() == kind && (name == "" || u.GetName() == name) && (match == nil || match(u)) {
				return u.DeepCopy()
			}
		}
		g.Expect(kind+" "+name).To(BeEmpty(), "no such sample")
		return nil
	}
	group := find("ChatGroup", "", func(u *unstructured.Unstructured) bool {
		policy, _, _ := unstructured.NestedString(u.Object, "spec", "deletionPolicy")
		kind, _, _ := unstructured.NestedString(u.Object, "spec", "providerRef", "kind")
		return policy == string(v1alpha1.Delete) && (kind == "" || kind == string(v1alpha1.ChatProviderKind))
	})
	ref, _, _ := unstructured.NestedString(group.Object, "spec", "providerRef", "name")
	provider := find("ChatProvider", ref, nil)
	secret, _, _ := unstructured.NestedString(provider.Object, "spec", "credentialsSecretRef", "name")
	return []*unstructured.Unstructured{find("Secret", secret, nil), provider, group}
}

// chartManagerLog returns the manager's log, for a look at RBAC denials.
func chartManagerLog(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}

// helm runs bin/helm against the test's API server, with its cache and
// configuration in the test's directory, and returns its output; a failing
// command fails the test.
func helm(t *testing.T, args ...string) string {
	t.Helper()
	t.Logf("$ helm %s", strings.Join(args, " "))
	ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, helmBinary, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(tmp, "helm", "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(tmp, "helm", "config"),
		"HELM_DATA_HOME="+filepath.Join(tmp, "helm", "data"),
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}
