//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/config/argocd"
)

// kubectlTimeout bounds one kubectl command; waits pass their own --timeout.
const kubectlTimeout = 90 * time.Second

// kubectl runs kubectl against the test's API server (namespace default, from
// the kubeconfig's context) and returns its standard output. A failing command
// fails the test.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := tryKubectl(t, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// tryKubectl runs kubectl and returns its output, error output and error.
func tryKubectl(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	t.Logf("$ kubectl %s", strings.Join(args, " "))
	ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectlBinary, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// object reads one object with kubectl get -o json.
func object(t *testing.T, ref string) map[string]any {
	t.Helper()
	return decodeObject(t, kubectl(t, "get", ref, "-o", "json"))
}

// decodeObject decodes an object as client-go does (integers as int64), which
// is also how Argo CD and kstatus receive it.
func decodeObject(t *testing.T, data string) map[string]any {
	t.Helper()
	obj := map[string]any{}
	NewWithT(t).Expect(utiljson.Unmarshal([]byte(data), &obj)).To(Succeed(), data)
	return obj
}

// chatGroup reads a ChatGroup with kubectl get -o json, as its Go type.
func chatGroup(t *testing.T, name string) *v1alpha1.ChatGroup {
	t.Helper()
	cg := &v1alpha1.ChatGroup{}
	NewWithT(t).Expect(json.Unmarshal([]byte(kubectl(t, "get", "chatgroup/"+name, "-o", "json")), cg)).To(Succeed())
	return cg
}

// waitGeneration waits for the ChatGroup to be Ready for its current spec and
// returns it. kubectl wait compares the condition's observedGeneration with
// metadata.generation, so the Ready of the previous spec does not count; the
// returned object's status.observedGeneration is checked as well.
func waitGeneration(t *testing.T, name string) *v1alpha1.ChatGroup {
	t.Helper()
	kubectl(t, "wait", "chatgroup/"+name, "--for=condition=Ready", "--timeout=30s")
	cg := chatGroup(t, name)
	NewWithT(t).Expect(cg.Status.ObservedGeneration).To(Equal(cg.Generation))
	return cg
}

// readyReason is a jsonpath wait condition on the Ready condition's reason.
func readyReason(reason string) string {
	return `--for=jsonpath={.status.conditions[?(@.type=="Ready")].reason}=` + reason
}

// applyManifest writes content to a file named name and applies it with
// kubectl apply --server-side -f.
func applyManifest(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(tmp, name)
	NewWithT(t).Expect(os.WriteFile(path, []byte(content), 0o600)).To(Succeed())
	return kubectl(t, "apply", "--server-side", "-f", path)
}

// kstatusOf computes obj's kstatus, as Flux and kubectl-based tools do.
func kstatusOf(t *testing.T, obj map[string]any) status.Status {
	t.Helper()
	res, err := status.Compute(&unstructured.Unstructured{Object: obj})
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	return res.Status
}

// expectHealth runs the Argo CD health check (config/argocd/health.lua) against
// obj and expects want. With UPDATE_FIXTURES set it saves obj as
// config/argocd/testdata/<fixture>.json, which the package's own test checks
// against the same expectation in every 'make test'.
func expectHealth(t *testing.T, fixture string, obj map[string]any, want string) {
	t.Helper()
	g := NewWithT(t)
	got, err := argocd.Health(obj)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Status).To(Equal(want), "health message: %s", got.Message)
	g.Expect(got.Message).NotTo(BeEmpty())
	if os.Getenv("UPDATE_FIXTURES") == "" {
		return
	}
	fixed := (&unstructured.Unstructured{Object: obj}).DeepCopy()
	fixed.SetManagedFields(nil)
	data, err := json.MarshalIndent(fixed.Object, "", "  ")
	g.Expect(err).NotTo(HaveOccurred())
	path := filepath.Join(root, "config", "argocd", "testdata", fixture+".json")
	g.Expect(os.WriteFile(path, append(data, '\n'), 0o644)).To(Succeed())
	t.Logf("wrote %s", path)
}
