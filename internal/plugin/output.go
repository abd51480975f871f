package plugin

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// chatGroups turns the groups read from a vendor into the ChatGroups that
// adopt them read-only, sorted by name.
func chatGroups(groups []vendors.ObservedGroup, reg vendors.Registration, ref v1alpha1.ProviderReference, ns string) []v1alpha1.ChatGroup {
	groups = slices.Clone(groups)
	slices.SortFunc(groups, func(a, b vendors.ObservedGroup) int { return strings.Compare(a.ID, b.ID) })
	names := objectNames(groups)
	out := make([]v1alpha1.ChatGroup, 0, len(groups))
	for i, g := range groups {
		out = append(out, adopting(g, reg, ref, types.NamespacedName{Namespace: ns, Name: names[i]}))
	}
	slices.SortFunc(out, func(a, b v1alpha1.ChatGroup) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// adopting is the ChatGroup that adopts g read-only: what the vendor holds,
// so that the operator finds nothing to change.
func adopting(g vendors.ObservedGroup, reg vendors.Registration, ref v1alpha1.ProviderReference, key types.NamespacedName) v1alpha1.ChatGroup {
	spec := v1alpha1.ChatGroupSpec{
		Vendor:           reg.Vendor,
		ProviderRef:      ref,
		Name:             g.Name,
		Owner:            g.Owner,
		AdoptGroupID:     g.ID,
		ManagementPolicy: v1alpha1.ObserveOnly,
		// The owner is always a member; the spec lists the others.
		Members: slices.Sorted(slices.Values(vendors.Difference(g.Members, []string{g.Owner}))),
	}
	if len(spec.Members) == 0 {
		spec.Members = nil
	}
	if reg.Export != nil {
		reg.Export(g, &spec)
	}
	return v1alpha1.ChatGroup{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "ChatGroup"},
		ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace},
		Spec:       spec,
	}
}

// maxNameLength keeps names short enough to read and to carry a suffix.
const maxNameLength = 48

// objectNames derives a valid, unique Kubernetes name for each group from its
// name: lowercase letters and digits, other runs as "-". A name that several
// groups (or none) would get carries a hash of the group ID, so each group's
// name depends only on the groups sharing it, not on the order of the list.
func objectNames(groups []vendors.ObservedGroup) []string {
	slugs := make([]string, len(groups))
	count := map[string]int{}
	for i, g := range groups {
		slugs[i] = slug(g.Name)
		count[slugs[i]]++
	}
	names := make([]string, len(groups))
	taken := map[string]bool{}
	for i, g := range groups {
		name := slugs[i]
		if name == "" || count[name] > 1 {
			name = strings.TrimSuffix(cmpOr(name, "group")+"-"+idHash(g.ID, 8), "-")
		}
		if taken[name] { // a hash suffix collided with a group's own name
			name = cmpOr(slugs[i], "group") + "-" + idHash(g.ID, 16)
		}
		taken[name] = true
		names[i] = name
	}
	return names
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// slug is name as a DNS label: lowercase ASCII letters and digits, every other
// run of characters one "-", at most maxNameLength characters.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	s := b.String()
	if len(s) > maxNameLength {
		s = strings.TrimRight(s[:maxNameLength], "-")
	}
	return s
}

// idHash is the first n hex digits of the SHA-256 of a group ID.
func idHash(id string, n int) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])[:n]
}

// header is the comment that starts a YAML export. It holds no time, so two
// exports of the same groups are the same bytes.
func header(vendor v1alpha1.Vendor, ref v1alpha1.ProviderReference, ns string, n int) string {
	return fmt.Sprintf("# kubectl chatgroup export: %s of %s %s as ChatGroups in namespace %s,\n"+
		"# adopted read-only (managementPolicy ObserveOnly). Review, apply, then check\n"+
		"# 'kubectl chatgroup plan NAME' before switching a group to managementPolicy Full.\n",
		groupCount(n, vendor), ref.Kind, ref.Name, ns)
}

// groupCount is "1 TencentIM group" or "n TencentIM groups".
func groupCount(n int, vendor v1alpha1.Vendor) string {
	if n == 1 {
		return fmt.Sprintf("1 %s group", vendor)
	}
	return fmt.Sprintf("%d %s groups", n, vendor)
}

// print writes objs as YAML documents (after header) or as a JSON List.
func print(w io.Writer, format string, objs []v1alpha1.ChatGroup, header string) error {
	if format == "json" {
		items := make([]json.RawMessage, 0, len(objs))
		for i := range objs {
			data, err := json.Marshal(&objs[i])
			if err != nil {
				return err
			}
			items = append(items, data)
		}
		data, err := json.MarshalIndent(map[string]any{"apiVersion": "v1", "kind": "List", "items": items}, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", data)
		return err
	}
	if _, err := io.WriteString(w, header); err != nil {
		return err
	}
	for i := range objs {
		data, err := yaml.Marshal(&objs[i])
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "---\n%s", data); err != nil {
			return err
		}
	}
	return nil
}
