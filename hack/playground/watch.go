package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/playground"
)

// errManagerExited is returned when the operator stops on its own.
var errManagerExited = errors.New("the manager exited")

// readyWithin is how long the sample groups may take to become Ready before the
// playground says something is wrong.
const readyWithin = time.Minute

// watcher prints what changes: the Ready state of every ChatGroup and provider,
// and every call the simulators log. It polls rather than watches: a few lists
// per second are nothing for a local API server, and polling needs no resync.
type watcher struct {
	c       client.Client
	sims    *playground.Simulators
	cursor  playground.CallCursor
	samples []string
	logPath string
	// tryThis is printed once every sample is Ready: kubectl commands to try.
	tryThis string

	start    time.Time
	seen     map[string]string // kind namespace/name -> last printed state
	allReady bool
}

func newWatcher(c client.Client, sims *playground.Simulators, samples []string, logPath string, start time.Time) *watcher {
	return &watcher{c: c, sims: sims, cursor: playground.CallCursor{}, samples: samples, logPath: logPath,
		start: start, seen: map[string]string{}}
}

// run polls until ctx ends (nil) or the manager exits (an error with its log).
func (w *watcher) run(ctx context.Context, mgr *playground.Manager) error {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	late := time.After(time.Until(w.start.Add(readyWithin)))
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-mgr.Done():
			return fmt.Errorf("%w (%v); its log ends with:\n%s", errManagerExited, mgr.Err(), playground.Tail(w.logPath, 20))
		case <-late:
			if !w.allReady {
				say("Not all sample groups are Ready after %s: see the Status column above, and the manager's log %s", readyWithin, w.logPath)
			}
		case <-tick.C:
			w.poll(ctx)
		}
	}
}

// poll prints new vendor calls, then changed objects.
func (w *watcher) poll(ctx context.Context) {
	for _, c := range w.sims.NewCalls(w.cursor) {
		w.line(c.At, fmt.Sprintf("%-9s call  %-28s %s", c.Vendor, c.Op, c.Outcome))
	}
	states, err := w.states(ctx)
	if err != nil {
		return // the API server is going away with us
	}
	for _, k := range slices.Sorted(maps.Keys(states)) {
		if w.seen[k] != states[k] {
			w.seen[k] = states[k]
			w.line(time.Now(), fmt.Sprintf("%s  %s", k, states[k]))
		}
	}
	for k := range w.seen {
		if _, ok := states[k]; !ok {
			delete(w.seen, k)
			w.line(time.Now(), k+"  deleted")
		}
	}
	if !w.allReady && w.samplesReady(ctx) {
		w.allReady = true
		say("All %d sample ChatGroups are Ready, %.1fs after they were applied.", len(w.samples), time.Since(w.start).Seconds())
		fmt.Print(w.tryThis)
	}
}

// states describes every ChatGroup and provider by its Ready condition.
func (w *watcher) states(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	groups := &v1alpha1.ChatGroupList{}
	if err := w.c.List(ctx, groups); err != nil {
		return nil, err
	}
	for _, g := range groups.Items {
		s := describe(g.Status.Conditions, g.Generation, g.DeletionTimestamp)
		if g.Status.GroupID != "" {
			s += fmt.Sprintf(" [generation %d, %d members]", g.Status.ObservedGeneration, g.Status.MemberCount)
		}
		out["ChatGroup "+g.Namespace+"/"+g.Name] = s
	}
	providers := &v1alpha1.ChatProviderList{}
	if err := w.c.List(ctx, providers); err != nil {
		return nil, err
	}
	for _, p := range providers.Items {
		out["ChatProvider "+p.Namespace+"/"+p.Name] = describe(p.Status.Conditions, p.Generation, p.DeletionTimestamp)
	}
	cluster := &v1alpha1.ClusterChatProviderList{}
	if err := w.c.List(ctx, cluster); err != nil {
		return nil, err
	}
	for _, p := range cluster.Items {
		out["ClusterChatProvider "+p.Name] = describe(p.Status.Conditions, p.Generation, p.DeletionTimestamp)
	}
	return out, nil
}

// describe sums an object up as its Ready condition, as `kubectl get` would.
func describe(conds []metav1.Condition, generation int64, deleting *metav1.Time) string {
	c := meta.FindStatusCondition(conds, v1alpha1.ReadyCondition)
	s := "Ready=? (not reconciled yet)"
	if c != nil {
		s = fmt.Sprintf("Ready=%s %s: %s", c.Status, c.Reason, c.Message)
		if c.ObservedGeneration != generation {
			s += fmt.Sprintf(" (generation %d not handled yet)", generation)
		}
	}
	if deleting != nil {
		s = "deleting; " + s
	}
	return s
}

// samplesReady reports whether every sample ChatGroup is Ready for its current
// generation.
func (w *watcher) samplesReady(ctx context.Context) bool {
	for _, key := range w.samples {
		ns, name, _ := strings.Cut(key, "/")
		g := &v1alpha1.ChatGroup{}
		if err := w.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, g); err != nil {
			return false
		}
		c := meta.FindStatusCondition(g.Status.Conditions, v1alpha1.ReadyCondition)
		if c == nil || c.Status != metav1.ConditionTrue || g.Status.ObservedGeneration != g.Generation {
			return false
		}
	}
	return true
}

// line prints one timestamped event, relative to when the samples were applied.
func (w *watcher) line(at time.Time, text string) {
	fmt.Printf("[%+6.1fs] %s\n", at.Sub(w.start).Seconds(), text)
}
