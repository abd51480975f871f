//go:build e2e

package e2e

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/playground"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
	simdingtalk "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/dingtalk"
)

// The sample ChatGroups (config/samples), one per vendor.
const (
	dingTalkGroup  = "sre-oncall"
	tencentIMGroup = "release-train"
	whatsAppGroup  = "field-team"
)

// TestUserJourney walks through what a user does with the operator, in order;
// each step builds on the previous ones, so the first failure ends the test.
func TestUserJourney(t *testing.T) {
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"install the operator with kubectl apply -k and run it as its ServiceAccount", install},
		{"apply the samples with kubectl", applySamples},
		{"a WhatsApp group is Progressing while CAMS creates it", whatsAppCreating},
		{"every sample becomes Ready", samplesReady},
		{"kubectl get prints the columns", printerColumns},
		{"the vendors hold what the samples say", vendorsHoldSamples},
		{"kstatus and the Argo CD health check see Ready objects", readyObjectsAreHealthy},
		{"kubectl patch changes members with one vendor write", editMembers},
		{"invitees join through the WhatsApp invite link", inviteesJoin},
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
		Args: []string{"--retry-interval=1s"},
	}
	var err error
	mgr, err = playground.StartManager(mgrOpts)
	g.Expect(err).NotTo(HaveOccurred())
}

// applySamples applies config/samples with kubectl, after pointing the
// providers at the simulators and filling their Secrets.
func applySamples(t *testing.T) {
	g := NewWithT(t)
	objs, err := playground.LoadSamples(filepath.Join(root, "config", "samples"))
	g.Expect(err).NotTo(HaveOccurred())
	_, err = sims.PointAtSimulators(objs)
	g.Expect(err).NotTo(HaveOccurred())
	path := filepath.Join(tmp, "samples.yaml")
	g.Expect(playground.WriteManifests(objs, path)).To(Succeed())

	out := kubectl(t, "apply", "--server-side", "-f", path)
	for _, name := range []string{dingTalkGroup, tencentIMGroup, whatsAppGroup} {
		g.Expect(out).To(ContainSubstring("chatgroup.im.chatgroup.io/" + name + " serverside-applied"))
	}
	g.Expect(out).To(ContainSubstring("clusterchatprovider.im.chatgroup.io/dingtalk-prod serverside-applied"))
}

// whatsAppCreating catches the WhatsApp sample while CAMS is still creating it:
// Ready=False/Creating is in progress for kstatus and Argo CD alike.
func whatsAppCreating(t *testing.T) {
	out := kubectl(t, "wait", "chatgroup/"+whatsAppGroup, readyReason(v1alpha1.CreatingReason), "--timeout=30s", "-o", "json")
	obj := decodeObject(t, out)
	NewWithT(t).Expect(kstatusOf(t, obj)).To(Equal(status.InProgressStatus))
	expectHealth(t, "chatgroup-creating", obj, "Progressing")
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
		g.Expect(rows).To(HaveLen(3))
		for _, row := range rows {
			cg := chatGroup(t, row["NAME"])
			ready := meta.FindStatusCondition(cg.Status.Conditions, v1alpha1.ReadyCondition)
			g.Expect(row["VENDOR"]).To(Equal(string(cg.Spec.Vendor)))
			g.Expect(row["GROUP ID"]).To(And(Not(BeEmpty()), Equal(cg.Status.GroupID)))
			g.Expect(row["READY"]).To(Equal("True"))
			g.Expect(row["STATUS"]).To(Equal(ready.Message))
			g.Expect(row["AGE"]).To(MatchRegexp(`^\d+s$`))
			if cg.Spec.Vendor != v1alpha1.WhatsApp { // WhatsApp counts only joined members: none yet
				g.Expect(row["MEMBERS"]).To(Equal(strconv.Itoa(int(cg.Status.MemberCount))))
			}
		}
	}
	_, rows := table(t, kubectl(t, "get", "chatgroups"))
	members := map[string]string{}
	for _, r := range rows {
		members[r["NAME"]] = r["MEMBERS"]
	}
	g.Expect(members).To(HaveKeyWithValue(dingTalkGroup, "4"), "owner and three members")
	g.Expect(members).To(HaveKeyWithValue(tencentIMGroup, "3"))
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

// vendorsHoldSamples compares each sample with its group in the simulator.
func vendorsHoldSamples(t *testing.T) {
	g := NewWithT(t)

	dt := chatGroup(t, dingTalkGroup)
	id := dt.Annotations[v1alpha1.GroupIDAnnotation]
	g.Expect(id).To(And(Not(BeEmpty()), Equal(dt.Status.GroupID)), "the group ID is kept in metadata too")
	group, ok := sims.DingTalk.Group(id)
	g.Expect(ok).To(BeTrue())
	g.Expect(group.Name).To(Equal("SRE On-call"))
	g.Expect(group.Owner).To(Equal("manager4220"))
	g.Expect(group.Members).To(ConsistOf("manager4220", "user1", "user2", "user3"))
	g.Expect(group.Options.MentionAllAuthority).To(Equal(1), "mentionAll: OwnerOnly")
	g.Expect(group.Options.ShowHistoryType).To(Equal(1), "showHistoryToNewMembers: true")
	g.Expect(sims.DingTalk.GroupsNamed("SRE On-call")).To(HaveLen(1))

	tim := chatGroup(t, tencentIMGroup)
	g.Expect(tim.Annotations).To(HaveKeyWithValue(v1alpha1.GroupIDAnnotation, tim.Status.GroupID))
	tg, ok := sims.TencentIM.Group(playground.TencentIMAppID, tim.Status.GroupID)
	g.Expect(ok).To(BeTrue())
	g.Expect(tg.Name).To(Equal("Release train"))
	g.Expect(tg.Owner).To(Equal("alice"))
	g.Expect(tg.Accounts()).To(ConsistOf("alice", "bob", "carol"))
	g.Expect(tg.Introduction).To(Equal("Weekly release coordination"))
	g.Expect(tg.Notification).To(Equal("Code freeze is Thursday 18:00"))
	g.Expect(sims.TencentIM.Groups(playground.TencentIMAppID)).To(HaveLen(1))

	wa := chatGroup(t, whatsAppGroup)
	wg, ok := sims.WhatsApp.Group(wa.Status.GroupID)
	g.Expect(ok).To(BeTrue())
	g.Expect(wg.Subject).To(Equal("Field team"))
	g.Expect(wg.Description).To(Equal("Site visits and logistics"))
	g.Expect(wg.Status).To(Equal("ACTIVE"))
	g.Expect(wg.InviteLink).NotTo(BeEmpty())
	g.Expect(sims.WhatsApp.GroupsWithSubject("Field team")).To(HaveLen(1))
	g.Expect(wa.Status.WhatsApp).NotTo(BeNil())
	g.Expect(wa.Status.WhatsApp.PendingMembers).To(ConsistOf("+8613800000001", "+8613800000002"))
	synced := meta.FindStatusCondition(wa.Status.Conditions, v1alpha1.MembersSyncedCondition)
	g.Expect(synced).NotTo(BeNil())
	g.Expect(synced.Reason).To(Equal(v1alpha1.AwaitingInviteesReason))
	link := kubectl(t, "get", "secret", wa.Status.WhatsApp.InviteLinkSecretName, "-o", "jsonpath={.data.inviteLink}")
	decoded, err := base64.StdEncoding.DecodeString(link)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(decoded)).To(Equal(wg.InviteLink), "the invite link Secret holds the group's current link")
}

// readyObjectsAreHealthy reads Ready objects as Flux (kstatus) and Argo CD
// (health.lua) do.
func readyObjectsAreHealthy(t *testing.T) {
	g := NewWithT(t)
	for _, name := range []string{dingTalkGroup, tencentIMGroup, whatsAppGroup} {
		g.Expect(kstatusOf(t, object(t, "chatgroup/"+name))).To(Equal(status.CurrentStatus), name)
	}
	expectHealth(t, "chatgroup-ready", object(t, "chatgroup/"+dingTalkGroup), "Healthy")
	expectHealth(t, "chatgroup-awaiting-invitees", object(t, "chatgroup/"+whatsAppGroup), "Healthy")
	expectHealth(t, "chatprovider-ready", object(t, "chatprovider/tencentim"), "Healthy")
	expectHealth(t, "clusterchatprovider-ready", object(t, "clusterchatprovider/dingtalk-prod"), "Healthy")
}

// editMembers changes members with kubectl patch and checks that the vendor
// groups changed with the fewest writes.
func editMembers(t *testing.T) {
	g := NewWithT(t)
	id := chatGroup(t, dingTalkGroup).Status.GroupID
	updates := func() []simdingtalk.Write {
		return sims.DingTalk.Writes(func(w simdingtalk.Write) bool {
			return simdingtalk.For(id)(w) && simdingtalk.Applied(simdingtalk.OpUpdate)(w)
		})
	}
	before := len(updates())
	kubectl(t, "patch", "chatgroup", dingTalkGroup, "--type=merge", "-p", `{"spec":{"members":["user1","user2","user4"]}}`)
	waitGeneration(t, dingTalkGroup)
	group, _ := sims.DingTalk.Group(id)
	g.Expect(group.Members).To(ConsistOf("manager4220", "user1", "user2", "user4"))
	writes := updates()
	g.Expect(writes).To(HaveLen(before+1), "one group/update adds user4 and removes user3")
	g.Expect(writes[len(writes)-1].Add).To(ConsistOf("user4"))
	g.Expect(writes[len(writes)-1].Del).To(ConsistOf("user3"))

	tid := chatGroup(t, tencentIMGroup).Status.GroupID
	adds := sims.TencentIM.GroupCount(tid, "add_group_member")
	kubectl(t, "patch", "chatgroup", tencentIMGroup, "--type=json", "-p", `[{"op":"add","path":"/spec/members/-","value":"dave"}]`)
	cg := waitGeneration(t, tencentIMGroup)
	tg, _ := sims.TencentIM.Group(playground.TencentIMAppID, tid)
	g.Expect(tg.Accounts()).To(ConsistOf("alice", "bob", "carol", "dave"))
	g.Expect(sims.TencentIM.GroupCount(tid, "add_group_member")).To(Equal(adds + 1))
	g.Expect(sims.TencentIM.GroupCount(tid, "delete_group_member")).To(BeZero())
	g.Expect(cg.Status.MemberCount).To(BeEquivalentTo(4))
}

// inviteesJoin lets the WhatsApp members open the invite link, asks for a drift
// check, and expects MembersSynced and the link's Secret gone.
func inviteesJoin(t *testing.T) {
	g := NewWithT(t)
	cg := chatGroup(t, whatsAppGroup)
	group, _ := sims.WhatsApp.Group(cg.Status.GroupID)
	for _, number := range cg.Spec.Members {
		g.Expect(sims.WhatsApp.Join(group.InviteLink, number)).To(Succeed())
	}
	kubectl(t, "annotate", "--overwrite", "chatgroup", whatsAppGroup, v1alpha1.ReconcileRequestAnnotation+"="+strconv.FormatInt(time.Now().UnixNano(), 10))
	kubectl(t, "wait", "chatgroup/"+whatsAppGroup, "--for=condition=MembersSynced", "--timeout=30s")
	kubectl(t, "wait", "secret/"+cg.Status.WhatsApp.InviteLinkSecretName, "--for=delete", "--timeout=30s")
	cg = chatGroup(t, whatsAppGroup)
	g.Expect(cg.Status.WhatsApp).To(Equal(&v1alpha1.WhatsAppStatus{Subject: cg.Spec.Name}))
	g.Expect(cg.Status.MemberCount).To(BeEquivalentTo(2))
}

// standups are three Tencent IM groups for killAndRestart.
func standups() string {
	var docs []string
	for i := 1; i <= 3; i++ {
		docs = append(docs, fmt.Sprintf(`apiVersion: im.chatgroup.io/v1alpha1
kind: ChatGroup
metadata: {name: standup-%[1]d}
spec:
  vendor: TencentIM
  providerRef: {name: tencentim}
  name: Standup %[1]d
  owner: alice
  members: [bob]
  deletionPolicy: Delete
  tencentIM: {groupType: Private}
`, i))
	}
	return strings.Join(docs, "---\n")
}

// siteB is a WhatsApp group for killAndRestart.
const siteB = `apiVersion: im.chatgroup.io/v1alpha1
kind: ChatGroup
metadata: {name: site-b}
spec:
  vendor: WhatsApp
  providerRef: {name: whatsapp}
  name: Site B
  members: ["+8613800000003"]
`

// killAndRestart kills the manager (SIGKILL) in the middle of creates: while
// CAMS is still creating a WhatsApp group, and as soon as the first of three
// Tencent IM creates reaches the simulator, before the operator can record its
// ID. A group is edited while no manager runs. After a restart every group
// exists exactly once on its vendor and the edit is applied.
func killAndRestart(t *testing.T) {
	g := NewWithT(t)
	camsCreates := sims.WhatsApp.Count("AddChatGroup")
	applyManifest(t, "site-b.yaml", siteB)
	g.Eventually(func() int { return sims.WhatsApp.Count("AddChatGroup") }).
		WithTimeout(20 * time.Second).WithPolling(10 * time.Millisecond).Should(BeNumerically(">", camsCreates))

	timCreates := sims.TencentIM.Count("create_group")
	applyManifest(t, "standups.yaml", standups())
	g.Eventually(func() int { return sims.TencentIM.Count("create_group") }).
		WithTimeout(20 * time.Second).WithPolling(time.Millisecond).Should(BeNumerically(">", timCreates))
	g.Expect(mgr.Kill()).To(Succeed())
	t.Logf("killed the manager after %d Tencent IM creates; recorded at that moment:\n%s",
		sims.TencentIM.Count("create_group")-timCreates,
		kubectl(t, "get", "chatgroups", "-o", `custom-columns=NAME:.metadata.name,GROUP-ID:.metadata.annotations.im\.chatgroup\.io/group-id,CREATE-PENDING:.metadata.annotations.im\.chatgroup\.io/create-pending`))

	kubectl(t, "patch", "chatgroup", dingTalkGroup, "--type=json", "-p", `[{"op":"add","path":"/spec/members/-","value":"user5"}]`)
	stale := object(t, "chatgroup/"+dingTalkGroup) // Ready=True, but for the previous generation
	g.Expect(kstatusOf(t, stale)).To(Equal(status.InProgressStatus))
	expectHealth(t, "chatgroup-stale-generation", stale, "Progressing")

	var err error
	mgr, err = playground.StartManager(mgrOpts)
	g.Expect(err).NotTo(HaveOccurred())
	kubectl(t, "wait", "chatgroup/standup-1", "chatgroup/standup-2", "chatgroup/standup-3", "chatgroup/site-b", "--for=condition=Ready", "--timeout=60s")
	waitGeneration(t, dingTalkGroup)

	for i := 1; i <= 3; i++ {
		cg := chatGroup(t, fmt.Sprintf("standup-%d", i))
		g.Expect(cg.Annotations).To(HaveKeyWithValue(v1alpha1.GroupIDAnnotation, cg.Status.GroupID))
		g.Expect(timGroupsNamed(fmt.Sprintf("Standup %d", i))).To(HaveLen(1))
	}
	g.Expect(sims.TencentIM.Groups(playground.TencentIMAppID)).To(HaveLen(4), "release-train and three standups")
	g.Expect(sims.WhatsApp.GroupsWithSubject("Site B")).To(HaveLen(1))
	g.Expect(sims.DingTalk.GroupsNamed("SRE On-call")).To(HaveLen(1))
	group, _ := sims.DingTalk.Group(chatGroup(t, dingTalkGroup).Status.GroupID)
	g.Expect(group.Members).To(ContainElement("user5"), "the edit made while the manager was down")
}

// timGroupsNamed returns the Tencent IM groups called name.
func timGroupsNamed(name string) []string {
	var ids []string
	for _, grp := range sims.TencentIM.Groups(playground.TencentIMAppID) {
		if grp.Name == name {
			ids = append(ids, grp.ID)
		}
	}
	return ids
}

// suspend suspends a group, edits it, and expects no vendor call until it is
// resumed.
func suspend(t *testing.T) {
	g := NewWithT(t)
	id := chatGroup(t, "standup-1").Status.GroupID
	kubectl(t, "patch", "chatgroup", "standup-1", "--type=merge", "-p", `{"spec":{"suspend":true}}`)
	kubectl(t, "wait", "chatgroup/standup-1", readyReason(v1alpha1.SuspendedReason), "--timeout=30s")
	calls := len(sims.TencentIM.GroupCalls(id))

	gen := strings.TrimSpace(kubectl(t, "patch", "chatgroup", "standup-1", "--type=json", "-o", "jsonpath={.metadata.generation}",
		"-p", `[{"op":"add","path":"/spec/members/-","value":"erin"}]`))
	kubectl(t, "wait", "chatgroup/standup-1", `--for=jsonpath={.status.conditions[?(@.type=="Ready")].observedGeneration}=`+gen, "--timeout=30s")
	obj := object(t, "chatgroup/standup-1")
	g.Expect(kstatusOf(t, obj)).To(Equal(status.InProgressStatus))
	expectHealth(t, "chatgroup-suspended", obj, "Suspended")
	g.Expect(sims.TencentIM.GroupCalls(id)).To(HaveLen(calls), "no vendor calls while suspended")

	kubectl(t, "patch", "chatgroup", "standup-1", "--type=merge", "-p", `{"spec":{"suspend":false}}`)
	waitGeneration(t, "standup-1")
	tg, _ := sims.TencentIM.Group(playground.TencentIMAppID, id)
	g.Expect(tg.Accounts()).To(ContainElement("erin"))
}

// stalled refers a group to a provider of another vendor: Stalled, Failed for
// kstatus and Degraded for Argo CD, with a message that says what to change.
func stalled(t *testing.T) {
	g := NewWithT(t)
	applyManifest(t, "wrong-vendor.yaml", `apiVersion: im.chatgroup.io/v1alpha1
kind: ChatGroup
metadata: {name: wrong-vendor}
spec: {vendor: TencentIM, providerRef: {name: whatsapp}, name: Wrong vendor, owner: alice}
`)
	kubectl(t, "wait", "chatgroup/wrong-vendor", "--for=condition=Stalled", "--timeout=30s")
	obj := object(t, "chatgroup/wrong-vendor")
	g.Expect(kstatusOf(t, obj)).To(Equal(status.FailedStatus))
	expectHealth(t, "chatgroup-stalled", obj, "Degraded")
	cg := chatGroup(t, "wrong-vendor")
	ready := meta.FindStatusCondition(cg.Status.Conditions, v1alpha1.ReadyCondition)
	g.Expect(ready.Reason).To(Equal(v1alpha1.VendorMismatchReason))
	g.Expect(ready.Message).To(ContainSubstring("spec.vendor"))
	kubectl(t, "delete", "chatgroup", "wrong-vendor", "--timeout=30s")
}

// admission: changes no vendor could carry out are refused by the API server,
// with a message naming the field.
func admission(t *testing.T) {
	g := NewWithT(t)
	for patch, message := range map[string]string{
		`{"spec":{"deletionPolicy":"Delete"}}`:                 "spec.deletionPolicy Delete is not supported by DingTalk",
		`{"spec":{"vendor":"TencentIM"}}`:                      "spec.vendor is immutable",
		`{"spec":{"name":"A name far too long for DingTalk"}}`: "spec.name must be 1-20 characters for DingTalk",
	} {
		_, errOut, err := tryKubectl(t, "patch", "chatgroup", dingTalkGroup, "--type=merge", "-p", patch)
		g.Expect(err).To(HaveOccurred(), patch)
		g.Expect(errOut).To(ContainSubstring(message))
	}
}

// noSecrets looks for every credential, UserSig, request signature and access
// token the simulators saw in the objects, events and the manager's log.
func noSecrets(t *testing.T) {
	g := NewWithT(t)
	seen := strings.Join([]string{
		kubectl(t, "get", "chatgroups,chatproviders,clusterchatproviders", "-A", "-o", "yaml"),
		kubectl(t, "get", "events", "-A", "-o", "yaml"),
		playground.Tail(mgrOpts.LogPath, 1<<30),
	}, "\n")
	secrets := append([]string{playground.DingTalkAppSecret, playground.TencentIMSecretKey, playground.CAMSAccessKeySecret},
		sims.TencentIM.UserSigs()...)
	secrets = append(secrets, sims.WhatsApp.Signatures()...)
	secrets = append(secrets, sims.DingTalk.Tokens()...)
	g.Expect(len(secrets)).To(BeNumerically(">", 5), "the simulators saw signed calls")
	for _, s := range secrets {
		g.Expect(seen).NotTo(ContainSubstring(s))
	}
}

// deletion deletes groups with kubectl: with deletionPolicy Delete the
// finalizer holds the object until the vendor group is gone, also while the
// vendor fails; with Orphan the group stays.
func deletion(t *testing.T) {
	g := NewWithT(t)
	tim := chatGroup(t, tencentIMGroup)
	g.Expect(tim.Finalizers).To(ContainElement(v1alpha1.ChatGroupFinalizer))
	g.Expect(tim.Spec.DeletionPolicy).To(Equal(v1alpha1.Delete))

	sims.TencentIM.SetOpFaults("destroy_group", vendorsim.Faults{ErrorRate: 1})
	kubectl(t, "delete", "chatgroup", tencentIMGroup, "--wait=false")
	out := kubectl(t, "wait", "chatgroup/"+tencentIMGroup, readyReason(v1alpha1.DeleteFailedReason), "--timeout=30s", "-o", "json")
	obj := decodeObject(t, out)
	expectHealth(t, "chatgroup-delete-failed", obj, "Progressing")
	_, exists := sims.TencentIM.Group(playground.TencentIMAppID, tim.Status.GroupID)
	g.Expect(exists).To(BeTrue(), "the vendor refused the delete")
	g.Expect(chatGroup(t, tencentIMGroup).Finalizers).To(ContainElement(v1alpha1.ChatGroupFinalizer))

	sims.TencentIM.SetOpFaults("destroy_group", vendorsim.Faults{})
	kubectl(t, "wait", "chatgroup/"+tencentIMGroup, "--for=delete", "--timeout=60s")
	_, exists = sims.TencentIM.Group(playground.TencentIMAppID, tim.Status.GroupID)
	g.Expect(exists).To(BeFalse(), "deletionPolicy Delete")

	dt := chatGroup(t, dingTalkGroup)
	kubectl(t, "delete", "chatgroup", dingTalkGroup, "--timeout=30s")
	group, exists := sims.DingTalk.Group(dt.Status.GroupID)
	g.Expect(exists).To(BeTrue(), "deletionPolicy Orphan (the default)")
	g.Expect(group.Members).To(ContainElements("user1", "user5"))

	kubectl(t, "delete", "chatgroups", "--all", "--timeout=60s")
	g.Expect(sims.TencentIM.Groups(playground.TencentIMAppID)).To(BeEmpty(), "the standups had deletionPolicy Delete")
	g.Expect(sims.WhatsApp.GroupsWithSubject("Field team")).To(HaveLen(1), "Orphan")
	_, errOut, _ := tryKubectl(t, "get", "chatgroups")
	g.Expect(errOut).To(ContainSubstring("No resources found"))

	events := kubectl(t, "get", "events", "--field-selector", "involvedObject.kind=ChatGroup", "-o", "jsonpath={range .items[*]}{.involvedObject.name}/{.reason}{\"\\n\"}{end}")
	g.Expect(strings.Fields(events)).To(ContainElements(tencentIMGroup+"/DeleteFailed", tencentIMGroup+"/Deleted", dingTalkGroup+"/Orphaned"))
}

// metrics reads the manager's vendor call counter.
func metrics(t *testing.T) {
	g := NewWithT(t)
	resp, err := http.Get(mgr.MetricsURL) //nolint:noctx // loopback
	g.Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	g.Expect(err).NotTo(HaveOccurred())
	for _, vendor := range []string{"DingTalk", "TencentIM", "WhatsApp"} {
		g.Expect(string(body)).To(MatchRegexp(`chatgroup_vendor_calls_total\{[^}]*vendor="`+vendor+`"[^}]*\} [1-9]`), vendor)
	}
}
