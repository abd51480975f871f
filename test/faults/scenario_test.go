package faults

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/testenv"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

var ctx = context.Background()

// vendorTimeout is the manager's --vendor-timeout in the scenarios: short, so a
// hung vendor call times out within a scenario.
const vendorTimeout = 2 * time.Second

// findGrace is the managers' --find-grace: the simulators show a group as soon
// as it is made, so the vendors' real lookup grace (minutes) would only slow
// down the scenarios whose kills leave a create claim that made nothing.
const findGrace = 3 * time.Second

// scenario is one vendor simulator behind a wire log, a namespace with a
// provider for it, and the log of every manager process started for it.
type scenario struct {
	t    *testing.T
	sim  simulator
	wire *wireLog
	ns   string
	log  *logBuffer
	prov *v1alpha1.ChatProvider
}

// newScenario starts reg's simulator (vendorLimit calls per second per API, 0
// for the documented limit) and creates the provider "vendor", with limit as
// its spec.rateLimit (nil: the vendor's documented limit).
func newScenario(t *testing.T, reg vendorsim.Registration, vendorLimit int, limit *v1alpha1.RateLimit) *scenario {
	t.Helper()
	sim := newSimulator(reg, vendorLimit)
	wire := &wireLog{sim: sim}
	srv := httptest.NewServer(wire)
	t.Cleanup(srv.Close)
	s := &scenario{t: t, sim: sim, wire: wire, ns: env.Namespace(t), log: &logBuffer{}}
	settings, data := sim.Provider(srv.URL)
	settings.RateLimit = limit
	secret, prov := testenv.ProviderObjects(s.ns, "vendor", settings, data)
	g := NewWithT(t)
	g.Expect(env.Client.Create(ctx, secret)).To(Succeed())
	g.Expect(env.Client.Create(ctx, prov)).To(Succeed())
	s.prov = prov
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("manager log of %s:\n%s", t.Name(), tail(s.log.String(), 200))
		}
	})
	return s
}

// startManager starts a manager process for the scenario's namespace.
func (s *scenario) startManager() *manager {
	s.t.Helper()
	return startManager(s.t, s.ns, s.log, "--vendor-timeout="+vendorTimeout.String(), "--find-grace="+findGrace.String())
}

// waitProvider waits until the provider is Ready: its credential check is done
// before groups are created, so it does not blur the counts.
func (s *scenario) waitProvider() {
	s.t.Helper()
	env.WaitProvider(s.t, s.prov, metav1.ConditionTrue, "")
}

// createGroups creates n ChatGroups at once.
func (s *scenario) createGroups(n int) []*v1alpha1.ChatGroup {
	s.t.Helper()
	out := make([]*v1alpha1.ChatGroup, n)
	for i := range out {
		cg := &v1alpha1.ChatGroup{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("group-%03d", i), Namespace: s.ns}, Spec: s.sim.group(i)}
		cg.Spec.ProviderRef = v1alpha1.ProviderReference{Name: s.prov.Name}
		NewWithT(s.t).Expect(env.Client.Create(ctx, cg)).To(Succeed())
		out[i] = cg
	}
	return out
}

// edit applies editSpec to every group.
func (s *scenario) edit(groups []*v1alpha1.ChatGroup) {
	s.t.Helper()
	for _, cg := range groups {
		s.patch(cg, func(c *v1alpha1.ChatGroup) { s.sim.editSpec(&c.Spec) })
	}
}

// patch re-reads cg, applies mutate and merge-patches it; cg is left updated.
func (s *scenario) patch(cg *v1alpha1.ChatGroup, mutate func(*v1alpha1.ChatGroup)) {
	s.t.Helper()
	g := NewWithT(s.t)
	g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(cg), cg)).To(Succeed())
	base := cg.DeepCopy()
	mutate(cg)
	g.Expect(env.Client.Patch(ctx, cg, client.MergeFrom(base))).To(Succeed())
}

// ready reports cg's Ready condition for its current generation (nil when the
// generation has no verdict yet).
func ready(cg *v1alpha1.ChatGroup) *metav1.Condition {
	c := meta.FindStatusCondition(cg.Status.Conditions, v1alpha1.ReadyCondition)
	if c == nil || c.ObservedGeneration != cg.Generation {
		return nil
	}
	return c
}

// waitAll waits until check passes for every group (re-read each time).
func (s *scenario) waitAll(groups []*v1alpha1.ChatGroup, timeout time.Duration, check func(g Gomega, cg *v1alpha1.ChatGroup)) {
	s.t.Helper()
	NewWithT(s.t).Eventually(func(g Gomega) {
		for _, cg := range groups {
			g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(cg), cg)).To(Succeed())
			check(g, cg)
		}
	}).WithTimeout(timeout).WithPolling(200 * time.Millisecond).Should(Succeed())
}

// isReady passes when cg is Ready for its current generation.
func isReady(g Gomega, cg *v1alpha1.ChatGroup) {
	c := ready(cg)
	g.Expect(c).NotTo(BeNil(), "%s has no verdict for generation %d", cg.Name, cg.Generation)
	g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "%s: %s %s", cg.Name, c.Reason, c.Message)
}

// settle waits until every group is Ready or stalled with CreateIncomplete, and
// resolves each stall as its message tells the user to: adopt the one vendor
// group with the name, or, when there is none, remove the create-pending
// annotation so the group is created. It then waits for all to be Ready and
// returns the groups that needed resolving, by how. None of them has a group
// ID derived from its UID: a vendor that takes caller-chosen IDs lets the
// operator tell for certain whether an interrupted create made the group.
func (s *scenario) settle(groups []*v1alpha1.ChatGroup, timeout time.Duration) (adopted, recreated []*v1alpha1.ChatGroup) {
	s.t.Helper()
	g := NewWithT(s.t)
	s.waitAll(groups, timeout, func(g Gomega, cg *v1alpha1.ChatGroup) {
		c := ready(cg)
		g.Expect(c).NotTo(BeNil(), "%s has no verdict for generation %d", cg.Name, cg.Generation)
		if c.Status != metav1.ConditionTrue {
			g.Expect(c.Reason).To(Equal(v1alpha1.CreateIncompleteReason), "%s: %s", cg.Name, c.Message)
		}
	})
	for _, cg := range groups {
		c := ready(cg)
		if c.Status == metav1.ConditionTrue {
			continue
		}
		g.Expect(c.Message).To(ContainSubstring("spec.adoptGroupID"), "%s: the stall says how to resolve it", cg.Name)
		ids := s.sim.GroupIDs(cg.Spec.Name)
		g.Expect(len(ids)).To(BeNumerically("<=", 1), "%s: never a second group", cg.Name)
		if len(ids) == 1 {
			adopted = append(adopted, cg)
			s.patch(cg, func(c *v1alpha1.ChatGroup) { c.Spec.AdoptGroupID = ids[0] })
			continue
		}
		recreated = append(recreated, cg)
		s.patch(cg, func(c *v1alpha1.ChatGroup) { delete(c.Annotations, v1alpha1.CreatePendingAnnotation) })
	}
	s.waitAll(groups, timeout, isReady)
	for _, cg := range slices.Concat(adopted, recreated) {
		g.Expect(derivedID(cg)).To(BeFalse(), "%s: group %s has an ID derived from its UID, so the operator needs no help", cg.Name, cg.Status.GroupID)
	}
	return adopted, recreated
}

// expectOneGroupEach checks every ChatGroup is bound to exactly one vendor group
// with its name, which matches its spec, and that the vendor holds no other group.
func (s *scenario) expectOneGroupEach(groups []*v1alpha1.ChatGroup) {
	s.t.Helper()
	g := NewWithT(s.t)
	for _, cg := range groups {
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(cg), cg)).To(Succeed())
		ids := s.sim.GroupIDs(cg.Spec.Name)
		g.Expect(ids).To(HaveLen(1), "%s: exactly one vendor group named %q", cg.Name, cg.Spec.Name)
		g.Expect(cg.Status.GroupID).To(Equal(ids[0]), cg.Name)
		g.Expect(cg.Annotations).To(HaveKeyWithValue(v1alpha1.GroupIDAnnotation, ids[0]), cg.Name)
		s.sim.matches(g, cg)
	}
}

// eventReasons lists the reasons of the events about cg.
func (s *scenario) eventReasons(cg *v1alpha1.ChatGroup) []string {
	s.t.Helper()
	events := &eventsv1.EventList{}
	NewWithT(s.t).Expect(env.Client.List(ctx, events, client.InNamespace(s.ns))).To(Succeed())
	var out []string
	for _, ev := range events.Items {
		if ev.Regarding.Name == cg.Name {
			out = append(out, ev.Reason)
		}
	}
	return out
}

// leakPatterns must never match logs, events or conditions: a credential-looking
// query parameter or a URL with a query string.
var leakPatterns = regexp.MustCompile(`(?i)(access_token|usersig|signature)=[^\[&\s"]|https?://[^\s"]*\?[^\s"]*=`)

// expectNoLeaks checks that no secret the simulator knows of (the canary, tokens,
// signatures) appears in the managers' logs, in any event or condition of the
// namespace, or in the status of any object; and that the race detector, which
// the manager processes run under in make test, reported nothing.
func (s *scenario) expectNoLeaks() {
	s.t.Helper()
	g := NewWithT(s.t)
	texts := map[string]string{"manager log": s.log.String()}

	events := &eventsv1.EventList{}
	g.Expect(env.Client.List(ctx, events, client.InNamespace(s.ns))).To(Succeed())
	for _, ev := range events.Items {
		texts["event "+ev.Name] = ev.Reason + " " + ev.Note
	}
	cgs := &v1alpha1.ChatGroupList{}
	g.Expect(env.Client.List(ctx, cgs, client.InNamespace(s.ns))).To(Succeed())
	for _, cg := range cgs.Items {
		texts["ChatGroup "+cg.Name] = fmt.Sprintf("%+v %v", cg.Status, cg.Annotations)
	}
	p := &v1alpha1.ChatProvider{}
	g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(s.prov), p)).To(Succeed())
	texts["ChatProvider"] = fmt.Sprintf("%+v", p.Status)

	secrets := s.sim.Secrets()
	g.Expect(secrets).To(ContainElement(canary(s.sim.vendor)), "the account's secret is among those checked")
	for where, text := range texts {
		for _, secret := range secrets {
			g.Expect(strings.Contains(text, secret)).To(BeFalse(), "a secret (%.12s…) in the %s", secret, where)
		}
		g.Expect(leakPatterns.FindString(text)).To(BeEmpty(), "in the %s", where)
	}
	s.t.Logf("no leak of %d secrets in %d bytes of manager log, %d events and %d objects' status",
		len(secrets), len(texts["manager log"]), len(events.Items), len(cgs.Items)+1)
	g.Expect(texts["manager log"]).NotTo(ContainSubstring("DATA RACE"))
	g.Expect(len(events.Items)).To(BeNumerically(">", 0), "events were recorded, so the check saw some")
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// wireCall is one request the simulator received.
type wireCall struct {
	op         string
	start, end time.Time
	// throttled is true when the answer was the vendor's throttle response.
	throttled bool
}

// wireLog records every request to the simulator as the network sees it,
// including calls abandoned by the client (a timeout, a killed process), which
// the simulator's own log leaves out.
type wireLog struct {
	sim simulator

	mu    sync.Mutex
	calls []wireCall
}

func (w *wireLog) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	c := wireCall{op: w.sim.OpOf(r), start: time.Now()}
	rec := &recorder{ResponseWriter: rw}
	w.sim.ServeHTTP(rec, r)
	c.end = time.Now()
	c.throttled = w.sim.IsThrottle(rec.status, rec.body.Bytes())
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, c)
}

// between returns the calls that arrived in [from, to).
func (w *wireLog) between(from, to time.Time) []wireCall {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []wireCall
	for _, c := range w.calls {
		if !c.start.Before(from) && c.start.Before(to) {
			out = append(out, c)
		}
	}
	return out
}

// all returns every call.
func (w *wireLog) all() []wireCall {
	return w.between(time.Time{}, time.Now().Add(time.Hour))
}

// recorder keeps a copy of the answer; it passes hijacking on, so the
// simulator can still drop a connection.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(p)
	return r.ResponseWriter.Write(p)
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return r.ResponseWriter.(http.Hijacker).Hijack()
}
