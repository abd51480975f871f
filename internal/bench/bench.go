// Package bench is `make bench`: the manager binary against a local control
// plane (envtest) and the vendor simulators with their documented rate limits
// on, measuring convergence against the rate-limit floor, vendor calls per
// group, memory and responsiveness under a full resync. hack/bench runs it and
// writes docs/benchmarks.md.
package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/testenv"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// Config says what to measure.
type Config struct {
	// N ChatGroups of M members each.
	N, M int
	// Sample is how many groups the change and no-op resync are measured on.
	Sample int
	// Edits is how many edits are timed during the full resync.
	Edits int
	// Workers is the manager's --max-concurrent-reconciles.
	Workers int
	// Machine is recorded with each result.
	Machine Machine
	// Manager is the manager binary; WorkDir holds its logs and the kubeconfig.
	Manager, WorkDir string
	// Timeout bounds each phase.
	Timeout time.Duration
	// Logf reports progress.
	Logf func(format string, args ...any)
}

// Calls are vendor calls per group, split into writes and reads.
type Calls struct {
	Writes float64 `json:"writes"`
	Reads  float64 `json:"reads"`
}

// Result is one vendor's figures.
type Result struct {
	Vendor v1alpha1.Vendor `json:"vendor"`
	N      int             `json:"n"`
	// M is the members per group used (a vendor's group size may cap it).
	M int `json:"m"`
	// Wall is the time from the first create until all N were Ready.
	Wall time.Duration `json:"wallNanos"`
	// Floor is the least time the vendor's rate limits allow for the calls
	// that succeeded, on the busiest API (FloorAPI).
	Floor    time.Duration `json:"floorNanos"`
	FloorAPI string        `json:"floorAPI"`
	Ratio    float64       `json:"ratio"`
	// Create, Change and Noop are calls per group.
	Create Calls `json:"create"`
	Change Calls `json:"change"`
	Noop   Calls `json:"noopResync"`
	// Throttled counts the vendor's throttle answers over the whole run.
	Throttled int `json:"throttled"`
	// Memory after convergence.
	PeakRSS   uint64 `json:"peakRSSBytes"`
	RSS       uint64 `json:"rssBytes"`
	HeapInuse uint64 `json:"heapInuseBytes"`
	// EditP50 and EditP95 are edit-to-Ready times during the full resync, and
	// Resync how long the resync took to reach every group.
	EditP50 time.Duration `json:"editP50Nanos"`
	EditP95 time.Duration `json:"editP95Nanos"`
	Resync  time.Duration `json:"resyncNanos"`
	// TrueFloor is the least time the vendor's rate limits allow for the
	// fewest calls its documented batch sizes allow (TrueFloorAPI the busiest
	// API of those); TrueRatio is Wall / TrueFloor.
	TrueFloor    time.Duration `json:"trueFloorNanos,omitempty"`
	TrueFloorAPI string        `json:"trueFloorAPI,omitempty"`
	TrueRatio    float64       `json:"trueRatio,omitempty"`
	// WritesPerCreate is the operator's API-server writes per ChatGroup during
	// convergence (metadata and status patches; events not counted).
	WritesPerCreate float64 `json:"writesPerCreate,omitempty"`
	// Sweep is calls per group when a restarted manager checks every
	// unchanged group once (periodic drift checks, batched where the vendor
	// can), SweepTime how long that took, SweepFloor its true floor.
	Sweep         Calls         `json:"sweep"`
	SweepTime     time.Duration `json:"sweepNanos,omitempty"`
	SweepFloor    time.Duration `json:"sweepFloorNanos,omitempty"`
	SweepFloorAPI string        `json:"sweepFloorAPI,omitempty"`
	SweepRatio    float64       `json:"sweepRatio,omitempty"`
	// Machine and Workers are where and with how many workers this vendor
	// was measured (make bench can measure vendors in separate runs).
	Machine Machine `json:"machine"`
	Workers int     `json:"workers"`
}

// Env is the control plane the benchmark runs against.
type Env struct {
	// Config reaches the API server; Kubeconfig is a file for the manager.
	Config     *rest.Config
	Kubeconfig string
	Scheme     *runtime.Scheme
}

// run is one vendor's benchmark in progress.
type run struct {
	cfg    Config
	env    Env
	v      vendor
	m      int
	ns     string
	c      client.WithWatch
	sim    simulator
	track  *tracker
	mgr    *manager
	log    string
	groups []*v1alpha1.ChatGroup
}

// Run benchmarks vendor name (one of Vendors).
func Run(ctx context.Context, cfg Config, env Env, name v1alpha1.Vendor) (Result, error) {
	v, err := lookup(name)
	if err != nil {
		return Result{}, err
	}
	rc := rest.CopyConfig(env.Config)
	rc.QPS, rc.Burst = 2000, 4000 // the benchmark's own client must not be the bottleneck
	c, err := client.NewWithWatch(rc, client.Options{Scheme: env.Scheme})
	if err != nil {
		return Result{}, err
	}
	sim := v.start()
	r := &run{cfg: cfg, env: env, v: v, sim: sim, m: sim.members(cfg.M), c: c,
		ns:  fmt.Sprintf("bench-%s-%d", strings.ToLower(string(name)), time.Now().Unix()),
		log: filepath.Join(cfg.WorkDir, fmt.Sprintf("manager-%s-n%d.log", strings.ToLower(string(name)), cfg.N))}
	res := Result{Vendor: name, N: cfg.N, M: r.m, Machine: cfg.Machine, Workers: cfg.Workers}
	defer func() {
		if r.mgr != nil {
			r.mgr.stop()
		}
	}()
	for _, step := range []func(context.Context, *Result) error{r.setup, r.converge, r.measureChange, r.measureNoop, r.measureSweep, r.measureEdits} {
		if err := step(ctx, &res); err != nil {
			return res, err
		}
	}
	res.Throttled = countOutcome(r.sim.Core().Calls(), "throttled")
	return res, nil
}

// setup serves the simulator and creates the provider (which sets no
// rateLimit: the operator paces to the documented limit), then starts the
// tracker and the manager.
func (r *run) setup(ctx context.Context, _ *Result) error {
	r.sim.addUsers(r.m)
	srv := httptest.NewServer(r.sim)
	context.AfterFunc(ctx, srv.Close)
	if err := r.c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: r.ns}}); err != nil {
		return err
	}
	settings, data := r.sim.Provider(srv.URL)
	secret, p := testenv.ProviderObjects(r.ns, "bench", settings, data)
	if err := r.c.Create(ctx, secret); err != nil {
		return err
	}
	if err := r.c.Create(ctx, p); err != nil {
		return err
	}
	var err error
	if r.track, err = track(ctx, r.c, r.ns); err != nil {
		return err
	}
	if r.mgr, err = startManager(r.cfg.Manager, r.env.Kubeconfig, r.ns, r.log, r.cfg.Workers); err != nil {
		return err
	}
	if !waitUntil(ctx, time.Minute, func() bool {
		got := &v1alpha1.ChatProvider{}
		return r.c.Get(ctx, client.ObjectKeyFromObject(p), got) == nil && meta.IsStatusConditionTrue(got.Status.Conditions, v1alpha1.ReadyCondition)
	}) {
		return errors.New("the provider did not get Ready")
	}
	return nil
}

// converge applies N ChatGroups at once and waits until all are Ready.
func (r *run) converge(ctx context.Context, res *Result) error {
	mark, writes := r.sim.Core().Len(), r.track.modified()
	r.groups = make([]*v1alpha1.ChatGroup, r.cfg.N)
	for i := range r.groups {
		r.groups[i] = r.sim.group(r.v.name, r.ns, i, r.m)
	}
	r.cfg.Logf("%s: applying %d ChatGroups of %d members", r.v.name, r.cfg.N, r.m)
	start := time.Now()
	if err := r.parallel(ctx, r.groups, func(cg *v1alpha1.ChatGroup) error { return r.c.Create(ctx, cg) }); err != nil {
		return err
	}
	last, err := r.waitReady(ctx, r.groups, 1)
	if err != nil {
		return err
	}
	res.Wall = last.Sub(start)
	calls := r.sim.Core().Calls()[mark:]
	res.Floor, res.FloorAPI = floor(calls, r.v.limit)
	res.Ratio = res.Wall.Seconds() / max(res.Floor.Seconds(), 1e-9)
	res.Create = r.perGroup(calls, r.cfg.N)
	res.WritesPerCreate = float64(r.track.modified()-writes) / float64(r.cfg.N)
	if r.v.sim.TrueFloor != nil {
		converge, _ := r.v.sim.TrueFloor(r.cfg.N, r.m)
		res.TrueFloor, res.TrueFloorAPI = trueFloor(converge, r.v.limit)
		res.TrueRatio = res.Wall.Seconds() / max(res.TrueFloor.Seconds(), 1e-9)
	}
	mem, err := r.mgr.memory()
	res.PeakRSS, res.RSS, res.HeapInuse = mem.PeakRSS, mem.RSS, mem.HeapInuse
	r.cfg.Logf("%s: all %d Ready in %s (floor %s on %s)", r.v.name, r.cfg.N, res.Wall.Round(time.Millisecond), res.Floor.Round(time.Millisecond), res.FloorAPI)
	return err
}

// measureChange renames Sample groups, adds three members and removes two.
func (r *run) measureChange(ctx context.Context, res *Result) error {
	sample := r.groups[:min(r.cfg.Sample, len(r.groups))]
	mark := r.sim.Core().Len()
	gens := make([]int64, len(sample))
	err := r.parallelIndexed(ctx, len(sample), func(i int) error {
		var err error
		gens[i], err = r.patchSpec(ctx, sample[i], func(s *v1alpha1.ChatGroupSpec) { r.sim.change(s, r.m) })
		return err
	})
	if err != nil {
		return err
	}
	if !waitUntil(ctx, r.cfg.Timeout, func() bool { return r.allReady(sample, gens) }) {
		return errors.New("changed groups did not get Ready")
	}
	res.Change = r.perGroup(r.sim.Core().Calls()[mark:], len(sample))
	return nil
}

// measureNoop asks for a drift check of Sample unchanged groups.
func (r *run) measureNoop(ctx context.Context, res *Result) error {
	sample := r.groups[len(r.groups)-min(r.cfg.Sample, len(r.groups)):]
	mark := r.sim.Core().Len()
	at := time.Now().Format(time.RFC3339Nano)
	if err := r.parallel(ctx, sample, func(cg *v1alpha1.ChatGroup) error {
		patch := client.MergeFrom(cg.DeepCopy())
		metav1.SetMetaDataAnnotation(&cg.ObjectMeta, v1alpha1.ReconcileRequestAnnotation, at)
		return r.c.Patch(ctx, cg, patch)
	}); err != nil {
		return err
	}
	if !waitUntil(ctx, r.cfg.Timeout, func() bool {
		for _, cg := range sample {
			if !r.track.handledReady(cg.Name, at) {
				return false
			}
		}
		return true
	}) {
		return errors.New("drift checks were not handled")
	}
	res.Noop = r.perGroup(r.sim.Core().Calls()[mark:], len(sample))
	return nil
}

// sweepQuiet is how long the vendor must see no call for a restart's resync
// to count as done: longer than the manager's drift-batch wait (10 s).
const sweepQuiet = 15 * time.Second

// measureSweep restarts the manager, whose first sync queues a pass for every
// group, all in sync: a drift sweep of N unchanged groups. It ends when the
// vendor has seen no call for sweepQuiet; the sweep took until the last call.
func (r *run) measureSweep(ctx context.Context, res *Result) error {
	r.mgr.stop()
	mark := r.sim.Core().Len()
	start := time.Now()
	var err error
	if r.mgr, err = startManager(r.cfg.Manager, r.env.Kubeconfig, r.ns, r.log, r.cfg.Workers); err != nil {
		return err
	}
	last := r.waitQuiet(ctx, mark)
	res.SweepTime = last.Sub(start)
	res.Sweep = r.perGroup(r.sim.Core().Calls()[mark:], len(r.groups))
	if r.v.sim.TrueFloor != nil {
		_, sweep := r.v.sim.TrueFloor(r.cfg.N, r.m)
		res.SweepFloor, res.SweepFloorAPI = trueFloor(sweep, r.v.limit)
		res.SweepRatio = res.SweepTime.Seconds() / max(res.SweepFloor.Seconds(), 1e-9)
	}
	r.cfg.Logf("%s: drift sweep of %d groups in %s, %.3f reads per group", r.v.name, len(r.groups), res.SweepTime.Round(time.Millisecond), res.Sweep.Reads)
	return nil
}

// waitQuiet waits until the vendor has seen calls after mark and then none
// for sweepQuiet, and returns when the last one came.
func (r *run) waitQuiet(ctx context.Context, mark int) time.Time {
	n, last := r.sim.Core().Len(), time.Now()
	waitUntil(ctx, r.cfg.Timeout, func() bool {
		if cur := r.sim.Core().Len(); cur != n {
			n, last = cur, time.Now()
		}
		return n > mark && time.Since(last) >= sweepQuiet
	})
	return last
}

// measureEdits restarts the manager, so that its first sync queues a pass for
// every group (a full resync), and times Edits renames made once that resync is
// under way.
func (r *run) measureEdits(ctx context.Context, res *Result) error {
	r.mgr.stop()
	mark := r.sim.Core().Len()
	var err error
	start := time.Now()
	if r.mgr, err = startManager(r.cfg.Manager, r.env.Kubeconfig, r.ns, r.log, r.cfg.Workers); err != nil {
		return err
	}
	// The resync is under way once the vendor sees reads again.
	waitUntil(ctx, time.Minute, func() bool { return r.sim.Core().Len() > mark+r.cfg.Workers })
	edited := pick(r.groups, r.cfg.Edits)
	latencies := make([]time.Duration, len(edited))
	var pending atomic.Int32
	pending.Store(int32(len(edited)))
	var wg sync.WaitGroup
	for i, cg := range edited {
		wg.Go(func() {
			defer pending.Add(-1)
			t0 := time.Now()
			gen, perr := r.patchSpec(ctx, cg, func(s *v1alpha1.ChatGroupSpec) { s.Name += "e" })
			if perr != nil {
				latencies[i] = -1
				return
			}
			var at time.Time
			waitUntil(ctx, r.cfg.Timeout, func() bool {
				var ok bool
				at, ok = r.track.readyTime(cg.Name, gen)
				return ok
			})
			latencies[i] = at.Sub(t0)
		})
		time.Sleep(20 * time.Millisecond) // edits arrive one by one, as users make them
	}
	wg.Wait()
	for _, l := range latencies {
		if l < 0 {
			return errors.New("an edit did not get Ready")
		}
	}
	res.EditP50, res.EditP95 = percentile(latencies, 50), percentile(latencies, 95)
	// The resync has reached every group once the vendor is quiet again.
	res.Resync = r.waitQuiet(ctx, mark).Sub(start)
	return nil
}

// patchSpec applies mutate to cg's spec and returns the new generation.
func (r *run) patchSpec(ctx context.Context, cg *v1alpha1.ChatGroup, mutate func(*v1alpha1.ChatGroupSpec)) (int64, error) {
	patch := client.MergeFrom(cg.DeepCopy())
	mutate(&cg.Spec)
	if err := r.c.Patch(ctx, cg, patch); err != nil {
		return 0, err
	}
	return cg.Generation, nil
}

// waitReady waits until every group's generation gen is Ready and returns when
// the last became so.
func (r *run) waitReady(ctx context.Context, groups []*v1alpha1.ChatGroup, gen int64) (time.Time, error) {
	gens := make([]int64, len(groups))
	for i := range gens {
		gens[i] = gen
	}
	next := time.Now().Add(10 * time.Second)
	if !waitUntil(ctx, r.cfg.Timeout, func() bool {
		if time.Now().After(next) {
			r.cfg.Logf("%s: %d of %d Ready", r.v.name, r.countReady(groups, gens), len(groups))
			next = time.Now().Add(10 * time.Second)
		}
		return r.allReady(groups, gens)
	}) {
		return time.Time{}, fmt.Errorf("%d of %d groups Ready after %s", r.countReady(groups, gens), len(groups), r.cfg.Timeout)
	}
	var last time.Time
	for _, cg := range groups {
		if at, _ := r.track.readyTime(cg.Name, gen); at.After(last) {
			last = at
		}
	}
	return last, nil
}

func (r *run) allReady(groups []*v1alpha1.ChatGroup, gens []int64) bool {
	return r.countReady(groups, gens) == len(groups)
}

func (r *run) countReady(groups []*v1alpha1.ChatGroup, gens []int64) int {
	n := 0
	for i, cg := range groups {
		if _, ok := r.track.readyTime(cg.Name, gens[i]); ok {
			n++
		}
	}
	return n
}

// perGroup counts calls as writes and reads per group.
func (r *run) perGroup(calls []vendorsim.Call, groups int) Calls {
	var out Calls
	for _, c := range calls {
		if r.sim.IsWrite(c.Op) {
			out.Writes++
		} else {
			out.Reads++
		}
	}
	out.Writes /= float64(groups)
	out.Reads /= float64(groups)
	return out
}

// parallel runs fn for every group on 16 goroutines and returns the first error.
func (r *run) parallel(ctx context.Context, groups []*v1alpha1.ChatGroup, fn func(*v1alpha1.ChatGroup) error) error {
	return r.parallelIndexed(ctx, len(groups), func(i int) error { return fn(groups[i]) })
}

func (r *run) parallelIndexed(ctx context.Context, n int, fn func(int) error) error {
	var next atomic.Int64
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				if err := fn(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return errors.Join(<-errs, ctx.Err())
}

// pick returns k groups chosen at random.
func pick(groups []*v1alpha1.ChatGroup, k int) []*v1alpha1.ChatGroup {
	idx := rand.Perm(len(groups))[:min(k, len(groups))]
	out := make([]*v1alpha1.ChatGroup, len(idx))
	for i, j := range idx {
		out[i] = groups[j]
	}
	return out
}
