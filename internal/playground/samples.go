package playground

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
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
	case "ChatGroup":
		return 3
	}
	return 4
}

// isProvider reports whether u is a ChatProvider or ClusterChatProvider.
func isProvider(u *unstructured.Unstructured) bool {
	return u.GetKind() == "ChatProvider" || u.GetKind() == "ClusterChatProvider"
}

// PointAtSimulators rewrites the samples in place so that they work against the
// simulators: each provider's endpoint (and DingTalk's legacy endpoint) becomes
// its simulator's URL and its account IDs the simulator's, and each Secret a
// provider reads gets the simulator's credentials instead of REPLACE_ME. ChatGroups
// are left as they are; their owners and members are added to the simulators'
// user directories. It returns one sentence per change, for the playground to
// print.
func (s *Simulators) PointAtSimulators(objs []*unstructured.Unstructured) ([]string, error) {
	var notes []string
	secrets := map[string]string{} // namespace/name -> vendor
	for _, u := range objs {
		if !isProvider(u) {
			continue
		}
		vendor, ns, name, err := s.pointProvider(u)
		if err != nil {
			return nil, err
		}
		secrets[ns+"/"+name] = vendor
		notes = append(notes, fmt.Sprintf("%s %s: spec.endpoint%s set to the %s simulator at %s", u.GetKind(), u.GetName(), accountFields[vendor], vendor, s.URLs[vendor]))
	}
	for _, u := range objs {
		switch u.GetKind() {
		case "Secret":
			vendor, ok := secrets[u.GetNamespace()+"/"+u.GetName()]
			if !ok {
				continue
			}
			keys := fillSecret(u, vendor)
			notes = append(notes, fmt.Sprintf("Secret %s/%s: %s set to the %s simulator's credentials instead of REPLACE_ME",
				u.GetNamespace(), u.GetName(), strings.Join(keys, " and "), vendor))
		case "ChatGroup":
			s.addGroupUsers(u)
		}
	}
	return notes, nil
}

// accountFields name the provider fields pointProvider sets besides spec.endpoint.
var accountFields = map[string]string{
	DingTalk:  " and spec.dingtalk.legacyEndpoint",
	TencentIM: " and spec.tencentIM (the simulated app)",
	WhatsApp:  " and spec.whatsapp (the simulated account)",
}

// pointProvider points one provider at its simulator and returns its vendor and
// the Secret it reads.
func (s *Simulators) pointProvider(u *unstructured.Unstructured) (vendor, secretNS, secretName string, err error) {
	vendor, _, _ = unstructured.NestedString(u.Object, "spec", "vendor")
	url, ok := s.URLs[vendor]
	if !ok {
		return "", "", "", fmt.Errorf("%s %s: no simulator for vendor %q", u.GetKind(), u.GetName(), vendor)
	}
	set := func(v any, path ...string) {
		if err == nil {
			err = unstructured.SetNestedField(u.Object, v, append([]string{"spec"}, path...)...)
		}
	}
	set(url, "endpoint")
	switch vendor {
	case DingTalk:
		set(url, "dingtalk", "legacyEndpoint")
	case TencentIM:
		set(TencentIMAppID, "tencentIM", "sdkAppID")
		set(TencentIMAdmin, "tencentIM", "adminIdentifier")
	case WhatsApp:
		set(CAMSCustSpaceID, "whatsapp", "custSpaceID")
		set(CAMSBusinessNumber, "whatsapp", "businessNumber")
	}
	secretName, _, _ = unstructured.NestedString(u.Object, "spec", "credentialsSecretRef", "name")
	secretNS, _, _ = unstructured.NestedString(u.Object, "spec", "credentialsSecretRef", "namespace")
	if u.GetKind() == "ChatProvider" { // always its own namespace
		secretNS = u.GetNamespace()
	}
	return vendor, secretNS, secretName, err
}

// fillSecret replaces a credentials Secret's content with the simulator's
// credentials for vendor and returns the keys it set.
func fillSecret(u *unstructured.Unstructured, vendor string) []string {
	data := map[string]any{}
	switch vendor {
	case DingTalk:
		data = map[string]any{"appKey": DingTalkAppKey, "appSecret": DingTalkAppSecret}
	case TencentIM:
		data = map[string]any{"secretKey": TencentIMSecretKey}
	case WhatsApp:
		data = map[string]any{"accessKeyID": CAMSAccessKeyID, "accessKeySecret": CAMSAccessKeySecret}
	}
	unstructured.RemoveNestedField(u.Object, "data")
	u.Object["stringData"] = data
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// addGroupUsers adds a sample group's owner and members to its vendor's directory.
func (s *Simulators) addGroupUsers(u *unstructured.Unstructured) {
	vendor, _, _ := unstructured.NestedString(u.Object, "spec", "vendor")
	ids, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "members")
	if owner, _, _ := unstructured.NestedString(u.Object, "spec", "owner"); owner != "" {
		ids = append(ids, owner)
	}
	s.AddUsers(vendor, ids...)
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
