package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// maxUnresolvedListed caps status.unresolvedUsers (the CRD's MaxItems).
const maxUnresolvedListed = 50

// resolveMembers resolves obj's people from the cache and records who is left
// out (status.unresolvedUsers, MembersResolved). A groupRef cycle stalls; an
// ownerRef that does not resolve waits (no vendor call: the group is left as it
// is), and the ChatUser watch brings the group back when it changes.
func (r *ChatGroupReconciler) resolveMembers(ctx context.Context, obj *v1alpha1.ChatGroup) (people, error) {
	dir := &cacheDirectory{ctx: ctx, c: r.Client, ns: obj.Namespace}
	ppl, err := resolvePeople(obj, dir)
	if err == nil {
		err = dir.err
	}
	var cycle *cycleError
	if errors.As(err, &cycle) {
		return people{}, stalled(v1alpha1.InvalidSpecReason, "%s: a group cannot include itself; remove one of these groupRefs", cycle.Error())
	}
	if err != nil {
		return people{}, err
	}
	ppl.Rejected = previouslyRejected(obj.Status, obj.Generation, ppl.Members)
	ppl.Members = vendors.Difference(ppl.Members, ppl.Rejected)
	recordPeople(&obj.Status, obj.Generation, ppl, ppl.Rejected)
	if u := ppl.OwnerUnresolved; u != nil {
		return people{}, waiting(u.Reason, "spec.ownerRef: %s; the group is left as it is until the owner resolves", describeUnresolved(*u, obj.Spec.Vendor))
	}
	return ppl, nil
}

// recordPeople writes status.unresolvedUsers and the MembersResolved condition
// for ppl and the IDs the vendor rejected as unknown. Groups that name no people
// and had nothing rejected carry neither.
func recordPeople(st *v1alpha1.ChatGroupStatus, generation int64, ppl people, unknown []string) {
	var names []string
	for _, u := range ppl.Unresolved {
		names = append(names, u.Name)
	}
	names = append(names, unknown...)
	st.UnresolvedUsers = names[:min(len(names), maxUnresolvedListed)]
	if len(st.UnresolvedUsers) == 0 {
		st.UnresolvedUsers = nil
	}
	if !ppl.UsesPeople && len(unknown) == 0 {
		meta.RemoveStatusCondition(&st.Conditions, v1alpha1.MembersResolvedCondition)
		return
	}
	status, reason, msg := membersResolved(ppl, unknown)
	setCondition(&st.Conditions, generation, v1alpha1.MembersResolvedCondition, status, reason, msg)
}

// membersResolved summarizes who is left out: UserNotFound before
// UnmappedUsers before UnknownToVendor, the message naming every group.
func membersResolved(ppl people, unknown []string) (metav1.ConditionStatus, string, string) {
	byReason := map[string][]string{}
	for _, u := range ppl.Unresolved {
		byReason[u.Reason] = append(byReason[u.Reason], u.Name)
	}
	var parts []string
	reason := ""
	for _, rs := range []struct{ reason, what string }{
		{v1alpha1.UserNotFoundReason, "not found"},
		{v1alpha1.UnmappedUsersReason, "without an account for this group's vendor and provider"},
	} {
		if n := byReason[rs.reason]; len(n) > 0 {
			parts = append(parts, fmt.Sprintf("%d %s: %s", len(n), rs.what, listSome(n)))
			if reason == "" {
				reason = rs.reason
			}
		}
	}
	if len(unknown) > 0 {
		parts = append(parts, fmt.Sprintf("%d member IDs the vendor rejected as unknown users: %s", len(unknown), listSome(unknown)))
		if reason == "" {
			reason = v1alpha1.UnknownToVendorReason
		}
	}
	if reason == "" {
		return metav1.ConditionTrue, v1alpha1.ResolvedReason, "Every person named resolved to a vendor ID"
	}
	return metav1.ConditionFalse, reason, "Left out of the group (" + strings.Join(parts, "; ") + "); everyone else is applied"
}

// listSome joins up to ten names, saying how many more there are.
func listSome(names []string) string {
	if len(names) <= 10 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:10], ", "), len(names)-10)
}

// describeUnresolved says why one person is left out.
func describeUnresolved(u unresolved, v v1alpha1.Vendor) string {
	if u.Reason == v1alpha1.UserNotFoundReason {
		return fmt.Sprintf("ChatUser %s does not exist", u.Name)
	}
	return fmt.Sprintf("ChatUser %s has no %s account for this group's provider", u.Name, v)
}

// cacheDirectory serves resolvePeople from the manager's cache, one namespace.
// The first read error is kept in err (resolution then retries).
type cacheDirectory struct {
	ctx context.Context
	c   client.Reader
	ns  string
	err error
}

func (d *cacheDirectory) keep(err error) {
	if err != nil && d.err == nil {
		d.err = err
	}
}

func (d *cacheDirectory) user(name string) *v1alpha1.ChatUser {
	u := &v1alpha1.ChatUser{}
	if err := d.c.Get(d.ctx, client.ObjectKey{Namespace: d.ns, Name: name}, u); err != nil {
		d.keep(client.IgnoreNotFound(err))
		return nil
	}
	return u
}

func (d *cacheDirectory) selectUsers(sel labels.Selector) []*v1alpha1.ChatUser {
	list := &v1alpha1.ChatUserList{}
	if err := d.c.List(d.ctx, list, client.InNamespace(d.ns), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		d.keep(err)
		return nil
	}
	out := make([]*v1alpha1.ChatUser, len(list.Items))
	for i := range list.Items {
		out[i] = &list.Items[i]
	}
	return out
}

func (d *cacheDirectory) group(name string) *v1alpha1.ChatGroup {
	g := &v1alpha1.ChatGroup{}
	if err := d.c.Get(d.ctx, client.ObjectKey{Namespace: d.ns, Name: name}, g); err != nil {
		d.keep(client.IgnoreNotFound(err))
		return nil
	}
	return g
}
