package controller

import (
	"context"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

// cacheWaitTimeout bounds how long a pass waits for the cache to show its own
// status write. Past it the next pass may see the older status; that costs at
// most a repeated idempotent write, never a lost one.
const cacheWaitTimeout = 5 * time.Second

// awaitCache waits until the cached copy of obj is at least as new as rv, the
// resource version of this pass's status write. Status records what the
// operator wrote where the vendor cannot be read back (write-only fields, keys
// and members it set, approvals); a pass already queued for the object (the
// metadata patch of the same pass queued it) would otherwise read the cache
// before that write arrives and send the same change again.
func (r *ChatGroupReconciler) awaitCache(ctx context.Context, obj *v1alpha1.ChatGroup, rv string) {
	want, err := strconv.ParseUint(rv, 10, 64)
	if err != nil || r.Client == nil {
		return
	}
	key := client.ObjectKeyFromObject(obj)
	_ = wait.PollUntilContextTimeout(ctx, 5*time.Millisecond, cacheWaitTimeout, true, func(ctx context.Context) (bool, error) {
		cached := &v1alpha1.ChatGroup{}
		if err := r.Get(ctx, key, cached); err != nil {
			return true, nil // gone, or no cache to wait for
		}
		// Resource versions are opaque, but the API server's are etcd revisions:
		// a larger one is a later write. Anything unparsable ends the wait.
		got, err := strconv.ParseUint(cached.ResourceVersion, 10, 64)
		return err != nil || got >= want, nil
	})
}
