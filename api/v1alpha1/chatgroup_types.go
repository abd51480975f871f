package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ProviderKind is the kind of provider a ChatGroup refers to.
// +kubebuilder:validation:Enum=ChatProvider;ClusterChatProvider
type ProviderKind string

const (
	// ChatProviderKind refers to a ChatProvider in the ChatGroup's namespace.
	ChatProviderKind ProviderKind = "ChatProvider"
	// ClusterChatProviderKind refers to a ClusterChatProvider.
	ClusterChatProviderKind ProviderKind = "ClusterChatProvider"
)

// ProviderReference names the provider whose account manages a group.
type ProviderReference struct {
	// kind is ChatProvider (same namespace) or ClusterChatProvider.
	// +optional
	// +kubebuilder:default=ChatProvider
	Kind ProviderKind `json:"kind,omitempty"`

	// name of the provider.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// MemberPolicy says what the operator does with members the spec does not list.
// +kubebuilder:validation:Enum=Authoritative;Additive
type MemberPolicy string

const (
	// Authoritative removes every member the spec does not list, except the owner.
	Authoritative MemberPolicy = "Authoritative"
	// Additive only adds; it removes only members the operator itself added.
	Additive MemberPolicy = "Additive"
)

// DeletionPolicy says what happens to the vendor group when the ChatGroup is deleted.
// +kubebuilder:validation:Enum=Orphan;Delete
type DeletionPolicy string

const (
	// Orphan leaves the vendor group as it is.
	Orphan DeletionPolicy = "Orphan"
	// Delete deletes (dismisses) the vendor group.
	Delete DeletionPolicy = "Delete"
)

// Audience says who may do something in a group.
// +kubebuilder:validation:Enum=Everyone;OwnerOnly
type Audience string

const (
	// Everyone: every member.
	Everyone Audience = "Everyone"
	// OwnerOnly: the owner only.
	OwnerOnly Audience = "OwnerOnly"
)

// JoinPolicy says how people join a group.
// +kubebuilder:validation:Enum=Open;ApprovalRequired;Closed
type JoinPolicy string

const (
	// Open: anyone may join.
	Open JoinPolicy = "Open"
	// ApprovalRequired: joining needs approval.
	ApprovalRequired JoinPolicy = "ApprovalRequired"
	// Closed: nobody may join by themselves.
	Closed JoinPolicy = "Closed"
)

// ManagementOptions are a group's settings. Each unset option is left as the vendor has it.
type ManagementOptions struct {
	// mentionAll says who may @mention everyone. DingTalk and Feishu
	// (at_all_permission).
	// +optional
	MentionAll Audience `json:"mentionAll,omitempty"`

	// showHistoryToNewMembers lets new members see recent messages. DingTalk only.
	// +optional
	ShowHistoryToNewMembers *bool `json:"showHistoryToNewMembers,omitempty"`

	// joinPolicy says how people join. DingTalk (Open, ApprovalRequired),
	// TencentIM (ApplyJoinOption: Open, ApprovalRequired, Closed) and Feishu
	// (membership_approval: Open, ApprovalRequired).
	// +optional
	JoinPolicy JoinPolicy `json:"joinPolicy,omitempty"`

	// searchable lets people find the group by search. DingTalk only.
	// +optional
	Searchable *bool `json:"searchable,omitempty"`

	// muteAll mutes everyone but the owner and admins. DingTalk and TencentIM.
	// +optional
	MuteAll *bool `json:"muteAll,omitempty"`

	// managedBy says who may change the group's settings. DingTalk and Feishu
	// (edit_permission: who may edit the name, avatar and description).
	// +optional
	ManagedBy Audience `json:"managedBy,omitempty"`
}

// DingTalkOwnerType is the kind of DingTalk account that owns a group.
// +kubebuilder:validation:Enum=Employee;External
type DingTalkOwnerType string

// DingTalkConversationType is the kind of DingTalk group.
// +kubebuilder:validation:Enum=Internal;Standard
type DingTalkConversationType string

// DingTalkGroupKind is the DingTalk API family a group is made with.
// +kubebuilder:validation:Enum=Regular;Scene
type DingTalkGroupKind string

// DingTalk group kinds.
const (
	// DingTalkRegular groups are made with /v1.0/im/group/create: no dedupe and no
	// dismiss API.
	DingTalkRegular DingTalkGroupKind = "Regular"
	// DingTalkScene groups are made from the provider's scene-group template with
	// /v1.0/im/sceneGroup/create: created exactly once (uuid) and dismissable.
	DingTalkScene DingTalkGroupKind = "Scene"
)

// DingTalkGroup holds DingTalk-only group settings.
type DingTalkGroup struct {
	// groupKind is Regular (the default; /v1.0/im/group/*) or Scene (a scene group
	// made from the provider's spec.dingtalk.sceneGroupTemplateID, created exactly
	// once through the vendor's uuid dedupe, and the only kind deletionPolicy
	// Delete may dismiss; title up to 30 characters). Immutable.
	// +optional
	// +kubebuilder:default=Regular
	GroupKind DingTalkGroupKind `json:"groupKind,omitempty"`

	// ownerType is the kind of account spec.owner is: Employee (a staff userId) or
	// External (an external contact's unionId, which joins through the external
	// contact lists like externalMembers; the group then needs at least one
	// employee in spec.members).
	// +optional
	// +kubebuilder:default=Employee
	OwnerType DingTalkOwnerType `json:"ownerType,omitempty"`

	// externalMembers are external contacts (unionIds) in the group (extidlist).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=1000
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=128
	ExternalMembers []string `json:"externalMembers,omitempty"`

	// conversationType is Internal (staff only, the default) or Standard (may
	// include external contacts; needs the vendor's allow-list). Immutable.
	// +optional
	// +kubebuilder:default=Internal
	ConversationType DingTalkConversationType `json:"conversationType,omitempty"`
}

// TencentIMGroupType is a Tencent Cloud IM group type.
// +kubebuilder:validation:Enum=Private;Public;ChatRoom;AVChatRoom;Community
type TencentIMGroupType string

// TencentIMGroup holds Tencent Cloud IM-only group settings.
// +kubebuilder:validation:XValidation:rule="!has(self.groupID) || (self.groupType == 'Community' ? self.groupID.startsWith('@TGS#_') : !self.groupID.startsWith('@TGS#'))",message="spec.tencentIM.groupID must start with @TGS#_ for Community groups and must not start with @TGS# otherwise",fieldPath=".groupID"
type TencentIMGroup struct {
	// groupType is the Tencent IM group type: Private (Work), Public, ChatRoom
	// (Meeting), AVChatRoom or Community. Immutable.
	// +optional
	// +kubebuilder:default=Private
	GroupType TencentIMGroupType `json:"groupType,omitempty"`

	// groupID is a custom GroupId (printable ASCII, at most 48 bytes). Empty means
	// one derived from the ChatGroup's UID, which makes creation idempotent. Immutable.
	// +optional
	// +kubebuilder:validation:Pattern=`^[!-~]{1,48}$`
	GroupID string `json:"groupID,omitempty"`

	// maxMembers is the group's member limit (MaxMemberNum).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100000
	MaxMembers *int32 `json:"maxMembers,omitempty"`

	// inviteJoinPolicy says how members may invite others (InviteJoinOption).
	// +optional
	InviteJoinPolicy JoinPolicy `json:"inviteJoinPolicy,omitempty"`

	// appDefinedData are the group's custom fields. A key removed from this map is
	// deleted on the vendor when the operator set it (listed in
	// status.tencentIM.appDefinedDataKeys); keys other systems write are left
	// alone. Keys must be enabled in the IM console first.
	// +optional
	// +kubebuilder:validation:MaxProperties=16
	AppDefinedData map[string]string `json:"appDefinedData,omitempty"`
}

// ChatUserReference names a ChatUser in the referrer's namespace.
type ChatUserReference struct {
	// name of the ChatUser.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// ChatGroupReference names a ChatGroup in the referrer's namespace.
type ChatGroupReference struct {
	// name of the ChatGroup.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// MembersSource is one source of people for a group: exactly one of userRef,
// selector and groupRef.
// +kubebuilder:validation:XValidation:rule="(has(self.userRef) ? 1 : 0) + (has(self.selector) ? 1 : 0) + (has(self.groupRef) ? 1 : 0) == 1",message="spec.membersFrom[] must set exactly one of userRef, selector and groupRef"
type MembersSource struct {
	// userRef names one ChatUser in this namespace.
	// +optional
	UserRef *ChatUserReference `json:"userRef,omitempty"`

	// selector selects every ChatUser in this namespace whose labels match. An
	// empty selector selects every ChatUser in the namespace.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`

	// groupRef takes the people of another ChatGroup in this namespace: its
	// ownerRef and membersFrom, recursively (not its literal members or owner). A
	// cycle of groupRefs is an invalid spec.
	// +optional
	GroupRef *ChatGroupReference `json:"groupRef,omitempty"`
}

// FeishuChatType is a Feishu chat's visibility.
// +kubebuilder:validation:Enum=Private;Public
type FeishuChatType string

// FeishuGroup holds Feishu / Lark-only group settings.
type FeishuGroup struct {
	// chatType is Private (only members find the chat; the vendor's default) or
	// Public (anyone in the tenant can search for and join it; its name needs at
	// least 2 characters). Unset leaves the vendor's value.
	// +optional
	ChatType FeishuChatType `json:"chatType,omitempty"`

	// addMembers says who may add members and share the chat's card: Everyone
	// (add_member_permission all_members, share_card_permission allowed) or
	// OwnerOnly (only_owner, not_allowed); Feishu requires the two together.
	// Unset leaves the vendor's values.
	// +optional
	AddMembers Audience `json:"addMembers,omitempty"`
}

// ChatGroupSpec is the desired state of a vendor chat group.
// +kubebuilder:validation:XValidation:rule="self.vendor != 'DingTalk' || size(self.name) <= (has(self.dingtalk) && has(self.dingtalk.groupKind) && self.dingtalk.groupKind == 'Scene' ? 30 : 20)",message="spec.name must be 1-20 characters for DingTalk (1-30 for scene groups)",fieldPath=".name"
// +kubebuilder:validation:XValidation:rule="self.vendor != 'TencentIM' || size(bytes(self.name)) <= 30",message="spec.name must be at most 30 bytes (UTF-8) for TencentIM",fieldPath=".name"
// +kubebuilder:validation:XValidation:rule="self.vendor != 'DingTalk' || has(self.owner) || has(self.ownerRef)",message="spec.owner or spec.ownerRef is required for DingTalk",fieldPath=".owner"
// +kubebuilder:validation:XValidation:rule="self.vendor != 'WhatsApp' || !has(self.owner)",message="spec.owner is not allowed for WhatsApp: the business number administers the group",fieldPath=".owner"
// +kubebuilder:validation:XValidation:rule="self.vendor != 'WhatsApp' || !has(self.ownerRef)",message="spec.ownerRef is not allowed for WhatsApp: the business number administers the group",fieldPath=".ownerRef"
// +kubebuilder:validation:XValidation:rule="!(has(self.owner) && has(self.ownerRef))",message="spec.owner and spec.ownerRef are mutually exclusive: name the owner once",fieldPath=".ownerRef"
// +kubebuilder:validation:XValidation:rule="self.vendor != 'WhatsApp' || !has(self.members) || size(self.members) <= 8",message="spec.members may list at most 8 phone numbers for WhatsApp",fieldPath=".members"
// +kubebuilder:validation:XValidation:rule="self.vendor != 'WhatsApp' || !has(self.members) || self.members.all(m, m.matches('^[+]?[1-9][0-9]{6,14}$'))",message="spec.members must be E.164 phone numbers for WhatsApp",fieldPath=".members"
// +kubebuilder:validation:XValidation:rule="!has(self.description) || self.vendor != 'DingTalk'",message="spec.description is not supported by DingTalk",fieldPath=".description"
// +kubebuilder:validation:XValidation:rule="self.vendor != 'TencentIM' || !has(self.description) || size(bytes(self.description)) <= 240",message="spec.description must be at most 240 bytes (UTF-8) for TencentIM",fieldPath=".description"
// +kubebuilder:validation:XValidation:rule="!has(self.announcement) || self.vendor == 'TencentIM'",message="spec.announcement is only supported by TencentIM",fieldPath=".announcement"
// +kubebuilder:validation:XValidation:rule="!has(self.announcement) || size(bytes(self.announcement)) <= 300",message="spec.announcement must be at most 300 bytes (UTF-8) for TencentIM",fieldPath=".announcement"
// +kubebuilder:validation:XValidation:rule="self.vendor != 'TencentIM' || !has(self.icon) || size(bytes(self.icon)) <= 100",message="spec.icon must be at most 100 bytes for TencentIM",fieldPath=".icon"
// +kubebuilder:validation:XValidation:rule="!has(self.managementOptions) || self.vendor != 'WhatsApp'",message="spec.managementOptions is not supported by WhatsApp",fieldPath=".managementOptions"
// +kubebuilder:validation:XValidation:rule="self.vendor != 'TencentIM' || !has(self.managementOptions) || !(has(self.managementOptions.mentionAll) || has(self.managementOptions.showHistoryToNewMembers) || has(self.managementOptions.searchable) || has(self.managementOptions.managedBy))",message="spec.managementOptions supports only joinPolicy and muteAll for TencentIM",fieldPath=".managementOptions"
// +kubebuilder:validation:XValidation:rule="self.vendor != 'DingTalk' || !has(self.managementOptions) || !has(self.managementOptions.joinPolicy) || self.managementOptions.joinPolicy != 'Closed'",message="spec.managementOptions.joinPolicy Closed is not supported by DingTalk",fieldPath=".managementOptions.joinPolicy"
// +kubebuilder:validation:XValidation:rule="!has(self.dingtalk) || self.vendor == 'DingTalk'",message="spec.dingtalk is only allowed when spec.vendor is DingTalk",fieldPath=".dingtalk"
// +kubebuilder:validation:XValidation:rule="!has(self.tencentIM) || self.vendor == 'TencentIM'",message="spec.tencentIM is only allowed when spec.vendor is TencentIM",fieldPath=".tencentIM"
// +kubebuilder:validation:XValidation:rule="self.vendor != 'TencentIM' || !has(self.tencentIM) || self.tencentIM.groupType != 'AVChatRoom' || !has(self.members) || size(self.members) == 0",message="spec.members must be empty for TencentIM AVChatRoom groups, which keep no member list",fieldPath=".members"
// +kubebuilder:validation:XValidation:rule="self.vendor != 'TencentIM' || !has(self.tencentIM) || self.tencentIM.groupType != 'AVChatRoom' || !has(self.membersFrom) || size(self.membersFrom) == 0",message="spec.membersFrom must be empty for TencentIM AVChatRoom groups, which keep no member list",fieldPath=".membersFrom"
// +kubebuilder:validation:XValidation:rule="self.vendor != 'DingTalk' || !has(self.deletionPolicy) || self.deletionPolicy != 'Delete' || (has(self.dingtalk) && has(self.dingtalk.groupKind) && self.dingtalk.groupKind == 'Scene')",message="spec.deletionPolicy Delete is supported on DingTalk only for scene groups (spec.dingtalk.groupKind Scene): regular groups cannot be dismissed through its API",fieldPath=".deletionPolicy"
// +kubebuilder:validation:XValidation:rule="(has(self.dingtalk) && has(self.dingtalk.groupKind) ? self.dingtalk.groupKind : 'Regular') == (has(oldSelf.dingtalk) && has(oldSelf.dingtalk.groupKind) ? oldSelf.dingtalk.groupKind : 'Regular')",message="spec.dingtalk.groupKind is immutable",fieldPath=".dingtalk.groupKind"
// +kubebuilder:validation:XValidation:rule="(has(self.dingtalk) && has(self.dingtalk.conversationType) ? self.dingtalk.conversationType : 'Internal') == (has(oldSelf.dingtalk) && has(oldSelf.dingtalk.conversationType) ? oldSelf.dingtalk.conversationType : 'Internal')",message="spec.dingtalk.conversationType is immutable",fieldPath=".dingtalk.conversationType"
// +kubebuilder:validation:XValidation:rule="(has(self.tencentIM) && has(self.tencentIM.groupType) ? self.tencentIM.groupType : 'Private') == (has(oldSelf.tencentIM) && has(oldSelf.tencentIM.groupType) ? oldSelf.tencentIM.groupType : 'Private')",message="spec.tencentIM.groupType is immutable",fieldPath=".tencentIM.groupType"
// +kubebuilder:validation:XValidation:rule="has(self.tencentIM) && has(self.tencentIM.groupID) ? (has(oldSelf.tencentIM) && has(oldSelf.tencentIM.groupID) && self.tencentIM.groupID == oldSelf.tencentIM.groupID) : !(has(oldSelf.tencentIM) && has(oldSelf.tencentIM.groupID))",message="spec.tencentIM.groupID is immutable",fieldPath=".tencentIM.groupID"
// +kubebuilder:validation:XValidation:rule="self.vendor != 'Feishu' || size(self.name) <= 60",message="spec.name must be at most 60 characters for Feishu",fieldPath=".name"
// +kubebuilder:validation:XValidation:rule="self.vendor != 'Feishu' || !has(self.feishu) || !has(self.feishu.chatType) || self.feishu.chatType != 'Public' || size(self.name) >= 2",message="spec.name must be at least 2 characters for a Feishu Public chat",fieldPath=".name"
// +kubebuilder:validation:XValidation:rule="self.vendor != 'Feishu' || !has(self.description) || size(self.description) <= 100",message="spec.description must be at most 100 characters for Feishu",fieldPath=".description"
// +kubebuilder:validation:XValidation:rule="self.vendor != 'Feishu' || !has(self.members) || size(self.members) <= 5000",message="spec.members may list at most 5000 users for Feishu",fieldPath=".members"
// +kubebuilder:validation:XValidation:rule="self.vendor != 'Feishu' || !has(self.managementOptions) || !(has(self.managementOptions.showHistoryToNewMembers) || has(self.managementOptions.searchable) || has(self.managementOptions.muteAll))",message="spec.managementOptions supports only mentionAll, joinPolicy and managedBy for Feishu",fieldPath=".managementOptions"
// +kubebuilder:validation:XValidation:rule="self.vendor != 'Feishu' || !has(self.managementOptions) || !has(self.managementOptions.joinPolicy) || self.managementOptions.joinPolicy != 'Closed'",message="spec.managementOptions.joinPolicy Closed is not supported by Feishu",fieldPath=".managementOptions.joinPolicy"
// +kubebuilder:validation:XValidation:rule="!has(self.feishu) || self.vendor == 'Feishu'",message="spec.feishu is only allowed when spec.vendor is Feishu",fieldPath=".feishu"
type ChatGroupSpec struct {
	// vendor is the chat platform; it must equal the provider's vendor. Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.vendor is immutable"
	Vendor Vendor `json:"vendor"`

	// providerRef names the ChatProvider (same namespace) or ClusterChatProvider
	// whose account manages the group.
	// +required
	ProviderRef ProviderReference `json:"providerRef"`

	// name is the group's title on the vendor. DingTalk: 1-20 characters (scene
	// groups: 1-30); TencentIM: at most 30 bytes; WhatsApp: the group subject;
	// Feishu: at most 60 characters (at least 2 for a Public chat).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	Name string `json:"name"`

	// owner is the vendor user ID of the group owner. Required for DingTalk,
	// optional for TencentIM (no owner when empty) and Feishu (the app's bot owns
	// the chat when empty), not allowed for WhatsApp. The
	// owner is always a member and is never removed as one; changing it transfers
	// ownership.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	Owner string `json:"owner,omitempty"`

	// members are the vendor user IDs in the group (WhatsApp: E.164 phone numbers,
	// at most 8). A set: order does not matter.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=10000
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=128
	Members []string `json:"members,omitempty"`

	// ownerRef names the owner as a ChatUser in this namespace, instead of spec.owner
	// (not both): the owner is that person's account for this group's provider, else
	// their vendor-wide account for this group's vendor. Not allowed for WhatsApp.
	// +optional
	OwnerRef *ChatUserReference `json:"ownerRef,omitempty"`

	// membersFrom adds people to the members: ChatUsers named (userRef) or selected
	// by label (selector) in this namespace, or the people of another ChatGroup in
	// this namespace (groupRef). Each is resolved to its account for this group's
	// provider, else its vendor-wide account for this group's vendor; people without
	// one are left out and listed in status.unresolvedUsers. The members are
	// spec.members, these people and the owner.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	MembersFrom []MembersSource `json:"membersFrom,omitempty"`

	// memberPolicy is Authoritative (remove every unlisted member except the owner)
	// or Additive (only add; remove only members the operator added).
	// +optional
	// +kubebuilder:default=Authoritative
	MemberPolicy MemberPolicy `json:"memberPolicy,omitempty"`

	// description is the group's description: TencentIM Introduction (at most 240
	// bytes), WhatsApp Description, Feishu description (at most 100 characters).
	// Not supported by DingTalk. Empty leaves the vendor's text alone, except on
	// TencentIM, where removing a description the operator set clears it
	// (status.tencentIM.setFields).
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Description string `json:"description,omitempty"`

	// announcement is the group's notice: TencentIM Notification (at most 300 bytes).
	// TencentIM only. Removing an announcement the operator set clears it; one it
	// never set is left alone.
	// +optional
	// +kubebuilder:validation:MaxLength=300
	Announcement string `json:"announcement,omitempty"`

	// icon is the group's picture: DingTalk mediaId, TencentIM FaceUrl (at most 100
	// bytes), WhatsApp picture URL, Feishu avatar image_key.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Icon string `json:"icon,omitempty"`

	// managementOptions are the group's settings; each unset option is left as the
	// vendor has it. Not supported by WhatsApp.
	// +optional
	ManagementOptions *ManagementOptions `json:"managementOptions,omitempty"`

	// dingtalk holds DingTalk-only settings. Allowed only when vendor is DingTalk.
	// +optional
	DingTalk *DingTalkGroup `json:"dingtalk,omitempty"`

	// tencentIM holds TencentIM-only settings. Allowed only when vendor is TencentIM.
	// +optional
	TencentIM *TencentIMGroup `json:"tencentIM,omitempty"`

	// feishu holds Feishu / Lark-only settings. Allowed only when vendor is Feishu.
	// +optional
	Feishu *FeishuGroup `json:"feishu,omitempty"`

	// adoptGroupID binds this object to an existing vendor group with this ID instead
	// of creating one. The group is then made to match the spec.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	AdoptGroupID string `json:"adoptGroupID,omitempty"`

	// deletionPolicy is Orphan (the default: deleting the ChatGroup leaves the vendor
	// group) or Delete (the vendor group is deleted first, Feishu: dissolved; on
	// DingTalk only for scene groups, which the vendor can dismiss).
	// +optional
	// +kubebuilder:default=Orphan
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// suspend stops all vendor calls for this group while true, including the
	// vendor delete on deletion.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// syncInterval is how often the operator checks the vendor group for drift
	// (jittered by up to 10%). At least 10s.
	// +optional
	// +kubebuilder:default="10m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('10s')",message="spec.syncInterval must be at least 10s"
	SyncInterval *metav1.Duration `json:"syncInterval,omitempty"`

	// managementPolicy is Full (the default: the vendor group is made to match the
	// spec) or ObserveOnly (no vendor writes at all: no create, update or delete;
	// each pass writes the difference to status.drift, and Ready is True with
	// reason InSync or False with reason DriftDetected). An ObserveOnly group needs
	// spec.adoptGroupID or a recorded group ID. Switching to Full applies the
	// difference, subject to the removal guard.
	// +optional
	// +kubebuilder:default=Full
	ManagementPolicy ManagementPolicy `json:"managementPolicy,omitempty"`

	// removalGuard limits the members one pass may remove without approval. When
	// unset, the provider's spec.removalGuard applies, else a limit of "50%".
	// +optional
	RemovalGuard *RemovalGuard `json:"removalGuard,omitempty"`
}

// DingTalkStatus is DingTalk-specific observed state.
type DingTalkStatus struct {
	// openConversationID is the group's ID in DingTalk's newer APIs.
	// +optional
	OpenConversationID string `json:"openConversationID,omitempty"`

	// iconHash is a hash of spec.icon as the operator last set it. DingTalk
	// accepts a group's icon but never reports it back, so a spec.icon whose
	// hash differs from this one (a change, an adoption, an upgrade from a
	// version without this field) is sent once.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	IconHash string `json:"iconHash,omitempty"`

	// externalMembers are the external contacts (unionIds) the operator last put
	// in the group through spec.dingtalk.externalMembers (and an External owner).
	// DingTalk accepts them but never reports them back, so additions and
	// removals are computed against this list: contacts added by people in the
	// DingTalk app are neither seen nor removed.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=1001
	ExternalMembers []string `json:"externalMembers,omitempty"`
}

// TencentIMField is a group text the operator can clear on Tencent IM.
// +kubebuilder:validation:Enum=description;announcement
type TencentIMField string

// TencentIMStatus is Tencent IM-specific observed state: what the operator set
// itself, so that it clears and deletes only that.
type TencentIMStatus struct {
	// setFields are the group texts (description, announcement) the operator set.
	// Removing one of them from the spec clears it on the vendor; a text the
	// operator never set (an adopted group's, one written in the console) is
	// left as the vendor has it.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=2
	SetFields []TencentIMField `json:"setFields,omitempty"`

	// appDefinedDataKeys are the AppDefinedData keys the operator set. A key
	// removed from spec.tencentIM.appDefinedData is deleted on the vendor only
	// when it is listed here: keys that other systems write are left alone.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	AppDefinedDataKeys []string `json:"appDefinedDataKeys,omitempty"`
}

// WhatsAppStatus is WhatsApp-specific observed state.
type WhatsAppStatus struct {
	// pendingMembers are listed members who have not joined through the invite link yet.
	// +optional
	// +listType=set
	PendingMembers []string `json:"pendingMembers,omitempty"`

	// inviteLinkSecretName is the Secret (owned by this ChatGroup) holding the
	// group's invite link while members are pending.
	// +optional
	InviteLinkSecretName string `json:"inviteLinkSecretName,omitempty"`

	// subject is the group's subject when last observed. CAMS finds groups by
	// subject only, so after a rename the group is looked up under this one
	// instead of listing every group of the account.
	// +optional
	Subject string `json:"subject,omitempty"`

	// pictureHash is a hash of spec.icon as the operator last sent it. CAMS
	// reports its own copy of a group picture, never the URL sent, so the
	// picture is compared with this record: a spec.icon whose hash differs (a
	// change, an adoption, an upgrade) is sent once.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	PictureHash string `json:"pictureHash,omitempty"`
}

// FeishuStatus is Feishu-specific observed state.
type FeishuStatus struct {
	// avatarKey is the image_key the operator last set as the chat's avatar.
	// Feishu reports an avatar only as a URL, so spec.icon is compared with
	// this and sent only when it differs.
	// +optional
	AvatarKey string `json:"avatarKey,omitempty"`
}

// ChatGroupStatus is the observed state of a ChatGroup.
type ChatGroupStatus struct {
	// observedGeneration is the last generation concluded: applied (Ready) or
	// found impossible to apply (Stalled).
	// +optional
	// +kubebuilder:default=-1
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready, Reconciling and Stalled (kstatus).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// groupID is the vendor's group ID, also kept in the im.chatgroup.io/group-id annotation.
	// +optional
	GroupID string `json:"groupID,omitempty"`

	// memberCount is the number of members the vendor reported, owner included.
	// +optional
	MemberCount int32 `json:"memberCount,omitempty"`

	// addedMembers are the members the operator added itself, kept only with
	// memberPolicy Additive, where only these are ever removed. Authoritative
	// keeps none; switching to Additive starts the record with the members added
	// from then on.
	// +optional
	// +listType=set
	AddedMembers []string `json:"addedMembers,omitempty"`

	// unresolvedUsers are the people this group's spec names that are left out of
	// it: ChatUsers named or selected that do not exist or have no account for this
	// group's vendor/provider (by ChatUser name), and member IDs the vendor rejected
	// as unknown (by ID; tried again at each drift check and requested reconcile).
	// At most 50 are listed; condition MembersResolved counts them all.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=50
	UnresolvedUsers []string `json:"unresolvedUsers,omitempty"`

	// drift is what differs on the vendor and is not being changed: the whole
	// difference with managementPolicy ObserveOnly, the held removals when the
	// removal guard holds them. Unset when there is none.
	// +optional
	Drift *Drift `json:"drift,omitempty"`

	// lastHandledReconcileAt is the last value of the
	// im.chatgroup.io/reconcile-requested-at annotation the operator acted on.
	// +optional
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`

	// dingtalk is DingTalk-specific observed state.
	// +optional
	DingTalk *DingTalkStatus `json:"dingtalk,omitempty"`

	// tencentIM is Tencent IM-specific observed state.
	// +optional
	TencentIM *TencentIMStatus `json:"tencentIM,omitempty"`

	// whatsapp is WhatsApp-specific observed state.
	// +optional
	WhatsApp *WhatsAppStatus `json:"whatsapp,omitempty"`

	// feishu is Feishu-specific observed state.
	// +optional
	Feishu *FeishuStatus `json:"feishu,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=chat,shortName=cg
// +kubebuilder:printcolumn:name="Vendor",type=string,JSONPath=`.spec.vendor`
// +kubebuilder:printcolumn:name="Group ID",type=string,JSONPath=`.status.groupID`
// +kubebuilder:printcolumn:name="Members",type=integer,JSONPath=`.status.memberCount`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// ChatGroup is a chat group on DingTalk, Tencent Cloud IM, WhatsApp or Feishu, managed
// declaratively: the operator makes the vendor's group match the spec.
type ChatGroup struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// spec is the desired group.
	// +required
	Spec ChatGroupSpec `json:"spec"`

	// status is what the operator last observed and did.
	// +optional
	// +kubebuilder:default={observedGeneration:-1}
	Status ChatGroupStatus `json:"status,omitzero"`
}

// +kubebuilder:object:root=true

// ChatGroupList is a list of ChatGroups.
type ChatGroupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []ChatGroup `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ChatGroup{}, &ChatGroupList{})
}
