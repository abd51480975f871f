package feishu_test

// Integration tests: the operator's reconcilers in an envtest control plane, the
// Feishu client, and the Feishu simulator over real HTTP, with exact call
// counts. Each test runs its own simulator behind its own ChatProvider.

import (
	"context"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/controller"
	"github.com/chatgroup-operator/chatgroup-operator/internal/testenv"
	"github.com/chatgroup-operator/chatgroup-operator/internal/testenv/operator"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors/feishu"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
	simfeishu "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/feishu"
)

var (
	ctx      = context.Background()
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

// fixture is one test's simulator, namespace and Ready provider.
type fixture struct {
	t   *testing.T
	sim *simfeishu.Harness
	ns  string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	envStart.Do(func() {
		env, envErr = operator.Start(controller.Options{Vendors: vendors.Registry{feishu.Registration()}})
	})
	if envErr != nil {
		t.Fatal(envErr)
	}
	h := simfeishu.NewHarness(vendorsim.SimConfig{})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	f := &fixture{t: t, sim: h, ns: env.Namespace(t)}
	for i := range 10 {
		h.AddUsers(h.User(i))
	}
	p := env.SimProvider(t, f.ns, "feishu", h, srv.URL)
	env.WaitProvider(t, p, metav1.ConditionTrue, v1alpha1.SucceededReason)
	return f
}

func (f *fixture) user(i int) string { return f.sim.User(i) }

// group creates a ChatGroup owned by user 0 with users 1 and 2.
func (f *fixture) group(name string, mods ...func(*v1alpha1.ChatGroup)) *v1alpha1.ChatGroup {
	f.t.Helper()
	cg := testenv.Group(f.ns, name, v1alpha1.Feishu, func(c *v1alpha1.ChatGroup) {
		c.Spec.Owner = f.user(0)
		c.Spec.Members = []string{f.user(1), f.user(2)}
	})
	for _, m := range mods {
		m(cg)
	}
	NewWithT(f.t).Expect(env.Client.Create(ctx, cg)).To(Succeed())
	return env.WaitReady(f.t, cg)
}

// writes counts the successful write calls so far, by operation.
func (f *fixture) writes() map[string]int {
	out := map[string]int{}
	for _, op := range simfeishu.Writes {
		if n := f.sim.Count(op, "ok", "deduped"); n > 0 {
			out[op] = n
		}
	}
	return out
}

func (f *fixture) chat(cg *v1alpha1.ChatGroup) simfeishu.Chat {
	c, ok := f.sim.Chat(cg.Status.GroupID)
	NewWithT(f.t).Expect(ok).To(BeTrue())
	return c
}

// update applies mod to cg and waits until the new generation is Ready.
func (f *fixture) update(cg *v1alpha1.ChatGroup, mod func(*v1alpha1.ChatGroup)) *v1alpha1.ChatGroup {
	f.t.Helper()
	g := NewWithT(f.t)
	g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(cg), cg)).To(Succeed())
	patch := client.MergeFrom(cg.DeepCopy())
	mod(cg)
	g.Expect(env.Client.Patch(ctx, cg, patch)).To(Succeed())
	return env.WaitReady(f.t, cg)
}

func TestCreate_OneCallAndAPUTOnlyWhenSettingsNeedIt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	g := NewWithT(t)
	plain := f.group("plain")
	g.Expect(f.writes()).To(Equal(map[string]int{simfeishu.OpCreate: 1}))
	g.Expect(f.chat(plain).Members).To(ConsistOf(f.user(0), f.user(1), f.user(2)))

	f.group("settings", func(c *v1alpha1.ChatGroup) {
		c.Spec.ManagementOptions = &v1alpha1.ManagementOptions{MentionAll: v1alpha1.OwnerOnly}
		c.Spec.Feishu = &v1alpha1.FeishuGroup{AddMembers: v1alpha1.OwnerOnly}
	})
	g.Expect(f.writes()).To(Equal(map[string]int{simfeishu.OpCreate: 2, simfeishu.OpUpdate: 1}),
		"at_all_permission and the paired add/share permissions cannot be set at create")
}

func TestCreate_LostResponseEndsWithOneChatThroughTheUUID(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	g := NewWithT(t)
	core := f.sim.Core()
	core.SetOpFaults(simfeishu.OpCreate, vendorsim.Faults{DropRate: 1})
	cg := testenv.Group(f.ns, "lost", v1alpha1.Feishu, func(c *v1alpha1.ChatGroup) {
		c.Spec.Owner = f.user(0)
		c.Spec.Members = []string{f.user(1)}
	})
	g.Expect(env.Client.Create(ctx, cg)).To(Succeed())
	g.Eventually(func() int { return core.Count(simfeishu.OpCreate, "dropped") }).WithTimeout(20 * time.Second).Should(Equal(1))
	core.SetOpFaults(simfeishu.OpCreate, vendorsim.Faults{})
	cg = env.WaitReady(t, cg)
	g.Expect(f.sim.Chats()).To(HaveLen(1))
	g.Expect(core.Count(simfeishu.OpCreate, "deduped")).To(Equal(1), "the repeat carried the same uuid")
	g.Expect(cg.Status.GroupID).To(Equal(f.sim.Chats()[0].ID))
}

func TestUpdate_RenameThreeAddedTwoRemovedInThreeWritesAndANoOpResyncInNone(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	g := NewWithT(t)
	cg := f.group("team", func(c *v1alpha1.ChatGroup) {
		c.Spec.Members = []string{f.user(1), f.user(2), f.user(3)}
		c.Spec.Icon = "img_v2_team" // reported back only as a URL: compared with status.feishu.avatarKey
	})
	g.Expect(cg.Status.Feishu).To(Equal(&v1alpha1.FeishuStatus{AvatarKey: "img_v2_team"}))
	before := f.writes()
	cg = f.update(cg, func(c *v1alpha1.ChatGroup) {
		c.Spec.Name = "team renamed"
		c.Spec.Members = []string{f.user(3), f.user(4), f.user(5), f.user(6)}
	})
	after := f.writes()
	g.Expect(after[simfeishu.OpMembersAdd] - before[simfeishu.OpMembersAdd]).To(Equal(1))
	g.Expect(after[simfeishu.OpUpdate] - before[simfeishu.OpUpdate]).To(Equal(1))
	g.Expect(after[simfeishu.OpMembersRemove] - before[simfeishu.OpMembersRemove]).To(Equal(1))
	g.Expect(after[simfeishu.OpCreate]).To(Equal(1))
	chat := f.chat(cg)
	g.Expect(chat.Name).To(Equal("team renamed"))
	g.Expect(chat.Members).To(ConsistOf(f.user(0), f.user(3), f.user(4), f.user(5), f.user(6)))

	mark := f.sim.Len()
	env.RequestReconcile(t, cg)
	g.Expect(f.writes()).To(Equal(after), "a no-op resync writes nothing")
	g.Expect(f.sim.Len()-mark).To(Equal(2), "one get and one member page")
}

func TestUpdate_UnknownMemberIsReportedWhileTheRestIsApplied(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	g := NewWithT(t)
	cg := f.group("unknown")
	g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(cg), cg)).To(Succeed())
	patch := client.MergeFrom(cg.DeepCopy())
	cg.Spec.Name = "unknown renamed"
	cg.Spec.Members = []string{f.user(1), f.user(2), f.user(3), "ou_nobody"}
	g.Expect(env.Client.Patch(ctx, cg, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(cg), cg)).To(Succeed())
		// The unknown ID is left out and named; Ready says the rest matches.
		c := meta.FindStatusCondition(cg.Status.Conditions, v1alpha1.ReadyCondition)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(cg.Status.ObservedGeneration).To(Equal(cg.Generation))
		mr := meta.FindStatusCondition(cg.Status.Conditions, v1alpha1.MembersResolvedCondition)
		g.Expect(mr).NotTo(BeNil())
		g.Expect(mr.Reason).To(Equal(v1alpha1.UnknownToVendorReason))
		g.Expect(mr.Message).To(ContainSubstring("ou_nobody"))
		g.Expect(cg.Status.UnresolvedUsers).To(Equal([]string{"ou_nobody"}))
	}).WithTimeout(30 * time.Second).Should(Succeed())
	chat := f.chat(cg)
	g.Expect(chat.Name).To(Equal("unknown renamed"))
	g.Expect(chat.Members).To(ConsistOf(f.user(0), f.user(1), f.user(2), f.user(3)), "the known member was added")
}

func TestUpdate_OwnerTransfer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	g := NewWithT(t)
	cg := f.group("transfer")
	cg = f.update(cg, func(c *v1alpha1.ChatGroup) { c.Spec.Owner = f.user(7) })
	g.Expect(f.chat(cg).Owner).To(Equal(f.user(7)))
	g.Eventually(func() []string { return f.chat(cg).Members }).WithTimeout(30*time.Second).
		Should(ConsistOf(f.user(7), f.user(1), f.user(2)), "the new owner joined; the old one left after the transfer")
}

func TestDelete_DissolvesTheChat(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	g := NewWithT(t)
	cg := f.group("dissolve", func(c *v1alpha1.ChatGroup) { c.Spec.DeletionPolicy = v1alpha1.Delete })
	id := cg.Status.GroupID
	g.Expect(env.Client.Delete(ctx, cg)).To(Succeed())
	env.WaitGone(t, cg)
	c, _ := f.sim.Chat(id)
	g.Expect(c.Dissolved).To(BeTrue())
	g.Expect(f.sim.Count(simfeishu.OpDelete, "ok")).To(Equal(1))
}

func TestThrottle_ResetIsHonoured(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	g := NewWithT(t)
	cg := f.group("throttled")
	f.sim.Throttle(3 * time.Second)
	start := time.Now()
	cg = f.update(cg, func(c *v1alpha1.ChatGroup) { c.Spec.Name = "throttled renamed" })
	g.Expect(time.Since(start)).To(BeNumerically(">=", 2*time.Second), "nothing got through while throttled")
	g.Expect(f.chat(cg).Name).To(Equal("throttled renamed"))
	// Each API throttled waits out x-ogw-ratelimit-reset instead of retrying
	// at once: a handful of throttled answers, not a storm.
	throttled := 0
	for _, c := range f.sim.Core().Calls() {
		if c.Outcome == "throttled" {
			throttled++
		}
	}
	g.Expect(throttled).To(And(BeNumerically(">=", 1), BeNumerically("<=", 4)))
}

// TestUpdate_RefusalsAreRetriedUntilFeishuStopsAnsweringThem: an undocumented
// code and a missing permission leave the group waiting (never Stalled) with
// the code or the scope in status, and it ends Ready once Feishu answers
// normally, with no spec change.
func TestUpdate_RefusalsAreRetriedUntilFeishuStopsAnsweringThem(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tc := range []struct {
		code, reason, inMessage string
	}{
		{"1234567", v1alpha1.VendorUnavailableReason, "1234567"},
		{"232017", v1alpha1.AccessDeniedReason, "im:chat:operate_as_owner"},
	} {
		g := NewWithT(t)
		cg := f.group("refused-" + tc.code)
		mark := f.sim.Count(simfeishu.OpUpdate, "error")
		f.sim.FailWith(simfeishu.OpUpdate, tc.code)
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(cg), cg)).To(Succeed())
		patch := client.MergeFrom(cg.DeepCopy())
		cg.Spec.Description = "changed"
		g.Expect(env.Client.Patch(ctx, cg, patch)).To(Succeed())
		failing := env.WaitFor(t, cg, metav1.ConditionFalse, tc.reason)
		g.Expect(meta.FindStatusCondition(failing.Status.Conditions, v1alpha1.ReadyCondition).Message).To(ContainSubstring(tc.inMessage))
		g.Expect(meta.IsStatusConditionTrue(failing.Status.Conditions, v1alpha1.StalledCondition)).To(BeFalse())
		g.Eventually(func() int { return f.sim.Count(simfeishu.OpUpdate, "error") }).WithTimeout(30*time.Second).
			Should(BeNumerically(">=", mark+2), "retried")

		f.sim.FailWith(simfeishu.OpUpdate, "")
		done := env.WaitReady(t, failing)
		g.Expect(done.Generation).To(Equal(failing.Generation), "no spec change was needed")
		g.Expect(f.chat(done).Description).To(Equal("changed"))
	}
}

// TestChatUser_FeishuAccountsBecomeOwnerAndMembers: ChatUsers with a Feishu
// account name the owner (ownerRef) and members (membersFrom) of a Feishu chat.
func TestChatUser_FeishuAccountsBecomeOwnerAndMembers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	g := NewWithT(t)
	for i, name := range []string{"alice", "bob"} {
		g.Expect(env.Client.Create(ctx, &v1alpha1.ChatUser{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
			Spec:       v1alpha1.ChatUserSpec{Accounts: []v1alpha1.ChatUserAccount{{Vendor: v1alpha1.Feishu, ID: f.user(4 + i)}}},
		})).To(Succeed())
	}
	cg := f.group("people", func(c *v1alpha1.ChatGroup) {
		c.Spec.Owner = ""
		c.Spec.OwnerRef = &v1alpha1.ChatUserReference{Name: "alice"}
		c.Spec.Members = []string{f.user(1)}
		c.Spec.MembersFrom = []v1alpha1.MembersSource{{UserRef: &v1alpha1.ChatUserReference{Name: "bob"}}}
	})
	chat := f.chat(cg)
	g.Expect(chat.Owner).To(Equal(f.user(4)))
	g.Expect(chat.Members).To(ConsistOf(f.user(4), f.user(5), f.user(1)))
}
