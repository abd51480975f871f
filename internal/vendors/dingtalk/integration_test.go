package dingtalk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/controller"
	"github.com/chatgroup-operator/chatgroup-operator/internal/testenv"
	"github.com/chatgroup-operator/chatgroup-operator/internal/testenv/operator"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors/dingtalk"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
	simdingtalk "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/dingtalk"
)

// One API server, one manager and one simulated DingTalk organisation for the
// package, started by the first integration test (startEnv), so the unit tests
// run without a control plane. Tests isolate themselves by namespace and group
// name, and count the simulator's writes per group.
var (
	env      *testenv.Env
	envErr   error
	envStart sync.Once
	harness  *simdingtalk.Harness
	sim      *simdingtalk.Server
	simURL   string
)

const (
	appSecret = "ding-app-secret-canary"
	// wrongSecret is a rejected appSecret; it must not show up anywhere either.
	wrongSecret = "ding-wrong-secret-canary"
)

var ctx = context.Background()

func TestMain(m *testing.M) {
	harness = simdingtalk.NewHarness(vendorsim.SimConfig{Users: directory(), Secret: appSecret})
	sim = harness.Server
	srv := httptest.NewServer(harness)
	simURL = srv.URL
	code := m.Run()
	if env != nil {
		env.Stop()
	}
	srv.Close()
	os.Exit(code)
}

// startEnv starts the control plane and the operator, with DingTalk
// registered as main.go registers it, once for the calling test.
func startEnv(t *testing.T) {
	t.Helper()
	envStart.Do(func() {
		env, envErr = operator.Start(controller.Options{Vendors: vendors.Registry{dingtalk.Registration()}})
	})
	if envErr != nil {
		t.Fatal(envErr)
	}
}

// directory is the organisation's staff: owners, members and 120 bulk users.
func directory() []string {
	users := []string{"owner1", "x1"}
	for i := 1; i <= 9; i++ {
		users = append(users, fmt.Sprintf("u%d", i), fmt.Sprintf("n%d", i))
	}
	return append(users, bulk(120)...)
}

func bulk(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("m%03d", i)
	}
	return out
}

// newProvider creates a ChatProvider "dingtalk" for the simulated app, with
// secret as its appSecret in the credentials Secret.
func newProvider(t *testing.T, ns, secret string) *v1alpha1.ChatProvider {
	t.Helper()
	settings, data := harness.Provider(simURL)
	data[dingtalk.SecretAppSecret] = []byte(secret)
	return env.Provider(t, ns, "dingtalk", settings, data)
}

// groupSeq numbers group names: the simulator outlives a test (and -count runs).
var groupSeq atomic.Int32

// newGroup returns a ChatGroup owned by owner1 with members u1-u5, whose
// DingTalk name is name plus a sequence number (at most 20 characters).
func newGroup(ns, name string, mods ...func(*v1alpha1.ChatGroup)) *v1alpha1.ChatGroup {
	cg := &v1alpha1.ChatGroup{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.ChatGroupSpec{
			Vendor:      v1alpha1.DingTalk,
			ProviderRef: v1alpha1.ProviderReference{Name: "dingtalk"},
			Name:        fmt.Sprintf("%s-%d", name, groupSeq.Add(1)),
			Owner:       "owner1",
			Members:     []string{"u1", "u2", "u3", "u4", "u5"},
		},
	}
	for _, m := range mods {
		m(cg)
	}
	return cg
}

// readyGroup creates a provider and a group in a new namespace, waits for
// Ready and returns the object and its simulated group.
func readyGroup(t *testing.T, name string, mods ...func(*v1alpha1.ChatGroup)) (*v1alpha1.ChatGroup, string) {
	t.Helper()
	startEnv(t)
	ns := env.Namespace(t)
	newProvider(t, ns, appSecret)
	cg := newGroup(ns, name, mods...)
	NewWithT(t).Expect(env.Client.Create(ctx, cg)).To(Succeed())
	got := env.WaitReady(t, cg)
	return got, got.Status.GroupID
}

// patchSpec applies mutate to cg's spec with a merge patch.
func patchSpec(t *testing.T, cg *v1alpha1.ChatGroup, mutate func(*v1alpha1.ChatGroupSpec)) {
	t.Helper()
	patch := client.MergeFrom(cg.DeepCopy())
	mutate(&cg.Spec)
	NewWithT(t).Expect(env.Client.Patch(ctx, cg, patch)).To(Succeed())
}

// writes returns the simulator's writes to a group, of op when op is not empty.
func writes(chatID, op string) []simdingtalk.Write {
	return sim.Writes(func(w simdingtalk.Write) bool { return w.ChatID == chatID && (op == "" || w.Op == op) })
}

// creates returns every create call for a group name, applied or rejected.
func creates(name string) []simdingtalk.Write {
	return sim.Writes(func(w simdingtalk.Write) bool { return w.Op == simdingtalk.OpCreate && w.Name == name })
}

func readyCondition(cg *v1alpha1.ChatGroup) *metav1.Condition {
	return meta.FindStatusCondition(cg.Status.Conditions, v1alpha1.ReadyCondition)
}

// printedColumns returns what `kubectl get` shows for cg: the server-side
// table row, by column name.
func printedColumns(t *testing.T, cg *v1alpha1.ChatGroup) map[string]any {
	t.Helper()
	g := NewWithT(t)
	hc, err := rest.HTTPClientFor(env.Config)
	g.Expect(err).NotTo(HaveOccurred())
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/apis/%s/namespaces/%s/chatgroups/%s",
		strings.TrimRight(env.Config.Host, "/"), v1alpha1.GroupVersion, cg.Namespace, cg.Name), nil)
	g.Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := hc.Do(req)
	g.Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	var table metav1.Table
	g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
	g.Expect(json.NewDecoder(resp.Body).Decode(&table)).To(Succeed())
	g.Expect(table.Rows).To(HaveLen(1))
	row := map[string]any{}
	for i, col := range table.ColumnDefinitions {
		row[col.Name] = table.Rows[0].Cells[i]
	}
	return row
}

func TestDingTalk_CreateBecomesReady(t *testing.T) {
	g := NewWithT(t)
	got, id := readyGroup(t, "create-ready", func(c *v1alpha1.ChatGroup) {
		c.Spec.ManagementOptions = &v1alpha1.ManagementOptions{MentionAll: v1alpha1.OwnerOnly, ShowHistoryToNewMembers: ptr(true)}
	})

	g.Expect(creates(got.Spec.Name)).To(HaveLen(1), "exactly one create call")
	groups := sim.GroupsNamed(got.Spec.Name)
	g.Expect(groups).To(HaveLen(1))
	grp := groups[0]
	g.Expect(id).To(Equal(grp.ChatID))
	g.Expect(writes(id, simdingtalk.OpUpdate)).To(BeEmpty(), "five members fit in the create call")
	g.Expect(grp.Owner).To(Equal("owner1"))
	g.Expect(grp.Members).To(ConsistOf("owner1", "u1", "u2", "u3", "u4", "u5"))
	g.Expect(grp.Options).To(Equal(simdingtalk.Options{MentionAllAuthority: 1, ShowHistoryType: 1}))
	g.Expect(grp.ConversationTag).To(Equal(int64(2)))

	g.Expect(got.Annotations).To(HaveKeyWithValue(v1alpha1.GroupIDAnnotation, grp.ChatID))
	g.Expect(got.Annotations).NotTo(HaveKey(v1alpha1.CreatePendingAnnotation))
	g.Expect(got.Status.MemberCount).To(Equal(int32(6)))
	g.Expect(got.Status.DingTalk).To(Equal(&v1alpha1.DingTalkStatus{OpenConversationID: grp.OpenConversationID}))
	g.Expect(testenv.KStatus(t, got)).To(Equal(status.CurrentStatus))

	cols := printedColumns(t, got)
	g.Expect(cols).To(HaveKeyWithValue("Vendor", "DingTalk"))
	g.Expect(cols).To(HaveKeyWithValue("Group ID", grp.ChatID))
	g.Expect(cols).To(HaveKeyWithValue("Members", BeNumerically("==", 6)))
	g.Expect(cols).To(HaveKeyWithValue("Ready", "True"))
	g.Eventually(func(g Gomega) []string { return env.EventReasons(g, got) }).Should(ContainElement(v1alpha1.CreatedReason))
}

func TestDingTalk_RenameAddThreeRemoveTwoIsOneUpdate(t *testing.T) {
	g := NewWithT(t)
	cg, id := readyGroup(t, "rename")
	patchSpec(t, cg, func(s *v1alpha1.ChatGroupSpec) {
		s.Name += "-b"
		s.Members = []string{"u1", "u2", "u3", "n1", "n2", "n3"}
	})

	got := env.WaitReady(t, cg)
	g.Expect(got.Generation).To(Equal(int64(2)))
	updates := writes(id, simdingtalk.OpUpdate)
	g.Expect(updates).To(HaveLen(1), "exactly one update call")
	g.Expect(updates[0].Code).To(BeEmpty())
	g.Expect(updates[0].Name).To(Equal(got.Spec.Name))
	g.Expect(updates[0].Add).To(ConsistOf("n1", "n2", "n3"))
	g.Expect(updates[0].Del).To(ConsistOf("u4", "u5"))
	grp, _ := sim.Group(id)
	g.Expect(grp.Name).To(Equal(got.Spec.Name))
	g.Expect(grp.Members).To(ConsistOf("owner1", "u1", "u2", "u3", "n1", "n2", "n3"))
	g.Expect(got.Status.MemberCount).To(Equal(int32(7)))
	g.Eventually(func(g Gomega) []string { return env.EventReasons(g, got) }).Should(ContainElement(v1alpha1.MembersChangedReason))
}

func TestDingTalk_ResyncWithNothingChangedWritesNothing(t *testing.T) {
	g := NewWithT(t)
	cg, id := readyGroup(t, "noop")
	reads := sim.Count(simdingtalk.OpGet, "ok")
	before := len(writes(id, ""))
	g.Expect(before).To(Equal(1), "the create")

	for range 3 {
		env.RequestReconcile(t, cg)
	}
	g.Expect(sim.Count(simdingtalk.OpGet, "ok")).To(BeNumerically(">=", reads+3), "each pass reads the group")
	g.Expect(writes(id, "")).To(HaveLen(before), "no write for an unchanged group")
	g.Expect(env.WaitReady(t, cg).Status.ObservedGeneration).To(Equal(int64(1)))
}

func TestDingTalk_OwnerTransfer(t *testing.T) {
	t.Run("to a newcomer: add, set owner, then remove the unlisted old owner", func(t *testing.T) {
		g := NewWithT(t)
		cg, id := readyGroup(t, "owner-new")
		patchSpec(t, cg, func(s *v1alpha1.ChatGroupSpec) { s.Owner = "n9" })
		got := env.WaitReady(t, cg)

		updates := writes(id, simdingtalk.OpUpdate)
		g.Expect(updates).To(HaveLen(3))
		g.Expect(updates[0]).To(And(HaveField("Add", []string{"n9"}), HaveField("Owner", ""), HaveField("Del", BeEmpty())))
		g.Expect(updates[1]).To(And(HaveField("Owner", "n9"), HaveField("Add", BeEmpty()), HaveField("Del", BeEmpty())))
		g.Expect(updates[2]).To(And(HaveField("Del", []string{"owner1"}), HaveField("Owner", "")))
		for i, w := range writes(id, "") {
			g.Expect(w.Code).To(BeEmpty())
			g.Expect(w.After.Members).To(ContainElement(w.After.Owner), "the group has its owner after call %d", i)
		}
		grp, _ := sim.Group(id)
		g.Expect(grp.Owner).To(Equal("n9"))
		g.Expect(grp.Members).To(ConsistOf("n9", "u1", "u2", "u3", "u4", "u5"))
		g.Eventually(func(g Gomega) []string { return env.EventReasons(g, got) }).Should(ContainElement(v1alpha1.OwnerTransferredReason))
	})

	t.Run("to a member; the listed old owner stays", func(t *testing.T) {
		g := NewWithT(t)
		cg, id := readyGroup(t, "owner-member")
		patchSpec(t, cg, func(s *v1alpha1.ChatGroupSpec) {
			s.Owner = "u1"
			s.Members = []string{"owner1", "u2", "u3", "u4", "u5"}
		})
		env.WaitReady(t, cg)

		updates := writes(id, simdingtalk.OpUpdate)
		g.Expect(updates).To(HaveLen(1))
		g.Expect(updates[0]).To(And(HaveField("Owner", "u1"), HaveField("Add", BeEmpty()), HaveField("Del", BeEmpty())))
		grp, _ := sim.Group(id)
		g.Expect(grp.Owner).To(Equal("u1"))
		g.Expect(grp.Members).To(ConsistOf("owner1", "u1", "u2", "u3", "u4", "u5"))
	})
}

func TestDingTalk_MembersChangedInDingTalk(t *testing.T) {
	for _, tc := range []struct {
		policy  v1alpha1.MemberPolicy
		wantDel []string
		want    []string
	}{
		{policy: v1alpha1.Authoritative, wantDel: []string{"x1"}, want: []string{"owner1", "u1", "u2", "u3", "u4", "u5"}},
		{policy: v1alpha1.Additive, want: []string{"owner1", "u1", "u2", "u3", "u4", "u5", "x1"}},
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			g := NewWithT(t)
			cg, id := readyGroup(t, "drift-"+strings.ToLower(string(tc.policy))[:3], func(c *v1alpha1.ChatGroup) {
				c.Spec.MemberPolicy = tc.policy
			})
			// Someone removes u2 and adds x1 in the DingTalk app.
			g.Expect(sim.Edit(id, func(grp *simdingtalk.Group) {
				grp.Members = append(slices.DeleteFunc(grp.Members, func(m string) bool { return m == "u2" }), "x1")
			})).To(Succeed())

			env.RequestReconcile(t, cg)
			env.WaitReady(t, cg)
			updates := writes(id, simdingtalk.OpUpdate)
			g.Expect(updates).To(HaveLen(1))
			g.Expect(updates[0].Add).To(Equal([]string{"u2"}), "the removed member is put back")
			if tc.wantDel == nil {
				g.Expect(updates[0].Del).To(BeEmpty(), "unlisted members are left alone")
			} else {
				g.Expect(updates[0].Del).To(Equal(tc.wantDel))
			}
			grp, _ := sim.Group(id)
			g.Expect(grp.Members).To(ConsistOf(tc.want))
		})
	}
}

func TestDingTalk_120MembersAreThreeUpdates(t *testing.T) {
	g := NewWithT(t)
	cg, id := readyGroup(t, "bulk")
	patchSpec(t, cg, func(s *v1alpha1.ChatGroupSpec) { s.Members = append(s.Members, bulk(120)...) })
	got := env.WaitReady(t, cg)

	updates := writes(id, simdingtalk.OpUpdate)
	g.Expect(updates).To(HaveLen(3))
	var added []string
	for _, w := range updates {
		g.Expect(w.Code).To(BeEmpty())
		g.Expect(len(w.Add)).To(Equal(simdingtalk.MaxIDsPerList))
		added = append(added, w.Add...)
	}
	g.Expect(added).To(ConsistOf(bulk(120)))
	grp, _ := sim.Group(id)
	g.Expect(grp.Members).To(HaveLen(126))
	g.Expect(got.Status.MemberCount).To(Equal(int32(126)))
}

func TestDingTalk_LostCreateResponseNeverMakesASecondGroup(t *testing.T) {
	g := NewWithT(t)
	startEnv(t)
	ns := env.Namespace(t)
	newProvider(t, ns, appSecret)
	cg := newGroup(ns, "lost-create")
	dropped := sim.Count(simdingtalk.OpCreate, "dropped")
	sim.SetOpFaults(simdingtalk.OpCreate, vendorsim.Faults{DropRate: 1})
	g.Expect(env.Client.Create(ctx, cg)).To(Succeed())
	g.Eventually(func() int { return sim.Count(simdingtalk.OpCreate, "dropped") }).WithTimeout(10 * time.Second).Should(Equal(dropped + 1))
	sim.SetOpFaults(simdingtalk.OpCreate, vendorsim.Faults{})

	// The create-pending guard finds the group by name, but DingTalk reports it
	// only by openConversationId: the object stalls and says how to adopt it.
	got := env.WaitFor(t, cg, metav1.ConditionFalse, v1alpha1.CreateIncompleteReason)
	groups := sim.GroupsNamed(cg.Spec.Name)
	g.Expect(groups).To(HaveLen(1))
	g.Expect(creates(cg.Spec.Name)).To(HaveLen(1), "never a second create")
	g.Expect(got.Annotations).To(HaveKey(v1alpha1.CreatePendingAnnotation))
	g.Expect(got.Annotations).NotTo(HaveKey(v1alpha1.GroupIDAnnotation))
	stalled := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.StalledCondition)
	g.Expect(stalled).NotTo(BeNil())
	g.Expect(stalled.Message).To(ContainSubstring(groups[0].OpenConversationID))
	g.Expect(stalled.Message).To(ContainSubstring("set spec.adoptGroupID to the group's chatid"))
	g.Expect(testenv.KStatus(t, got)).To(Equal(status.FailedStatus))

	// Following the instructions adopts it.
	patchSpec(t, got, func(s *v1alpha1.ChatGroupSpec) { s.AdoptGroupID = groups[0].ChatID })
	after := env.WaitReady(t, got)
	g.Expect(after.Annotations).To(HaveKeyWithValue(v1alpha1.GroupIDAnnotation, groups[0].ChatID))
	g.Expect(after.Annotations).NotTo(HaveKey(v1alpha1.CreatePendingAnnotation))
	g.Expect(sim.GroupsNamed(cg.Spec.Name)).To(HaveLen(1))
	g.Expect(creates(cg.Spec.Name)).To(HaveLen(1))
	g.Eventually(func(g Gomega) []string { return env.EventReasons(g, after) }).Should(ContainElement(v1alpha1.AdoptedReason))
}

func TestDingTalk_VendorFailuresThenConvergence(t *testing.T) {
	t.Run("500 for a while", func(t *testing.T) {
		g := NewWithT(t)
		cg, id := readyGroup(t, "flaky")
		injected := sim.Count(simdingtalk.OpUpdate, "injected")
		sim.SetOpFaults(simdingtalk.OpUpdate, vendorsim.Faults{ErrorRate: 1})
		patchSpec(t, cg, func(s *v1alpha1.ChatGroupSpec) { s.Name += "-b" })

		got := env.WaitFor(t, cg, metav1.ConditionFalse, v1alpha1.VendorUnavailableReason)
		g.Expect(readyCondition(got).Message).To(ContainSubstring("system.error"))
		g.Expect(testenv.KStatus(t, got)).To(Equal(status.InProgressStatus))
		sim.SetOpFaults(simdingtalk.OpUpdate, vendorsim.Faults{})

		env.WaitReady(t, cg)
		g.Expect(sim.Count(simdingtalk.OpUpdate, "injected")).To(BeNumerically(">", injected))
		g.Expect(writes(id, simdingtalk.OpUpdate)).To(HaveLen(1), "one update reached the group: no change lost or repeated")
		grp, _ := sim.Group(id)
		g.Expect(grp.Name).To(Equal(cg.Spec.Name))
	})

	t.Run("throttled for a while", func(t *testing.T) {
		g := NewWithT(t)
		start := time.Now()
		var groups []*v1alpha1.ChatGroup
		var ids []string
		for i := range 3 {
			cg, id := readyGroup(t, fmt.Sprintf("throttled-%d", i))
			groups, ids = append(groups, cg), append(ids, id)
		}
		throttled := sim.Count(simdingtalk.OpUpdate, "throttled")
		sim.SetThrottle(simdingtalk.OpUpdate, true)
		for _, cg := range groups {
			patchSpec(t, cg, func(s *v1alpha1.ChatGroupSpec) { s.Members = append(s.Members, "n1") })
		}
		for _, cg := range groups {
			got := env.WaitFor(t, cg, metav1.ConditionFalse, v1alpha1.RateLimitedReason)
			g.Expect(readyCondition(got).Message).To(ContainSubstring(simdingtalk.CodeQPSLimit))
		}
		// Stay throttled across a retry of each group.
		g.Eventually(func() int { return sim.Count(simdingtalk.OpUpdate, "throttled") - throttled }).
			WithTimeout(10 * time.Second).Should(BeNumerically(">=", 2*len(groups)))
		sim.SetThrottle(simdingtalk.OpUpdate, false)

		for i, cg := range groups {
			env.WaitReady(t, cg)
			updates := writes(ids[i], simdingtalk.OpUpdate)
			g.Expect(updates).To(HaveLen(1))
			g.Expect(updates[0].Add).To(Equal([]string{"n1"}))
		}
		during := sim.Count(simdingtalk.OpUpdate, "throttled") - throttled
		g.Expect(during).To(BeNumerically(">=", 3))
		g.Expect(during).To(BeNumerically("<=", 3*4), "throttled calls are retried after the vendor's delay, not in a loop")
		for _, op := range []string{simdingtalk.OpToken, simdingtalk.OpCreate, simdingtalk.OpUpdate, simdingtalk.OpGet, simdingtalk.OpSearch} {
			g.Expect(maxPerSecond(sim.Calls(), op, start)).To(BeNumerically("<=", simdingtalk.DefaultQPS), "calls of %s in any second", op)
		}
	})
}

func TestDingTalk_UnknownCodeOnUpdateIsRetriedUntilItStops(t *testing.T) {
	g := NewWithT(t)
	cg, id := readyGroup(t, "unknown-code")
	const code = "chat.somethingNew" // documented nowhere
	failed := sim.Count(simdingtalk.OpUpdate, "error")
	sim.FailWith(simdingtalk.OpUpdate, code)
	defer sim.FailWith(simdingtalk.OpUpdate, "")
	patchSpec(t, cg, func(s *v1alpha1.ChatGroupSpec) { s.Name += "-b" })

	got := env.WaitFor(t, cg, metav1.ConditionFalse, v1alpha1.VendorUnavailableReason)
	g.Expect(readyCondition(got).Message).To(ContainSubstring(code))
	g.Expect(readyCondition(got).Message).To(ContainSubstring("simulated failure"), "the vendor's message")
	g.Expect(meta.FindStatusCondition(got.Status.Conditions, v1alpha1.StalledCondition)).To(BeNil(), "an unknown code is never a stall")
	g.Expect(got.Status.ObservedGeneration).To(Equal(int64(1)), "the generation is not concluded")
	g.Expect(testenv.KStatus(t, got)).To(Equal(status.InProgressStatus))
	g.Eventually(func() int { return sim.Count(simdingtalk.OpUpdate, "error") - failed }).
		WithTimeout(10*time.Second).Should(BeNumerically(">=", 2), "retried")

	sim.FailWith(simdingtalk.OpUpdate, "")
	after := env.WaitReady(t, cg)
	g.Expect(after.Generation).To(Equal(got.Generation), "no spec change was needed")
	applied := sim.Writes(func(w simdingtalk.Write) bool { return w.ChatID == id && w.Op == simdingtalk.OpUpdate && w.Code == "" })
	g.Expect(applied).To(HaveLen(1))
	grp, _ := sim.Group(id)
	g.Expect(grp.Name).To(Equal(after.Spec.Name))
}

func TestDingTalk_MissingPermissionIsAccessDeniedUntilGranted(t *testing.T) {
	g := NewWithT(t)
	cg, id := readyGroup(t, "access-denied")
	sim.FailWith(simdingtalk.OpUpdate, simdingtalk.CodePermissionDenied)
	defer sim.FailWith(simdingtalk.OpUpdate, "")
	patchSpec(t, cg, func(s *v1alpha1.ChatGroupSpec) { s.Members = append(s.Members, "n1") })

	got := env.WaitFor(t, cg, metav1.ConditionFalse, v1alpha1.AccessDeniedReason)
	msg := readyCondition(got).Message
	g.Expect(msg).To(ContainSubstring(simdingtalk.CodePermissionDenied))
	g.Expect(msg).To(ContainSubstring("qyapi_chat_manage"), "the message names the permission to grant")
	g.Expect(meta.FindStatusCondition(got.Status.Conditions, v1alpha1.StalledCondition)).To(BeNil())
	g.Expect(testenv.KStatus(t, got)).To(Equal(status.InProgressStatus))

	sim.FailWith(simdingtalk.OpUpdate, "") // the permission is granted
	after := env.WaitReady(t, cg)
	g.Expect(after.Generation).To(Equal(got.Generation))
	grp, _ := sim.Group(id)
	g.Expect(grp.Members).To(ContainElement("n1"))
}

// maxPerSecond returns the most calls of op since start within any one second.
func maxPerSecond(calls []vendorsim.Call, op string, start time.Time) int {
	var at []time.Time
	for _, c := range calls {
		if c.Op == op && !c.At.Before(start) {
			at = append(at, c.At)
		}
	}
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	most, lo := 0, 0
	for hi := range at {
		for at[hi].Sub(at[lo]) >= time.Second {
			lo++
		}
		most = max(most, hi-lo+1)
	}
	return most
}

func TestDingTalk_BadCredentialsThenFixedSecret(t *testing.T) {
	g := NewWithT(t)
	startEnv(t)
	ns := env.Namespace(t)
	p := newProvider(t, ns, wrongSecret)
	cg := newGroup(ns, "bad-creds")
	g.Expect(env.Client.Create(ctx, cg)).To(Succeed())

	got := env.WaitFor(t, cg, metav1.ConditionFalse, v1alpha1.AuthenticationFailedReason)
	g.Expect(readyCondition(got).Message).To(ContainSubstring("The appKey or appSecret is invalid"))
	env.WaitProvider(t, p, metav1.ConditionFalse, v1alpha1.AuthenticationFailedReason)
	g.Expect(creates(cg.Spec.Name)).To(BeEmpty())

	// Fix the Secret. Secrets are not watched, so the provider is nudged with a
	// spec edit (its documented default rate limit, made explicit); its recovery
	// re-queues the group.
	settings, data := harness.Provider(simURL)
	fixed, _ := testenv.ProviderObjects(ns, "dingtalk", settings, data)
	g.Expect(env.Client.Patch(ctx, fixed, client.Merge)).To(Succeed())
	patch := client.MergeFrom(p.DeepCopy())
	p.Spec.RateLimit = &v1alpha1.RateLimit{QPS: 20, Burst: 20}
	g.Expect(env.Client.Patch(ctx, p, patch)).To(Succeed())

	after := env.WaitReady(t, got)
	g.Expect(creates(cg.Spec.Name)).To(HaveLen(1))
	g.Eventually(func(g Gomega) []string { return env.EventReasons(g, after) }).Should(ContainElement(v1alpha1.RecoveredReason))
	g.Eventually(func(g Gomega) metav1.ConditionStatus {
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(p), p)).To(Succeed())
		return meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ReadyCondition).Status
	}).Should(Equal(metav1.ConditionTrue))
}

// TestDingTalk_UnknownMemberIsLeftOut: a userId the organisation does not have
// must not block the rest. The refused create (the vendor names the userId) is
// made again without it, the group is Ready with everyone else, and status
// names the ID (MembersResolved UnknownToVendor); nothing is asked again.
func TestDingTalk_UnknownMemberIsLeftOut(t *testing.T) {
	g := NewWithT(t)
	startEnv(t)
	ns := env.Namespace(t)
	// A provider becoming Ready re-queues its groups; wait for it, so the one
	// pass counted is the group's own.
	env.WaitProvider(t, newProvider(t, ns, appSecret), metav1.ConditionTrue, "")
	cg := newGroup(ns, "ghost", func(c *v1alpha1.ChatGroup) { c.Spec.Members = []string{"u1", "ghost1"} })
	g.Expect(env.Client.Create(ctx, cg)).To(Succeed())

	got := env.WaitReady(t, cg)
	g.Expect(got.Status.UnresolvedUsers).To(Equal([]string{"ghost1"}))
	mr := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.MembersResolvedCondition)
	g.Expect(mr).NotTo(BeNil())
	g.Expect(mr.Reason).To(Equal(v1alpha1.UnknownToVendorReason))
	g.Expect(mr.Message).To(ContainSubstring("ghost1"))
	g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
	g.Expect(testenv.KStatus(t, got)).To(Equal(status.CurrentStatus))
	g.Consistently(func() int { return len(creates(cg.Spec.Name)) }).WithTimeout(2*time.Second).Should(Equal(2), "one refused create, one without the unknown userId")
	g.Expect(writes(got.Status.GroupID, simdingtalk.OpUpdate)).To(BeEmpty(), "the named userId is not tried again")
	groups := sim.GroupsNamed(cg.Spec.Name)
	g.Expect(groups).To(HaveLen(1))
	g.Expect(groups[0].Members).To(ConsistOf("owner1", "u1"))
}

func TestDingTalk_ExpiredTokenIsRefreshed(t *testing.T) {
	g := NewWithT(t)
	cg, id := readyGroup(t, "token-expiry")
	tokenCalls := sim.Count(simdingtalk.OpToken, "ok")
	refused := sim.Count(simdingtalk.OpGet, "unauthorized")
	sim.ExpireTokens()

	patchSpec(t, cg, func(s *v1alpha1.ChatGroupSpec) { s.Name += "-b" })
	env.WaitReady(t, cg)
	g.Expect(sim.Count(simdingtalk.OpGet, "unauthorized")).To(Equal(refused+1), "the old token is refused once")
	g.Expect(sim.Count(simdingtalk.OpToken, "ok")).To(Equal(tokenCalls+1), "one refresh for every group of the app")
	g.Expect(writes(id, simdingtalk.OpUpdate)).To(HaveLen(1))
}

// TestDingTalk_NoSecretsInConditionsOrEvents runs last: it checks everything
// the earlier tests left behind.
func TestDingTalk_NoSecretsInConditionsOrEvents(t *testing.T) {
	g := NewWithT(t)
	startEnv(t)
	secrets := append([]string{wrongSecret, "access_token="}, harness.Secrets()...)
	g.Expect(secrets).To(ContainElement(appSecret))
	g.Expect(sim.IssuedTokens()).NotTo(BeEmpty())

	var texts []string
	events := &eventsv1.EventList{}
	g.Expect(env.Client.List(ctx, events)).To(Succeed())
	for _, e := range events.Items {
		texts = append(texts, e.Note, e.Reason)
	}
	groups := &v1alpha1.ChatGroupList{}
	g.Expect(env.Client.List(ctx, groups)).To(Succeed())
	providers := &v1alpha1.ChatProviderList{}
	g.Expect(env.Client.List(ctx, providers)).To(Succeed())
	var conds []metav1.Condition
	for _, cg := range groups.Items {
		conds = append(conds, cg.Status.Conditions...)
	}
	for _, p := range providers.Items {
		conds = append(conds, p.Status.Conditions...)
	}
	for _, c := range conds {
		texts = append(texts, c.Message)
	}
	g.Expect(len(texts)).To(BeNumerically(">", 20), "the earlier tests left conditions and events to check")
	for _, text := range texts {
		for _, s := range secrets {
			g.Expect(text).NotTo(ContainSubstring(s))
		}
	}
}

func ptr[T any](v T) *T { return &v }
