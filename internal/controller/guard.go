package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// removalLimit is the limit in force for obj: its own spec.removalGuard, else
// its provider's, else DefaultMaxRemovals.
func removalLimit(obj *v1alpha1.ChatGroup, provider *v1alpha1.RemovalGuard) intstr.IntOrString {
	for _, g := range []*v1alpha1.RemovalGuard{obj.Spec.RemovalGuard, provider} {
		if g != nil && g.MaxRemovals != nil {
			return *g.MaxRemovals
		}
	}
	return intstr.FromString(v1alpha1.DefaultMaxRemovals)
}

// guardDecision is what the removal guard concluded for one pass.
type guardDecision struct {
	// Hold is true when the removals must wait for approval.
	Hold bool
	// Max is the limit as a number of members.
	Max int
	// Token identifies the removal set (set whenever the limit is exceeded).
	Token string
	// Stale is the approval annotation's value when the limit is exceeded and it
	// approves another set (or nothing known): it approves nothing.
	Stale string
}

// guardRemovals decides whether a pass may remove the members in remove from a
// group of current members: up to the limit it may; over it only when approval
// is exactly the set's token. A percentage is of current, rounded down and
// never below 1; a number is taken as it is (0 holds every removal).
func guardRemovals(remove []string, current int, limit intstr.IntOrString, approval string) guardDecision {
	d := guardDecision{Max: maxRemovals(limit, current)}
	if len(remove) <= d.Max {
		return d
	}
	d.Token = removalToken(remove)
	if approval == d.Token {
		return d
	}
	d.Hold = true
	if approval != "" {
		d.Stale = approval
	}
	return d
}

// maxRemovals is limit as a number of members for a group of current members.
func maxRemovals(limit intstr.IntOrString, current int) int {
	if limit.Type == intstr.Int {
		return max(0, limit.IntValue())
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(&limit, current, false)
	if err != nil { // admission allows only percentages; be strict otherwise
		return 0
	}
	return max(1, n)
}

// removalToken is a short hash of the sorted removal set: approving it approves
// exactly this set.
func removalToken(remove []string) string {
	sorted := slices.Sorted(slices.Values(remove))
	sum := sha256.Sum256([]byte(strings.Join(slices.Compact(sorted), "\n")))
	return "r-" + hex.EncodeToString(sum[:4])
}

// heldMessage says why removals are held and how to approve them.
func heldMessage(obj *v1alpha1.ChatGroup, d guardDecision, removals, current int, limit intstr.IntOrString) string {
	of := ""
	if limit.Type == intstr.String {
		of = fmt.Sprintf(" (%s of %d members)", limit.StrVal, current)
	}
	msg := fmt.Sprintf("Holding %d member removals: more than the removal limit of %d%s; everything else was applied. ", removals, d.Max, of)
	if d.Stale != "" {
		msg += fmt.Sprintf("The annotation %s=%s does not match the current removal set and approved nothing. ", v1alpha1.ApproveRemovalsAnnotation, d.Stale)
	}
	return msg + fmt.Sprintf("Review status.drift.remove, then approve exactly this set: kubectl annotate --overwrite chatgroup %s %s=%s",
		obj.Name, v1alpha1.ApproveRemovalsAnnotation, d.Token)
}

// withHeld returns want with the held members kept, so Update makes every
// change but their removal. Keeping a member as desired is how every vendor's
// own diff (an old owner included) leaves them in the group.
func withHeld(want vendors.GroupSpec, held []string) vendors.GroupSpec {
	want.Members = append(slices.Clip(want.Members), held...)
	return want
}

// driftOf is status.drift for a difference: lists sorted and capped at
// MaxDriftListed, counts exact; nil when there is no difference.
func driftOf(ch vendors.Changes, token string) *v1alpha1.Drift {
	if ch.Empty() {
		return nil
	}
	d := &v1alpha1.Drift{
		Fields:       slices.Compact(slices.Sorted(slices.Values(ch.Fields))),
		AddCount:     int32(len(ch.Add)),
		Add:          capped(ch.Add),
		RemoveCount:  int32(len(ch.Remove)),
		Remove:       capped(ch.Remove),
		RemovalToken: token,
	}
	var parts []string
	switch len(d.Fields) {
	case 0:
	case 1:
		parts = append(parts, d.Fields[0]+" differs")
	default:
		parts = append(parts, strings.Join(d.Fields, ", ")+" differ")
	}
	if d.AddCount > 0 {
		parts = append(parts, fmt.Sprintf("%d to add", d.AddCount))
	}
	if d.RemoveCount > 0 {
		parts = append(parts, fmt.Sprintf("%d to remove", d.RemoveCount))
	}
	d.Summary = strings.Join(parts, "; ")
	return d
}

// capped returns ids sorted, without duplicates, at most MaxDriftListed.
func capped(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	out := slices.Compact(slices.Sorted(slices.Values(ids)))
	return slices.Clip(out[:min(len(out), v1alpha1.MaxDriftListed)])
}
