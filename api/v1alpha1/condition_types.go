package v1alpha1

// Condition types. Ready has positive polarity; Reconciling and Stalled are the
// kstatus abnormal-true conditions, present only while they are True.
const (
	// ReadyCondition is True when the vendor's group matches the spec of the
	// generation in its observedGeneration (for a provider: its credentials resolve
	// and the vendor accepts them).
	ReadyCondition = "Ready"

	// ReconcilingCondition is True while the operator is working towards Ready,
	// including waits and retries after transient failures.
	ReconcilingCondition = "Reconciling"

	// MembersSyncedCondition is True when every listed member is in the group, and
	// False with reason AwaitingInvitees while members who can only join through an
	// invite link (WhatsApp) have not joined yet. Ready stays True meanwhile: the
	// operator has done all it can.
	MembersSyncedCondition = "MembersSynced"

	// MembersResolvedCondition is True when every person the spec names
	// (spec.ownerRef, spec.membersFrom) resolved to a vendor ID and the vendor knew
	// every member ID; False (UserNotFound, UnmappedUsers, UnknownToVendor) while
	// some are left out and listed in status.unresolvedUsers. Ready meanwhile says
	// whether the vendor matches everyone else. Present only on groups that name
	// people or had IDs rejected.
	MembersResolvedCondition = "MembersResolved"

	// StalledCondition is True when nothing will change until the user changes
	// something: an invalid spec, a vendor mismatch, a request the vendor rejected as
	// invalid, or a create that needs a human decision.
	StalledCondition = "Stalled"
)

// Condition reasons. Event reasons use the same strings.
const (
	// SucceededReason: the vendor group matches the spec (Ready=True).
	SucceededReason = "Succeeded"
	// ProgressingReason: work is under way (Reconciling=True).
	ProgressingReason = "Progressing"
	// ProgressingWithRetryReason: a transient failure will be retried (Reconciling=True).
	ProgressingWithRetryReason = "ProgressingWithRetry"
	// CreatedReason: the operator created the vendor group (event).
	CreatedReason = "Created"
	// AdoptedReason: the operator bound an existing vendor group (event).
	AdoptedReason = "Adopted"
	// UpdatedReason: the operator changed the vendor group's settings (event).
	UpdatedReason = "Updated"
	// MembersChangedReason: the operator added or removed members (event).
	MembersChangedReason = "MembersChanged"
	// OwnerTransferredReason: the operator transferred ownership (event).
	OwnerTransferredReason = "OwnerTransferred"
	// DeletedReason: the operator deleted the vendor group (event).
	DeletedReason = "Deleted"
	// OrphanedReason: the object went away and left the vendor group (event).
	OrphanedReason = "Orphaned"
	// RecoveredReason: Ready returned to True after a failure (event).
	RecoveredReason = "Recovered"

	// InvalidSpecReason: the spec cannot be applied; the message names the field (Stalled).
	InvalidSpecReason = "InvalidSpec"
	// VendorMismatchReason: spec.vendor differs from the provider's vendor (Stalled).
	VendorMismatchReason = "VendorMismatch"
	// ProviderNotFoundReason: the referenced ChatProvider or ClusterChatProvider does
	// not exist; retried, and retriggered when the provider appears.
	ProviderNotFoundReason = "ProviderNotFound"
	// CredentialsNotFoundReason: the provider's Secret or one of its keys is missing;
	// retried until it appears.
	CredentialsNotFoundReason = "CredentialsNotFound"
	// AuthenticationFailedReason: the vendor rejected the credentials; retried slowly.
	AuthenticationFailedReason = "AuthenticationFailed"
	// AccessDeniedReason: the vendor refused for want of a permission or visibility
	// granted in its console (the message names it); retried slowly.
	AccessDeniedReason = "AccessDenied"
	// GroupDisabledReason: the vendor holds the group in a state where it cannot
	// be used or changed (CAMS INACTIVE or SUSPENDED); the message says which.
	// Nothing in the spec changes it; the operator checks again slowly.
	GroupDisabledReason = "GroupDisabled"
	// RateLimitedReason: the vendor (or the operator's own limiter) throttled a call;
	// retried after the vendor's delay.
	RateLimitedReason = "RateLimited"
	// VendorUnavailableReason: the vendor failed transiently (5xx, network, timeout)
	// or answered with a code the operator does not know; retried with backoff.
	VendorUnavailableReason = "VendorUnavailable"
	// CreateIncompleteReason: an earlier create may or may not have reached the vendor
	// and the group could not be identified unambiguously (Stalled).
	CreateIncompleteReason = "CreateIncomplete"
	// QuotaExceededReason: a vendor quota that does not refill soon (e.g. a monthly
	// call quota) is exhausted (Stalled; checked again hourly).
	QuotaExceededReason = "QuotaExceeded"
	// GroupNotFoundReason: the bound vendor group no longer exists (Stalled).
	GroupNotFoundReason = "GroupNotFound"
	// DeleteFailedReason: deleting the vendor group failed; the finalizer stays.
	DeleteFailedReason = "DeleteFailed"
	// SuspendedReason: spec.suspend is true; no vendor calls are made.
	SuspendedReason = "Suspended"
	// CreatingReason: the vendor is still creating the group (WhatsApp), or an
	// interrupted create is looked up again until the vendor could show its
	// group; checked again shortly.
	CreatingReason = "Creating"
	// RecreatingReason (event): an interrupted create made no group the vendor
	// shows after its lookup grace period, so the group is created again.
	RecreatingReason = "Recreating"
	// ResolvedReason: every person and ID resolved (MembersResolved=True).
	ResolvedReason = "Resolved"
	// UserNotFoundReason: a ChatUser the spec names does not exist (MembersResolved=False).
	UserNotFoundReason = "UserNotFound"
	// UnmappedUsersReason: ChatUsers have no account for the group's vendor or
	// provider (MembersResolved=False).
	UnmappedUsersReason = "UnmappedUsers"
	// UnknownToVendorReason: the vendor rejected member IDs as unknown users; the
	// rest of the change was applied (MembersResolved=False).
	UnknownToVendorReason = "UnknownToVendor"
	// RemovalsHeldReason: the pass would remove more members than the removal guard
	// allows; everything else was applied and the removals wait for approval with
	// the annotation im.chatgroup.io/approve-removals (Stalled).
	RemovalsHeldReason = "RemovalsHeld"
	// DriftDetectedReason: with managementPolicy ObserveOnly, the vendor group differs
	// from the spec; status.drift says how (Ready=False, not Stalled).
	DriftDetectedReason = "DriftDetected"
	// InSyncReason: with managementPolicy ObserveOnly, the vendor group matches the spec
	// (Ready=True).
	InSyncReason = "InSync"
	// ProviderNotAllowedReason: the ClusterChatProvider's spec.allowedNamespaces does not
	// match the ChatGroup's namespace (Stalled; rechecked when labels change).
	ProviderNotAllowedReason = "ProviderNotAllowed"
	// GroupInUseReason: another ChatGroup already manages this vendor group (Stalled;
	// rechecked when that ChatGroup goes).
	GroupInUseReason = "GroupInUse"
	// AwaitingInviteesReason: listed members have not joined through the invite
	// link yet (MembersSynced=False).
	AwaitingInviteesReason = "AwaitingInvitees"
)

// Metadata keys.
const (
	// ChatGroupFinalizer keeps a ChatGroup until its deletionPolicy has been carried out.
	ChatGroupFinalizer = "im.chatgroup.io/finalizer"

	// GroupIDAnnotation holds the vendor's group ID. It is written right after a
	// create succeeds: unlike status, metadata survives backup and restore. Setting it
	// on a new object binds that object to an existing group.
	GroupIDAnnotation = "im.chatgroup.io/group-id"

	// CreatePendingAnnotation is written before a create call to a vendor that assigns
	// group IDs itself. Finding it without a group ID means an earlier create may have
	// succeeded without the operator learning the ID; the operator then looks the group
	// up instead of creating another. Removing it by hand tells the operator that no
	// group exists and a create may be retried. Its value names the operator
	// instance that began the create and when ("<instance>/<RFC 3339 time>"), so
	// another instance waits for that create rather than stall on an early lookup.
	CreatePendingAnnotation = "im.chatgroup.io/create-pending"

	// ReconcileRequestAnnotation requests an immediate drift check when its value
	// changes (e.g. `kubectl annotate --overwrite cg/x im.chatgroup.io/reconcile-requested-at="$(date +%s)"`).
	// The handled value is echoed in status.lastHandledReconcileAt.
	ReconcileRequestAnnotation = "im.chatgroup.io/reconcile-requested-at"

	// ApproveRemovalsAnnotation approves the removals the removal guard holds when
	// its value equals status.drift.removalToken. A token that no longer matches
	// the current removal set approves nothing.
	ApproveRemovalsAnnotation = "im.chatgroup.io/approve-removals"
)
