package faults

import (
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/registry"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// settleTimeout bounds how long a scenario waits for its groups to converge
// (two managers, each pacing to a vendor limit of 10 calls per second, take
// over a minute).
const settleTimeout = 3 * time.Minute

// forEachVendor runs fn for each registered simulator in parallel subtests.
func forEachVendor(t *testing.T, fn func(t *testing.T, reg vendorsim.Registration)) {
	sims := registry.Simulators()
	if len(sims) == 0 {
		t.Fatal("no simulator is registered (internal/registry)")
	}
	for _, reg := range sims {
		t.Run(string(reg.Vendor), func(t *testing.T) {
			t.Parallel()
			fn(t, reg)
		})
	}
}

func TestLostCreateResponse(t *testing.T) {
	t.Parallel()
	forEachVendor(t, func(t *testing.T, reg vendorsim.Registration) {
		g := NewWithT(t)
		s := newScenario(t, reg, 0, nil)
		s.startManager()
		s.waitProvider()
		core := s.sim.Core()
		core.SetOpFaults(s.sim.CreateOp(), vendorsim.Faults{DropRate: 1})
		groups := s.createGroups(1)
		g.Eventually(func() int { return core.Count(s.sim.CreateOp(), "dropped") }).WithTimeout(20 * time.Second).Should(Equal(1))
		core.SetOpFaults(s.sim.CreateOp(), vendorsim.Faults{})

		// The operator finds the group the lost answer made; where the vendor
		// reports a found group only by an ID it documents no way back from, it
		// stalls and asks for spec.adoptGroupID (settle adopts it as a user
		// would). Either way the group is not created again.
		adopted, recreated := s.settle(groups, settleTimeout)
		s.expectOneGroupEach(groups)
		g.Expect(core.Count(s.sim.CreateOp(), "ok")).To(Equal(0), "the create was applied once, and its answer lost")
		g.Expect(recreated).To(BeEmpty())
		g.Expect(len(adopted)).To(BeNumerically("<=", 1))
		s.expectNoLeaks()
	})
}

// countDerived counts the groups whose vendor ID is derived from their UID.
func countDerived(groups []*v1alpha1.ChatGroup) int {
	n := 0
	for _, cg := range groups {
		if derivedID(cg) {
			n++
		}
	}
	return n
}

// seed returns the random seed of a scenario: FAULTS_SEED, or the time.
func seed(t *testing.T) uint64 {
	n, err := strconv.ParseUint(os.Getenv("FAULTS_SEED"), 10, 64)
	if err != nil {
		n = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (set FAULTS_SEED to repeat)", n)
	return n
}

func TestKilledDuringCreates(t *testing.T) {
	t.Parallel()
	forEachVendor(t, func(t *testing.T, reg vendorsim.Registration) {
		const n, kills = 20, 3
		g := NewWithT(t)
		s := newScenario(t, reg, 0, nil)
		m := s.startManager()
		s.waitProvider()
		core := s.sim.Core()
		core.SetFaults(vendorsim.Faults{Latency: 20 * time.Millisecond}) // calls are in flight when the kill comes
		rng := rand.New(rand.NewPCG(seed(t), 0))
		groups := s.createGroups(n)
		for range kills {
			time.Sleep(time.Duration(200+rng.IntN(1000)) * time.Millisecond)
			m.kill()
			m = s.startManager()
		}
		core.SetFaults(vendorsim.Faults{})

		// settle checks that no group with an ID derived from its UID needed
		// the user: such IDs make every interrupted create recoverable.
		adopted, recreated := s.settle(groups, settleTimeout)
		t.Logf("after %d kills: %d groups adopted and %d created again on the user's word; %d of %d IDs derived from the UID",
			kills, len(adopted), len(recreated), countDerived(groups), n)
		s.expectOneGroupEach(groups)
		g.Expect(core.Count(s.sim.CreateOp(), "ok")).To(Equal(n), "one applied create per ChatGroup")
		s.expectNoLeaks()
	})
}

func TestTwoManagersAtOnce(t *testing.T) {
	t.Parallel()
	forEachVendor(t, func(t *testing.T, reg vendorsim.Registration) {
		const n = 20
		g := NewWithT(t)
		s := newScenario(t, reg, 0, nil)
		s.startManager()
		s.startManager()
		s.waitProvider()
		groups := s.createGroups(n)

		adopted, recreated := s.settle(groups, settleTimeout)
		g.Expect(slices.Concat(adopted, recreated)).To(BeEmpty(), "overlapping managers never leave a create in doubt")
		s.expectOneGroupEach(groups)
		g.Expect(s.sim.Core().Count(s.sim.CreateOp(), "ok")).To(Equal(n))

		s.edit(groups)
		s.waitAll(groups, settleTimeout, isReady)
		s.expectOneGroupEach(groups)
		s.expectNoLeaks()
	})
}

// downFor is how long the vendor is down in TestVendorDown: FAULTS_DOWN_FOR
// (a duration), 4s by default.
func downFor(t *testing.T) time.Duration {
	d, err := time.ParseDuration(os.Getenv("FAULTS_DOWN_FOR"))
	if err != nil || d <= 0 {
		d = 4 * time.Second
	}
	t.Logf("vendor down for %s", d)
	return d
}

// maxAttempts is the most passes one ChatGroup gets in d while every pass
// fails: the first, then controller-runtime's per-object exponential backoff
// (5ms, doubling), whose delays sum to 5ms·(2^k−1) after k retries.
func maxAttempts(d time.Duration) int {
	return 1 + int(math.Ceil(math.Log2(float64(d)/float64(5*time.Millisecond)+1)))
}

func TestVendorDown(t *testing.T) {
	t.Parallel()
	forEachVendor(t, func(t *testing.T, reg vendorsim.Registration) {
		const n = 10
		g := NewWithT(t)
		s := newScenario(t, reg, 0, nil)
		s.startManager()
		s.waitProvider()
		groups := s.createGroups(n)
		s.waitAll(groups, settleTimeout, isReady)
		down := downFor(t)
		core := s.sim.Core()

		// First half: every call answers the vendor's transient error (5xx or
		// its body-code equivalent).
		start := time.Now()
		core.SetFaults(vendorsim.Faults{ErrorRate: 1})
		s.edit(groups)
		s.waitAll(groups, down, func(g Gomega, cg *v1alpha1.ChatGroup) {
			c := ready(cg)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(v1alpha1.VendorUnavailableReason), c.Message)
			g.Expect(c.Message).To(HavePrefix("The vendor call failed and will be retried: "))
		})
		time.Sleep(time.Until(start.Add(down / 2)))

		// Second half: calls hang past the vendor timeout, until every group has
		// said so (its backoff may put its next pass a few seconds away).
		core.SetFaults(vendorsim.Faults{Latency: 2 * vendorTimeout})
		s.waitAll(groups, settleTimeout, func(g Gomega, cg *v1alpha1.ChatGroup) {
			c := ready(cg)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal(v1alpha1.VendorUnavailableReason), c.Message)
			g.Expect(c.Message).To(ContainSubstring("deadline exceeded"))
		})
		time.Sleep(time.Until(start.Add(down)))
		end := time.Now()
		core.SetFaults(vendorsim.Faults{})

		calls := s.wire.between(start, end)
		bound := n * maxAttempts(end.Sub(start))
		t.Logf("%d calls while down for %s (bound %d: %d groups × %d attempts)", len(calls), end.Sub(start).Round(time.Millisecond), bound, n, maxAttempts(end.Sub(start)))
		g.Expect(len(calls)).To(BeNumerically(">=", n), "each group tried")
		g.Expect(len(calls)).To(BeNumerically("<=", bound), "retries are bounded by the backoff")

		s.waitAll(groups, settleTimeout, isReady)
		s.expectOneGroupEach(groups)
		s.expectNoLeaks()
	})
}

// inFlight is how long after a throttle answer a call may still arrive that the
// client sent before it could read that answer.
const inFlight = 200 * time.Millisecond

// throttleDelay is the delay the vendors ask for after throttling: they limit
// calls per second, and those that say how long to wait say "at least a
// second".
const throttleDelay = time.Second

func TestThrottled(t *testing.T) {
	t.Parallel()
	forEachVendor(t, func(t *testing.T, reg vendorsim.Registration) {
		const n = 6
		g := NewWithT(t)
		s := newScenario(t, reg, 0, nil)
		s.startManager()
		s.waitProvider()
		groups := s.createGroups(n)
		s.waitAll(groups, settleTimeout, isReady)

		// The vendor throttles every call for a while (other applications of the
		// account used up its allowance) just as every group is edited.
		s.sim.Throttle(3 * time.Second)
		s.edit(groups)
		s.waitAll(groups, settleTimeout, isReady)
		s.expectOneGroupEach(groups)

		calls := s.wire.all()
		throttled := 0
		for _, a := range calls {
			if !a.throttled {
				continue
			}
			throttled++
			for _, c := range calls {
				if c.op == a.op && c.start.After(a.end.Add(inFlight)) && c.start.Before(a.end.Add(throttleDelay)) {
					g.Expect(c.start.Sub(a.end)).To(BeNumerically(">=", throttleDelay),
						"a %s call %s after the vendor throttled it", c.op, c.start.Sub(a.end).Round(time.Millisecond))
				}
			}
		}
		t.Logf("%d calls, %d throttled", len(calls), throttled)
		g.Expect(throttled).To(BeNumerically(">", 0), "the vendor throttled")
		// A group whose call was throttled says so; one whose calls merely waited
		// in the client's line for the hold to end never failed. Nothing else
		// went wrong.
		var reasons []string
		for _, cg := range groups {
			reasons = append(reasons, s.eventReasons(cg)...)
		}
		g.Expect(reasons).To(ContainElement(v1alpha1.RateLimitedReason))
		g.Expect(reasons).To(HaveEach(BeElementOf(v1alpha1.CreatedReason, v1alpha1.MembersChangedReason, v1alpha1.UpdatedReason,
			v1alpha1.RateLimitedReason, v1alpha1.RecoveredReason)))
		s.expectNoLeaks()
	})
}

// TestOutageDuringBurst: every API answers HTTP 503 (no vendor code: a
// gateway's answer during an outage) while a burst of ChatGroups is created. A
// 503 proves the request was not applied, so every create claim it ends is
// dropped and the create retried with backoff: when the vendor recovers, every
// group is Ready with exactly one vendor group, and no annotation was touched
// by hand.
func TestOutageDuringBurst(t *testing.T) {
	t.Parallel()
	forEachVendor(t, func(t *testing.T, reg vendorsim.Registration) {
		const n = 20
		g := NewWithT(t)
		s := newScenario(t, reg, 0, nil)
		s.startManager()
		s.waitProvider()
		core := s.sim.Core()
		core.UnavailableFor(time.Hour)
		start := time.Now()
		groups := s.createGroups(n)
		// The outage lasts until every group has failed in it.
		s.waitAll(groups, settleTimeout, func(g Gomega, cg *v1alpha1.ChatGroup) {
			c := ready(cg)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal(v1alpha1.VendorUnavailableReason), "%s: %s", cg.Name, c.Message)
		})
		core.UnavailableFor(0)
		t.Logf("vendor down for %s", time.Since(start).Round(time.Millisecond))

		s.waitAll(groups, settleTimeout, isReady)
		failed := 0
		for _, c := range core.Calls() {
			if c.Outcome == "unavailable" {
				failed++
			}
		}
		s.expectOneGroupEach(groups)
		g.Expect(core.Count(s.sim.CreateOp(), "ok")).To(Equal(n), "one applied create per ChatGroup")
		for _, cg := range groups {
			g.Expect(s.eventReasons(cg)).To(HaveEach(BeElementOf(v1alpha1.VendorUnavailableReason, v1alpha1.CreatedReason, v1alpha1.RecoveredReason)),
				"%s never needed a human, nor a lookup", cg.Name)
			g.Expect(cg.Annotations).NotTo(HaveKey(v1alpha1.CreatePendingAnnotation), cg.Name)
		}
		t.Logf("%d calls answered 503; %d creates applied for %d groups", failed, core.Count(s.sim.CreateOp(), "ok"), n)
		g.Expect(failed).To(BeNumerically(">=", n), "each group failed in the outage")
		s.expectNoLeaks()
	})
}
