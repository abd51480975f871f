//go:build e2e

package e2e

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/playground"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// sample is a ChatGroup of config/samples, as declared, and its vendor's
// simulator.
type sample struct {
	*v1alpha1.ChatGroup
	sim *playground.Simulator
}

var (
	// samples are the sample ChatGroups, in config/samples order; applySamples
	// sets them.
	samples []sample
	// providers are the sample providers as kubectl names them
	// (kind/name, lowercase kind).
	providers []string
	// restarted are the groups killAndRestart creates, with their simulators.
	restarted []sample
)

// joiner is a simulator whose vendor lets members join by themselves with the
// invitation the operator publishes (such as an invite link).
type joiner interface {
	Join(invitation, member string) error
}

// TestUserJourney walks through what a user does with the operator, in order;
// each step builds on the previous ones, so the first failure ends the test.
// Every step covers every sample, and so every registered vendor.
func TestUserJourney(t *testing.T) {
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"install the operator with kubectl apply -k and run it as its ServiceAccount", install},
		{"apply the samples with kubectl", applySamples},
		{"a group is Progressing while its vendor creates it asynchronously", creatingIsProgressing},
		{"every sample becomes Ready", samplesReady},
		{"kubectl get prints the columns", printerColumns},
		{"the vendors hold what the samples say", vendorsHoldSamples},
		{"kstatus and the Argo CD health check see Ready objects", readyObjectsAreHealthy},
		{"kubectl patch changes members with one vendor write", editMembers},
		{"invitees join with the published invitation", inviteesJoin},
		{"a killed manager restarts without duplicates or lost edits", killAndRestart},
		{"suspend stops all vendor calls", suspend},
		{"a spec the operator cannot apply is Stalled", stalled},
		{"admission rejects what a vendor cannot hold", admission},
		{"nothing secret reaches objects, events or logs", noSecrets},
		{"delete carries out the deletion policy behind the finalizer", deletion},
		{"metrics count vendor calls", metrics},
	}
	for _, s := range steps {
		start := time.Now()
		ok := t.Run(s.name, s.run)
		t.Logf("%-62s %5.1fs", s.name, time.Since(start).Seconds())
		if !ok {
			t.FailNow()
		}
	}
}

// operatorAccount is the ServiceAccount config/default runs the operator as.
const operatorAccount = "system:serviceaccount:chatgroup-system:chatgroup-operator-controller-manager"

// install applies config/default as a cluster admin would and checks what it
// grants; then runs bin/manager as the operator's ServiceAccount (the local
// control plane runs no pods), so the operator has exactly config/rbac's
// permissions for the rest of the test.
func install(t *testing.T) {
	g := NewWithT(t)
	out := kubectl(t, "apply", "-k", filepath.Join(root, "config", "default"))
	for _, line := range []string{
		"namespace/chatgroup-system created",
		"clusterrole.rbac.authorization.k8s.io/chatgroup-operator-manager-role created",
		"deployment.apps/chatgroup-operator-controller-manager created",
		"service/chatgroup-operator-controller-manager-metrics created",
	} {
		g.Expect(out).To(ContainSubstring(line))
	}
	for verb, want := range map[string]string{"get": "yes", "list": "no", "watch": "no"} {
		got, _, _ := tryKubectl(t, "auth", "can-i", verb, "secrets", "-A", "--as="+operatorAccount)
		g.Expect(strings.TrimSpace(got)).To(Equal(want), "%s secrets", verb)
	}
	probes := kubectl(t, "get", "-n", "chatgroup-system", "deployment/chatgroup-operator-controller-manager", "-o",
		"jsonpath={.spec.template.spec.containers[0].livenessProbe.httpGet.path} {.spec.template.spec.containers[0].readinessProbe.httpGet.path}")
	g.Expect(probes).To(Equal("/healthz /readyz"))

	path := filepath.Join(tmp, "operator.kubeconfig")
	g.Expect(playground.WriteKubeconfig(restConfig, "operator", path, operatorAccount)).To(Succeed())
	mgrOpts = playground.ManagerOptions{
		Binary: managerBinary, Kubeconfig: path, LogPath: filepath.Join(tmp, "manager.log"),
		// A short vendor timeout and lookup grace: a create claim left by a
		// killed manager is waited for that long (plus a margin) before a
		// lookup that finds nothing creates the group again. The simulators
		// list a group as soon as they accept its create.
		Args: []string{"--retry-interval=1s", "--vendor-timeout=10s", "--find-grace=2s"},
	}
	var err error
	mgr, err = playground.StartManager(mgrOpts)
	g.Expect(err).NotTo(HaveOccurred())
}

// applySamples applies config/samples with kubectl, after pointing the
// providers at the simulators and filling their Secrets. Every registered
// vendor has a sample group.
func applySamples(t *testing.T) {
	g := NewWithT(t)
	objs, err := playground.LoadSamples(filepath.Join(root, "config", "samples"))
	g.Expect(err).NotTo(HaveOccurred())
	_, err = sims.PointAtSimulators(objs)
	g.Expect(err).NotTo(HaveOccurred())
	path := filepath.Join(tmp, "samples.yaml")
	g.Expect(playground.WriteManifests(objs, path)).To(Succeed())

	out := kubectl(t, "apply", "--server-side", "-f", path)
	samples, providers = nil, nil
	covered := map[v1alpha1.Vendor]bool{}
	for _, u := range objs {
		switch u.GetKind() {
		case "ChatGroup":
			cg := &v1alpha1.ChatGroup{}
			g.Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, cg)).To(Succeed())
			sim, ok := sims.Get(cg.Spec.Vendor)
			g.Expect(ok).To(BeTrue(), "a simulator for %s", cg.Name)
			samples = append(samples, sample{ChatGroup: cg, sim: sim})
			covered[cg.Spec.Vendor] = true
			g.Expect(out).To(ContainSubstring("chatgroup.im.chatgroup.io/" + cg.Name + " serverside-applied"))
		case "ChatProvider", "ClusterChatProvider":
			kind := strings.ToLower(u.GetKind())
			providers = append(providers, kind+"/"+u.GetName())
			g.Expect(out).To(ContainSubstring(kind + ".im.chatgroup.io/" + u.GetName() + " serverside-applied"))
		}
	}
	for _, sim := range sims.All() {
		g.Expect(covered).To(HaveKey(sim.Vendor), "config/samples has a ChatGroup for every registered vendor")
	}
}

// creatingIsProgressing watches the samples until all are Ready and catches
// each group while its vendor is still creating it asynchronously (the
// simulators take createDelay): Ready=False/Creating is in progress for kstatus
// and Argo CD alike. The samples include such a vendor.
func creatingIsProgressing(t *testing.T) {
	g := NewWithT(t)
	creating := map[string]map[string]any{} // name -> the object while being created
	g.Eventually(func(g Gomega) {
		list := decodeObject(t, kubectl(t, "get", "chatgroups", "-o", "json"))
		items, _ := list["items"].([]any)
		ready := 0
		for _, item := range items {
			obj := item.(map[string]any)
			cg := &v1alpha1.ChatGroup{}
			g.Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(obj, cg)).To(Succeed())
			c := meta.FindStatusCondition(cg.Status.Conditions, v1alpha1.ReadyCondition)
			switch {
			case c == nil:
			case c.Reason == v1alpha1.CreatingReason && creating[cg.Name] == nil:
				creating[cg.Name] = obj
			case c.Status == metav1.ConditionTrue:
				ready++
			}
		}
		g.Expect(ready).To(Equal(len(samples)))
	}).WithTimeout(60 * time.Second).WithPolling(250 * time.Millisecond).Should(Succeed())

	g.Expect(creating).NotTo(BeEmpty(), "a sample group is seen being created (createDelay %s)", createDelay)
	names := slices.Sorted(maps.Keys(creating))
	for _, name := range names {
		g.Expect(kstatusOf(t, creating[name])).To(Equal(status.InProgressStatus), name)
	}
	expectHealth(t, "chatgroup-creating", creating[names[0]], "Progressing")
}

// samplesReady waits for every group and provider to be Ready.
func samplesReady(t *testing.T) {
	start := time.Now()
	kubectl(t, "wait", "chatgroups", "--all", "--for=condition=Ready", "--timeout=60s")
	t.Logf("all sample ChatGroups Ready %.1fs after the wait began", time.Since(start).Seconds())
	kubectl(t, "wait", "chatproviders", "--all", "--for=condition=Ready", "--timeout=10s")
	kubectl(t, "wait", "clusterchatproviders", "--all", "--for=condition=Ready", "--timeout=10s")
}

// printerColumns checks kubectl get's table: the columns and that each value
// is the status it stands for.
func printerColumns(t *testing.T) {
	g := NewWithT(t)
	for _, resource := range []string{"chatgroups", "cg"} { // and the short name
		header, rows := table(t, kubectl(t, "get", resource))
		g.Expect(header).To(Equal([]string{"NAME", "VENDOR", "GROUP ID", "MEMBERS", "READY", "STATUS", "AGE"}))
		g.Expect(rows).To(HaveLen(len(samples)))
		for _, row := range rows {
			cg := chatGroup(t, row["NAME"])
			ready := meta.FindStatusCondition(cg.Status.Conditions, v1alpha1.ReadyCondition)
			g.Expect(row["VENDOR"]).To(Equal(string(cg.Spec.Vendor)))
			g.Expect(row["GROUP ID"]).To(And(Not(BeEmpty()), Equal(cg.Status.GroupID)))
			g.Expect(row["READY"]).To(Equal("True"))
			g.Expect(row["STATUS"]).To(Equal(ready.Message))
			g.Expect(row["AGE"]).To(MatchRegexp(`^\d+s$`))
			if cg.Status.MemberCount > 0 { // only joined members count: invitees may not have yet
				g.Expect(row["MEMBERS"]).To(Equal(strconv.Itoa(int(cg.Status.MemberCount))))
			}
		}
	}
	_, rows := table(t, kubectl(t, "get", "chatgroups"))
	members := map[string]string{}
	for _, r := range rows {
		members[r["NAME"]] = r["MEMBERS"]
	}
	for _, s := range samples {
		if membersSynced(chatGroup(t, s.Name)) {
			g.Expect(members).To(HaveKeyWithValue(s.Name, strconv.Itoa(len(listed(s.Spec)))), "owner and members")
		}
	}
}

// table splits kubectl's table output into the header's column names and one
// map per row. Columns start where their header does: values may hold spaces.
func table(t *testing.T, out string) ([]string, []map[string]string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	var names []string
	var starts []int
	for _, m := range regexp.MustCompile(`\S+( \S+)*`).FindAllStringIndex(lines[0], -1) {
		names = append(names, lines[0][m[0]:m[1]])
		starts = append(starts, m[0])
	}
	var rows []map[string]string
	for _, line := range lines[1:] {
		row := map[string]string{}
		for i, name := range names {
			end := len(line)
			if i+1 < len(starts) {
				end = min(starts[i+1], len(line))
			}
			row[name] = strings.TrimSpace(line[min(starts[i], end):end])
		}
		rows = append(rows, row)
	}
	return names, rows
}

// vendorsHoldSamples compares each sample with its group in the simulator:
// one group with the title, its ID kept in metadata too, and the members: all
// of them once MembersSynced, otherwise nobody unlisted, the ones still to
// join counted in the condition, and the invitation published in a Secret the
// ChatGroup owns.
func vendorsHoldSamples(t *testing.T) {
	g := NewWithT(t)
	awaiting := 0
	for _, s := range samples {
		cg := chatGroup(t, s.Name)
		id := cg.Annotations[v1alpha1.GroupIDAnnotation]
		g.Expect(id).To(And(Not(BeEmpty()), Equal(cg.Status.GroupID)), "%s: the group ID is kept in metadata too", s.Name)
		g.Expect(s.sim.GroupIDs(s.Spec.Name)).To(ConsistOf(id), "%s: one %s group titled %q", s.Name, s.Spec.Vendor, s.Spec.Name)
		name, members, ok := s.sim.Lookup(id)
		g.Expect(ok).To(BeTrue(), s.Name)
		g.Expect(name).To(Equal(s.Spec.Name))
		if membersSynced(cg) {
			g.Expect(members).To(ConsistOf(listed(s.Spec)), s.Name)
			g.Expect(s.sim.Verify(id, s.Spec, nil)).To(Succeed(), "%s: owner, texts and settings as the spec says", s.Name)
			continue
		}
		awaiting++
		g.Expect(listed(s.Spec)).To(ContainElements(members), "%s: nobody unlisted", s.Name)
		synced := meta.FindStatusCondition(cg.Status.Conditions, v1alpha1.MembersSyncedCondition)
		g.Expect(synced).NotTo(BeNil(), s.Name)
		g.Expect(synced.Reason).To(Equal(v1alpha1.AwaitingInviteesReason), s.Name)
		g.Expect(synced.Message).To(ContainSubstring(fmt.Sprintf("%d listed members have not joined yet", len(listed(s.Spec))-len(members))))
		secret := invitation(t, cg)
		g.Expect(secret.Data).NotTo(BeEmpty(), "%s: the invitation", s.Name)
		g.Expect(synced.Message).To(ContainSubstring(secret.Name), "the condition names the Secret to share")
		g.Expect(s.sim.Verify(id, s.Spec, secret.Data)).To(Succeed(), "%s: texts and settings as the spec says, the group's current invitation published", s.Name)
	}
	g.Expect(awaiting).To(BeNumerically(">", 0), "a sample's members join by themselves")
}

// readyObjectsAreHealthy reads Ready objects as Flux (kstatus) and Argo CD
// (health.lua) do.
func readyObjectsAreHealthy(t *testing.T) {
	g := NewWithT(t)
	var synced, awaiting string
	for _, s := range samples {
		obj := object(t, "chatgroup/"+s.Name)
		g.Expect(kstatusOf(t, obj)).To(Equal(status.CurrentStatus), s.Name)
		switch {
		case membersSynced(chatGroup(t, s.Name)) && synced == "":
			synced = s.Name
		case !membersSynced(chatGroup(t, s.Name)) && awaiting == "":
			awaiting = s.Name
		}
	}
	g.Expect(synced).NotTo(BeEmpty())
	g.Expect(awaiting).NotTo(BeEmpty())
	expectHealth(t, "chatgroup-ready", object(t, "chatgroup/"+synced), "Healthy")
	expectHealth(t, "chatgroup-awaiting-invitees", object(t, "chatgroup/"+awaiting), "Healthy")
	for _, kind := range []string{"chatprovider", "clusterchatprovider"} {
		i := slices.IndexFunc(providers, func(p string) bool { return strings.HasPrefix(p, kind+"/") })
		g.Expect(i).To(BeNumerically(">=", 0), "config/samples has a %s", kind)
		expectHealth(t, kind+"-ready", object(t, providers[i]), "Healthy")
	}
}

// editMembers adds a member to every group whose members the vendor adds
// directly, then removes one, with kubectl patch, and checks that each change
// reached the vendor group in one write.
func editMembers(t *testing.T) {
	g := NewWithT(t)
	for _, s := range synced(t) {
		spare := spareUser(t, s)
		writes := writesSince(s.sim)
		kubectl(t, "patch", "chatgroup", s.Name, "--type=json", "-p", `[{"op":"add","path":"/spec/members/-","value":"`+spare+`"}]`)
		cg := waitGeneration(t, s.Name)
		g.Expect(vendorMembers(t, s, cg)).To(ConsistOf(listed(cg.Spec)))
		g.Expect(writes()).To(Equal(1), "%s: one %s write adds %s", s.Name, s.Spec.Vendor, spare)

		gone := cg.Spec.Members[0]
		writes = writesSince(s.sim)
		kubectl(t, "patch", "chatgroup", s.Name, "--type=json", "-p", `[{"op":"remove","path":"/spec/members/0"}]`)
		cg = waitGeneration(t, s.Name)
		g.Expect(vendorMembers(t, s, cg)).To(And(ConsistOf(listed(cg.Spec)), Not(ContainElement(gone))))
		g.Expect(writes()).To(Equal(1), "%s: one %s write removes %s", s.Name, s.Spec.Vendor, gone)
		g.Expect(cg.Status.MemberCount).To(BeEquivalentTo(len(listed(cg.Spec))))
	}
}

// inviteesJoin lets the members of every group awaiting invitees join with the
// invitation the operator published, asks for a drift check, and expects
// MembersSynced, every member in the vendor group and the invitation's Secret
// gone.
func inviteesJoin(t *testing.T) {
	g := NewWithT(t)
	for _, s := range samples {
		cg := chatGroup(t, s.Name)
		if membersSynced(cg) {
			continue
		}
		j, ok := s.sim.Harness.(joiner)
		g.Expect(ok).To(BeTrue(), "the %s simulator lets invitees join (Join)", s.Spec.Vendor)
		secret := invitation(t, cg)
		g.Expect(secret.Data).To(HaveLen(1), "one invitation to share")
		for _, value := range secret.Data {
			for _, member := range cg.Spec.Members {
				g.Expect(j.Join(string(value), member)).To(Succeed(), member)
			}
		}
		kubectl(t, "annotate", "--overwrite", "chatgroup", s.Name, v1alpha1.ReconcileRequestAnnotation+"="+strconv.FormatInt(time.Now().UnixNano(), 10))
		kubectl(t, "wait", "chatgroup/"+s.Name, "--for=condition=MembersSynced", "--timeout=30s")
		kubectl(t, "wait", "secret/"+secret.Name, "--for=delete", "--timeout=30s")
		cg = chatGroup(t, s.Name)
		g.Expect(cg.Status.MemberCount).To(BeEquivalentTo(len(listed(cg.Spec))))
		g.Expect(vendorMembers(t, s, cg)).To(ConsistOf(listed(cg.Spec)))
		g.Expect(s.sim.Verify(cg.Status.GroupID, cg.Spec, nil)).To(Succeed(), "everyone joined: no invitation left")
		g.Expect(kubectl(t, "get", "chatgroup/"+s.Name, "-o", "jsonpath={.status}")).NotTo(ContainSubstring(secret.Name),
			"status no longer refers to the invitation")
	}
}

// killAndRestart kills the manager (SIGKILL) in the middle of creates: as soon
// as every vendor has received a create of three new groups each, before the
// operator can record all their IDs (and, where the vendor creates groups
// asynchronously, while it is still creating them). A group is edited while no
// manager runs. After a restart every group exists exactly once on its vendor
// and the edit is applied.
func killAndRestart(t *testing.T) {
	g := NewWithT(t)
	restarted = nil
	marks := map[v1alpha1.Vendor]int{}
	var groups []*v1alpha1.ChatGroup
	for _, s := range firstPerVendor() {
		marks[s.Spec.Vendor] = s.sim.Core().Count(s.sim.CreateOp())
		for i := 1; i <= 3; i++ {
			cg := &v1alpha1.ChatGroup{
				TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "ChatGroup"},
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("restart-%s-%d", strings.ToLower(string(s.Spec.Vendor)), i), Namespace: "default"},
				Spec:       *s.Spec.DeepCopy(),
			}
			cg.Spec.Name = fmt.Sprintf("Restart %d", i)
			groups = append(groups, cg)
			restarted = append(restarted, sample{ChatGroup: cg, sim: s.sim})
		}
	}
	applyManifest(t, "restart.yaml", manifest(t, groups...))
	g.Eventually(func(g Gomega) {
		for _, s := range firstPerVendor() {
			g.Expect(s.sim.Core().Count(s.sim.CreateOp())).To(BeNumerically(">", marks[s.Spec.Vendor]), string(s.Spec.Vendor))
		}
	}).WithTimeout(20 * time.Second).WithPolling(time.Millisecond).Should(Succeed())
	g.Expect(mgr.Kill()).To(Succeed())
	for _, s := range firstPerVendor() {
		t.Logf("killed the manager after %d %s creates", s.sim.Core().Count(s.sim.CreateOp())-marks[s.Spec.Vendor], s.Spec.Vendor)
	}
	t.Logf("recorded at that moment:\n%s",
		kubectl(t, "get", "chatgroups", "-o", `custom-columns=NAME:.metadata.name,GROUP-ID:.metadata.annotations.im\.chatgroup\.io/group-id,CREATE-PENDING:.metadata.annotations.im\.chatgroup\.io/create-pending`))

	edited := synced(t)[0]
	spare := spareUser(t, edited)
	kubectl(t, "patch", "chatgroup", edited.Name, "--type=json", "-p", `[{"op":"add","path":"/spec/members/-","value":"`+spare+`"}]`)
	stale := object(t, "chatgroup/"+edited.Name) // Ready=True, but for the previous generation
	g.Expect(kstatusOf(t, stale)).To(Equal(status.InProgressStatus))
	expectHealth(t, "chatgroup-stale-generation", stale, "Progressing")

	var err error
	mgr, err = playground.StartManager(mgrOpts)
	g.Expect(err).NotTo(HaveOccurred())
	refs := []string{"wait"}
	for _, r := range restarted {
		refs = append(refs, "chatgroup/"+r.Name)
	}
	adopted, recreated := settle(t, restarted)
	t.Logf("after the restart %d groups were adopted and %d created again on the user's word", adopted, recreated)
	kubectl(t, append(refs, "--for=condition=Ready", "--timeout=60s")...)
	cg := waitGeneration(t, edited.Name)

	for _, r := range restarted {
		got := chatGroup(t, r.Name)
		g.Expect(got.Annotations).To(HaveKeyWithValue(v1alpha1.GroupIDAnnotation, got.Status.GroupID), r.Name)
		g.Expect(r.sim.GroupIDs(r.Spec.Name)).To(ConsistOf(got.Status.GroupID), "%s: one %s group", r.Name, r.Spec.Vendor)
	}
	for _, s := range samples {
		g.Expect(s.sim.GroupIDs(s.Spec.Name)).To(HaveLen(1), s.Name)
	}
	g.Expect(vendorMembers(t, edited, cg)).To(ContainElement(spare), "the edit made while the manager was down")
}

// settle waits until each group is Ready or Stalled with CreateIncomplete (a
// vendor that reports a found group only by an ID it documents no way back
// from cannot be adopted automatically; a create that made nothing is made
// again by the operator once the lookup grace has passed), and resolves each
// stall as its message tells the user to: adopt the one vendor group with the
// title, or, when there is none, remove the create-pending annotation. Never
// is there a second vendor group.
func settle(t *testing.T, groups []sample) (adopted, recreated int) {
	t.Helper()
	g := NewWithT(t)
	var stalled []sample
	g.Eventually(func(g Gomega) {
		stalled = nil
		for _, s := range groups {
			cg := chatGroup(t, s.Name)
			c := meta.FindStatusCondition(cg.Status.Conditions, v1alpha1.ReadyCondition)
			g.Expect(c).NotTo(BeNil(), s.Name)
			g.Expect(c.ObservedGeneration).To(Equal(cg.Generation), s.Name)
			if c.Status != metav1.ConditionTrue {
				g.Expect(c.Reason).To(Equal(v1alpha1.CreateIncompleteReason), "%s: %s", s.Name, c.Message)
				g.Expect(c.Message).To(ContainSubstring("spec.adoptGroupID"))
				stalled = append(stalled, s)
			}
		}
	}).WithTimeout(60 * time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())
	for _, s := range stalled {
		ids := s.sim.GroupIDs(s.Spec.Name)
		g.Expect(len(ids)).To(BeNumerically("<=", 1), "%s: never a second group", s.Name)
		if len(ids) == 1 {
			adopted++
			kubectl(t, "patch", "chatgroup", s.Name, "--type=merge", "-p", `{"spec":{"adoptGroupID":"`+ids[0]+`"}}`)
			continue
		}
		recreated++
		kubectl(t, "annotate", "chatgroup", s.Name, v1alpha1.CreatePendingAnnotation+"-")
	}
	return adopted, recreated
}

// suspend suspends a group, edits it, and expects no vendor call until it is
// resumed.
func suspend(t *testing.T) {
	g := NewWithT(t)
	s := synced(t)[0]
	kubectl(t, "patch", "chatgroup", s.Name, "--type=merge", "-p", `{"spec":{"suspend":true}}`)
	kubectl(t, "wait", "chatgroup/"+s.Name, readyReason(v1alpha1.SuspendedReason), "--timeout=30s")
	calls := quiet(t, s.sim)

	spare := spareUser(t, s)
	gen := strings.TrimSpace(kubectl(t, "patch", "chatgroup", s.Name, "--type=json", "-o", "jsonpath={.metadata.generation}",
		"-p", `[{"op":"add","path":"/spec/members/-","value":"`+spare+`"}]`))
	kubectl(t, "wait", "chatgroup/"+s.Name, `--for=jsonpath={.status.conditions[?(@.type=="Ready")].observedGeneration}=`+gen, "--timeout=30s")
	obj := object(t, "chatgroup/"+s.Name)
	g.Expect(kstatusOf(t, obj)).To(Equal(status.InProgressStatus))
	expectHealth(t, "chatgroup-suspended", obj, "Suspended")
	g.Expect(s.sim.Core().Len()).To(Equal(calls), "no %s calls while suspended", s.Spec.Vendor)

	kubectl(t, "patch", "chatgroup", s.Name, "--type=merge", "-p", `{"spec":{"suspend":false}}`)
	cg := waitGeneration(t, s.Name)
	g.Expect(vendorMembers(t, s, cg)).To(ContainElement(spare))
}

// stalled refers a group to a provider of another vendor: Stalled, Failed for
// kstatus and Degraded for Argo CD, with a message that says what to change.
func stalled(t *testing.T) {
	g := NewWithT(t)
	a := samples[0]
	i := slices.IndexFunc(samples, func(s sample) bool { return s.Spec.Vendor != a.Spec.Vendor })
	g.Expect(i).To(BeNumerically(">=", 0), "samples of two vendors")
	cg := &v1alpha1.ChatGroup{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "ChatGroup"},
		ObjectMeta: metav1.ObjectMeta{Name: "wrong-vendor", Namespace: "default"},
		Spec:       *a.Spec.DeepCopy(),
	}
	cg.Spec.Name = "Wrong vendor"
	cg.Spec.ProviderRef = samples[i].Spec.ProviderRef
	applyManifest(t, "wrong-vendor.yaml", manifest(t, cg))
	kubectl(t, "wait", "chatgroup/wrong-vendor", "--for=condition=Stalled", "--timeout=30s")
	obj := object(t, "chatgroup/wrong-vendor")
	g.Expect(kstatusOf(t, obj)).To(Equal(status.FailedStatus))
	expectHealth(t, "chatgroup-stalled", obj, "Degraded")
	got := chatGroup(t, "wrong-vendor")
	ready := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ReadyCondition)
	g.Expect(ready.Reason).To(Equal(v1alpha1.VendorMismatchReason))
	g.Expect(ready.Message).To(ContainSubstring("spec.vendor"))
	kubectl(t, "delete", "chatgroup", "wrong-vendor", "--timeout=30s")
}

// admission: changes no vendor could carry out are refused by the API server,
// with a message naming the field. (Each vendor's own limits are tested
// against the same CRDs in api/v1alpha1.)
func admission(t *testing.T) {
	g := NewWithT(t)
	for _, s := range samples {
		i := slices.IndexFunc(samples, func(o sample) bool { return o.Spec.Vendor != s.Spec.Vendor })
		g.Expect(i).To(BeNumerically(">=", 0), "samples of two vendors")
		other := samples[i]
		for patch, message := range map[string]string{
			`{"spec":{"vendor":"` + string(other.Spec.Vendor) + `"}}`: "spec.vendor is immutable",
			`{"spec":{"name":"` + strings.Repeat("n", 257) + `"}}`:    "spec.name",
		} {
			_, errOut, err := tryKubectl(t, "patch", "chatgroup", s.Name, "--type=merge", "-p", patch)
			g.Expect(err).To(HaveOccurred(), patch)
			g.Expect(errOut).To(ContainSubstring(message))
		}
	}
}

// noSecrets looks for every credential, access token, UserSig or request
// signature the simulators issued or saw in the objects, events and the
// manager's log.
func noSecrets(t *testing.T) {
	g := NewWithT(t)
	seen := strings.Join([]string{
		kubectl(t, "get", "chatgroups,chatproviders,clusterchatproviders", "-A", "-o", "yaml"),
		kubectl(t, "get", "events", "-A", "-o", "yaml"),
		playground.Tail(mgrOpts.LogPath, 1<<30),
	}, "\n")
	var secrets []string
	for _, sim := range sims.All() {
		s := sim.Secrets()
		g.Expect(len(s)).To(BeNumerically(">", 1), "the %s simulator saw authenticated calls", sim.Vendor)
		secrets = append(secrets, s...)
	}
	for _, s := range secrets {
		g.Expect(seen).NotTo(ContainSubstring(s))
	}
}

// deletion deletes groups with kubectl: with deletionPolicy Delete the
// finalizer holds the object until the vendor group is gone, also while the
// vendor fails; with Orphan the group stays.
func deletion(t *testing.T) {
	g := NewWithT(t)
	i := slices.IndexFunc(samples, func(s sample) bool { return s.Spec.DeletionPolicy == v1alpha1.Delete })
	j := slices.IndexFunc(samples, func(s sample) bool { return s.Spec.DeletionPolicy != v1alpha1.Delete })
	g.Expect([]int{i, j}).To(HaveEach(BeNumerically(">=", 0)), "samples with deletionPolicy Delete and Orphan")
	del, orphan := samples[i], samples[j]

	cg := chatGroup(t, del.Name)
	g.Expect(cg.Finalizers).To(ContainElement(v1alpha1.ChatGroupFinalizer))
	del.sim.Core().SetFaults(vendorsim.Faults{ErrorRate: 1})
	kubectl(t, "delete", "chatgroup", del.Name, "--wait=false")
	out := kubectl(t, "wait", "chatgroup/"+del.Name, readyReason(v1alpha1.DeleteFailedReason), "--timeout=30s", "-o", "json")
	expectHealth(t, "chatgroup-delete-failed", decodeObject(t, out), "Progressing")
	_, _, exists := del.sim.Lookup(cg.Status.GroupID)
	g.Expect(exists).To(BeTrue(), "the vendor refused the delete")
	g.Expect(chatGroup(t, del.Name).Finalizers).To(ContainElement(v1alpha1.ChatGroupFinalizer))

	del.sim.Core().SetFaults(vendorsim.Faults{})
	kubectl(t, "wait", "chatgroup/"+del.Name, "--for=delete", "--timeout=60s")
	_, _, exists = del.sim.Lookup(cg.Status.GroupID)
	g.Expect(exists).To(BeFalse(), "deletionPolicy Delete")

	kept := chatGroup(t, orphan.Name)
	kubectl(t, "delete", "chatgroup", orphan.Name, "--timeout=30s")
	_, members, exists := orphan.sim.Lookup(kept.Status.GroupID)
	g.Expect(exists).To(BeTrue(), "deletionPolicy Orphan (the default)")
	g.Expect(listed(kept.Spec)).To(ContainElements(members))
	if membersSynced(kept) {
		g.Expect(members).To(ConsistOf(listed(kept.Spec)), "the group stays as the operator left it")
	}

	kubectl(t, "delete", "chatgroups", "--all", "--timeout=60s")
	for _, s := range slices.Concat(samples, restarted) {
		want := HaveLen(1)
		if s.Spec.DeletionPolicy == v1alpha1.Delete {
			want = BeEmpty()
		}
		g.Expect(s.sim.GroupIDs(s.Spec.Name)).To(want, "%s: deletionPolicy %q", s.Name, s.Spec.DeletionPolicy)
	}
	_, errOut, _ := tryKubectl(t, "get", "chatgroups")
	g.Expect(errOut).To(ContainSubstring("No resources found"))

	events := kubectl(t, "get", "events", "--field-selector", "involvedObject.kind=ChatGroup", "-o", "jsonpath={range .items[*]}{.involvedObject.name}/{.reason}{\"\\n\"}{end}")
	g.Expect(strings.Fields(events)).To(ContainElements(del.Name+"/DeleteFailed", del.Name+"/Deleted", orphan.Name+"/Orphaned"))
}

// metrics reads the manager's vendor call counter.
func metrics(t *testing.T) {
	g := NewWithT(t)
	resp, err := http.Get(mgr.MetricsURL) //nolint:noctx // loopback
	g.Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	g.Expect(err).NotTo(HaveOccurred())
	for _, sim := range sims.All() {
		g.Expect(string(body)).To(MatchRegexp(`chatgroup_vendor_calls_total\{[^}]*vendor="`+string(sim.Vendor)+`"[^}]*\} [1-9]`), string(sim.Vendor))
	}
}

// listed returns the members a spec lists, owner included.
func listed(spec v1alpha1.ChatGroupSpec) []string {
	out := slices.Clone(spec.Members)
	if spec.Owner != "" {
		out = append(out, spec.Owner)
	}
	return out
}

// membersSynced reports whether every listed member of cg is in its group.
func membersSynced(cg *v1alpha1.ChatGroup) bool {
	return meta.IsStatusConditionTrue(cg.Status.Conditions, v1alpha1.MembersSyncedCondition)
}

// synced returns the samples whose members are all in their group: the
// vendor adds members directly.
func synced(t *testing.T) []sample {
	t.Helper()
	var out []sample
	for _, s := range samples {
		if membersSynced(chatGroup(t, s.Name)) {
			out = append(out, s)
		}
	}
	NewWithT(t).Expect(out).NotTo(BeEmpty(), "a sample whose vendor adds members directly")
	return out
}

// firstPerVendor returns the first sample of each vendor.
func firstPerVendor() []sample {
	var out []sample
	for _, s := range samples {
		if !slices.ContainsFunc(out, func(o sample) bool { return o.Spec.Vendor == s.Spec.Vendor }) {
			out = append(out, s)
		}
	}
	return out
}

// spareUser returns a user of s's vendor directory that s's group does not
// list now.
func spareUser(t *testing.T, s sample) string {
	t.Helper()
	now := listed(chatGroup(t, s.Name).Spec)
	i := slices.IndexFunc(s.sim.Users, func(id string) bool { return !slices.Contains(now, id) })
	NewWithT(t).Expect(i).To(BeNumerically(">=", 0), "%s: a spare %s user", s.Name, s.Spec.Vendor)
	return s.sim.Users[i]
}

// vendorMembers returns the members of cg's vendor group.
func vendorMembers(t *testing.T, s sample, cg *v1alpha1.ChatGroup) []string {
	t.Helper()
	_, members, ok := s.sim.Lookup(cg.Status.GroupID)
	NewWithT(t).Expect(ok).To(BeTrue(), "%s: group %s", cg.Name, cg.Status.GroupID)
	return members
}

// writesSince returns a function counting the applied writes sim received
// since now.
func writesSince(sim *playground.Simulator) func() int {
	mark := sim.Core().Len()
	return func() int {
		n := 0
		for _, c := range sim.Core().Calls()[mark:] {
			if c.Outcome == "ok" && sim.IsWrite(c.Op) {
				n++
			}
		}
		return n
	}
}

// quiet waits until sim has received no call for a second and returns the
// length of its call log.
func quiet(t *testing.T, sim *playground.Simulator) int {
	t.Helper()
	n := sim.Core().Len()
	NewWithT(t).Eventually(func() bool {
		before := n
		time.Sleep(time.Second)
		n = sim.Core().Len()
		return n == before
	}).WithTimeout(30 * time.Second).Should(BeTrue())
	return n
}

// invitation returns the Secret the operator published for cg's members to
// join with: the one cg controls.
func invitation(t *testing.T, cg *v1alpha1.ChatGroup) *corev1.Secret {
	t.Helper()
	list := &corev1.SecretList{}
	NewWithT(t).Expect(yaml.Unmarshal([]byte(kubectl(t, "get", "secrets", "-n", cg.Namespace, "-o", "json")), list)).To(Succeed())
	for i, s := range list.Items {
		if ref := metav1.GetControllerOf(&s); ref != nil && ref.UID == cg.UID {
			return &list.Items[i]
		}
	}
	t.Fatalf("no Secret controlled by ChatGroup %s", cg.Name)
	return nil
}

// manifest renders ChatGroups as a multi-document YAML file.
func manifest(t *testing.T, groups ...*v1alpha1.ChatGroup) string {
	t.Helper()
	var docs []string
	for _, cg := range groups {
		data, err := yaml.Marshal(cg)
		NewWithT(t).Expect(err).NotTo(HaveOccurred())
		docs = append(docs, string(data))
	}
	return strings.Join(docs, "---\n")
}
