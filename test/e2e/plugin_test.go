//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/playground"
	"github.com/chatgroup-operator/chatgroup-operator/internal/registry"
)

// pluginBinary is built by 'make e2e'.
var pluginBinary = filepath.Join(root, "bin", "kubectl-chatgroup")

// account is a fresh simulated vendor account with groups made before the
// operator managed them, and the ChatProvider for it (named "account") in its
// own namespace.
type account struct {
	sim *playground.Simulator
	ns  string
	// groups are the IDs of the groups that existed before the export.
	groups []string
	// exported is the export's output file.
	exported string
}

// existingNames are the titles of the groups each account starts with: one
// that makes a readable Kubernetes name and one that has no ASCII letters.
var existingNames = []string{"Legacy Ops", "运维值班"}

// TestPlugin brings existing groups under management with kubectl-chatgroup,
// run as a binary with the admin's kubeconfig, against a fresh account on
// every registered vendor's simulator. Each step builds on the previous ones.
func TestPlugin(t *testing.T) {
	if _, err := os.Stat(pluginBinary); err != nil {
		t.Fatalf("%s is missing: run 'make e2e', which builds it", pluginBinary)
	}
	if mgr == nil { // run alone: TestUserJourney installs the operator
		install(t)
	}
	fresh := playground.StartSimulators(registry.Simulators(), playground.SimOptions{})
	defer fresh.Close()
	var accounts []*account
	for _, sim := range fresh.All() {
		accounts = append(accounts, &account{sim: sim, ns: "adopt-" + strings.ToLower(string(sim.Vendor))})
	}
	steps := []struct {
		name string
		run  func(t *testing.T, a []*account)
	}{
		{"groups exist on the vendors before any ChatGroup", seedGroups},
		{"export prints every group, twice the same bytes", exportGroups},
		{"applying the export adopts every group with no vendor write", applyExport},
		{"reconcile asks for a drift check and prints Ready", reconcileNow},
		{"plan shows no drift, and approve refuses with nothing held", nothingToApprove},
		{"under Full, plan shows held removals and approve applies them", approveHeld},
	}
	for _, s := range steps {
		start := time.Now()
		ok := t.Run(s.name, func(t *testing.T) { s.run(t, accounts) })
		t.Logf("%-62s %5.1fs", s.name, time.Since(start).Seconds())
		if !ok {
			t.FailNow()
		}
	}
}

// seedGroups makes the groups of each account through the operator, with
// deletionPolicy Orphan, lets invitees join where the vendor needs them to,
// and deletes the ChatGroups: the groups stay on the vendor, managed by nobody.
func seedGroups(t *testing.T, accounts []*account) {
	g := NewWithT(t)
	var docs []string
	var groups []*v1alpha1.ChatGroup
	for _, a := range accounts {
		settings, data := a.sim.Provider(a.sim.URL)
		docs = append(docs, toYAML(t, &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: a.ns}}),
			toYAML(t, &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
				ObjectMeta: metav1.ObjectMeta{Name: "account-credentials", Namespace: a.ns}, Data: data}),
			toYAML(t, &v1alpha1.ChatProvider{TypeMeta: metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "ChatProvider"},
				ObjectMeta: metav1.ObjectMeta{Name: "account", Namespace: a.ns},
				Spec:       v1alpha1.ChatProviderSpec{ProviderSettings: settings, CredentialsSecretRef: v1alpha1.LocalSecretReference{Name: "account-credentials"}}}))
		for i, name := range existingNames {
			cg := &v1alpha1.ChatGroup{
				TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "ChatGroup"},
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("seed-%d", i), Namespace: a.ns},
				Spec: v1alpha1.ChatGroupSpec{Vendor: a.sim.Vendor, ProviderRef: v1alpha1.ProviderReference{Name: "account"},
					Name: name, Members: a.sim.Users[1:3]},
			}
			a.sim.Spec(&cg.Spec, a.sim.Users[0])
			groups = append(groups, cg)
		}
	}
	applyManifest(t, "adopt-accounts.yaml", strings.Join(docs, "---\n"))
	applyManifest(t, "adopt-seed.yaml", manifest(t, groups...))
	for _, a := range accounts {
		kubectl(t, "wait", "chatgroups", "--all", "-n", a.ns, "--for=condition=Ready", "--timeout=60s")
		for i := range existingNames {
			name := fmt.Sprintf("seed-%d", i)
			cg := chatGroupIn(t, a.ns, name)
			if !membersSynced(cg) {
				join(t, a, cg)
			}
			a.groups = append(a.groups, chatGroupIn(t, a.ns, name).Status.GroupID)
		}
		kubectl(t, "delete", "chatgroups", "--all", "-n", a.ns, "--timeout=60s")
		for _, id := range a.groups {
			_, _, ok := a.sim.Lookup(id)
			g.Expect(ok).To(BeTrue(), "%s group %s stays (deletionPolicy Orphan)", a.sim.Vendor, id)
		}
	}
}

// join lets cg's invitees join with the invitation the operator published and
// waits until the operator has seen them all (and revoked the invitation).
func join(t *testing.T, a *account, cg *v1alpha1.ChatGroup) {
	t.Helper()
	g := NewWithT(t)
	j, ok := a.sim.Harness.(joiner)
	g.Expect(ok).To(BeTrue(), "the %s simulator lets invitees join (Join)", a.sim.Vendor)
	secret := invitation(t, cg)
	for _, value := range secret.Data {
		for _, member := range cg.Spec.Members {
			g.Expect(j.Join(string(value), member)).To(Succeed(), member)
		}
	}
	kubectl(t, "annotate", "--overwrite", "-n", a.ns, "chatgroup", cg.Name, v1alpha1.ReconcileRequestAnnotation+"="+time.Now().Format(time.RFC3339Nano))
	kubectl(t, "wait", "-n", a.ns, "chatgroup/"+cg.Name, "--for=condition=MembersSynced", "--timeout=30s")
	kubectl(t, "wait", "-n", a.ns, "secret/"+secret.Name, "--for=delete", "--timeout=30s")
}

// exportGroups exports each account: every group where the vendor lists
// groups, else the groups named with --group-id (the plugin says so when they
// are missing). A second export gives the same bytes.
func exportGroups(t *testing.T, accounts []*account) {
	g := NewWithT(t)
	for _, a := range accounts {
		args := []string{"export", "--provider", "account", "-n", a.ns}
		out, errOut, code := runPlugin(t, args...)
		if code == 2 && strings.Contains(errOut, "--group-id") {
			t.Logf("%s cannot list groups: %s", a.sim.Vendor, strings.TrimSpace(errOut))
			for _, id := range a.groups {
				args = append(args, "--group-id", id)
			}
			out, errOut, code = runPlugin(t, args...)
		}
		g.Expect(code).To(Equal(0), errOut)
		g.Expect(errOut).To(MatchRegexp(`Exported 2 %s groups of ChatProvider account with \d+ vendor calls in [0-9.]+s`, a.sim.Vendor))
		t.Logf("%s export:\n%s%s", a.sim.Vendor, errOut, out)

		again, _, code := runPlugin(t, args...)
		g.Expect(code).To(Equal(0))
		g.Expect(again).To(Equal(out), "%s: a second export of the same groups is byte-identical", a.sim.Vendor)

		objs := decodeExport(t, out)
		var ids, names []string
		for _, cg := range objs {
			ids = append(ids, cg.Spec.AdoptGroupID)
			names = append(names, cg.Name)
			g.Expect(validation.IsDNS1123Label(cg.Name)).To(BeEmpty(), cg.Name)
			g.Expect(cg.Namespace).To(Equal(a.ns))
			g.Expect(cg.Spec.ProviderRef).To(Equal(v1alpha1.ProviderReference{Kind: v1alpha1.ChatProviderKind, Name: "account"}))
			g.Expect(cg.Spec.ManagementPolicy).To(Equal(v1alpha1.ObserveOnly), cg.Name)
		}
		g.Expect(ids).To(ConsistOf(a.groups), "%s: every existing group, once", a.sim.Vendor)
		g.Expect(names).To(ContainElement("legacy-ops"))
		g.Expect(slices.IsSorted(names)).To(BeTrue(), "sorted by name: %v", names)
		a.exported = filepath.Join(tmp, a.ns+".yaml")
		g.Expect(os.WriteFile(a.exported, []byte(out), 0o600)).To(Succeed())
	}
}

// applyExport applies each export with kubectl apply and expects every
// ChatGroup Ready for its generation, and not one vendor write.
func applyExport(t *testing.T, accounts []*account) {
	g := NewWithT(t)
	var writes []func() int
	for _, a := range accounts {
		writes = append(writes, writesSince(a.sim))
	}
	for _, a := range accounts {
		kubectl(t, "apply", "-f", a.exported)
	}
	for i, a := range accounts {
		kubectl(t, "wait", "chatgroups", "--all", "-n", a.ns, "--for=condition=Ready", "--timeout=60s")
		kubectl(t, "wait", "chatgroups", "--all", "-n", a.ns, readyReason(v1alpha1.InSyncReason), "--timeout=10s")
		list := &v1alpha1.ChatGroupList{}
		g.Expect(yaml.Unmarshal([]byte(kubectl(t, "get", "chatgroups", "-n", a.ns, "-o", "json")), list)).To(Succeed())
		g.Expect(list.Items).To(HaveLen(len(a.groups)))
		for _, cg := range list.Items {
			g.Expect(cg.Status.ObservedGeneration).To(Equal(cg.Generation), cg.Name)
			g.Expect(cg.Status.GroupID).To(Equal(cg.Spec.AdoptGroupID), cg.Name)
		}
		g.Expect(writes[i]()).To(Equal(0), "%s: adopting the exported groups writes nothing", a.sim.Vendor)
	}
}

// reconcileNow runs reconcile on an adopted group, and on one that does not
// exist.
func reconcileNow(t *testing.T, accounts []*account) {
	g := NewWithT(t)
	a := accounts[0]
	out, errOut, code := runPlugin(t, "reconcile", "legacy-ops", "-n", a.ns, "--timeout", "60s")
	g.Expect(code).To(Equal(0), errOut)
	g.Expect(out).To(HavePrefix("chatgroup/legacy-ops handled: Ready=True InSync: "))
	cg := chatGroupIn(t, a.ns, "legacy-ops")
	g.Expect(cg.Status.LastHandledReconcileAt).To(Equal(cg.Annotations[v1alpha1.ReconcileRequestAnnotation]))

	_, errOut, code = runPlugin(t, "reconcile", "no-such-group", "-n", a.ns)
	g.Expect(code).To(Equal(1))
	g.Expect(errOut).To(ContainSubstring(`ChatGroup "no-such-group" not found in namespace ` + a.ns))
}

// nothingToApprove runs plan and approve on an adopted group, which has no
// drift and no held removals.
func nothingToApprove(t *testing.T, accounts []*account) {
	g := NewWithT(t)
	a := accounts[0]
	out, errOut, code := runPlugin(t, "plan", "legacy-ops", "-n", a.ns)
	g.Expect(code).To(Equal(0), errOut)
	g.Expect(out).To(ContainSubstring("No drift"))

	out, errOut, code = runPlugin(t, "approve", "legacy-ops", "-n", a.ns)
	g.Expect(code).To(Equal(1))
	g.Expect(out).To(BeEmpty())
	g.Expect(errOut).To(ContainSubstring("has no removals held by the removal guard"))
	g.Expect(chatGroupIn(t, a.ns, "legacy-ops").Annotations).NotTo(HaveKey(v1alpha1.ApproveRemovalsAnnotation))
}

// approveHeld switches an adopted group to managementPolicy Full with a spec
// that removes both members and a removal guard of one: the removals are held
// until approve, then applied.
func approveHeld(t *testing.T, accounts []*account) {
	g := NewWithT(t)
	a := accounts[0]
	cg := chatGroupIn(t, a.ns, "legacy-ops")
	g.Expect(cg.Spec.Members).To(HaveLen(2))
	kubectl(t, "patch", "-n", a.ns, "chatgroup", "legacy-ops", "--type=merge", "-p",
		`{"spec":{"managementPolicy":"Full","members":null,"removalGuard":{"maxRemovals":1}}}`)
	kubectl(t, "wait", "-n", a.ns, "chatgroup/legacy-ops", readyReason(v1alpha1.RemovalsHeldReason), "--timeout=30s")
	cg = chatGroupIn(t, a.ns, "legacy-ops")
	g.Expect(cg.Status.Drift).NotTo(BeNil())
	g.Expect(cg.Status.Drift.RemovalToken).NotTo(BeEmpty())
	_, held, _ := a.sim.Lookup(cg.Status.GroupID)
	g.Expect(held).To(ContainElements(cg.Status.Drift.Remove), "held, not removed")

	out, errOut, code := runPlugin(t, "plan", "legacy-ops", "-n", a.ns)
	g.Expect(code).To(Equal(0), errOut)
	g.Expect(out).To(ContainSubstring("To remove (2): " + strings.Join(cg.Status.Drift.Remove, " ")))
	g.Expect(out).To(ContainSubstring("kubectl chatgroup approve legacy-ops -n " + a.ns))

	out, errOut, code = runPlugin(t, "approve", "legacy-ops", "-n", a.ns)
	g.Expect(code).To(Equal(0), errOut)
	g.Expect(out).To(HavePrefix("chatgroup/legacy-ops approved: removing 2 members (token " + cg.Status.Drift.RemovalToken + ")"))
	g.Expect(chatGroupIn(t, a.ns, "legacy-ops").Annotations).To(HaveKeyWithValue(v1alpha1.ApproveRemovalsAnnotation, cg.Status.Drift.RemovalToken))
	kubectl(t, "wait", "-n", a.ns, "chatgroup/legacy-ops", readyReason(v1alpha1.SucceededReason), "--timeout=30s")
	_, members, _ := a.sim.Lookup(cg.Status.GroupID)
	for _, gone := range cg.Status.Drift.Remove {
		g.Expect(members).NotTo(ContainElement(gone), "the approved removals are applied")
	}
}

// runPlugin runs kubectl-chatgroup with the admin's kubeconfig and returns its
// output, error output and exit code.
func runPlugin(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	t.Logf("$ kubectl chatgroup %s", strings.Join(args, " "))
	ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, pluginBinary, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return o.String(), e.String(), exit.ExitCode()
	}
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	return o.String(), e.String(), 0
}

// decodeExport reads the ChatGroups of a YAML export.
func decodeExport(t *testing.T, out string) []v1alpha1.ChatGroup {
	t.Helper()
	var objs []v1alpha1.ChatGroup
	for _, doc := range strings.Split(out, "\n---\n")[1:] {
		cg := v1alpha1.ChatGroup{}
		NewWithT(t).Expect(yaml.UnmarshalStrict([]byte(doc), &cg)).To(Succeed(), doc)
		objs = append(objs, cg)
	}
	return objs
}

// chatGroupIn reads a ChatGroup of namespace ns.
func chatGroupIn(t *testing.T, ns, name string) *v1alpha1.ChatGroup {
	t.Helper()
	cg := &v1alpha1.ChatGroup{}
	NewWithT(t).Expect(yaml.Unmarshal([]byte(kubectl(t, "get", "-n", ns, "chatgroup/"+name, "-o", "json")), cg)).To(Succeed())
	return cg
}

// toYAML renders one object.
func toYAML(t *testing.T, obj any) string {
	t.Helper()
	data, err := yaml.Marshal(obj)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	return string(data)
}
