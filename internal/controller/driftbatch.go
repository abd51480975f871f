package controller

import (
	"context"
	"hash/fnv"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// DefaultDriftBatchWait is how long a periodic drift check waits for others of
// the same provider to share its batched read. Checks are spread over 10% of
// the sync interval, so at a 10-minute interval a 10-second wait gathers the
// checks of one sixth of the groups; a restart's resync fills batches at once.
const DefaultDriftBatchWait = 10 * time.Second

// driftBatches gathers the periodic drift checks of groups in sync into the
// vendor's batched reads (vendors.BatchObserver), per vendor client, so that a
// sweep of N unchanged groups costs about N/batch reads instead of N passes.
// A group a batch does not vouch for gets a pass of its own, which observes it
// individually and updates it.
type driftBatches struct {
	// wait is how long a batch stays open for more checks.
	wait time.Duration
	// timeout bounds one batched read, plus batchTimePerGroup per group.
	timeout time.Duration
	// events sends a group the batch did not vouch for to its own pass.
	events chan event.GenericEvent
	// slots bounds the batched reads in flight.
	slots chan struct{}

	mu      sync.Mutex
	open    map[vendors.BatchObserver]*driftBatch
	queued  map[types.NamespacedName]bool // in an open or running batch
	changed map[types.NamespacedName]bool // the next pass observes it on its own
	// resolved fingerprints the people each group named, as its last pass
	// resolved them (peopleHash).
	resolved map[types.NamespacedName]uint64
}

// batchTimePerGroup is added to a batched read's time limit per group: a
// vendor may still need a call per group (members its listing lacks), paced at
// its documented rate (CAMS: 10 a second), shared by the batches in flight, and
// a batch's calls yield to changes. A batch that runs out of time vouches for
// the groups it read; the rest are read one by one.
const batchTimePerGroup = 500 * time.Millisecond

type driftBatch struct {
	keys  []types.NamespacedName
	items []vendors.BatchItem
}

func newDriftBatches(wait, timeout time.Duration, inFlight int) *driftBatches {
	if wait <= 0 {
		wait = DefaultDriftBatchWait
	}
	return &driftBatches{
		wait: wait, timeout: timeout,
		events:   make(chan event.GenericEvent, 1024),
		slots:    make(chan struct{}, max(1, inFlight)),
		open:     map[vendors.BatchObserver]*driftBatch{},
		queued:   map[types.NamespacedName]bool{},
		changed:  map[types.NamespacedName]bool{},
		resolved: map[types.NamespacedName]uint64{},
	}
}

// sameResolution reports whether key's people resolve to the fingerprint h as
// in its previous pass, and remembers h for the next.
func (b *driftBatches) sameResolution(key types.NamespacedName, h uint64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	prev, ok := b.resolved[key]
	b.resolved[key] = h
	return ok && prev == h
}

// forget drops what is kept of key's group once its ChatGroup is gone.
func (b *driftBatches) forget(key types.NamespacedName) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.resolved, key)
	delete(b.changed, key)
}

// takeChanged reports whether a batch found key changed (or could not tell),
// and forgets it: that pass observes the group on its own.
func (b *driftBatches) takeChanged(key types.NamespacedName) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.changed[key]
	delete(b.changed, key)
	return c
}

// submit adds the drift check of key's group to bo's open batch, which is read
// when it is full or its wait is over. A group already waiting is not added twice.
func (b *driftBatches) submit(ctx context.Context, bo vendors.BatchObserver, key types.NamespacedName, item vendors.BatchItem) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.queued[key] {
		return
	}
	b.queued[key] = true
	cur := b.open[bo]
	if cur == nil {
		cur = &driftBatch{}
		b.open[bo] = cur
		time.AfterFunc(b.wait, func() { b.close(ctx, bo, cur) })
	}
	cur.keys = append(cur.keys, key)
	cur.items = append(cur.items, item)
	if len(cur.items) >= bo.BatchSize() {
		delete(b.open, bo)
		go b.read(ctx, bo, cur)
	}
}

// close reads batch cur unless it was read already because it filled up.
func (b *driftBatches) close(ctx context.Context, bo vendors.BatchObserver, cur *driftBatch) {
	b.mu.Lock()
	if b.open[bo] != cur {
		b.mu.Unlock()
		return
	}
	delete(b.open, bo)
	b.mu.Unlock()
	b.read(ctx, bo, cur)
}

// read makes the batched read, as background work (changes go first), and
// sends every group it does not vouch for to a pass of its own. A read that
// fails part-way vouches only for the groups it read before failing.
func (b *driftBatches) read(ctx context.Context, bo vendors.BatchObserver, cur *driftBatch) {
	b.slots <- struct{}{}
	defer func() { <-b.slots }()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.timeout+time.Duration(len(cur.items))*batchTimePerGroup)
	defer cancel()
	unchanged, err := bo.ObserveBatch(vendors.Background(rctx), cur.items)
	if err != nil {
		vouched := 0
		for _, ok := range unchanged {
			if ok {
				vouched++
			}
		}
		ctrl.LoggerFrom(ctx).Info("Batched drift check failed; checking the groups it did not vouch for one by one",
			"groups", len(cur.items), "vouched", vouched, "error", vendors.Sanitize(err.Error()))
	}
	var send []types.NamespacedName
	b.mu.Lock()
	for i, key := range cur.keys {
		delete(b.queued, key)
		if i >= len(unchanged) || !unchanged[i] {
			b.changed[key] = true
			send = append(send, key)
		}
	}
	b.mu.Unlock()
	for _, key := range send {
		b.events <- event.GenericEvent{Object: &v1alpha1.ChatGroup{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}}
	}
}

// peopleHash fingerprints the owner and members resolved from the people a
// group names.
func peopleHash(ppl people) uint64 {
	h := fnv.New64a()
	for _, list := range [][]string{{ppl.Owner}, ppl.Members, ppl.Rejected} {
		for _, id := range list {
			h.Write([]byte(id))
			h.Write([]byte{0})
		}
		h.Write([]byte{1})
	}
	return h.Sum64()
}

// sameResolution reports whether the people obj names resolved as in its
// previous pass (always true when it names none): a ChatUser change that
// alters the group's owner or members is an edit, applied at once, and not a
// drift check for a batched read.
func (r *ChatGroupReconciler) sameResolution(obj *v1alpha1.ChatGroup, ppl people) bool {
	if !ppl.UsesPeople {
		return true
	}
	if r.batches == nil {
		return false
	}
	return r.batches.sameResolution(types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name}, peopleHash(ppl))
}

// batched hands the periodic drift check of a group in sync (the caller knows)
// to its provider's
// batched read, when the vendor has one, and reports whether it did. The pass
// then ends without touching status; the group gets a pass of its own only if
// the batch does not vouch for it.
func (r *ChatGroupReconciler) batched(ctx context.Context, obj *v1alpha1.ChatGroup, gc vendors.GroupClient, want vendors.GroupSpec) bool {
	id := obj.Annotations[v1alpha1.GroupIDAnnotation]
	if r.batches == nil || id == "" || id != obj.Status.GroupID {
		return false
	}
	bo, ok := vendors.Optional[vendors.BatchObserver](gc)
	if !ok {
		return false
	}
	key := types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name}
	if r.batches.takeChanged(key) {
		return false
	}
	r.batches.submit(ctx, bo, key, vendors.BatchItem{ID: id, Want: want, MemberCount: int(obj.Status.MemberCount)})
	return true
}
