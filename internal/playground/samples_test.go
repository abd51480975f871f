package playground

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/registry"
)

// TestPointAtSimulators rewrites the real samples: every registered vendor has
// a provider, every provider reaches its simulator with its account's settings
// (its other fields kept), every credentials Secret holds the account's
// credentials, no placeholder is left, and the ChatGroups are untouched.
func TestPointAtSimulators(t *testing.T) {
	g := NewWithT(t)
	sims := StartSimulators(registry.Simulators(), SimOptions{})
	defer sims.Close()
	g.Expect(sims.All()).NotTo(BeEmpty(), "registered simulators")
	objs, err := LoadSamples(filepath.Join("..", "..", "config", "samples"))
	g.Expect(err).NotTo(HaveOccurred())
	before := map[string]*unstructured.Unstructured{}
	for _, u := range objs {
		before[u.GetKind()+"/"+u.GetName()] = u.DeepCopy()
	}

	notes, err := sims.PointAtSimulators(objs)
	g.Expect(err).NotTo(HaveOccurred())

	var vendors []v1alpha1.Vendor
	secrets := map[string]*Simulator{} // Secret name -> the simulator its provider uses
	for _, u := range objs {
		data, err := yaml.Marshal(u.Object)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(string(data)).NotTo(ContainSubstring("REPLACE_ME"), u.GetKind()+"/"+u.GetName())
		switch {
		case isProvider(u):
			vendor, _, _ := unstructured.NestedString(u.Object, "spec", "vendor")
			sim, ok := sims.Get(v1alpha1.Vendor(vendor))
			g.Expect(ok).To(BeTrue(), vendor)
			vendors = append(vendors, sim.Vendor)
			settings, _ := sim.Provider(sim.URL)
			g.Expect(settings.Endpoint).To(Equal(sim.URL))
			want := leaves(t, settings)
			got := leaves(t, u.Object["spec"])
			for path, v := range want {
				g.Expect(got).To(HaveKeyWithValue(path, v), "%s: the simulator's settings", u.GetName())
			}
			for path, v := range leaves(t, before[u.GetKind()+"/"+u.GetName()].Object["spec"]) {
				if _, set := want[path]; !set {
					g.Expect(got).To(HaveKeyWithValue(path, v), "%s: the sample's other fields stay", u.GetName())
				}
			}
			ref, _, _ := unstructured.NestedString(u.Object, "spec", "credentialsSecretRef", "name")
			secrets[ref] = sim
		case u.GetKind() == "ChatGroup":
			g.Expect(u.Object).To(Equal(before[u.GetKind()+"/"+u.GetName()].Object), "ChatGroups are applied as they are")
		}
	}
	registered := []v1alpha1.Vendor{}
	for _, sim := range sims.All() {
		registered = append(registered, sim.Vendor)
	}
	g.Expect(vendors).To(ConsistOf(registered), "one sample provider per registered vendor")
	g.Expect(notes).To(HaveLen(2*len(vendors)), "one note per provider and per Secret")
	for name, sim := range secrets {
		secret := find(objs, "Secret", name)
		got, _, _ := unstructured.NestedStringMap(secret.Object, "stringData")
		_, data := sim.Provider(sim.URL)
		want := map[string]string{}
		for k, v := range data {
			want[k] = string(v)
		}
		g.Expect(got).To(Equal(want), "Secret %s: the %s simulator's credentials", name, sim.Vendor)
		g.Expect(secret.Object).NotTo(HaveKey("data"))
	}
}

// leaves flattens v's JSON form into its leaf values by dotted path.
func leaves(t *testing.T, v any) map[string]any {
	t.Helper()
	data, err := json.Marshal(v)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	var tree any
	NewWithT(t).Expect(json.Unmarshal(data, &tree)).To(Succeed())
	out := map[string]any{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			out[prefix] = v
			return
		}
		for k, sub := range m {
			walk(prefix+"."+k, sub)
		}
	}
	walk("spec", tree)
	return out
}

// TestLoadSamples_order puts every object after what it needs: the namespace
// before the Secret in it, Secrets before providers, providers and the people
// groups name before the groups.
func TestLoadSamples_order(t *testing.T) {
	g := NewWithT(t)
	objs, err := LoadSamples(filepath.Join("..", "..", "config", "samples"))
	g.Expect(err).NotTo(HaveOccurred())
	var kinds []string
	for _, u := range objs {
		kinds = append(kinds, u.GetKind())
	}
	g.Expect(kinds[0]).To(Equal("Namespace"))
	g.Expect(strings.Join(kinds, " ")).To(MatchRegexp(`^Namespace( Secret)+( (Chat|ClusterChat)Provider)+( ChatUser)+( ChatGroup)+$`))
}

// TestPointAtSimulators_unknownVendor refuses a provider no simulator serves.
func TestPointAtSimulators_unknownVendor(t *testing.T) {
	sims := &Simulators{}
	u := &unstructured.Unstructured{Object: map[string]any{"kind": "ChatProvider", "spec": map[string]any{"vendor": "Slack"}}}
	_, err := sims.PointAtSimulators([]*unstructured.Unstructured{u})
	NewWithT(t).Expect(err).To(MatchError(ContainSubstring(`no simulator for vendor "Slack"`)))
}

// TestTryThis builds the commands to try from the samples: every sample group
// is named, member changes use a spare user the samples do not name, and the
// groups can be applied again.
func TestTryThis(t *testing.T) {
	g := NewWithT(t)
	sims := StartSimulators(registry.Simulators(), SimOptions{})
	defer sims.Close()
	objs, err := LoadSamples(filepath.Join("..", "..", "config", "samples"))
	g.Expect(err).NotTo(HaveOccurred())
	_, err = sims.PointAtSimulators(objs)
	g.Expect(err).NotTo(HaveOccurred())

	text := sims.TryThis("kubectl", "kubectl-chatgroup", objs, "/tmp/groups.yaml")

	groups := sampleGroups(objs)
	g.Expect(groups).NotTo(BeEmpty())
	g.Expect(text).To(ContainSubstring("kubectl describe chatgroup " + strings.Join(names(groups), " ")))
	g.Expect(text).To(ContainSubstring("kubectl apply -f /tmp/groups.yaml"))
	g.Expect(text).To(ContainSubstring("kubectl-chatgroup export --include-managed --provider " + groups[0].providerName))
	spare := sims.spare(groups[0])
	g.Expect(spare).NotTo(BeEmpty())
	g.Expect(groups[0].members).NotTo(ContainElement(spare))
	g.Expect(text).To(ContainSubstring(fmt.Sprintf("kubectl patch chatgroup %s --type=merge", groups[0].name)))
	for _, sim := range sims.All() {
		g.Expect(sim.Users).NotTo(BeEmpty(), string(sim.Vendor))
		g.Expect(text).To(ContainSubstring(string(sim.Vendor) + " " + strings.Join(sim.Users, " ")))
		for _, grp := range groups {
			if grp.vendor == sim.Vendor {
				for _, id := range append([]string{grp.owner}, grp.members...) {
					g.Expect(sim.Users).NotTo(ContainElement(id), "spare users are not named by a sample")
				}
			}
		}
	}
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

// TestWriteChatGroups writes the sample ChatGroups without what the API server
// added, so kubectl can create them again.
func TestWriteChatGroups(t *testing.T) {
	g := NewWithT(t)
	objs, err := LoadSamples(filepath.Join("..", "..", "config", "samples"))
	g.Expect(err).NotTo(HaveOccurred())
	declared := map[string]any{}
	for _, u := range objs {
		if u.GetKind() == "ChatGroup" {
			declared[u.GetName()] = u.DeepCopy().Object
			u.SetUID("3f1c")
			u.SetResourceVersion("42")
			u.SetGeneration(2)
			u.SetFinalizers([]string{"im.chatgroup.io/finalizer"})
			u.Object["status"] = map[string]any{"groupID": "g1"}
		}
	}
	path := filepath.Join(t.TempDir(), "groups.yaml")
	g.Expect(WriteChatGroups(objs, path)).To(Succeed())
	again, err := LoadSamples(filepath.Dir(path))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again).To(HaveLen(len(declared)))
	for _, u := range again {
		g.Expect(u.Object).To(Equal(declared[u.GetName()]), u.GetName())
	}
}

func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, u := range objs {
		if u.GetKind() == kind && u.GetName() == name {
			return u
		}
	}
	return &unstructured.Unstructured{Object: map[string]any{}}
}
