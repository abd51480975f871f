package controller

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

// directory is what resolution reads: the ChatUsers and ChatGroups of one
// namespace. The controller serves it from the cache; tests from tables.
type directory interface {
	// user returns the ChatUser named name, or nil.
	user(name string) *v1alpha1.ChatUser
	// selectUsers returns the ChatUsers whose labels match sel.
	selectUsers(sel labels.Selector) []*v1alpha1.ChatUser
	// group returns the ChatGroup named name, or nil.
	group(name string) *v1alpha1.ChatGroup
}

// unresolved is a person (or group) named by the spec and left out, and why:
// UserNotFound or UnmappedUsers.
type unresolved struct {
	Name   string
	Reason string
}

// people is a group's desired owner and members, resolved from its spec: the
// input of the vendor diff (and of any guard on top of it).
type people struct {
	// Owner is spec.owner, or the ownerRef's account ("" when neither resolves).
	Owner string
	// OwnerUnresolved is set when spec.ownerRef names someone who cannot be resolved.
	OwnerUnresolved *unresolved
	// Members are spec.members followed by the resolved people's IDs (sorted),
	// without duplicates; a resolved ID equal to the owner is left out, since
	// the owner is always a member.
	Members []string
	// Unresolved are the people (and referenced groups) left out, sorted by name.
	Unresolved []unresolved
	// UsesPeople is true when the spec names people at all (ownerRef, membersFrom).
	UsesPeople bool
	// Rejected are member IDs the vendor rejected as unknown users in an
	// earlier pass of this generation, left out of Members.
	Rejected []string
}

// cycleError is a groupRef cycle: an invalid spec.
type cycleError struct{ path []string }

func (e *cycleError) Error() string {
	return fmt.Sprintf("spec.membersFrom: groupRef cycle %s", strings.Join(e.path, " -> "))
}

// resolvePeople turns obj's owner, members and membersFrom into vendor IDs for
// obj's vendor and provider. A person's account for obj's provider beats their
// vendor-wide one. People who do not exist or have no such account are left out
// and reported; a groupRef cycle is an error naming it. It makes no API call
// beyond dir.
func resolvePeople(obj *v1alpha1.ChatGroup, dir directory) (people, error) {
	s := obj.Spec
	p := people{Owner: s.Owner, UsesPeople: s.OwnerRef != nil || len(s.MembersFrom) > 0}
	if !p.UsesPeople {
		p.Members = s.Members
		return p, nil
	}
	names := map[string]bool{}
	missingGroups := map[string]bool{}
	if err := collectPeople(obj, dir, []string{obj.Name}, names, missingGroups, map[string]bool{}); err != nil {
		return people{}, err
	}
	notFound, unmapped := map[string]bool{}, map[string]bool{}
	resolved := map[string]bool{}
	idOf := func(name string) (string, *unresolved) {
		u := dir.user(name)
		if u == nil {
			return "", &unresolved{Name: name, Reason: v1alpha1.UserNotFoundReason}
		}
		id, ok := u.Spec.AccountFor(s.Vendor, s.ProviderRef)
		if !ok {
			return "", &unresolved{Name: name, Reason: v1alpha1.UnmappedUsersReason}
		}
		return id, nil
	}
	if s.OwnerRef != nil {
		id, un := idOf(s.OwnerRef.Name)
		if un != nil {
			p.OwnerUnresolved = un
			p.Unresolved = append(p.Unresolved, *un)
		}
		p.Owner = id
	}
	for name := range names {
		id, un := idOf(name)
		switch {
		case un != nil && un.Reason == v1alpha1.UserNotFoundReason:
			notFound[name] = true
		case un != nil:
			unmapped[name] = true
		case id != p.Owner:
			resolved[id] = true
		}
	}
	for name := range notFound {
		p.Unresolved = append(p.Unresolved, unresolved{Name: name, Reason: v1alpha1.UserNotFoundReason})
	}
	for name := range unmapped {
		p.Unresolved = append(p.Unresolved, unresolved{Name: name, Reason: v1alpha1.UnmappedUsersReason})
	}
	for name := range missingGroups {
		p.Unresolved = append(p.Unresolved, unresolved{Name: "chatgroup/" + name, Reason: v1alpha1.UserNotFoundReason})
	}
	p.Unresolved = dedupeUnresolved(p.Unresolved)
	p.Members = slices.Clone(s.Members)
	for _, m := range s.Members {
		delete(resolved, m)
	}
	p.Members = append(p.Members, sortedKeys(resolved)...)
	return p, nil
}

// collectPeople adds the names of the people g's membersFrom names (and, for a
// referenced group, its ownerRef) to names, following groupRefs depth first.
// path is the chain of groups from the resolved group to g, for cycles.
func collectPeople(g *v1alpha1.ChatGroup, dir directory, path []string, names, missingGroups, done map[string]bool) error {
	if len(path) > 1 && g.Spec.OwnerRef != nil {
		names[g.Spec.OwnerRef.Name] = true
	}
	for _, src := range g.Spec.MembersFrom {
		switch {
		case src.UserRef != nil:
			names[src.UserRef.Name] = true
		case src.Selector != nil:
			sel, err := metav1.LabelSelectorAsSelector(src.Selector)
			if err != nil {
				return stalled(v1alpha1.InvalidSpecReason, "spec.membersFrom selector of ChatGroup %s: %v", g.Name, err)
			}
			for _, u := range dir.selectUsers(sel) {
				names[u.Name] = true
			}
		case src.GroupRef != nil:
			name := src.GroupRef.Name
			if i := slices.Index(path, name); i >= 0 {
				return &cycleError{path: append(slices.Clone(path[i:]), name)}
			}
			if done[name] {
				continue
			}
			ref := dir.group(name)
			if ref == nil {
				missingGroups[name] = true
				continue
			}
			if err := collectPeople(ref, dir, append(path, name), names, missingGroups, done); err != nil {
				return err
			}
			done[name] = true
		}
	}
	return nil
}

// dedupeUnresolved sorts by name and keeps the first reason of each name.
func dedupeUnresolved(us []unresolved) []unresolved {
	slices.SortStableFunc(us, func(a, b unresolved) int { return strings.Compare(a.Name, b.Name) })
	return slices.CompactFunc(us, func(a, b unresolved) bool { return a.Name == b.Name })
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
