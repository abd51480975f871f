// Package chart tests the Helm chart in charts/chatgroup-operator with the helm
// binary 'make helm' builds: helm lint, what each value renders to, object by
// object, and that the default render is config/default (TestChartMatchesConfig,
// which 'make verify' runs too). Installing the rendered chart into a control
// plane and running the manager with its permissions is test/e2e's
// TestChartInstall.
package chart

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

var (
	root          = filepath.Join("..", "..")
	chartDir      = filepath.Join(root, "charts", "chatgroup-operator")
	helmBinary    = filepath.Join(root, "bin", "helm")
	kubectlBinary = filepath.Join(root, "bin", "k8s", "kubectl")
)

// The release every test renders: the names config/default gives the objects.
const (
	release   = "chatgroup-operator"
	namespace = "chatgroup-system"
)

func TestMain(m *testing.M) {
	for _, f := range []string{helmBinary, kubectlBinary} {
		if _, err := os.Stat(f); err != nil {
			fmt.Fprintf(os.Stderr, "%s is missing: run 'make helm kubectl' (make test does)\n", f)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

func TestLint(t *testing.T) {
	for name, args := range map[string][]string{
		"defaults": nil,
		"every value set": {
			"--set", "image.repository=registry.example.com/chatgroup-operator,image.tag=1.2.3",
			"--set", "watchNamespaces={team-a,team-b},maxConcurrentReconciles=8,replicaCount=2",
			"--set", "metrics.serviceMonitor.enabled=true",
			"--set", "extraArgs={--retry-interval=1m}",
		},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := helm(append([]string{"lint", "--strict", chartDir}, args...)...)
			NewWithT(t).Expect(err).NotTo(HaveOccurred(), out)
		})
	}
}

// TestTemplate_defaults checks the default render object by object.
func TestTemplate_defaults(t *testing.T) {
	g := NewWithT(t)
	objs := render(t)
	g.Expect(kindNames(objs)).To(Equal([]string{
		"ClusterRole/chatgroup-operator-manager-role",
		"ClusterRoleBinding/chatgroup-operator-manager-rolebinding",
		"Deployment/chatgroup-operator-controller-manager",
		"Role/chatgroup-operator-leader-election-role",
		"RoleBinding/chatgroup-operator-leader-election-rolebinding",
		"Service/chatgroup-operator-controller-manager-metrics",
		"ServiceAccount/chatgroup-operator-controller-manager",
	}))
	for _, u := range objs {
		if u.GetKind() != "ClusterRole" && u.GetKind() != "ClusterRoleBinding" {
			g.Expect(u.GetNamespace()).To(Equal(namespace), "%s %s", u.GetKind(), u.GetName())
		}
	}

	d := deployment(t, objs)
	g.Expect(*d.Spec.Replicas).To(Equal(int32(1)))
	g.Expect(d.Spec.Selector.MatchLabels).To(Equal(map[string]string{
		"app.kubernetes.io/name": "chatgroup-operator", "app.kubernetes.io/instance": release,
	}))
	g.Expect(d.Spec.Template.Labels).To(Equal(d.Spec.Selector.MatchLabels))
	pod := d.Spec.Template.Spec
	g.Expect(pod.ServiceAccountName).To(Equal("chatgroup-operator-controller-manager"))
	g.Expect(*pod.SecurityContext.RunAsNonRoot).To(BeTrue())
	g.Expect(pod.SecurityContext.SeccompProfile.Type).To(Equal(corev1.SeccompProfileTypeRuntimeDefault))
	g.Expect(pod.NodeSelector).To(BeEmpty())
	g.Expect(pod.Tolerations).To(BeEmpty())
	g.Expect(pod.Affinity).To(BeNil())
	g.Expect(pod.ImagePullSecrets).To(BeEmpty())

	g.Expect(pod.Containers).To(HaveLen(1))
	c := pod.Containers[0]
	chartYAML, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	appVersion := chartField(t, chartYAML, "appVersion")
	g.Expect(c.Image).To(Equal("chatgroup-operator:" + appVersion))
	g.Expect(c.ImagePullPolicy).To(BeEmpty(), "the Kubernetes default: IfNotPresent for a tag other than latest")
	g.Expect(c.Args).To(Equal([]string{"--leader-elect", "--metrics-bind-address=:8080", "--health-probe-bind-address=:8081"}))
	g.Expect(c.Env).To(ConsistOf(corev1.EnvVar{Name: "MEMORY_LIMIT", ValueFrom: &corev1.EnvVarSource{
		ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory"},
	}}))
	g.Expect(c.LivenessProbe.HTTPGet.Path).To(Equal("/healthz"))
	g.Expect(c.ReadinessProbe.HTTPGet.Path).To(Equal("/readyz"))
	g.Expect(c.LivenessProbe.HTTPGet.Port.IntValue()).To(Equal(8081))
	g.Expect(c.Resources.Requests.Cpu().String()).To(Equal("50m"))
	g.Expect(c.Resources.Requests.Memory().String()).To(Equal("64Mi"))
	g.Expect(c.Resources.Limits.Memory().String()).To(Equal("256Mi"))
	g.Expect(*c.SecurityContext.ReadOnlyRootFilesystem).To(BeTrue())
	g.Expect(*c.SecurityContext.AllowPrivilegeEscalation).To(BeFalse())
	g.Expect(c.SecurityContext.Capabilities.Drop).To(Equal([]corev1.Capability{"ALL"}))

	svc := &corev1.Service{}
	decodeInto(t, find(g, objs, "Service"), svc)
	g.Expect(svc.Spec.Selector).To(Equal(d.Spec.Template.Labels))
	g.Expect(svc.Spec.Ports).To(HaveLen(1))
	g.Expect(svc.Spec.Ports[0].Port).To(Equal(int32(8080)))
	g.Expect(svc.Spec.Ports[0].TargetPort.String()).To(Equal("metrics"))

	// Both bindings grant their role to the manager's ServiceAccount.
	want := rbacv1.Subject{Kind: "ServiceAccount", Name: pod.ServiceAccountName, Namespace: namespace}
	for kind, role := range map[string]string{
		"ClusterRoleBinding": "chatgroup-operator-manager-role",
		"RoleBinding":        "chatgroup-operator-leader-election-role",
	} {
		b := &rbacv1.RoleBinding{} // the same fields as a ClusterRoleBinding
		decodeInto(t, find(g, objs, kind), b)
		g.Expect(b.Subjects).To(ConsistOf(want), kind)
		g.Expect(b.RoleRef.Name).To(Equal(role), kind)
	}
	role := &rbacv1.Role{}
	decodeInto(t, find(g, objs, "Role"), role)
	g.Expect(role.Rules).To(ContainElement(HaveField("Resources", ConsistOf("leases"))))
}

// TestTemplate_values sets each value and checks what it changes.
func TestTemplate_values(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		check func(g Gomega, objs []*unstructured.Unstructured, c corev1.Container, pod corev1.PodSpec)
	}{
		{
			name: "image repository, tag and pull policy",
			args: []string{"--set", "image.repository=registry.example.com/team/chatgroup-operator,image.tag=1.2.3,image.pullPolicy=Always"},
			check: func(g Gomega, _ []*unstructured.Unstructured, c corev1.Container, _ corev1.PodSpec) {
				g.Expect(c.Image).To(Equal("registry.example.com/team/chatgroup-operator:1.2.3"))
				g.Expect(c.ImagePullPolicy).To(Equal(corev1.PullAlways))
			},
		},
		{
			name: "watchNamespaces becomes --watch-namespaces",
			args: []string{"--set", "watchNamespaces={team-a,team-b}"},
			check: func(g Gomega, _ []*unstructured.Unstructured, c corev1.Container, _ corev1.PodSpec) {
				g.Expect(c.Args).To(ContainElement("--watch-namespaces=team-a,team-b"))
				g.Expect(c.Args).To(HaveLen(4))
			},
		},
		{
			name: "maxConcurrentReconciles becomes --max-concurrent-reconciles",
			args: []string{"--set", "maxConcurrentReconciles=8"},
			check: func(g Gomega, _ []*unstructured.Unstructured, c corev1.Container, _ corev1.PodSpec) {
				g.Expect(c.Args).To(ContainElement("--max-concurrent-reconciles=8"))
				g.Expect(c.Args).To(HaveLen(4))
			},
		},
		{
			name: "extraArgs come last",
			args: []string{"--set", "extraArgs={--retry-interval=1m,--zap-log-level=debug}"},
			check: func(g Gomega, _ []*unstructured.Unstructured, c corev1.Container, _ corev1.PodSpec) {
				g.Expect(c.Args[len(c.Args)-2:]).To(Equal([]string{"--retry-interval=1m", "--zap-log-level=debug"}))
			},
		},
		{
			name: "resources replace the defaults",
			args: []string{"--set-json", `resources={"requests":{"cpu":"200m","memory":"512Mi"},"limits":{"cpu":"1","memory":"1Gi"}}`},
			check: func(g Gomega, _ []*unstructured.Unstructured, c corev1.Container, _ corev1.PodSpec) {
				g.Expect(c.Resources).To(Equal(corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m"), corev1.ResourceMemory: resource.MustParse("512Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")},
				}))
			},
		},
		{
			name: "leaderElection false drops the flag and the Lease role",
			args: []string{"--set", "leaderElection=false"},
			check: func(g Gomega, objs []*unstructured.Unstructured, c corev1.Container, _ corev1.PodSpec) {
				g.Expect(c.Args).NotTo(ContainElement("--leader-elect"))
				g.Expect(kindNames(objs)).NotTo(ContainElement(HavePrefix("Role/")))
				g.Expect(kindNames(objs)).NotTo(ContainElement(HavePrefix("RoleBinding/")))
			},
		},
		{
			name: "replicaCount",
			args: []string{"--set", "replicaCount=3"},
			check: func(g Gomega, objs []*unstructured.Unstructured, _ corev1.Container, _ corev1.PodSpec) {
				g.Expect(find(g, objs, "Deployment").Object).To(HaveKeyWithValue("spec", HaveKeyWithValue("replicas", BeNumerically("==", 3))))
			},
		},
		{
			name: "scheduling, pod security context and pull secrets",
			args: []string{
				"--set", "nodeSelector.kubernetes\\.io/arch=arm64",
				"--set-json", `tolerations=[{"key":"dedicated","operator":"Equal","value":"ops","effect":"NoSchedule"}]`,
				"--set-json", `affinity={"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"zone","operator":"In","values":["a"]}]}]}}}`,
				"--set-json", `podSecurityContext={"runAsNonRoot":true,"runAsUser":65532,"fsGroup":65532}`,
				"--set-json", `imagePullSecrets=[{"name":"registry"}]`,
			},
			check: func(g Gomega, _ []*unstructured.Unstructured, _ corev1.Container, pod corev1.PodSpec) {
				g.Expect(pod.NodeSelector).To(Equal(map[string]string{"kubernetes.io/arch": "arm64"}))
				g.Expect(pod.Tolerations).To(ConsistOf(corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "ops", Effect: corev1.TaintEffectNoSchedule}))
				g.Expect(pod.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms).To(HaveLen(1))
				g.Expect(*pod.SecurityContext.RunAsUser).To(Equal(int64(65532)))
				g.Expect(*pod.SecurityContext.FSGroup).To(Equal(int64(65532)))
				g.Expect(pod.SecurityContext.SeccompProfile.Type).To(Equal(corev1.SeccompProfileTypeRuntimeDefault), "helm merges maps into the defaults")
				g.Expect(pod.ImagePullSecrets).To(ConsistOf(corev1.LocalObjectReference{Name: "registry"}))
			},
		},
		{
			name: "no ServiceMonitor by default",
			check: func(g Gomega, objs []*unstructured.Unstructured, _ corev1.Container, _ corev1.PodSpec) {
				g.Expect(kindNames(objs)).NotTo(ContainElement(HavePrefix("ServiceMonitor/")))
			},
		},
		{
			name: "metrics.serviceMonitor.enabled renders a ServiceMonitor for the metrics Service",
			args: []string{"--set", "metrics.serviceMonitor.enabled=true,metrics.serviceMonitor.interval=15s,metrics.serviceMonitor.labels.release=prometheus"},
			check: func(g Gomega, objs []*unstructured.Unstructured, _ corev1.Container, _ corev1.PodSpec) {
				sm := find(g, objs, "ServiceMonitor")
				g.Expect(sm.GetAPIVersion()).To(Equal("monitoring.coreos.com/v1"))
				g.Expect(sm.GetNamespace()).To(Equal(namespace))
				g.Expect(sm.GetLabels()).To(HaveKeyWithValue("release", "prometheus"))
				svc := find(g, objs, "Service")
				selector, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
				g.Expect(selector).NotTo(BeEmpty())
				for k, v := range selector {
					g.Expect(svc.GetLabels()).To(HaveKeyWithValue(k, v), "the ServiceMonitor selects the metrics Service")
				}
				endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
				g.Expect(endpoints).To(ConsistOf(map[string]any{"port": "metrics", "path": "/metrics", "interval": "15s"}))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			objs := render(t, tt.args...)
			d := deployment(t, objs)
			tt.check(g, objs, d.Spec.Template.Spec.Containers[0], d.Spec.Template.Spec)
		})
	}
}

// TestTemplate_rejects checks that values the operator cannot run with fail
// at install time, with a message, instead of rendering a broken Deployment.
func TestTemplate_rejects(t *testing.T) {
	for name, tt := range map[string]struct {
		args []string
		want string
	}{
		"several replicas without leader election": {[]string{"--set", "replicaCount=2,leaderElection=false"}, "replicaCount above 1 needs leaderElection"},
		"a namespace string instead of a list":     {[]string{"--set", "watchNamespaces=team-a"}, "watchNamespaces"},
		"zero concurrent reconciles":               {[]string{"--set", "maxConcurrentReconciles=0"}, "maxConcurrentReconciles"},
		"a misspelt value":                         {[]string{"--set", "leaderElect=false"}, "leaderElect"},
		"an extra arg without dashes":              {[]string{"--set", "extraArgs={retry-interval=1m}"}, "extraArgs"},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := helm(append([]string{"template", release, chartDir, "--namespace", namespace}, tt.args...)...)
			g := NewWithT(t)
			g.Expect(err).To(HaveOccurred())
			g.Expect(out).To(ContainSubstring(tt.want))
		})
	}
}

// TestChartMatchesConfig renders the chart with its defaults, as release
// chatgroup-operator in chatgroup-system with the image config/manager names,
// and expects exactly the objects 'kubectl kustomize config/default' builds,
// field for field, except the Namespace (helm install --create-namespace makes
// it) and labels: the chart adds the recommended app.kubernetes.io labels and
// selects its pods by release as well. 'make verify' runs this test, so the
// chart and config/ cannot drift apart; 'make chart' copies what can be copied
// (the CRDs and the manager's RBAC rules).
func TestChartMatchesConfig(t *testing.T) {
	g := NewWithT(t)
	chartObjs := render(t, "--include-crds", "--set", "image.tag=latest")
	out, errOut, err := run(kubectlBinary, "kustomize", filepath.Join(root, "config", "default"))
	g.Expect(err).NotTo(HaveOccurred(), errOut)
	configObjs := decodeAll(t, out)

	chart := map[string]map[string]any{}
	for _, u := range chartObjs {
		chart[key(u)] = normalize(u)
	}
	config := map[string]map[string]any{}
	for _, u := range configObjs {
		if u.GetKind() == "Namespace" {
			continue
		}
		config[key(u)] = normalize(u)
	}
	g.Expect(slices.Sorted(maps.Keys(chart))).To(Equal(slices.Sorted(maps.Keys(config))),
		"the chart renders other objects than config/default")
	for k, want := range config {
		if !equalJSON(chart[k], want) {
			t.Errorf("%s differs between the chart (helm template) and config/default (kubectl kustomize):\nchart:  %s\nconfig: %s",
				k, mustJSON(chart[k]), mustJSON(want))
		}
	}
	if t.Failed() {
		t.Log("Change the chart's templates to match config/ (or config/ to match the chart); 'make chart' copies the CRDs and the manager's RBAC rules")
	}
}

// normalize drops what may differ between the chart and config/default: labels
// and the release's selector label.
func normalize(u *unstructured.Unstructured) map[string]any {
	obj := u.DeepCopy().Object
	unstructured.RemoveNestedField(obj, "metadata", "labels")
	for _, path := range [][]string{
		{"spec", "selector", "matchLabels"},
		{"spec", "template", "metadata", "labels"},
		{"spec", "selector"}, // a Service's
	} {
		labels, found, err := unstructured.NestedStringMap(obj, path...)
		if !found || err != nil {
			continue
		}
		delete(labels, "app.kubernetes.io/instance")
		_ = unstructured.SetNestedStringMap(obj, labels, path...)
	}
	return obj
}

// render runs helm template for the release with args and decodes the objects.
func render(t testing.TB, args ...string) []*unstructured.Unstructured {
	t.Helper()
	out, err := helm(append([]string{"template", release, chartDir, "--namespace", namespace}, args...)...)
	NewWithT(t).Expect(err).NotTo(HaveOccurred(), out)
	return decodeAll(t, out)
}

// helm runs bin/helm and returns its combined output.
func helm(args ...string) (string, error) {
	out, errOut, err := run(helmBinary, args...)
	return out + errOut, err
}

// run runs a binary with a timeout and returns its standard output and error.
func run(binary string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// decodeAll decodes a multi-document YAML stream, skipping empty documents.
func decodeAll(t testing.TB, data string) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(data), 4096)
	for {
		obj := map[string]any{}
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return objs
		}
		NewWithT(t).Expect(err).NotTo(HaveOccurred())
		if len(obj) > 0 {
			objs = append(objs, &unstructured.Unstructured{Object: obj})
		}
	}
}

// kindNames lists kind/name of every object, sorted.
func kindNames(objs []*unstructured.Unstructured) []string {
	var names []string
	for _, u := range objs {
		names = append(names, u.GetKind()+"/"+u.GetName())
	}
	slices.Sort(names)
	return names
}

// key identifies an object across the two renders.
func key(u *unstructured.Unstructured) string {
	return u.GetKind() + " " + u.GetNamespace() + "/" + u.GetName()
}

// find returns the only object of kind.
func find(g Gomega, objs []*unstructured.Unstructured, kind string) *unstructured.Unstructured {
	var found []*unstructured.Unstructured
	for _, u := range objs {
		if u.GetKind() == kind {
			found = append(found, u)
		}
	}
	g.Expect(found).To(HaveLen(1), "objects of kind %s", kind)
	return found[0]
}

// deployment returns the rendered Deployment as its Go type.
func deployment(t testing.TB, objs []*unstructured.Unstructured) *appsv1.Deployment {
	t.Helper()
	d := &appsv1.Deployment{}
	decodeInto(t, find(NewWithT(t), objs, "Deployment"), d)
	return d
}

// decodeInto converts an object to its Go type, rejecting unknown fields so a
// misplaced key in a template fails here rather than in the API server.
func decodeInto(t testing.TB, u *unstructured.Unstructured, into any) {
	t.Helper()
	data, err := json.Marshal(u.Object)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	NewWithT(t).Expect(dec.Decode(into)).To(Succeed(), "%s %s", u.GetKind(), u.GetName())
}

// chartField reads a top-level string field of Chart.yaml.
func chartField(t testing.TB, chartYAML []byte, field string) string {
	t.Helper()
	objs := decodeAll(t, string(chartYAML))
	NewWithT(t).Expect(objs).To(HaveLen(1))
	v, _, _ := unstructured.NestedString(objs[0].Object, field)
	return v
}

// equalJSON compares two decoded objects as JSON values (numbers may decode
// as int64 from one source and float64 from another).
func equalJSON(a, b map[string]any) bool {
	return mustJSON(a) == mustJSON(b)
}

func mustJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(data)
}
