package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// ManagementPolicy says whether the operator may change the vendor group.
// +kubebuilder:validation:Enum=Full;ObserveOnly
type ManagementPolicy string

const (
	// Full makes the vendor group match the spec (subject to the removal guard).
	Full ManagementPolicy = "Full"
	// ObserveOnly makes no vendor writes at all: it reports the difference in
	// status.drift.
	ObserveOnly ManagementPolicy = "ObserveOnly"
)

// DefaultMaxRemovals is the removal limit when neither the group nor its
// provider sets one.
const DefaultMaxRemovals = "50%"

// MaxDriftListed caps status.drift.add and status.drift.remove; the counts stay exact.
const MaxDriftListed = 50

// RemovalGuard limits how many members one pass may remove without approval.
type RemovalGuard struct {
	// maxRemovals is the most members one pass may remove without approval: a
	// number (0 holds every removal) or a percentage of the group's current
	// member count on the vendor ("50%"), rounded down and never below 1. When
	// unset: the provider's spec.removalGuard.maxRemovals, else "50%". Removals
	// over the limit are held (Ready False, Stalled True, reason RemovalsHeld)
	// until the annotation im.chatgroup.io/approve-removals is set to
	// status.drift.removalToken; everything else in the change is applied.
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^(100|[1-9]?[0-9])%$')",message="spec.removalGuard.maxRemovals must be a non-negative integer or a percentage from 0% to 100%"
	MaxRemovals *intstr.IntOrString `json:"maxRemovals,omitempty"`
}

// AllowedNamespaces says whose ChatGroups may use a ClusterChatProvider.
type AllowedNamespaces struct {
	// selector matches the labels of the namespaces whose ChatGroups may use this
	// provider. A ChatGroup in any other namespace is Stalled with reason
	// ProviderNotAllowed and causes no vendor call. An empty selector matches
	// every namespace.
	// +required
	Selector metav1.LabelSelector `json:"selector"`
}

// Drift is what differs on the vendor and is not being changed: everything, with
// managementPolicy ObserveOnly; the held removals, when the removal guard holds
// them.
type Drift struct {
	// summary says what differs in one line, e.g. "name differs; 3 to add; 8 to remove".
	// +optional
	Summary string `json:"summary,omitempty"`

	// fields are the spec paths that differ, other than members (e.g. name,
	// managementOptions).
	// +optional
	// +listType=set
	Fields []string `json:"fields,omitempty"`

	// addCount is the number of members the spec lists that the group lacks.
	// +optional
	AddCount int32 `json:"addCount,omitempty"`

	// add are those members (at most 50 listed; addCount is exact).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=50
	Add []string `json:"add,omitempty"`

	// removeCount is the number of members the group has that the spec would remove.
	// +optional
	RemoveCount int32 `json:"removeCount,omitempty"`

	// remove are those members (at most 50 listed; removeCount is exact).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=50
	Remove []string `json:"remove,omitempty"`

	// removalToken identifies the held removal set (a short hash of the sorted
	// set); set when the removal guard holds removals. Approve exactly this set
	// with the annotation im.chatgroup.io/approve-removals: <removalToken>.
	// +optional
	RemovalToken string `json:"removalToken,omitempty"`
}
