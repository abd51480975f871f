package playground

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// TestPointAtSimulators rewrites the real samples: every provider reaches its
// simulator, no placeholder is left, and the ChatGroups are untouched.
func TestPointAtSimulators(t *testing.T) {
	g := NewWithT(t)
	sims := StartSimulators(SimOptions{})
	defer sims.Close()
	objs, err := LoadSamples(filepath.Join("..", "..", "config", "samples"))
	g.Expect(err).NotTo(HaveOccurred())
	groupsBefore := map[string]any{}
	for _, u := range objs {
		if u.GetKind() == "ChatGroup" {
			groupsBefore[u.GetName()] = u.DeepCopy().Object
		}
	}

	notes, err := sims.PointAtSimulators(objs)
	g.Expect(err).NotTo(HaveOccurred())

	providers := 0
	for _, u := range objs {
		data, err := yaml.Marshal(u.Object)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(string(data)).NotTo(ContainSubstring("REPLACE_ME"), u.GetKind()+"/"+u.GetName())
		switch {
		case isProvider(u):
			providers++
			vendor, _, _ := unstructured.NestedString(u.Object, "spec", "vendor")
			endpoint, _, _ := unstructured.NestedString(u.Object, "spec", "endpoint")
			g.Expect(endpoint).To(Equal(sims.URLs[vendor]))
		case u.GetKind() == "ChatGroup":
			g.Expect(u.Object).To(Equal(groupsBefore[u.GetName()]), "ChatGroups are applied as they are")
		}
	}
	g.Expect(providers).To(Equal(3))
	g.Expect(notes).To(HaveLen(6), "one note per provider and per Secret")
	legacy, _, _ := unstructured.NestedString(find(objs, "ClusterChatProvider", "dingtalk-prod").Object, "spec", "dingtalk", "legacyEndpoint")
	g.Expect(legacy).To(Equal(sims.URLs[DingTalk]))
	secret, _, _ := unstructured.NestedStringMap(find(objs, "Secret", "dingtalk-app").Object, "stringData")
	g.Expect(secret).To(Equal(map[string]string{"appKey": DingTalkAppKey, "appSecret": DingTalkAppSecret}))
}

// TestLoadSamples_order puts every object after what it needs: the namespace
// before the Secret in it, Secrets before providers, providers before groups.
func TestLoadSamples_order(t *testing.T) {
	g := NewWithT(t)
	objs, err := LoadSamples(filepath.Join("..", "..", "config", "samples"))
	g.Expect(err).NotTo(HaveOccurred())
	var kinds []string
	for _, u := range objs {
		kinds = append(kinds, u.GetKind())
	}
	g.Expect(kinds[0]).To(Equal("Namespace"))
	g.Expect(strings.Join(kinds, " ")).To(MatchRegexp(`^Namespace( Secret)+( (Chat|ClusterChat)Provider)+( ChatGroup)+$`))
}

// TestPointAtSimulators_unknownVendor refuses a provider no simulator serves.
func TestPointAtSimulators_unknownVendor(t *testing.T) {
	sims := &Simulators{URLs: map[string]string{}}
	u := &unstructured.Unstructured{Object: map[string]any{"kind": "ChatProvider", "spec": map[string]any{"vendor": "Slack"}}}
	_, err := sims.PointAtSimulators([]*unstructured.Unstructured{u})
	NewWithT(t).Expect(err).To(MatchError(ContainSubstring(`no simulator for vendor "Slack"`)))
}

// TestWriteManifests writes objects kubectl can read back.
func TestWriteManifests(t *testing.T) {
	g := NewWithT(t)
	objs, err := LoadSamples(filepath.Join("..", "..", "config", "samples"))
	g.Expect(err).NotTo(HaveOccurred())
	dir := t.TempDir()
	g.Expect(WriteManifests(objs, filepath.Join(dir, "all.yaml"))).To(Succeed())
	again, err := LoadSamples(dir)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again).To(HaveLen(len(objs)))
	info, err := os.Stat(filepath.Join(dir, "all.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(info.Mode().Perm()).To(Equal(os.FileMode(0o600)), "it holds credentials")
}

func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, u := range objs {
		if u.GetKind() == kind && u.GetName() == name {
			return u
		}
	}
	return &unstructured.Unstructured{Object: map[string]any{}}
}
