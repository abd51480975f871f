package controller

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// claimMargin is added to the vendor timeout to get how long another instance's
// create claim is honoured: its create call has ended by then and recording
// the group ID takes moments; the rest allows for clock skew between nodes.
const claimMargin = 10 * time.Second

// createClaim is the value of the create-pending annotation: which operator
// instance began a create, and when. Two instances that both reconcile an
// object (overlapping replicas with leader election off, or an old replica not
// yet gone) must not both create; the claim is written with an optimistic lock,
// so only one wins, and the other, when its lookup finds nothing it can adopt,
// waits for the winner to record the group ID instead of stalling.
type createClaim struct {
	instance string
	at       time.Time
}

// String formats the claim as "<instance>/<RFC 3339 time>".
func (c createClaim) String() string {
	return c.instance + "/" + c.at.UTC().Format(time.RFC3339Nano)
}

// parseClaim reads a create-pending value. A value in another form ("true"
// from older versions, or anything written by hand) is a claim of unknown
// origin and age: the zero claim, which nobody waits for.
func parseClaim(v string) createClaim {
	instance, at, ok := strings.Cut(v, "/")
	t, err := time.Parse(time.RFC3339Nano, at)
	if !ok || err != nil {
		return createClaim{}
	}
	return createClaim{instance: instance, at: t}
}

// newInstanceID names an operator process in its claims. It is random, not the
// pod name: a restarted container keeps its pod name, but its creates in flight
// died with the old process, so its claims must not read as its own.
func newInstanceID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// claim returns a new create claim by this reconciler.
func (r *ChatGroupReconciler) claim() createClaim {
	return createClaim{instance: r.Instance, at: r.clock()}
}

// stallUnlessClaimed returns stall, unless obj's create-pending claim was
// written by another instance recently enough that its create may still be
// under way: then the lookup that found nothing to adopt may simply have come
// too early, and it returns a waiting error that says so.
func (r *ChatGroupReconciler) stallUnlessClaimed(obj *v1alpha1.ChatGroup, stall error) error {
	c := parseClaim(obj.Annotations[v1alpha1.CreatePendingAnnotation])
	if c.at.IsZero() || c.instance == r.Instance {
		return stall // our own create has ended: passes of one object never overlap in a process
	}
	until := c.at.Add(r.vendorTimeout() + claimMargin)
	if !r.clock().Before(until) {
		return stall
	}
	return waiting(v1alpha1.CreatingReason,
		"Another instance of the operator (%s) began creating this group at %s; waiting until %s for it to record the group ID",
		c.instance, c.at.UTC().Format(time.RFC3339), until.UTC().Format(time.RFC3339))
}

// clock returns the time from Clock, or the real time when it is unset.
func (r *ChatGroupReconciler) clock() time.Time {
	if r.Clock != nil {
		return r.Clock.Now()
	}
	return time.Now()
}

// recreateAfter decides what a lookup that found nothing after an interrupted
// create means. The create may have been sent as late as the claim's time plus
// the vendor timeout (another instance's clock may be off by up to the claim
// margin), and the vendor's lookup may lag behind by findGrace: until then the
// group may exist without showing, so it waits. After that nothing was made:
// it drops the claim (nil: create again now) and says so in an event. A claim
// of unknown age ("true", or written by hand) has no deadline.
func (r *ChatGroupReconciler) recreateAfter(ctx context.Context, obj *v1alpha1.ChatGroup, want vendors.GroupSpec, findGrace time.Duration) error {
	c := parseClaim(obj.Annotations[v1alpha1.CreatePendingAnnotation])
	if until := r.recreateDeadline(c, findGrace); r.clock().Before(until) {
		who := "this instance of the operator"
		if c.instance != r.Instance {
			who = fmt.Sprintf("another instance of the operator (%s)", c.instance)
		}
		return waiting(v1alpha1.CreatingReason,
			"A create of %q begun by %s at %s may not have completed and %s shows no such group yet; looking again until %s, then creating it again",
			want.Name, who, c.at.UTC().Format(time.RFC3339), obj.Spec.Vendor, until.UTC().Format(time.RFC3339))
	}
	if err := r.patchMetadata(ctx, obj, func(o *v1alpha1.ChatGroup) {
		delete(o.Annotations, v1alpha1.CreatePendingAnnotation)
	}); err != nil {
		return err
	}
	r.Recorder.Eventf(obj, nil, "Normal", v1alpha1.RecreatingReason, "Create",
		"An earlier create of %q made no group that %s shows; creating it again", want.Name, obj.Spec.Vendor)
	return nil
}

// recreateDeadline is when a lookup that finds nothing for claim c proves its
// create made nothing: see recreateAfter.
func (r *ChatGroupReconciler) recreateDeadline(c createClaim, findGrace time.Duration) time.Time {
	if c.at.IsZero() {
		return time.Time{}
	}
	return c.at.Add(r.vendorTimeout() + claimMargin + findGrace)
}
