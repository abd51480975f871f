package playground

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

// LoadSamples reads every object in dir's YAML files (kustomization.yaml aside),
// ordered so that each one's dependencies come first: namespaces, Secrets,
// providers, then ChatGroups.
func LoadSamples(dir string) ([]*unstructured.Unstructured, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		more, err := decodeFile(f)
		if err != nil {
			return nil, err
		}
		objs = append(objs, more...)
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("no objects in %s", dir)
	}
	slices.SortStableFunc(objs, func(a, b *unstructured.Unstructured) int { return applyRank(a) - applyRank(b) })
	return objs, nil
}

func decodeFile(path string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
}

// applyRank orders kinds so that nothing refers to an object not applied yet.
func applyRank(u *unstructured.Unstructured) int {
	switch u.GetKind() {
	case "Namespace":
		return 0
	case "Secret":
		return 1
	case "ChatProvider", "ClusterChatProvider":
		return 2
	case "ChatUser": // before the groups that name them, so no group resolves them as missing
		return 3
	case "ChatGroup":
		return 4
	}
	return 5
}

// isProvider reports whether u is a ChatProvider or ClusterChatProvider.
func isProvider(u *unstructured.Unstructured) bool {
	return u.GetKind() == "ChatProvider" || u.GetKind() == "ClusterChatProvider"
}

// PointAtSimulators rewrites the samples in place so that they work against the
// simulators: each provider gets its simulator's settings (Harness.Provider: the
// endpoint and the account's IDs in the vendor's block, other fields kept), and
// each Secret a provider reads gets the simulator's credentials instead of
// REPLACE_ME. ChatGroups are left as they are; their owners and members are
// added to the simulators' user directories. It returns one sentence per
// change, for the playground to print.
func (s *Simulators) PointAtSimulators(objs []*unstructured.Unstructured) ([]string, error) {
	var notes []string
	secrets := map[string]*Simulator{} // namespace/name -> its provider's simulator
	for _, u := range objs {
		if !isProvider(u) {
			continue
		}
		sim, ns, name, fields, err := s.pointProvider(u)
		if err != nil {
			return nil, err
		}
		secrets[ns+"/"+name] = sim
		notes = append(notes, fmt.Sprintf("%s %s: %s set to the %s simulator at %s", u.GetKind(), u.GetName(), strings.Join(fields, ", "), sim.Vendor, sim.URL))
	}
	for _, u := range objs {
		switch u.GetKind() {
		case "Secret":
			sim, ok := secrets[u.GetNamespace()+"/"+u.GetName()]
			if !ok {
				continue
			}
			keys := fillSecret(u, sim)
			notes = append(notes, fmt.Sprintf("Secret %s/%s: %s set to the %s simulator's credentials instead of REPLACE_ME",
				u.GetNamespace(), u.GetName(), strings.Join(keys, " and "), sim.Vendor))
		case "ChatGroup":
			s.addGroupUsers(u)
		}
	}
	return notes, nil
}

// pointProvider gives one provider its simulator's settings and returns the
// simulator, the Secret the provider reads and the fields it set.
func (s *Simulators) pointProvider(u *unstructured.Unstructured) (sim *Simulator, secretNS, secretName string, fields []string, err error) {
	vendor, _, _ := unstructured.NestedString(u.Object, "spec", "vendor")
	sim, ok := s.Get(v1alpha1.Vendor(vendor))
	if !ok {
		return nil, "", "", nil, fmt.Errorf("%s %s: no simulator for vendor %q", u.GetKind(), u.GetName(), vendor)
	}
	settings, _ := sim.Provider(sim.URL)
	want, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&settings)
	if err != nil {
		return nil, "", "", nil, err
	}
	delete(want, "vendor")
	spec, _, _ := unstructured.NestedMap(u.Object, "spec")
	fields = merge(spec, want, "spec")
	if err := unstructured.SetNestedMap(u.Object, spec, "spec"); err != nil {
		return nil, "", "", nil, err
	}
	secretName, _, _ = unstructured.NestedString(u.Object, "spec", "credentialsSecretRef", "name")
	secretNS, _, _ = unstructured.NestedString(u.Object, "spec", "credentialsSecretRef", "namespace")
	if u.GetKind() == "ChatProvider" { // always its own namespace
		secretNS = u.GetNamespace()
	}
	return sim, secretNS, secretName, fields, nil
}

// merge sets every field of src in dst, descending into objects so that dst's
// other fields stay, and returns the paths of the values it set (below path),
// in order.
func merge(dst, src map[string]any, path string) []string {
	var set []string
	for _, k := range slices.Sorted(maps.Keys(src)) {
		if sub, isMap := src[k].(map[string]any); isMap {
			have, ok := dst[k].(map[string]any)
			if !ok {
				have = map[string]any{}
				dst[k] = have
			}
			set = append(set, merge(have, sub, path+"."+k)...)
			continue
		}
		dst[k] = src[k]
		set = append(set, path+"."+k)
	}
	return set
}

// fillSecret replaces a credentials Secret's content with sim's credentials
// and returns the keys it set.
func fillSecret(u *unstructured.Unstructured, sim *Simulator) []string {
	_, data := sim.Provider(sim.URL)
	stringData := map[string]any{}
	for k, v := range data {
		stringData[k] = string(v)
	}
	unstructured.RemoveNestedField(u.Object, "data")
	u.Object["stringData"] = stringData
	return slices.Sorted(maps.Keys(data))
}

// addGroupUsers adds a sample group's owner and members to its vendor's
// directory; they are no longer spare.
func (s *Simulators) addGroupUsers(u *unstructured.Unstructured) {
	vendor, _, _ := unstructured.NestedString(u.Object, "spec", "vendor")
	sim, ok := s.Get(v1alpha1.Vendor(vendor))
	if !ok {
		return
	}
	ids, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "members")
	if owner, _, _ := unstructured.NestedString(u.Object, "spec", "owner"); owner != "" {
		ids = append(ids, owner)
	}
	sim.AddUsers(ids...)
	sim.Users = slices.DeleteFunc(sim.Users, func(id string) bool { return slices.Contains(ids, id) })
}

// WriteManifests writes objs to path as one multi-document YAML file, for
// `kubectl apply -f`.
func WriteManifests(objs []*unstructured.Unstructured, path string) error {
	var buf bytes.Buffer
	for _, u := range objs {
		data, err := yaml.Marshal(u.Object)
		if err != nil {
			return err
		}
		buf.WriteString("---\n")
		buf.Write(data)
	}
	return os.WriteFile(path, buf.Bytes(), 0o600)
}

// WriteChatGroups writes the ChatGroups of objs to path as they were declared
// (without what the API server added on create), for applying them again with
// kubectl after they were deleted.
func WriteChatGroups(objs []*unstructured.Unstructured, path string) error {
	var groups []*unstructured.Unstructured
	for _, u := range objs {
		if u.GetKind() != "ChatGroup" {
			continue
		}
		c := u.DeepCopy()
		delete(c.Object, "status")
		for _, f := range []string{"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "deletionTimestamp", "finalizers"} {
			unstructured.RemoveNestedField(c.Object, "metadata", f)
		}
		groups = append(groups, c)
	}
	return WriteManifests(groups, path)
}
