package bench

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

// tracker follows the ChatGroups of a namespace through a watch and notes when
// each generation first became Ready and when each reconcile request was
// handled, as seen from outside the operator.
type tracker struct {
	mu      sync.Mutex
	readyAt map[string]map[int64]time.Time // name -> generation -> first seen Ready
	handled map[string]string              // name -> status.lastHandledReconcileAt
	ready   map[string]bool                // name -> Ready now, for the current generation
	// writes counts the API-server writes to the namespace's ChatGroups after
	// their creates (watch MODIFIED events).
	writes int64
}

// track starts following namespace ns until ctx ends.
func track(ctx context.Context, c client.WithWatch, ns string) (*tracker, error) {
	t := &tracker{readyAt: map[string]map[int64]time.Time{}, handled: map[string]string{}, ready: map[string]bool{}}
	list := &v1alpha1.ChatGroupList{}
	if err := c.List(ctx, list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	for i := range list.Items {
		t.note(&list.Items[i])
	}
	go t.follow(ctx, c, ns, list.ResourceVersion)
	return t, nil
}

// follow watches from resourceVersion rv, starting over when the API server
// ends the watch.
func (t *tracker) follow(ctx context.Context, c client.WithWatch, ns, rv string) {
	for ctx.Err() == nil {
		w, err := c.Watch(ctx, &v1alpha1.ChatGroupList{}, client.InNamespace(ns), &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true}})
		if err != nil {
			time.Sleep(time.Second)
			rv = "" // start from the current state
			continue
		}
		for ev := range w.ResultChan() {
			cg, ok := ev.Object.(*v1alpha1.ChatGroup)
			if !ok {
				continue
			}
			rv = cg.ResourceVersion
			if ev.Type == watch.Added || ev.Type == watch.Modified {
				t.note(cg)
			}
			if ev.Type == watch.Modified {
				t.mu.Lock()
				t.writes++
				t.mu.Unlock()
			}
		}
		w.Stop()
	}
}

// note records what cg shows.
func (t *tracker) note(cg *v1alpha1.ChatGroup) {
	now := time.Now()
	c := meta.FindStatusCondition(cg.Status.Conditions, v1alpha1.ReadyCondition)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.handled[cg.Name] = cg.Status.LastHandledReconcileAt
	t.ready[cg.Name] = c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == cg.Generation
	if !t.ready[cg.Name] {
		return
	}
	gens := t.readyAt[cg.Name]
	if gens == nil {
		gens = map[int64]time.Time{}
		t.readyAt[cg.Name] = gens
	}
	if _, seen := gens[cg.Generation]; !seen {
		gens[cg.Generation] = now
	}
}

// modified returns the writes to ChatGroups seen so far, creates not counted.
func (t *tracker) modified() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.writes
}

// readyTime returns when generation gen of name was first seen Ready.
func (t *tracker) readyTime(name string, gen int64) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	at, ok := t.readyAt[name][gen]
	return at, ok
}

// handledReady reports whether name's last pass handled reconcile request at
// and ended Ready: a pass records the request whatever its outcome, so a
// throttled one is followed by retries.
func (t *tracker) handledReady(name, at string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.handled[name] == at && t.ready[name]
}

// waitUntil polls done until it is true or timeout passes.
func waitUntil(ctx context.Context, timeout time.Duration, done func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !done() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}
