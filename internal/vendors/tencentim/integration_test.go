package tencentim_test

// Integration tests: the operator's reconcilers in an envtest control plane, the
// Tencent IM client, and the Tencent IM simulator over real HTTP. The control
// plane and manager start once, for the first test that needs them; each test
// runs its own simulator (an httptest server) behind its own ChatProvider, so
// fault knobs stay local to the test and the simulator's per-group counters are
// exact while tests run in parallel.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/controller"
	"github.com/chatgroup-operator/chatgroup-operator/internal/testenv"
	"github.com/chatgroup-operator/chatgroup-operator/internal/testenv/operator"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors/tencentim"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
	timsim "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/tencentim"
)

const (
	appID     = int64(1400000000)
	admin     = "administrator"
	secretKey = "canary-tencent-secret-key"
)

var (
	ctx = context.Background()
	// env is the control plane and operator the integration tests share. It is
	// started by the first test that needs it (startEnv), so that running only
	// the package's unit tests starts no control plane.
	env      *testenv.Env
	envErr   error
	envStart sync.Once
)

func TestMain(m *testing.M) {
	code := m.Run()
	if env != nil {
		env.Stop()
	}
	os.Exit(code)
}

// options run the operator's controllers with Tencent IM registered, as main.go
// does (and the test defaults for workers and retries).
var options = controller.Options{Vendors: vendors.Registry{tencentim.Registration()}}

// startEnv starts env once, for the calling integration test.
func startEnv(t *testing.T) {
	t.Helper()
	envStart.Do(func() { env, envErr = operator.Start(options) })
	if envErr != nil {
		t.Fatal(envErr)
	}
}

// fixture is one test's simulator and namespace.
type fixture struct {
	t        *testing.T
	sim      *timsim.Server
	endpoint string
	ns       string
}

// accounts are imported in every simulated app: the IDs the tests use, and
// m001..m700 for the large-group test.
var accounts = func() []string {
	ids := []string{"owner1", "alice", "bob", "carol", "dave", "u1", "u2", "u3", "u4", "u5", "n1", "n2", "n3", "stale"}
	for i := 1; i <= 700; i++ {
		ids = append(ids, fmt.Sprintf("m%03d", i))
	}
	return ids
}()

// newFixture starts a simulator hosting the app and makes a namespace. It makes
// no provider: see withProvider.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	startEnv(t)
	sim := timsim.New(timsim.Config{Apps: map[int64]timsim.App{appID: {
		SecretKey: secretKey, Admins: []string{admin}, Accounts: accounts, GroupDataKeys: []string{"team", "tier"},
	}}})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &fixture{t: t, sim: sim, endpoint: srv.URL, ns: env.Namespace(t)}
}

// readyFixture is a fixture with a provider the simulator accepts, Ready before
// any group exists: a provider status change would otherwise reconcile the
// groups once more and blur the call counts.
func readyFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	p := f.provider(secretKey, f.endpoint, nil)
	env.WaitProvider(t, p, metav1.ConditionTrue, v1alpha1.SucceededReason)
	return f
}

// provider creates a ChatProvider named "tencentim" for the app at endpoint,
// and its credentials Secret holding key.
func (f *fixture) provider(key, endpoint string, limit *v1alpha1.RateLimit) *v1alpha1.ChatProvider {
	f.t.Helper()
	return env.Provider(f.t, f.ns, "tencentim", v1alpha1.ProviderSettings{
		Vendor:    v1alpha1.TencentIM,
		Endpoint:  endpoint,
		TencentIM: &v1alpha1.TencentIMProvider{SDKAppID: appID, AdminIdentifier: admin},
		RateLimit: limit,
	}, map[string][]byte{tencentim.SecretKey: []byte(key)})
}

// group returns a ChatGroup owned by owner1 with members u1..u5.
func (f *fixture) group(name string, mods ...func(*v1alpha1.ChatGroup)) *v1alpha1.ChatGroup {
	cg := &v1alpha1.ChatGroup{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec: v1alpha1.ChatGroupSpec{
			Vendor:      v1alpha1.TencentIM,
			ProviderRef: v1alpha1.ProviderReference{Name: "tencentim"},
			Name:        "Team " + name,
			Owner:       "owner1",
			Members:     []string{"u1", "u2", "u3", "u4", "u5"},
			TencentIM:   &v1alpha1.TencentIMGroup{GroupType: "Private"},
		},
	}
	for _, m := range mods {
		m(cg)
	}
	return cg
}

// ready creates cg and waits until it is Ready.
func (f *fixture) ready(cg *v1alpha1.ChatGroup) *v1alpha1.ChatGroup {
	f.t.Helper()
	NewWithT(f.t).Expect(env.Client.Create(ctx, cg)).To(Succeed())
	return env.WaitReady(f.t, cg)
}

// change patches cg's spec with mod and waits until the new generation is Ready.
func (f *fixture) change(cg *v1alpha1.ChatGroup, mod func(*v1alpha1.ChatGroup)) *v1alpha1.ChatGroup {
	f.t.Helper()
	patch := client.MergeFrom(cg.DeepCopy())
	mod(cg)
	NewWithT(f.t).Expect(env.Client.Patch(ctx, cg, patch)).To(Succeed())
	return env.WaitReady(f.t, cg)
}

// vendorGroup is the simulator's copy of group id.
func (f *fixture) vendorGroup(id string) timsim.Group {
	f.t.Helper()
	grp, ok := f.sim.Group(appID, id)
	NewWithT(f.t).Expect(ok).To(BeTrue(), "group %s exists on the vendor", id)
	return grp
}

// counts is the number of calls about group id per command (every outcome).
func (f *fixture) counts(id string) map[string]int {
	out := map[string]int{}
	for _, c := range f.sim.GroupCalls(id) {
		out[c.Op]++
	}
	return out
}

// since returns b - a per command, leaving out zeros.
func since(a, b map[string]int) map[string]int {
	out := map[string]int{}
	for op, n := range b {
		if d := n - a[op]; d != 0 {
			out[op] = d
		}
	}
	return out
}

// bodies decodes the request bodies of op calls about group id.
func (f *fixture) bodies(id, op string) []map[string]any {
	var out []map[string]any
	for _, c := range f.sim.GroupCalls(id) {
		if c.Op == op {
			var m map[string]any
			NewWithT(f.t).Expect(json.Unmarshal(c.Body, &m)).To(Succeed())
			out = append(out, m)
		}
	}
	return out
}

// accountsIn lists a request's MemberList or MemberToDel_Account.
func accountsIn(body map[string]any) []string {
	var out []string
	for _, key := range []string{"MemberList", "MemberToDel_Account"} {
		items, _ := body[key].([]any)
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				out = append(out, m["Member_Account"].(string))
			} else {
				out = append(out, it.(string))
			}
		}
	}
	return out
}

// eventNotes lists the notes of the events about obj.
func eventNotes(g Gomega, obj client.Object) []string {
	list := &eventsv1.EventList{}
	g.Expect(env.Client.List(ctx, list, client.InNamespace(obj.GetNamespace()))).To(Succeed())
	var notes []string
	for _, ev := range list.Items {
		if ev.Regarding.Name == obj.GetName() {
			notes = append(notes, ev.Note)
		}
	}
	return notes
}

func TestCreate(t *testing.T) {
	t.Parallel()
	t.Run("five members: one create call, Ready", func(t *testing.T) {
		t.Parallel()
		g := NewWithT(t)
		f := readyFixture(t)
		cg := f.group("five")
		writes := watchWrites(t, cg)
		got := f.ready(cg)
		id := got.Status.GroupID
		// The GroupId is recorded with the claim: one metadata patch (finalizer,
		// group-id) and one status patch, no write to bind the ID after the create.
		g.Eventually(writes).Should(Equal(2))
		g.Consistently(writes).WithTimeout(time.Second).Should(Equal(2))
		g.Expect(got.Annotations).NotTo(HaveKey(v1alpha1.CreatePendingAnnotation))

		g.Expect(id).To(Equal("cg-"+string(got.UID)), "the GroupId is derived from the UID")
		g.Expect(got.Annotations).To(HaveKeyWithValue(v1alpha1.GroupIDAnnotation, id))
		g.Expect(got.Status.MemberCount).To(Equal(int32(6)))
		g.Expect(f.counts(id)).To(Equal(map[string]int{"create_group": 1}), "one call, and no read")
		g.Expect(accountsIn(f.bodies(id, "create_group")[0])).To(Equal([]string{"u1", "u2", "u3", "u4", "u5"}))
		grp := f.vendorGroup(id)
		g.Expect(grp.Name).To(Equal("Team five"))
		g.Expect(grp.Owner).To(Equal("owner1"))
		g.Expect(grp.Accounts()).To(Equal([]string{"owner1", "u1", "u2", "u3", "u4", "u5"}))
		g.Expect(grp.Members[0].Role).To(Equal("Owner"))
		g.Eventually(func(g Gomega) []string { return env.EventReasons(g, got) }).Should(ContainElement(v1alpha1.CreatedReason))
	})

	t.Run("a lost create response still makes exactly one group", func(t *testing.T) {
		t.Parallel()
		g := NewWithT(t)
		f := readyFixture(t)
		f.sim.SetOpFaults("create_group", vendorsim.Faults{DropRate: 1})
		got := f.ready(f.group("lost"))
		id := got.Status.GroupID

		g.Expect(f.sim.Count("create_group", "dropped")).To(Equal(1), "the create was applied and its answer lost")
		g.Expect(f.sim.Groups(appID)).To(HaveLen(1))
		// create_group once; the GroupId was recorded with the claim, so the next
		// pass observes the group (get_group_info) and its members; nothing else.
		g.Expect(f.counts(id)).To(Equal(map[string]int{"create_group": 1, "get_group_info": 1, "get_group_member_info": 1}))
		g.Expect(got.Annotations).NotTo(HaveKey(v1alpha1.CreatePendingAnnotation))
		g.Expect(f.vendorGroup(id).Accounts()).To(ConsistOf("owner1", "u1", "u2", "u3", "u4", "u5"))
	})

	t.Run("a create that failed transiently is made again, once", func(t *testing.T) {
		t.Parallel()
		g := NewWithT(t)
		f := readyFixture(t)
		f.sim.SetOpFaults("create_group", vendorsim.Faults{ErrorRate: 1}) // 10002 before anything is applied
		cg := f.group("retried")
		g.Expect(env.Client.Create(ctx, cg)).To(Succeed())
		g.Eventually(func() int { return f.sim.Count("create_group", "injected") }).WithTimeout(10 * time.Second).Should(BeNumerically(">=", 1))
		f.sim.SetOpFaults("create_group", vendorsim.Faults{})

		// The GroupId recorded with the claim stays after the ambiguous failure; the
		// vendor has no group with it and status never confirmed one, so the create
		// is repeated.
		got := env.WaitReady(t, cg)
		id := got.Status.GroupID
		g.Expect(f.sim.Groups(appID)).To(HaveLen(1))
		g.Expect(f.sim.GroupCount(id, "create_group", "ok")).To(Equal(1))
		g.Expect(got.Annotations).NotTo(HaveKey(v1alpha1.CreatePendingAnnotation))
	})

	t.Run("a taken GroupId (10021) is adopted and brought to the spec", func(t *testing.T) {
		t.Parallel()
		g := NewWithT(t)
		f := readyFixture(t)
		f.sim.PutGroup(appID, timsim.Group{ID: "release-train", Type: "Private", Name: "Old name", Owner: "owner1", MaxMembers: 6000,
			Members: []timsim.Member{{Account: "owner1"}, {Account: "u1"}, {Account: "stale"}}})
		got := f.ready(f.group("taken", func(c *v1alpha1.ChatGroup) {
			c.Spec.Members = []string{"u1", "u2"}
			c.Spec.TencentIM.GroupID = "release-train"
		}))

		g.Expect(got.Status.GroupID).To(Equal("release-train"))
		g.Expect(f.sim.Groups(appID)).To(HaveLen(1), "never a second group")
		g.Expect(f.sim.GroupCount("release-train", "create_group", "error")).To(Equal(1))
		g.Expect(f.counts("release-train")).To(Equal(map[string]int{"create_group": 1, "get_group_info": 1, "get_group_member_info": 1,
			"modify_group_base_info": 1, "add_group_member": 1, "delete_group_member": 1}))
		grp := f.vendorGroup("release-train")
		g.Expect(grp.Name).To(Equal("Team taken"))
		g.Expect(grp.Accounts()).To(ConsistOf("owner1", "u1", "u2"))
	})
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	t.Run("rename, add 3, remove 2; then a no-op resync", func(t *testing.T) {
		t.Parallel()
		g := NewWithT(t)
		f := readyFixture(t)
		cg := f.ready(f.group("edit"))
		id := cg.Status.GroupID

		before := f.counts(id)
		cg = f.change(cg, func(c *v1alpha1.ChatGroup) {
			c.Spec.Name = "Team edit 2"
			c.Spec.Members = []string{"u1", "u2", "u3", "n1", "n2", "n3"}
		})
		g.Expect(since(before, f.counts(id))).To(Equal(map[string]int{
			"get_group_info": 1, "get_group_member_info": 1, // Observe; Update reuses its profile read
			"modify_group_base_info": 1, "add_group_member": 1, "delete_group_member": 1,
		}))
		g.Expect(f.bodies(id, "modify_group_base_info")).To(Equal([]map[string]any{{"GroupId": id, "Name": "Team edit 2"}}),
			"only the field that differs")
		g.Expect(accountsIn(f.bodies(id, "add_group_member")[0])).To(Equal([]string{"n1", "n2", "n3"}))
		g.Expect(accountsIn(f.bodies(id, "delete_group_member")[0])).To(Equal([]string{"u4", "u5"}))
		grp := f.vendorGroup(id)
		g.Expect(grp.Name).To(Equal("Team edit 2"))
		g.Expect(grp.Accounts()).To(ConsistOf("owner1", "u1", "u2", "u3", "n1", "n2", "n3"))
		g.Expect(cg.Status.MemberCount).To(Equal(int32(7)))
		g.Eventually(func(g Gomega) []string { return env.EventReasons(g, cg) }).Should(ContainElements(v1alpha1.MembersChangedReason, v1alpha1.UpdatedReason))

		before = f.counts(id)
		for i := range 3 {
			env.RequestReconcileAt(t, cg, strconv.Itoa(i))
		}
		g.Expect(since(before, f.counts(id))).To(Equal(map[string]int{"get_group_info": 3, "get_group_member_info": 3}),
			"each resync reads the group and makes no write")
	})

	t.Run("700 members added in 3 calls", func(t *testing.T) {
		t.Parallel()
		g := NewWithT(t)
		f := readyFixture(t)
		cg := f.ready(f.group("large", func(c *v1alpha1.ChatGroup) { c.Spec.Members = []string{"u1"} }))
		id := cg.Status.GroupID

		before := f.counts(id)
		cg = f.change(cg, func(c *v1alpha1.ChatGroup) { c.Spec.Members = accounts[len(accounts)-700:] })
		g.Expect(since(before, f.counts(id))).To(Equal(map[string]int{
			"get_group_info": 1, "get_group_member_info": 1, "add_group_member": 3, "delete_group_member": 1,
		}))
		var sizes []int
		for _, b := range f.bodies(id, "add_group_member") {
			sizes = append(sizes, len(accountsIn(b)))
		}
		g.Expect(sizes).To(Equal([]int{300, 300, 100}))
		g.Expect(accountsIn(f.bodies(id, "delete_group_member")[0])).To(Equal([]string{"u1"}))
		g.Expect(f.vendorGroup(id).Members).To(HaveLen(701))
		g.Expect(cg.Status.MemberCount).To(Equal(int32(701)))

		before = f.counts(id)
		env.RequestReconcileAt(t, cg, "after-700")
		g.Expect(since(before, f.counts(id))).To(Equal(map[string]int{"get_group_info": 1, "get_group_member_info": 4}),
			"701 members are read in pages of 200")
	})
}

func TestOwnerTransfer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		owner       string
		members     []string
		wantOps     []string
		wantMembers []string
	}{
		{name: "to a newcomer: added, made owner, and the unlisted old owner removed",
			owner: "dave", members: []string{"bob", "carol"},
			wantOps:     []string{"add_group_member", "change_group_owner", "delete_group_member"},
			wantMembers: []string{"dave", "bob", "carol"}},
		{name: "to a member: the old owner, listed, stays",
			owner: "bob", members: []string{"alice", "carol"},
			wantOps:     []string{"change_group_owner"},
			wantMembers: []string{"alice", "bob", "carol"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			f := readyFixture(t)
			cg := f.ready(f.group("owner", func(c *v1alpha1.ChatGroup) { c.Spec.Owner, c.Spec.Members = "alice", []string{"bob", "carol"} }))
			id := cg.Status.GroupID
			n := len(f.sim.GroupCalls(id))

			cg = f.change(cg, func(c *v1alpha1.ChatGroup) { c.Spec.Owner, c.Spec.Members = tc.owner, tc.members })
			var writes []string
			for _, c := range f.sim.GroupCalls(id)[n:] {
				if !slices.Contains([]string{"get_group_info", "get_group_member_info"}, c.Op) {
					writes = append(writes, c.Op)
				}
			}
			g.Expect(writes).To(Equal(tc.wantOps), "in this order")
			grp := f.vendorGroup(id)
			g.Expect(grp.Owner).To(Equal(tc.owner))
			g.Expect(grp.Accounts()).To(ConsistOf(tc.wantMembers))
			g.Eventually(func(g Gomega) []string { return env.EventReasons(g, cg) }).Should(ContainElement(v1alpha1.OwnerTransferredReason))
		})
	}
}

func TestAppDefinedData_RemovedKeyIsDeleted(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	f := readyFixture(t)
	cg := f.ready(f.group("data", func(c *v1alpha1.ChatGroup) {
		c.Spec.TencentIM.AppDefinedData = map[string]string{"team": "sre", "tier": "gold"}
	}))
	id := cg.Status.GroupID
	g.Expect(f.vendorGroup(id).AppDefinedData).To(Equal(map[string]string{"team": "sre", "tier": "gold"}))

	before := f.counts(id)
	f.change(cg, func(c *v1alpha1.ChatGroup) { delete(c.Spec.TencentIM.AppDefinedData, "tier") })
	g.Expect(since(before, f.counts(id))).To(Equal(map[string]int{"get_group_info": 1, "get_group_member_info": 1, "modify_group_base_info": 1}))
	g.Expect(f.bodies(id, "modify_group_base_info")).To(Equal([]map[string]any{{
		"GroupId": id, "AppDefinedData": []any{map[string]any{"Key": "tier", "Value": ""}},
	}}), "an empty Value deletes the key; nothing else is sent")
	g.Expect(f.vendorGroup(id).AppDefinedData).To(Equal(map[string]string{"team": "sre"}))
}

func TestDelete(t *testing.T) {
	t.Parallel()
	deleting := func(c *v1alpha1.ChatGroup) { c.Spec.DeletionPolicy = v1alpha1.Delete }

	t.Run("deletionPolicy Delete destroys the group and removes the finalizer", func(t *testing.T) {
		t.Parallel()
		g := NewWithT(t)
		f := readyFixture(t)
		cg := f.ready(f.group("gone", deleting))
		id := cg.Status.GroupID

		g.Expect(env.Client.Delete(ctx, cg)).To(Succeed())
		env.WaitGone(t, cg)
		g.Expect(f.sim.GroupCount(id, "destroy_group")).To(Equal(1))
		_, exists := f.sim.Group(appID, id)
		g.Expect(exists).To(BeFalse())
	})

	t.Run("while the vendor fails the finalizer stays, with a reason", func(t *testing.T) {
		t.Parallel()
		g := NewWithT(t)
		f := readyFixture(t)
		cg := f.ready(f.group("stuck", deleting))
		id := cg.Status.GroupID
		f.sim.SetOpFaults("destroy_group", vendorsim.Faults{ErrorRate: 1})

		g.Expect(env.Client.Delete(ctx, cg)).To(Succeed())
		got := env.WaitFor(t, cg, metav1.ConditionFalse, v1alpha1.DeleteFailedReason)
		g.Expect(got.Finalizers).To(ContainElement(v1alpha1.ChatGroupFinalizer))
		msg := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ReadyCondition).Message
		g.Expect(msg).To(And(ContainSubstring(id), ContainSubstring("10002"), ContainSubstring("deletionPolicy to Orphan")))
		_, exists := f.sim.Group(appID, id)
		g.Expect(exists).To(BeTrue())

		f.sim.SetOpFaults("destroy_group", vendorsim.Faults{})
		env.WaitGone(t, got)
		t.Logf("destroy_group calls: %d injected, %d ok", f.sim.GroupCount(id, "destroy_group", "injected"), f.sim.GroupCount(id, "destroy_group", "ok"))
		g.Expect(f.sim.GroupCount(id, "destroy_group", "ok")).To(Equal(1))
		g.Expect(f.sim.GroupCount(id, "destroy_group", "injected")).To(BeNumerically(">=", 1))
	})

	t.Run("a group already gone (10010) counts as deleted", func(t *testing.T) {
		t.Parallel()
		g := NewWithT(t)
		f := readyFixture(t)
		cg := f.ready(f.group("vanished", deleting))
		id := cg.Status.GroupID
		f.sim.RemoveGroup(appID, id)

		g.Expect(env.Client.Delete(ctx, cg)).To(Succeed())
		env.WaitGone(t, cg)
		g.Expect(f.sim.GroupCalls(id)[len(f.sim.GroupCalls(id))-1].Code).To(Equal(10010))
		g.Expect(f.sim.GroupCount(id, "destroy_group")).To(Equal(1))
	})

	t.Run("deletionPolicy Orphan leaves the group", func(t *testing.T) {
		t.Parallel()
		g := NewWithT(t)
		f := readyFixture(t)
		cg := f.ready(f.group("kept"))
		id := cg.Status.GroupID

		g.Expect(env.Client.Delete(ctx, cg)).To(Succeed())
		env.WaitGone(t, cg)
		g.Expect(f.sim.GroupCount(id, "destroy_group")).To(Equal(0))
		_, exists := f.sim.Group(appID, id)
		g.Expect(exists).To(BeTrue())
	})
}

// leaks matches what must never reach a condition or event: a usersig parameter
// that is not redacted, or a URL with a query string.
var leaks = regexp.MustCompile(`(?i)usersig=[^\[]|https?://\S*\?`)

func TestRejectedAccount(t *testing.T) {
	t.Parallel()
	otherRegion := timsim.New(timsim.Config{}) // a data centre that does not host the app
	otherRegionServer := httptest.NewServer(otherRegion)
	t.Cleanup(otherRegionServer.Close)

	for _, tc := range []struct {
		name     string
		key      string
		other    bool // talk to otherRegion
		wantCode string
		wantHint string
	}{
		{name: "wrong secret key", key: "canary-wrong-secret-key",
			wantCode: "70009", wantHint: "check that the secretKey in the credentials Secret is the app's key"},
		{name: "wrong region endpoint", key: secretKey, other: true,
			wantCode: "70020", wantHint: "set spec.endpoint to the domain of the app's region"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			f := newFixture(t)
			endpoint, vendor := f.endpoint, f.sim
			if tc.other {
				endpoint, vendor = otherRegionServer.URL, otherRegion
			}
			p := f.provider(tc.key, endpoint, nil)
			cond := env.WaitProvider(t, p, metav1.ConditionFalse, v1alpha1.AuthenticationFailedReason)
			g.Expect(cond.Message).To(And(ContainSubstring(tc.wantCode), ContainSubstring(tc.wantHint)))

			cg := f.group("rejected")
			g.Expect(env.Client.Create(ctx, cg)).To(Succeed())
			got := env.WaitFor(t, cg, metav1.ConditionFalse, v1alpha1.AuthenticationFailedReason)
			g.Expect(meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ReadyCondition).Message).To(ContainSubstring(tc.wantHint))
			g.Expect(f.sim.Groups(appID)).To(BeEmpty())
			g.Expect(vendor.UserSigs()).NotTo(BeEmpty(), "requests with a signature were made")

			var texts []string
			for _, c := range append(got.Status.Conditions, p.Status.Conditions...) {
				texts = append(texts, c.Message)
			}
			g.Eventually(func(g Gomega) []string { return eventNotes(g, got) }).ShouldNot(BeEmpty())
			texts = append(texts, eventNotes(g, got)...)
			texts = append(texts, eventNotes(g, p)...)
			for _, text := range texts {
				g.Expect(text).NotTo(MatchRegexp(leaks.String()))
				g.Expect(text).NotTo(ContainSubstring(tc.key))
				for _, sig := range vendor.UserSigs() {
					g.Expect(text).NotTo(ContainSubstring(sig))
				}
			}
		})
	}
}

func TestThrottlingAndTransientErrors(t *testing.T) {
	t.Parallel()
	edit := func(c *v1alpha1.ChatGroup) {
		c.Spec.Name = "Team after"
		c.Spec.Members = []string{"u1", "u2", "u3", "n1", "n2", "n3"}
	}
	converged := func(g Gomega, f *fixture, id string) {
		grp := f.vendorGroup(id)
		g.Expect(grp.Name).To(Equal("Team after"))
		g.Expect(grp.Accounts()).To(ConsistOf("owner1", "u1", "u2", "u3", "n1", "n2", "n3"))
		for _, op := range []string{"modify_group_base_info", "add_group_member", "delete_group_member"} {
			g.Expect(f.sim.GroupCount(id, op, "ok")).To(Equal(1), "%s applied exactly once", op)
		}
	}

	t.Run("throttled for a while: waits out the vendor's delay, then converges", func(t *testing.T) {
		t.Parallel()
		g := NewWithT(t)
		f := readyFixture(t)
		cg := f.ready(f.group("throttled"))
		id := cg.Status.GroupID

		f.sim.Throttle(2 * time.Second)
		f.change(cg, edit)
		converged(g, f, id)
		var throttled []time.Time
		for _, c := range f.sim.GroupCalls(id) {
			if c.Outcome == "throttled" {
				throttled = append(throttled, c.At)
			}
		}
		t.Logf("calls about the group: %v; throttled answers at %v", f.counts(id), throttled)
		g.Expect(len(throttled)).To(And(BeNumerically(">=", 1), BeNumerically("<=", 4)), "a throttled call is not retried at once")
		for i := 1; i < len(throttled); i++ {
			g.Expect(throttled[i].Sub(throttled[i-1])).To(BeNumerically(">=", 900*time.Millisecond), "no call before the vendor's delay")
		}
	})

	t.Run("create throttled for a while: still exactly one group", func(t *testing.T) {
		t.Parallel()
		g := NewWithT(t)
		f := readyFixture(t)
		f.sim.Throttle(1500 * time.Millisecond)
		got := f.ready(f.group("throttled-create"))
		id := got.Status.GroupID

		t.Logf("calls about the group: %v", f.counts(id))
		g.Expect(f.sim.GroupCount(id, "create_group", "throttled")).To(BeNumerically(">=", 1))
		g.Expect(f.sim.GroupCount(id, "create_group", "ok")).To(Equal(1))
		g.Expect(f.sim.Groups(appID)).To(HaveLen(1))
	})

	t.Run("internal errors (10002) for a while: retried, then converges", func(t *testing.T) {
		t.Parallel()
		g := NewWithT(t)
		f := readyFixture(t)
		cg := f.ready(f.group("flaky"))
		id := cg.Status.GroupID

		f.sim.SetFaults(vendorsim.Faults{ErrorRate: 1})
		time.AfterFunc(1500*time.Millisecond, func() { f.sim.SetFaults(vendorsim.Faults{}) })
		f.change(cg, edit)
		converged(g, f, id)
		t.Logf("calls about the group: %v; injected 10002s: %d", f.counts(id), len(slices.DeleteFunc(f.sim.GroupCalls(id),
			func(c timsim.Call) bool { return c.Outcome != "injected" })))
		g.Expect(f.sim.GroupCount(id, "get_group_info", "injected")).To(BeNumerically(">=", 1))
	})

	t.Run("calls are paced to the rate limit: the vendor never throttles", func(t *testing.T) {
		t.Parallel()
		g := NewWithT(t)
		f := newFixture(t)
		const vendorLimit = 5
		f.sim.SetRateLimit(appID, vendorLimit)
		// One token refilled 4 times a second: at most 1+4 calls in any second.
		p := f.provider(secretKey, f.endpoint, &v1alpha1.RateLimit{QPS: vendorLimit - 1, Burst: 1})
		env.WaitProvider(t, p, metav1.ConditionTrue, v1alpha1.SucceededReason)

		var groups []*v1alpha1.ChatGroup
		for i := range 8 { // all at once: four workers compete for the tokens
			cg := f.group(fmt.Sprint("paced-", i), func(c *v1alpha1.ChatGroup) { c.Spec.Members = []string{"u1"} })
			g.Expect(env.Client.Create(ctx, cg)).To(Succeed())
			groups = append(groups, cg)
		}
		for _, cg := range groups {
			env.WaitReady(t, cg)
		}
		g.Expect(f.sim.Groups(appID)).To(HaveLen(8))
		perOp := map[string][]time.Time{}
		for _, c := range f.sim.AppCalls(appID) {
			g.Expect(c.Outcome).NotTo(Equal("throttled"), "%s was throttled", c.Op)
			perOp[c.Op] = append(perOp[c.Op], c.At)
		}
		g.Expect(perOp["create_group"]).To(HaveLen(8))
		for op, at := range perOp {
			t.Logf("%s: %d calls, at most %d in one second", op, len(at), maxInAnySecond(at))
			g.Expect(maxInAnySecond(at)).To(BeNumerically("<=", vendorLimit), op)
		}
	})
}

// maxInAnySecond is the most calls in any one-second window.
func maxInAnySecond(at []time.Time) int {
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	most := 0
	for i := range at {
		j := i
		for j < len(at) && at[j].Sub(at[i]) < time.Second {
			j++
		}
		most = max(most, j-i)
	}
	return most
}

// TestVendorRefusalsOnUpdate: a code the client does not know, and a
// permission the app lacks, are retried (never Stalled) and the group is Ready
// once the vendor stops refusing, with no change to the spec.
func TestVendorRefusalsOnUpdate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		code       string
		wantReason string
		wantInMsg  []string
	}{
		{name: "an undocumented code is VendorUnavailable with the code", code: "12345",
			wantReason: v1alpha1.VendorUnavailableReason, wantInMsg: []string{"12345", "error 12345"}},
		{name: "a permission code is AccessDenied naming the permission", code: "10007",
			wantReason: v1alpha1.AccessDeniedReason, wantInMsg: []string{"10007", "App admin role", "spec.tencentIM.adminIdentifier"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			f := readyFixture(t)
			cg := f.ready(f.group("refused"))
			id := cg.Status.GroupID

			f.sim.FailWith("modify_group_base_info", tc.code)
			patch := client.MergeFrom(cg.DeepCopy())
			cg.Spec.Name = "Team renamed"
			g.Expect(env.Client.Patch(ctx, cg, patch)).To(Succeed())
			generation := cg.Generation

			got := env.WaitFor(t, cg, metav1.ConditionFalse, tc.wantReason)
			ready := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ReadyCondition)
			for _, s := range tc.wantInMsg {
				g.Expect(ready.Message).To(ContainSubstring(s))
			}
			g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, v1alpha1.StalledCondition)).To(BeFalse(), "not Stalled: nothing in the spec is wrong")
			g.Expect(f.sim.GroupCount(id, "modify_group_base_info", "error")).To(BeNumerically(">=", 1))
			g.Expect(f.vendorGroup(id).Name).To(Equal("Team refused"))

			f.sim.FailWith("modify_group_base_info", "")
			got = env.WaitReady(t, cg)
			g.Expect(got.Generation).To(Equal(generation), "no spec change")
			g.Expect(f.vendorGroup(id).Name).To(Equal("Team renamed"))
			g.Expect(f.sim.GroupCount(id, "modify_group_base_info", "ok")).To(Equal(1))
			t.Logf("modify_group_base_info answered %s %d times", tc.code, f.sim.GroupCount(id, "modify_group_base_info", "error"))
		})
	}
}

// watchWrites counts the API-server writes to cg after its create, from a watch
// started before it.
func watchWrites(t *testing.T, cg *v1alpha1.ChatGroup) func() int {
	t.Helper()
	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	w, err := wc.Watch(ctx, &v1alpha1.ChatGroupList{}, client.InNamespace(cg.Namespace))
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	t.Cleanup(w.Stop)
	var mu sync.Mutex
	n := 0
	name := cg.Name // the caller goes on to write into cg
	go func() {
		for ev := range w.ResultChan() {
			if o, ok := ev.Object.(*v1alpha1.ChatGroup); ok && o.Name == name && ev.Type == watch.Modified {
				mu.Lock()
				n++
				mu.Unlock()
			}
		}
	}()
	return func() int { mu.Lock(); defer mu.Unlock(); return n }
}
