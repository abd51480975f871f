package whatsapp_test

// Integration tests: the operator's reconcilers in an envtest control plane,
// the CAMS client, and the CAMS simulator over real HTTP. Each test runs its own
// simulator (an httptest server) behind its own ChatProvider, so the
// simulator's counters are exact per scenario while the tests run in parallel.

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/controller"
	"github.com/chatgroup-operator/chatgroup-operator/internal/testenv"
	"github.com/chatgroup-operator/chatgroup-operator/internal/testenv/operator"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors/whatsapp"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
	camssim "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/whatsapp"
)

const (
	keyID     = "LTAI-integration"
	keySecret = "canary-cams-secret-value"
	space     = "cams-integration"
	business  = "8613800000000"
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

// options run the operator's controllers with WhatsApp registered, as main.go
// does (and the test defaults for workers and retries).
var options = controller.Options{Vendors: vendors.Registry{whatsapp.Registration()}}

// startEnv starts env once, for the calling integration test.
func startEnv(t *testing.T) {
	t.Helper()
	envStart.Do(func() { env, envErr = operator.Start(options) })
	if envErr != nil {
		t.Fatal(envErr)
	}
}

// secondManager lets a second operator in this process register the same
// controller names: controller-runtime rejects duplicates process-wide.
type secondManager struct{ ctrl.Manager }

func (m secondManager) GetControllerOptions() config.Controller {
	o := m.Manager.GetControllerOptions()
	o.SkipNameValidation = ptr.To(true)
	return o
}

// writeActions are the CAMS actions that change something.
var writeActions = []string{"AddChatGroup", "UpdateChatGroup", "DeleteChatGroup", "AddChatGroupInviteLink", "DeleteChatGroupInviteLink", "DeleteChatGroupParticipants"}

// fixture is one test's simulator and namespace with a WhatsApp ChatProvider.
type fixture struct {
	t        *testing.T
	sim      *camssim.Sim
	endpoint string
	ns       string
}

// newFixture starts a simulator (groups stay CREATING for createDelay) and
// creates a namespace with a provider holding the given credentials.
func newFixture(t *testing.T, createDelay time.Duration, id, secret string) *fixture {
	t.Helper()
	sim := camssim.New(camssim.Config{AccessKeyID: keyID, AccessKeySecret: keySecret, CustSpaceID: space, BusinessNumber: business, CreateDelay: createDelay})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	f := &fixture{t: t, sim: sim, endpoint: srv.URL, ns: env.Namespace(t)}
	f.createProvider(env.Client, id, secret)
	return f
}

// createProvider creates the ChatProvider "whatsapp" in f.ns, with a
// credentials Secret holding id and secret, through c.
func (f *fixture) createProvider(c client.Client, id, secret string) {
	f.t.Helper()
	g := NewWithT(f.t)
	s, p := testenv.ProviderObjects(f.ns, "whatsapp", v1alpha1.ProviderSettings{
		Vendor:   v1alpha1.WhatsApp,
		Endpoint: f.endpoint,
		WhatsApp: &v1alpha1.WhatsAppProvider{CustSpaceID: space, BusinessNumber: business},
	}, map[string][]byte{"accessKeyID": []byte(id), "accessKeySecret": []byte(secret)})
	g.Expect(c.Create(ctx, s)).To(Succeed())
	g.Expect(c.Create(ctx, p)).To(Succeed())
}

// group returns a WhatsApp ChatGroup whose subject is name.
func (f *fixture) group(name string, members ...string) *v1alpha1.ChatGroup {
	return &v1alpha1.ChatGroup{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec: v1alpha1.ChatGroupSpec{
			Vendor:      v1alpha1.WhatsApp,
			ProviderRef: v1alpha1.ProviderReference{Name: "whatsapp"},
			Name:        "Team " + name,
			Description: "Site visits",
			Members:     members,
		},
	}
}

// writes counts the simulator's write calls by action (every outcome but
// "not-found": the provider's permission probe names a group that does not
// exist, which changes nothing), leaving out actions never called.
func (f *fixture) writes() map[string]int {
	out := map[string]int{}
	for _, a := range writeActions {
		if n := f.sim.Count(a) - f.sim.Count(a, "not-found"); n > 0 {
			out[a] = n
		}
	}
	return out
}

// logCounts reports every action's call count, for the scenario notes.
func (f *fixture) logCounts(scenario string) {
	var parts []string
	for _, a := range append([]string{"ListChatGroup", "ListChatGroupParticipants"}, writeActions...) {
		if n := f.sim.Count(a); n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", a, n))
		}
	}
	f.t.Logf("calls (%s): %s", scenario, strings.Join(parts, " "))
}

// only returns the simulator's one group with cg's subject.
func (f *fixture) only(cg *v1alpha1.ChatGroup) camssim.Group {
	f.t.Helper()
	groups := f.sim.GroupsWithSubject(cg.Spec.Name)
	NewWithT(f.t).Expect(groups).To(HaveLen(1), "exactly one CAMS group for the ChatGroup")
	return groups[0]
}

// inviteLink reads the link the operator stored for cg.
func inviteLink(t *testing.T, cg *v1alpha1.ChatGroup) (string, *corev1.Secret) {
	t.Helper()
	g := NewWithT(t)
	g.Expect(cg.Status.WhatsApp).NotTo(BeNil())
	secret := &corev1.Secret{}
	g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: cg.Namespace, Name: cg.Status.WhatsApp.InviteLinkSecretName}, secret)).To(Succeed())
	return string(secret.Data["inviteLink"]), secret
}

func condition(cg *v1alpha1.ChatGroup, typ string) metav1.Condition {
	if c := meta.FindStatusCondition(cg.Status.Conditions, typ); c != nil {
		return *c
	}
	return metav1.Condition{}
}

func TestWhatsApp_CreateIsAsynchronousAndEndsReadyWithTheGroupID(t *testing.T) {
	t.Parallel()
	startEnv(t)
	g := NewWithT(t)
	f := newFixture(t, time.Hour, keyID, keySecret) // CREATING until released below
	cg := f.group("create")
	g.Expect(env.Client.Create(ctx, cg)).To(Succeed())

	creating := env.WaitFor(t, cg, metav1.ConditionFalse, v1alpha1.CreatingReason)
	g.Expect(creating.Annotations).To(HaveKey(v1alpha1.CreatePendingAnnotation))
	g.Expect(creating.Annotations).NotTo(HaveKey(v1alpha1.GroupIDAnnotation))
	g.Expect(testenv.KStatus(t, creating)).To(Equal(status.InProgressStatus))
	g.Eventually(func() int { return f.sim.Count("ListChatGroup") }).WithTimeout(10*time.Second).
		Should(BeNumerically(">=", 3), "the operator polls while CAMS is creating (provider check, pre-create lookup, polls)")
	g.Expect(f.only(cg).Status).To(Equal(camssim.StatusCreating))
	g.Expect(f.writes()).To(Equal(map[string]int{"AddChatGroup": 1}), "polling never creates again")

	f.sim.SetCreateDelay(0) // CAMS finishes
	got := env.WaitReady(t, cg)
	id := f.only(cg).ID
	g.Expect(got.Status.GroupID).To(Equal(id))
	g.Expect(got.Annotations).To(HaveKeyWithValue(v1alpha1.GroupIDAnnotation, id))
	g.Expect(got.Annotations).NotTo(HaveKey(v1alpha1.CreatePendingAnnotation))
	g.Expect(condition(got, v1alpha1.MembersSyncedCondition).Status).To(Equal(metav1.ConditionTrue))
	g.Expect(testenv.KStatus(t, got)).To(Equal(status.CurrentStatus))
	g.Expect(f.only(cg).Description).To(Equal("Site visits"))
	g.Expect(f.writes()).To(Equal(map[string]int{"AddChatGroup": 1}))
	f.logCounts("create")
}

func TestWhatsApp_OperatorRestartWhileCreatingMakesOneGroup(t *testing.T) {
	t.Parallel()
	startEnv(t)
	g := NewWithT(t)
	f := newFixture(t, time.Hour, keyID, keySecret)

	// The first operator, in its own cluster, asks CAMS for the group and stops
	// while CAMS is still creating it.
	first, err := testenv.Start(func(mgr ctrl.Manager) error { return operator.Setup(options)(secondManager{mgr}) })
	g.Expect(err).NotTo(HaveOccurred())
	stopped := false
	defer func() {
		if !stopped {
			first.Stop()
		}
	}()
	g.Expect(first.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: f.ns}})).To(Succeed())
	f.createProvider(first.Client, keyID, keySecret)
	cg := f.group("restart")
	g.Expect(first.Client.Create(ctx, cg)).To(Succeed())
	creating := first.WaitFor(t, cg, metav1.ConditionFalse, v1alpha1.CreatingReason)
	g.Expect(f.writes()).To(Equal(map[string]int{"AddChatGroup": 1}))
	first.Stop()
	stopped = true

	// The operator comes back: the object with its metadata, as the first
	// operator left it, is reconciled by a new manager with fresh clients.
	restored := f.group("restart")
	restored.Annotations = map[string]string{v1alpha1.CreatePendingAnnotation: creating.Annotations[v1alpha1.CreatePendingAnnotation]}
	g.Expect(restored.Annotations[v1alpha1.CreatePendingAnnotation]).NotTo(BeEmpty())
	g.Expect(env.Client.Create(ctx, restored)).To(Succeed())
	env.WaitFor(t, restored, metav1.ConditionFalse, v1alpha1.CreatingReason)
	g.Expect(f.writes()).To(Equal(map[string]int{"AddChatGroup": 1}), "the restarted operator waits for the group in progress")

	f.sim.SetCreateDelay(0)
	got := env.WaitReady(t, restored)
	g.Expect(got.Status.GroupID).To(Equal(f.only(cg).ID))
	g.Expect(f.writes()).To(Equal(map[string]int{"AddChatGroup": 1}), "exactly one AddChatGroup across the restart")
	f.logCounts("restart while creating")
}

func TestWhatsApp_LostCreateResponseMakesOneGroup(t *testing.T) {
	t.Parallel()
	startEnv(t)
	g := NewWithT(t)
	f := newFixture(t, 200*time.Millisecond, keyID, keySecret)
	f.sim.SetOpFaults("AddChatGroup", vendorsim.Faults{DropRate: 1}) // applied, then the connection closes
	cg := f.group("lost-response")
	g.Expect(env.Client.Create(ctx, cg)).To(Succeed())

	got := env.WaitReady(t, cg)
	g.Expect(got.Status.GroupID).To(Equal(f.only(cg).ID))
	g.Expect(f.sim.Count("AddChatGroup", "dropped")).To(Equal(1))
	g.Expect(f.writes()).To(Equal(map[string]int{"AddChatGroup": 1}), "the group from the lost response is adopted, not created again")
	f.logCounts("lost AddChatGroup response")
}

func TestWhatsApp_ExistingGroupWithTheSubjectIsAdopted(t *testing.T) {
	t.Parallel()
	startEnv(t)
	g := NewWithT(t)
	f := newFixture(t, 200*time.Millisecond, keyID, keySecret)
	cg := f.group("existing")
	id := f.sim.Put(cg.Spec.Name)
	g.Expect(env.Client.Create(ctx, cg)).To(Succeed())

	got := env.WaitReady(t, cg)
	g.Expect(got.Status.GroupID).To(Equal(id))
	g.Expect(f.only(cg).Description).To(Equal("Site visits"), "brought to the spec after adoption")
	g.Expect(f.writes()).To(Equal(map[string]int{"UpdateChatGroup": 1}), "no AddChatGroup")
	// The group is found through the create-pending lookup; whether the pass
	// before it recorded Creating decides between the two event reasons.
	g.Eventually(func(g Gomega) []string { return env.EventReasons(g, got) }).
		Should(ContainElement(BeElementOf(v1alpha1.AdoptedReason, v1alpha1.CreatedReason)))
	f.logCounts("adopt existing subject")
}

func TestWhatsApp_MembersJoinThroughTheInviteLink(t *testing.T) {
	t.Parallel()
	startEnv(t)
	g := NewWithT(t)
	f := newFixture(t, 200*time.Millisecond, keyID, keySecret)
	members := []string{"+8613800000001", "+8613800000002", "+8613800000003"}
	cg := f.group("invitees", members...)
	g.Expect(env.Client.Create(ctx, cg)).To(Succeed())

	got := env.WaitReady(t, cg)
	g.Expect(testenv.KStatus(t, got)).To(Equal(status.CurrentStatus), "Ready: the operator did all it can")
	synced := condition(got, v1alpha1.MembersSyncedCondition)
	g.Expect(synced.Status).To(Equal(metav1.ConditionFalse))
	g.Expect(synced.Reason).To(Equal(v1alpha1.AwaitingInviteesReason))
	g.Expect(got.Status.WhatsApp.PendingMembers).To(ConsistOf(members))
	link, secret := inviteLink(t, got)
	g.Expect(link).To(Equal(f.only(cg).InviteLink))
	g.Expect(link).To(HavePrefix("https://chat.whatsapp.com/"))
	g.Expect(metav1.IsControlledBy(secret, got)).To(BeTrue())
	g.Expect(synced.Message).NotTo(ContainSubstring(link), "the link stays in the Secret")
	g.Expect(f.writes()).To(Equal(map[string]int{"AddChatGroup": 1, "AddChatGroupInviteLink": 1}))

	g.Expect(f.sim.Join(link, members[0])).To(Succeed())
	g.Expect(f.sim.Join(link, members[1])).To(Succeed())
	env.RequestReconcileAt(t, got, "two-joined")
	g.Expect(got.Status.WhatsApp.PendingMembers).To(Equal([]string{members[2]}))
	g.Expect(got.Status.MemberCount).To(Equal(int32(2)))
	again, _ := inviteLink(t, got)
	g.Expect(again).To(Equal(link), "the same link while someone is pending")
	g.Expect(f.writes()).To(Equal(map[string]int{"AddChatGroup": 1, "AddChatGroupInviteLink": 1}))

	g.Expect(f.sim.Join(link, members[2])).To(Succeed())
	env.RequestReconcileAt(t, got, "all-joined")
	g.Expect(got.Status.WhatsApp).To(Equal(&v1alpha1.WhatsAppStatus{Subject: got.Spec.Name}), "nobody pending; the subject stays as a lookup hint")
	g.Expect(condition(got, v1alpha1.MembersSyncedCondition).Status).To(Equal(metav1.ConditionTrue))
	g.Expect(got.Status.MemberCount).To(Equal(int32(3)))
	g.Expect(apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKeyFromObject(secret), &corev1.Secret{}))).To(BeTrue(), "the Secret goes once nobody is pending")
	g.Expect(f.only(cg).InviteLink).To(BeEmpty(), "the link is revoked")
	g.Expect(f.sim.Join(link, "+8613800000004")).To(MatchError(camssim.ErrLinkInvalid))
	g.Expect(f.writes()).To(Equal(map[string]int{"AddChatGroup": 1, "AddChatGroupInviteLink": 1, "DeleteChatGroupInviteLink": 1}))
	f.logCounts("invitees")
}

func TestWhatsApp_UnlistedParticipantIsRemovedOnTheNextSync(t *testing.T) {
	t.Parallel()
	startEnv(t)
	g := NewWithT(t)
	f := newFixture(t, 200*time.Millisecond, keyID, keySecret)
	cg := f.group("intruder", "+8613800000001", "+8613800000002")
	g.Expect(env.Client.Create(ctx, cg)).To(Succeed())
	got := env.WaitReady(t, cg)
	link, _ := inviteLink(t, got)

	g.Expect(f.sim.Join(link, "+8613800000001")).To(Succeed())
	g.Expect(f.sim.Join(link, "+8613800000099")).To(Succeed(), "the link reached someone unlisted")
	env.RequestReconcileAt(t, got, "intruder-joined")
	g.Expect(f.only(cg).Participants).To(Equal([]string{"8613800000001"}))
	g.Expect(got.Status.WhatsApp.PendingMembers).To(Equal([]string{"+8613800000002"}))
	g.Expect(got.Status.MemberCount).To(Equal(int32(1)))
	again, _ := inviteLink(t, got)
	g.Expect(again).To(Equal(link), "the link stays open for the one still pending")
	g.Expect(f.writes()).To(Equal(map[string]int{"AddChatGroup": 1, "AddChatGroupInviteLink": 1, "DeleteChatGroupParticipants": 1}))
	g.Eventually(func(g Gomega) []string { return env.EventReasons(g, got) }).Should(ContainElement(v1alpha1.MembersChangedReason))
	f.logCounts("unlisted participant")
}

func TestWhatsApp_SpecChangeMakesOneUpdateAndANoOpResyncNoWrites(t *testing.T) {
	t.Parallel()
	startEnv(t)
	g := NewWithT(t)
	f := newFixture(t, 200*time.Millisecond, keyID, keySecret)
	cg := f.group("settings", "+8613800000001") // pending with an open link: still up to date
	g.Expect(env.Client.Create(ctx, cg)).To(Succeed())
	got := env.WaitReady(t, cg)
	id := got.Status.GroupID
	created := f.writes()
	g.Expect(created).To(Equal(map[string]int{"AddChatGroup": 1, "AddChatGroupInviteLink": 1}))

	g.Expect(got.Status.WhatsApp).NotTo(BeNil())
	g.Expect(got.Status.WhatsApp.Subject).To(Equal("Team settings"))
	for i := range 60 { // listing every group would take four calls of 20
		f.sim.Put(fmt.Sprintf("Other team %d", i))
	}
	lists, participants := f.sim.Count("ListChatGroup"), f.sim.Count("ListChatGroupParticipants")
	patch := client.MergeFrom(got.DeepCopy())
	got.Spec.Name = "Team settings renamed"
	got.Spec.Description = "Logistics"
	g.Expect(env.Client.Patch(ctx, got, patch)).To(Succeed())
	got = env.WaitReady(t, got)
	g.Expect(f.sim.Count("ListChatGroup")-lists).To(Equal(1),
		"the observation lists by the subject in status.whatsapp.subject, which the group still has; the update reuses that read")
	g.Expect(f.sim.Count("ListChatGroupParticipants") - participants).To(Equal(1))
	g.Expect(got.Status.WhatsApp.Subject).To(Equal("Team settings renamed"))
	g.Expect(got.Status.GroupID).To(Equal(id))
	vg, ok := f.sim.Group(id)
	g.Expect(ok).To(BeTrue())
	g.Expect(vg.Subject).To(Equal("Team settings renamed"))
	g.Expect(vg.Description).To(Equal("Logistics"))
	g.Expect(f.writes()).To(Equal(map[string]int{"AddChatGroup": 1, "AddChatGroupInviteLink": 1, "UpdateChatGroup": 1}), "exactly one UpdateChatGroup")
	g.Eventually(func(g Gomega) []string { return env.EventReasons(g, got) }).Should(ContainElement(v1alpha1.UpdatedReason))

	reads := f.sim.Count("ListChatGroup") + f.sim.Count("ListChatGroupParticipants")
	env.RequestReconcileAt(t, got, "no-op")
	g.Expect(f.writes()).To(Equal(map[string]int{"AddChatGroup": 1, "AddChatGroupInviteLink": 1, "UpdateChatGroup": 1}), "a no-op resync makes zero writes")
	g.Expect(f.sim.Count("ListChatGroup")+f.sim.Count("ListChatGroupParticipants")).To(Equal(reads+2), "one list by subject, one participants list")
	f.logCounts("spec change + no-op resync")
}

func TestWhatsApp_DeletionPolicy(t *testing.T) {
	t.Parallel()
	startEnv(t)
	f := newFixture(t, 200*time.Millisecond, keyID, keySecret)
	for _, tc := range []struct {
		policy      v1alpha1.DeletionPolicy
		wantDeletes int
		wantGone    bool
	}{
		{policy: v1alpha1.Delete, wantDeletes: 1, wantGone: true},
		{policy: v1alpha1.Orphan, wantDeletes: 1, wantGone: false}, // still the one from Delete
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			g := NewWithT(t)
			cg := f.group("delete-" + strings.ToLower(string(tc.policy)))
			cg.Spec.DeletionPolicy = tc.policy
			g.Expect(env.Client.Create(ctx, cg)).To(Succeed())
			id := env.WaitReady(t, cg).Status.GroupID

			g.Expect(env.Client.Delete(ctx, cg)).To(Succeed())
			g.Eventually(func() bool {
				return apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKeyFromObject(cg), &v1alpha1.ChatGroup{}))
			}).WithTimeout(20 * time.Second).Should(BeTrue())
			g.Expect(f.writes()["DeleteChatGroup"]).To(Equal(tc.wantDeletes), "the provider's probe of a missing group aside")
			_, exists := f.sim.Group(id)
			g.Expect(exists).To(Equal(!tc.wantGone))
		})
	}
	NewWithT(t).Expect(f.writes()).To(Equal(map[string]int{"AddChatGroup": 2, "DeleteChatGroup": 1}))
	f.logCounts("deletion policy Delete then Orphan")
}

func TestWhatsApp_RejectedCredentialsAreReportedWithoutSecrets(t *testing.T) {
	t.Parallel()
	startEnv(t)
	for _, tc := range []struct {
		name, id, secret, advice string
	}{
		{name: "wrong secret (bad signature)", id: keyID, secret: "canary-wrong-secret-value", advice: "accessKeySecret"},
		{name: "unknown key", id: "LTAI-unknown", secret: keySecret, advice: "accessKeyID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			f := newFixture(t, 200*time.Millisecond, tc.id, tc.secret)
			cg := f.group("denied")
			g.Expect(env.Client.Create(ctx, cg)).To(Succeed())

			got := env.WaitFor(t, cg, metav1.ConditionFalse, v1alpha1.AuthenticationFailedReason)
			g.Expect(condition(got, v1alpha1.ReadyCondition).Message).To(ContainSubstring(tc.advice))
			provider := &v1alpha1.ChatProvider{}
			g.Eventually(func(g Gomega) string {
				g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: "whatsapp"}, provider)).To(Succeed())
				c := meta.FindStatusCondition(provider.Status.Conditions, v1alpha1.ReadyCondition)
				g.Expect(c).NotTo(BeNil())
				return c.Reason
			}).WithTimeout(20 * time.Second).Should(Equal(v1alpha1.AuthenticationFailedReason))
			g.Expect(f.writes()).To(BeEmpty(), "nothing is created with rejected credentials")

			texts := messages(g, got.Status.Conditions, provider.Status.Conditions)
			g.Eventually(func(g Gomega) []string { return eventNotes(g, f.ns) }).ShouldNot(BeEmpty())
			texts = append(texts, eventNotes(g, f.ns)...)
			sigs := f.sim.Signatures()
			g.Expect(sigs).NotTo(BeEmpty())
			for _, text := range texts {
				g.Expect(text).NotTo(ContainSubstring(tc.secret))
				g.Expect(text).NotTo(ContainSubstring(keySecret))
				g.Expect(text).NotTo(ContainSubstring("Signature="))
				g.Expect(text).NotTo(ContainSubstring("CustSpaceId="), "no URL query strings")
				g.Expect(text).NotTo(MatchRegexp(`[0-9a-f]{64}`), "nothing signature-like")
				for _, sig := range sigs {
					g.Expect(text).NotTo(ContainSubstring(sig))
				}
			}
			f.logCounts("rejected credentials: " + tc.name)
		})
	}
}

// messages returns the conditions' messages.
func messages(g Gomega, sets ...[]metav1.Condition) []string {
	var out []string
	for _, conds := range sets {
		for _, c := range conds {
			out = append(out, c.Message)
		}
	}
	g.Expect(out).NotTo(BeEmpty())
	return out
}

// eventNotes returns the notes of the events in ns.
func eventNotes(g Gomega, ns string) []string {
	list := &eventsv1.EventList{}
	g.Expect(env.Client.List(ctx, list, client.InNamespace(ns))).To(Succeed())
	var out []string
	for _, e := range list.Items {
		out = append(out, e.Note)
	}
	return out
}

// changeDescription sets cg's description and returns the object as patched.
func changeDescription(t *testing.T, cg *v1alpha1.ChatGroup, description string) *v1alpha1.ChatGroup {
	t.Helper()
	patch := client.MergeFrom(cg.DeepCopy())
	cg.Spec.Description = description
	NewWithT(t).Expect(env.Client.Patch(ctx, cg, patch)).To(Succeed())
	return cg
}

// expectRetried checks that cg waits for the vendor without being stalled.
func expectRetried(t *testing.T, cg *v1alpha1.ChatGroup) {
	t.Helper()
	g := NewWithT(t)
	g.Expect(meta.FindStatusCondition(cg.Status.Conditions, v1alpha1.StalledCondition)).To(BeNil(), "not Stalled: nothing in the spec is wrong")
	g.Expect(testenv.KStatus(t, cg)).To(Equal(status.InProgressStatus))
	g.Expect(cg.Status.ObservedGeneration).NotTo(Equal(cg.Generation), "the generation is not concluded")
}

// TestWhatsApp_RefusalsOnUpdateAreRetriedUntilCAMSStopsAnsweringThem: a code
// the client does not know, and a permission missing in the RAM console, leave
// the group waiting (never Stalled) with the code or the permission in status,
// and it ends Ready once CAMS answers normally, with no spec change.
func TestWhatsApp_RefusalsOnUpdateAreRetriedUntilCAMSStopsAnsweringThem(t *testing.T) {
	t.Parallel()
	startEnv(t)
	for _, tc := range []struct {
		name, code, reason, inMessage string
	}{
		{name: "unknown-code", code: "Undocumented.Code", reason: v1alpha1.VendorUnavailableReason, inMessage: "Undocumented.Code"},
		{name: "access-denied", code: "Forbidden.RAM", reason: v1alpha1.AccessDeniedReason, inMessage: "cams:UpdateChatGroup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := NewWithT(t)
			f := newFixture(t, 200*time.Millisecond, keyID, keySecret)
			cg := f.group(tc.name)
			g.Expect(env.Client.Create(ctx, cg)).To(Succeed())
			got := env.WaitReady(t, cg)

			f.sim.FailWith("UpdateChatGroup", tc.code)
			changeDescription(t, got, "Logistics")
			failing := env.WaitFor(t, got, metav1.ConditionFalse, tc.reason)
			g.Expect(condition(failing, v1alpha1.ReadyCondition).Message).To(ContainSubstring(tc.inMessage))
			expectRetried(t, failing)
			g.Eventually(func() int { return f.sim.Count("UpdateChatGroup", "injected") }).WithTimeout(30*time.Second).
				Should(BeNumerically(">=", 2), "retried")

			f.sim.FailWith("UpdateChatGroup", "") // CAMS is well again, or the permission was granted
			done := env.WaitReady(t, failing)
			g.Expect(done.Generation).To(Equal(failing.Generation), "no spec change was needed")
			vg, ok := f.sim.Group(done.Status.GroupID)
			g.Expect(ok).To(BeTrue())
			g.Expect(vg.Description).To(Equal("Logistics"))
			g.Expect(f.sim.Count("UpdateChatGroup", "ok")).To(Equal(1))
			f.logCounts(tc.code + " on UpdateChatGroup")
		})
	}
}

func TestWhatsApp_AGroupStillUpdatingIsRetriedNotStalled(t *testing.T) {
	t.Parallel()
	startEnv(t)
	g := NewWithT(t)
	f := newFixture(t, 200*time.Millisecond, keyID, keySecret)
	cg := f.group("updating")
	g.Expect(env.Client.Create(ctx, cg)).To(Succeed())
	got := env.WaitReady(t, cg)

	f.sim.SetUpdateDelay(time.Hour) // CAMS takes its time applying the next update
	got = env.WaitReady(t, changeDescription(t, got, "Logistics"))
	vg, _ := f.sim.Group(got.Status.GroupID)
	g.Expect(vg.Status).To(Equal(camssim.StatusUpdating))

	changeDescription(t, got, "Logistics and supplies")
	waiting := env.WaitFor(t, got, metav1.ConditionFalse, v1alpha1.VendorUnavailableReason)
	g.Expect(condition(waiting, v1alpha1.ReadyCondition).Message).To(ContainSubstring(camssim.StatusUpdating))
	expectRetried(t, waiting)
	g.Expect(f.sim.Count("UpdateChatGroup", "error")).To(BeZero(), "no call CAMS would refuse")

	f.sim.SetUpdateDelay(0) // CAMS is done
	done := env.WaitReady(t, waiting)
	vg, _ = f.sim.Group(done.Status.GroupID)
	g.Expect(vg.Description).To(Equal("Logistics and supplies"))
	g.Expect(f.sim.Count("UpdateChatGroup", "ok")).To(Equal(2))
	f.logCounts("update while UPDATING")
}
