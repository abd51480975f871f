package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// sliceLabel puts a ChatUser into one group's selection; the leaver's value
// is "all", which every group's selector also takes.
const sliceLabel = "bench.chatgroup.io/slice"

// PeopleResult is one vendor's figures for groups built from people: N
// selector-based groups over Users ChatUsers, one of whom (the leaver) is in
// every group and is then deleted.
type PeopleResult struct {
	Vendor v1alpha1.Vendor `json:"vendor"`
	N      int             `json:"n"`
	// Users is the number of ChatUsers, the leaver included; M is the members
	// each group's selector resolves to (the leaver included, the owner not).
	Users int `json:"users"`
	M     int `json:"m"`
	// Wall is the time from the first group's create until all N were Ready.
	Wall time.Duration `json:"wallNanos"`
	// Memory after convergence.
	PeakRSS   uint64 `json:"peakRSSBytes"`
	RSS       uint64 `json:"rssBytes"`
	HeapInuse uint64 `json:"heapInuseBytes"`
	// Offboard is the time from deleting the leaver's ChatUser until no vendor
	// group holds them (read from the simulator, not from Ready). Floor is the
	// least time the vendor's rate limits allow for the writes that succeeded
	// meanwhile, on the busiest API (FloorAPI); Ratio is Offboard / Floor.
	Offboard time.Duration `json:"offboardNanos"`
	Floor    time.Duration `json:"offboardFloorNanos"`
	FloorAPI string        `json:"offboardFloorAPI"`
	Ratio    float64       `json:"offboardRatio"`
	// Calls are the offboarding's vendor calls per group.
	Calls     Calls   `json:"offboardCalls"`
	Throttled int     `json:"throttled"`
	Machine   Machine `json:"machine"`
	Workers   int     `json:"workers"`
}

// RunPeople benchmarks vendor name with groups built from people
// (BENCH_PEOPLE): cfg.N ChatUsers and cfg.N groups, each selecting up to
// cfg.M of them by label, and one person in every group who is then deleted.
func RunPeople(ctx context.Context, cfg Config, env Env, name v1alpha1.Vendor) (PeopleResult, error) {
	v, err := lookup(name)
	if err != nil {
		return PeopleResult{}, err
	}
	rc := rest.CopyConfig(env.Config)
	rc.QPS, rc.Burst = 2000, 4000
	c, err := client.NewWithWatch(rc, client.Options{Scheme: env.Scheme})
	if err != nil {
		return PeopleResult{}, err
	}
	sim := v.start()
	r := &run{cfg: cfg, env: env, v: v, sim: sim, m: sim.members(cfg.M), c: c,
		ns:  fmt.Sprintf("bench-people-%s-%d", strings.ToLower(string(name)), time.Now().Unix()),
		log: filepath.Join(cfg.WorkDir, fmt.Sprintf("manager-people-%s-n%d.log", strings.ToLower(string(name)), cfg.N))}
	defer func() {
		if r.mgr != nil {
			r.mgr.stop()
		}
	}()
	users := max(cfg.N, 2)
	// The directory holds the owner (0), the selected people (1..users-1)
	// and the leaver (users).
	sim.AddUsers(sim.users(0, users+1)...)
	res := PeopleResult{Vendor: name, N: cfg.N, Users: users, M: r.m, Machine: cfg.Machine, Workers: cfg.Workers}
	if err := r.setup(ctx, nil); err != nil {
		return res, err
	}
	nslices := max(1, (users-1+r.m-2)/max(r.m-1, 1))
	if err := r.createPeople(ctx, users, nslices); err != nil {
		return res, err
	}
	if err := r.convergePeople(ctx, &res, nslices); err != nil {
		return res, err
	}
	if err := r.offboard(ctx, &res, sim.User(users)); err != nil {
		return res, err
	}
	res.Throttled = countOutcome(r.sim.Core().Calls(), "throttled")
	return res, nil
}

// createPeople creates users-1 ChatUsers spread over nslices labels, and the
// leaver (label "all").
func (r *run) createPeople(ctx context.Context, users, nslices int) error {
	per := max(r.m-1, 1)
	r.cfg.Logf("%s: creating %d ChatUsers", r.v.name, users)
	return r.parallelIndexed(ctx, users, func(i int) error {
		j, slice := i+1, strconv.Itoa(i/per%nslices)
		if j == users {
			slice = "all"
		}
		cu := &v1alpha1.ChatUser{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("person-%05d", j), Namespace: r.ns, Labels: map[string]string{sliceLabel: slice}},
			Spec:       v1alpha1.ChatUserSpec{Accounts: []v1alpha1.ChatUserAccount{{Vendor: r.v.name, ID: r.sim.User(j)}}},
		}
		return r.c.Create(ctx, cu)
	})
}

// convergePeople applies N groups whose members all come from a selector
// (their slice and the leaver) and waits until all are Ready.
func (r *run) convergePeople(ctx context.Context, res *PeopleResult, nslices int) error {
	r.groups = make([]*v1alpha1.ChatGroup, r.cfg.N)
	for i := range r.groups {
		cg := r.sim.group(r.v.name, r.ns, i, 0)
		cg.Spec.Members = nil
		cg.Spec.MembersFrom = []v1alpha1.MembersSource{{Selector: &metav1.LabelSelector{
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: sliceLabel, Operator: metav1.LabelSelectorOpIn, Values: []string{strconv.Itoa(i % nslices), "all"}}},
		}}}
		r.groups[i] = cg
	}
	r.cfg.Logf("%s: applying %d selector-based ChatGroups", r.v.name, r.cfg.N)
	start := time.Now()
	if err := r.parallel(ctx, r.groups, func(cg *v1alpha1.ChatGroup) error { return r.c.Create(ctx, cg) }); err != nil {
		return err
	}
	last, err := r.waitReady(ctx, r.groups, 1)
	if err != nil {
		return err
	}
	res.Wall = last.Sub(start)
	mem, err := r.mgr.memory()
	res.PeakRSS, res.RSS, res.HeapInuse = mem.PeakRSS, mem.RSS, mem.HeapInuse
	r.cfg.Logf("%s: all %d Ready in %s; RSS %s (peak %s)", r.v.name, r.cfg.N, res.Wall.Round(time.Millisecond), mib(res.RSS), mib(res.PeakRSS))
	return err
}

// offboard deletes the leaver's ChatUser and waits until no vendor group
// holds leaver, as the simulator has them.
func (r *run) offboard(ctx context.Context, res *PeopleResult, leaver string) error {
	ids := make([]string, 0, len(r.groups))
	for _, cg := range r.groups {
		got := &v1alpha1.ChatGroup{}
		if err := r.c.Get(ctx, client.ObjectKeyFromObject(cg), got); err != nil {
			return err
		}
		if _, members, ok := r.sim.Lookup(got.Status.GroupID); ok && slices.Contains(members, leaver) {
			ids = append(ids, got.Status.GroupID)
		}
	}
	switch {
	case len(ids) == 0:
		// Members who join by themselves (WhatsApp's invite link) are never
		// put into a group by the operator, so there is no one to remove.
		r.cfg.Logf("%s: no group holds the leaver (members join by invitation): offboarding not measured", r.v.name)
		return nil
	case len(ids) < len(r.groups):
		return fmt.Errorf("only %d of %d groups hold the leaver before offboarding", len(ids), len(r.groups))
	}
	mark := r.sim.Core().Len()
	r.cfg.Logf("%s: deleting the ChatUser in all %d groups", r.v.name, len(ids))
	start := time.Now()
	leaverUser := &v1alpha1.ChatUser{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("person-%05d", res.Users), Namespace: r.ns}}
	if err := r.c.Delete(ctx, leaverUser); err != nil {
		return err
	}
	pending := slices.Clone(ids)
	next := time.Now().Add(10 * time.Second)
	if !waitUntil(ctx, r.cfg.Timeout, func() bool {
		pending = slices.DeleteFunc(pending, func(id string) bool {
			_, members, ok := r.sim.Lookup(id)
			return ok && !slices.Contains(members, leaver)
		})
		if time.Now().After(next) {
			r.cfg.Logf("%s: %d of %d groups still hold the leaver", r.v.name, len(pending), len(ids))
			next = time.Now().Add(10 * time.Second)
		}
		return len(pending) == 0
	}) {
		return fmt.Errorf("%d of %d groups still hold the leaver after %s", len(pending), len(ids), r.cfg.Timeout)
	}
	res.Offboard = time.Since(start)
	calls := r.sim.Core().Calls()[mark:]
	res.Floor, res.FloorAPI = floor(writes(calls, r.sim.IsWrite), r.v.limit)
	res.Ratio = res.Offboard.Seconds() / max(res.Floor.Seconds(), 1e-9)
	res.Calls = r.perGroup(calls, len(ids))
	r.cfg.Logf("%s: offboarded in %s (floor %s on %s)", r.v.name, res.Offboard.Round(time.Millisecond), res.Floor.Round(time.Millisecond), res.FloorAPI)
	if res.Floor == 0 {
		return errors.New("no removal call succeeded")
	}
	return nil
}

// writes returns the calls isWrite says change something.
func writes(calls []vendorsim.Call, isWrite func(string) bool) []vendorsim.Call {
	var out []vendorsim.Call
	for _, c := range calls {
		if isWrite(c.Op) {
			out = append(out, c)
		}
	}
	return out
}
