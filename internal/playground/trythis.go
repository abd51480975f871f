package playground

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

// sampleGroup is what TryThis says about one sample ChatGroup.
type sampleGroup struct {
	name, owner, policy string
	vendor              v1alpha1.Vendor
	members             []string
	// providerKind and providerName are its spec.providerRef.
	providerKind, providerName string
}

// sampleGroups reads the sample ChatGroups of objs.
func sampleGroups(objs []*unstructured.Unstructured) []sampleGroup {
	var out []sampleGroup
	for _, u := range objs {
		if u.GetKind() != "ChatGroup" {
			continue
		}
		g := sampleGroup{name: u.GetName()}
		vendor, _, _ := unstructured.NestedString(u.Object, "spec", "vendor")
		g.vendor = v1alpha1.Vendor(vendor)
		g.owner, _, _ = unstructured.NestedString(u.Object, "spec", "owner")
		g.policy, _, _ = unstructured.NestedString(u.Object, "spec", "deletionPolicy")
		g.members, _, _ = unstructured.NestedStringSlice(u.Object, "spec", "members")
		g.providerKind, _, _ = unstructured.NestedString(u.Object, "spec", "providerRef", "kind")
		g.providerName, _, _ = unstructured.NestedString(u.Object, "spec", "providerRef", "name")
		out = append(out, g)
	}
	return out
}

// TryThis returns the kubectl commands a newcomer can try once the samples are
// Ready, built from the samples themselves (objs, as PointAtSimulators left
// them) and the simulators' spare users. kubectl and plugin are the commands
// (kubectl and kubectl-chatgroup) with their flags; groupsFile holds the sample
// ChatGroups, to apply again after deleting them.
func (s *Simulators) TryThis(kubectl, plugin string, objs []*unstructured.Unstructured, groupsFile string) string {
	groups := sampleGroups(objs)
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("")
	p("Try these in another terminal, from the repository root (the output here shows what each one causes):")
	p("")
	p("  # the groups: Vendor, Group ID, Members, Ready, Status (Ready's message), Age")
	p("  %s get chatgroups", kubectl)
	p("  %s get chatproviders,clusterchatproviders -A", kubectl)
	if len(groups) > 0 {
		first := groups[0]
		p("")
		if spare := s.spare(first); spare != "" && len(first.members) > 0 {
			members := append(slices.Clone(first.members[:len(first.members)-1]), spare)
			patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"members": members}})
			p("  # change members (%s): the fewest %s calls add %s and remove %s", first.name, first.vendor, spare, first.members[len(first.members)-1])
			p("  %s patch chatgroup %s --type=merge -p '%s'", kubectl, first.name, patch)
		}
		if len(groups) > 1 {
			second := groups[1]
			if spare := s.spare(second); spare != "" {
				p("  # or edit in $EDITOR, e.g. add %s to %s's members (%s)", spare, second.name, second.vendor)
			} else {
				p("  # or edit in $EDITOR")
			}
			p("  %s edit chatgroup %s", kubectl, second.name)
		}
		p("")
		p("  # conditions (MembersSynced says who has yet to join by themselves, where a vendor needs that) and events")
		p("  %s describe chatgroup %s", kubectl, strings.Join(names(groups), " "))
		p("")
		p("  # a drift check now (reads, no writes), or no vendor calls at all")
		p(`  %s annotate --overwrite chatgroup %s im.chatgroup.io/reconcile-requested-at="$(date +%%s)"`, kubectl, first.name)
		p(`  %s patch chatgroup %s --type=merge -p '{"spec":{"suspend":true}}'`, kubectl, first.name)
		p("")
		p("  # export a group as the read-only ChatGroup that would adopt it (kubectl chatgroup with bin/ on PATH);")
		p("  # without --group-id: every group of the account, where the vendor can list them")
		p("  %s", exportCommand(kubectl, plugin, first))
		p("")
		p("  # delete: %s", policies(groups))
		p("  %s delete chatgroup %s", kubectl, strings.Join(names(groups), " "))
		p("  %s get events --field-selector involvedObject.kind=ChatGroup", kubectl)
		p("  %s apply -f %s", kubectl, groupsFile)
	}
	p("")
	var users []string
	for _, sim := range s.list {
		users = append(users, fmt.Sprintf("%s %s", sim.Vendor, strings.Join(sim.Users, " ")))
	}
	p("Spare users the simulators know: %s.", strings.Join(users, "; "))
	p("Ctrl-C stops everything.")
	p("")
	return b.String()
}

// exportCommand is the kubectl-chatgroup export of g's vendor group.
func exportCommand(kubectl, plugin string, g sampleGroup) string {
	cmd := plugin + " export --include-managed --provider " + g.providerName
	if g.providerKind == string(v1alpha1.ClusterChatProviderKind) {
		cmd += " --cluster-provider"
	}
	return fmt.Sprintf(`%s --group-id "$(%s get chatgroup %s -o jsonpath='{.status.groupID}')"`, cmd, kubectl, g.name)
}

// spare returns a spare user of g's vendor that g does not name ("" if none).
func (s *Simulators) spare(g sampleGroup) string {
	sim, ok := s.Get(g.vendor)
	if !ok {
		return ""
	}
	for _, id := range sim.Users {
		if id != g.owner && !slices.Contains(g.members, id) {
			return id
		}
	}
	return ""
}

// policies says what deleting each group does on its vendor.
func policies(groups []sampleGroup) string {
	var parts []string
	for _, g := range groups {
		if g.policy == "Delete" {
			parts = append(parts, fmt.Sprintf("%s has deletionPolicy Delete (its %s group is deleted too)", g.name, g.vendor))
		} else {
			parts = append(parts, fmt.Sprintf("%s keeps the default Orphan (its %s group stays)", g.name, g.vendor))
		}
	}
	return strings.Join(parts, "; ")
}

func names(groups []sampleGroup) []string {
	out := make([]string, len(groups))
	for i, g := range groups {
		out[i] = g.name
	}
	return out
}
