package argocd

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// The fixtures in testdata are real objects, saved by the end-to-end test
// (UPDATE_FIXTURES=1 make e2e) at the moment it checked the same expectation
// against the live object.
func TestHealth_fixtures(t *testing.T) {
	// A message names what the fixture holds: {vendor} is its spec.vendor and
	// {generation} its metadata.generation.
	cases := map[string]struct {
		want    string
		message string
	}{
		"chatgroup-ready":             {"Healthy", "matches the spec"},
		"chatgroup-awaiting-invitees": {"Healthy", "have not joined through the invite link yet"},
		"chatprovider-ready":          {"Healthy", "Credentials accepted by {vendor}"},
		"clusterchatprovider-ready":   {"Healthy", "Credentials accepted by {vendor}"},
		"chatgroup-creating":          {"Progressing", "still creating the group"},
		"chatgroup-stale-generation":  {"Progressing", "generation {generation}"},
		"chatgroup-delete-failed":     {"Progressing", "Cannot delete group"},
		"chatgroup-suspended":         {"Suspended", "spec.suspend is true"},
		"chatgroup-stalled":           {"Degraded", "spec.vendor is {vendor}"},
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	NewWithT(t).Expect(files).To(HaveLen(len(cases)), "a case for every fixture")
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			obj := fixture(t, name)
			vendor, _, _ := unstructured.NestedString(obj, "spec", "vendor")
			generation, _, _ := unstructured.NestedInt64(obj, "metadata", "generation")
			g.Expect(vendor).NotTo(BeEmpty())
			message := strings.NewReplacer("{vendor}", vendor, "{generation}", strconv.FormatInt(generation, 10)).Replace(tc.message)
			got, err := Health(obj)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got.Status).To(Equal(tc.want), got.Message)
			g.Expect(got.Message).To(ContainSubstring(message))
		})
	}
}

// TestHealth_edges covers states the end-to-end test does not stop at.
func TestHealth_edges(t *testing.T) {
	cases := map[string]struct {
		obj  func(t *testing.T) map[string]any
		want string
	}{
		"a new object without status is Progressing": {
			obj: func(t *testing.T) map[string]any {
				obj := fixture(t, "chatgroup-ready")
				delete(obj, "status")
				return obj
			},
			want: "Progressing",
		},
		"Stalled for an older generation is Progressing: the new spec may fix it": {
			obj: func(t *testing.T) map[string]any {
				obj := fixture(t, "chatgroup-stalled")
				meta := obj["metadata"].(map[string]any)
				meta["generation"] = meta["generation"].(int64) + 1
				return obj
			},
			want: "Progressing",
		},
		"ObserveOnly's DriftDetected is Healthy: the difference is reported, not pending": {
			obj: func(t *testing.T) map[string]any {
				obj := fixture(t, "chatgroup-ready")
				setReady(obj, "False", "DriftDetected", "differs from the spec (name differs; 3 to add)")
				return obj
			},
			want: "Healthy",
		},
		"RemovalsHeld is Degraded: the removals wait for approval": {
			obj: func(t *testing.T) map[string]any {
				obj := fixture(t, "chatgroup-stalled")
				for _, c := range obj["status"].(map[string]any)["conditions"].([]any) {
					c.(map[string]any)["reason"] = "RemovalsHeld"
				}
				return obj
			},
			want: "Degraded",
		},
		"suspend wins over Stalled": {
			obj: func(t *testing.T) map[string]any {
				obj := fixture(t, "chatgroup-stalled")
				obj["spec"].(map[string]any)["suspend"] = true
				return obj
			},
			want: "Suspended",
		},
		"suspend: false is not Suspended": {
			obj: func(t *testing.T) map[string]any {
				obj := fixture(t, "chatgroup-ready")
				obj["spec"].(map[string]any)["suspend"] = false
				return obj
			},
			want: "Healthy",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Health(tc.obj(t))
			NewWithT(t).Expect(err).NotTo(HaveOccurred())
			NewWithT(t).Expect(got.Status).To(Equal(tc.want), got.Message)
		})
	}
}

// TestRun_asArgoCD: the runner refuses what Argo CD would not accept, so the
// fixtures test means something.
func TestRun_asArgoCD(t *testing.T) {
	cases := map[string]string{
		"the string library is not open": `return {status = string.upper("healthy")}`,
		"a status Argo CD does not know": `return {status = "Fine"}`,
		"no table returned":              `return "Healthy"`,
	}
	for name, script := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := run(script, map[string]any{})
			NewWithT(t).Expect(err).To(HaveOccurred())
		})
	}
}

// fixture reads testdata/<name>.json as client-go decodes objects (integers as
// int64), which is what Argo CD hands to health scripts.
func fixture(t *testing.T, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	obj := map[string]any{}
	NewWithT(t).Expect(utiljson.Unmarshal(data, &obj)).To(Succeed())
	return obj
}

// setReady rewrites the Ready condition of obj.
func setReady(obj map[string]any, status, reason, message string) {
	for _, c := range obj["status"].(map[string]any)["conditions"].([]any) {
		if c := c.(map[string]any); c["type"] == "Ready" {
			c["status"], c["reason"], c["message"] = status, reason, message
		}
	}
}
