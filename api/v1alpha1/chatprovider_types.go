package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Vendor names a chat platform.
// +kubebuilder:validation:Enum=DingTalk;TencentIM;WhatsApp;Feishu
type Vendor string

const (
	// DingTalk is DingTalk (China site api.dingtalk.com or international api.dingtalk.io).
	DingTalk Vendor = "DingTalk"
	// TencentIM is Tencent Cloud IM (Chat) REST API v4.
	TencentIM Vendor = "TencentIM"
	// WhatsApp is WhatsApp groups through Alibaba Cloud Chat App Message Service.
	WhatsApp Vendor = "WhatsApp"
	// Feishu is Feishu (open.feishu.cn) or Lark (open.larksuite.com): one API, IM v1.
	Feishu Vendor = "Feishu"
)

// ProviderSettings are the fields ChatProvider and ClusterChatProvider share.
type ProviderSettings struct {
	// vendor is the chat platform this provider's account belongs to. Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.vendor is immutable"
	Vendor Vendor `json:"vendor"`

	// endpoint is the vendor's API base URL. Empty means the vendor's default:
	// DingTalk https://api.dingtalk.com, TencentIM https://console.tim.qq.com,
	// WhatsApp https://cams.ap-southeast-1.aliyuncs.com, Feishu https://open.feishu.cn
	// (https://open.larksuite.com for Lark). Set it for regional sites.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="isURL(self) && self.matches('^https?://[^?#]+$')",message="spec.endpoint must be an http(s) URL without query or fragment"
	Endpoint string `json:"endpoint,omitempty"`

	// dingtalk holds DingTalk-only settings. Allowed only when vendor is DingTalk.
	// +optional
	DingTalk *DingTalkProvider `json:"dingtalk,omitempty"`

	// tencentIM holds Tencent Cloud IM settings. Required when vendor is TencentIM.
	// +optional
	TencentIM *TencentIMProvider `json:"tencentIM,omitempty"`

	// whatsapp holds Alibaba Cloud CAMS settings. Required when vendor is WhatsApp.
	// +optional
	WhatsApp *WhatsAppProvider `json:"whatsapp,omitempty"`

	// feishu holds Feishu / Lark settings. Allowed only when vendor is Feishu;
	// optional there.
	// +optional
	Feishu *FeishuProvider `json:"feishu,omitempty"`

	// rateLimit caps the calls the operator makes per vendor API with these
	// credentials, shared by all groups. Defaults to 95% of the vendor's documented
	// limit (DingTalk 20/s, TencentIM 200/s, WhatsApp 10/s, Feishu 50/s), leaving room for
	// network jitter in the vendor's per-second windows.
	// +optional
	RateLimit *RateLimit `json:"rateLimit,omitempty"`

	// callBudget caps the metered vendor calls the operator makes with these
	// credentials per calendar month (UTC). Changes (spec edits, approvals) always
	// spend first; periodic drift checks of this provider's groups are stretched so
	// that the month's projected use stays inside the budget. Which calls are
	// metered is the vendor's rule (DingTalk: all but the token, auth and contacts
	// APIs). No budget by default.
	// +optional
	CallBudget *CallBudget `json:"callBudget,omitempty"`

	// removalGuard is the removal limit of the ChatGroups using this provider
	// that set none themselves. When unset too, the limit is "50%".
	// +optional
	RemovalGuard *RemovalGuard `json:"removalGuard,omitempty"`
}

// CallBudget is a monthly allowance of metered vendor calls.
type CallBudget struct {
	// callsPerMonth is the number of metered calls allowed per calendar month
	// (e.g. 5000 for a DingTalk standard-edition organisation).
	// +required
	// +kubebuilder:validation:Minimum=1
	CallsPerMonth int64 `json:"callsPerMonth"`
}

// CallBudgetStatus is the call budget's use in the current window.
type CallBudgetStatus struct {
	// windowStart is the start of the current budget window (the first instant
	// of the calendar month, UTC).
	// +optional
	WindowStart *metav1.Time `json:"windowStart,omitempty"`

	// used is the number of metered calls made in this window, persisted so that
	// a restart of the operator does not reset it.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Used int64 `json:"used,omitempty"`

	// driftInterval is the drift-check period in force for this provider's
	// groups: their spec.syncInterval, or longer where the budget requires it.
	// +optional
	DriftInterval *metav1.Duration `json:"driftInterval,omitempty"`
}

// DingTalkProvider holds DingTalk account settings.
type DingTalkProvider struct {
	// legacyEndpoint is the base URL of the legacy "oapi" API used to read groups
	// (chat/get). Empty means the legacy host of endpoint's site:
	// https://oapi.dingtalk.io for https://api.dingtalk.io (the international
	// site), https://oapi.dingtalk.com otherwise.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="isURL(self) && self.matches('^https?://[^?#]+$')",message="spec.dingtalk.legacyEndpoint must be an http(s) URL without query or fragment"
	LegacyEndpoint string `json:"legacyEndpoint,omitempty"`

	// sceneGroupTemplateID is the scene-group template (created and published in
	// the DingTalk developer console) that ChatGroups with
	// spec.dingtalk.groupKind Scene are made from (template_id). Without it such
	// groups are Stalled naming this field.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	SceneGroupTemplateID string `json:"sceneGroupTemplateID,omitempty"`
}

// TencentIMProvider holds Tencent Cloud IM account settings.
type TencentIMProvider struct {
	// sdkAppID is the IM application's SDKAppID.
	// +required
	// +kubebuilder:validation:Minimum=1
	SDKAppID int64 `json:"sdkAppID"`

	// adminIdentifier is the app administrator account the operator signs UserSigs for.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	AdminIdentifier string `json:"adminIdentifier"`
}

// WhatsAppProvider holds Alibaba Cloud CAMS account settings.
type WhatsAppProvider struct {
	// custSpaceID is the CAMS customer space (channel) ID sent as CustSpaceId.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	CustSpaceID string `json:"custSpaceID"`

	// businessNumber is the WhatsApp business phone number that administers the groups.
	// +required
	// +kubebuilder:validation:Pattern=`^\+?[1-9][0-9]{6,14}$`
	BusinessNumber string `json:"businessNumber"`
}

// FeishuMemberIDType is the kind of user ID a Feishu account's groups list.
// +kubebuilder:validation:Enum=open_id;user_id;union_id
type FeishuMemberIDType string

// FeishuProvider holds Feishu / Lark account settings.
type FeishuProvider struct {
	// memberIDType is what the owner, members and ChatUser ids of this account's
	// groups are: open_id (the default; per app), user_id (per tenant; needs the
	// app's contact:user.employee_id:readonly scope) or union_id (per developer).
	// It is sent as user_id_type / member_id_type on every call. Changing it
	// does not translate IDs already listed.
	// +optional
	// +kubebuilder:default=open_id
	MemberIDType FeishuMemberIDType `json:"memberIDType,omitempty"`
}

// RateLimit is a token bucket: qps tokens per second, at most burst at once.
type RateLimit struct {
	// qps is the sustained number of calls per second per vendor API.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	QPS int32 `json:"qps"`

	// burst is the number of calls that may be made at once. Defaults to qps.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	Burst int32 `json:"burst,omitempty"`
}

// LocalSecretReference names a Secret in the referring object's namespace.
type LocalSecretReference struct {
	// name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// SecretReference names a Secret in a given namespace.
type SecretReference struct {
	// name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// namespace of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace"`
}

// ChatProviderSpec is a vendor account, with credentials from a Secret in the
// provider's namespace.
// +kubebuilder:validation:XValidation:rule="!has(self.dingtalk) || self.vendor == 'DingTalk'",message="spec.dingtalk is only allowed when spec.vendor is DingTalk",fieldPath=".dingtalk"
// +kubebuilder:validation:XValidation:rule="has(self.tencentIM) == (self.vendor == 'TencentIM')",message="spec.tencentIM is required when spec.vendor is TencentIM and not allowed otherwise",fieldPath=".tencentIM"
// +kubebuilder:validation:XValidation:rule="has(self.whatsapp) == (self.vendor == 'WhatsApp')",message="spec.whatsapp is required when spec.vendor is WhatsApp and not allowed otherwise",fieldPath=".whatsapp"
// +kubebuilder:validation:XValidation:rule="!has(self.feishu) || self.vendor == 'Feishu'",message="spec.feishu is only allowed when spec.vendor is Feishu",fieldPath=".feishu"
type ChatProviderSpec struct {
	ProviderSettings `json:",inline"`

	// credentialsSecretRef names the Secret in this namespace holding the
	// credentials: DingTalk appKey and appSecret; TencentIM secretKey; WhatsApp
	// accessKeyID and accessKeySecret; Feishu appID and appSecret.
	// +required
	CredentialsSecretRef LocalSecretReference `json:"credentialsSecretRef"`
}

// ClusterChatProviderSpec is a vendor account usable from every namespace, with
// credentials from a Secret in a named namespace.
// +kubebuilder:validation:XValidation:rule="!has(self.dingtalk) || self.vendor == 'DingTalk'",message="spec.dingtalk is only allowed when spec.vendor is DingTalk",fieldPath=".dingtalk"
// +kubebuilder:validation:XValidation:rule="has(self.tencentIM) == (self.vendor == 'TencentIM')",message="spec.tencentIM is required when spec.vendor is TencentIM and not allowed otherwise",fieldPath=".tencentIM"
// +kubebuilder:validation:XValidation:rule="has(self.whatsapp) == (self.vendor == 'WhatsApp')",message="spec.whatsapp is required when spec.vendor is WhatsApp and not allowed otherwise",fieldPath=".whatsapp"
// +kubebuilder:validation:XValidation:rule="!has(self.feishu) || self.vendor == 'Feishu'",message="spec.feishu is only allowed when spec.vendor is Feishu",fieldPath=".feishu"
type ClusterChatProviderSpec struct {
	ProviderSettings `json:",inline"`

	// credentialsSecretRef names the Secret, and its namespace, holding the
	// credentials: DingTalk appKey and appSecret; TencentIM secretKey; WhatsApp
	// accessKeyID and accessKeySecret; Feishu appID and appSecret.
	// +required
	CredentialsSecretRef SecretReference `json:"credentialsSecretRef"`

	// allowedNamespaces limits which namespaces' ChatGroups may use this account.
	// Every namespace may when unset. Namespace label changes take effect at once.
	// +optional
	AllowedNamespaces *AllowedNamespaces `json:"allowedNamespaces,omitempty"`
}

// ProviderStatus is the observed state of a provider.
type ProviderStatus struct {
	// observedGeneration is the generation whose credentials were last checked to a
	// conclusion.
	// +optional
	// +kubebuilder:default=-1
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready is True when the credentials Secret resolves and the vendor
	// accepts the credentials.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// callBudget is the use of spec.callBudget: metered calls this window and the
	// drift-check period in force. Absent when the provider has no budget.
	// +optional
	CallBudget *CallBudgetStatus `json:"callBudget,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=chat,shortName=cp
// +kubebuilder:printcolumn:name="Vendor",type=string,JSONPath=`.spec.vendor`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=0
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// ChatProvider is a vendor account for the ChatGroups in its namespace.
type ChatProvider struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// spec is the vendor account.
	// +required
	Spec ChatProviderSpec `json:"spec"`

	// status is the result of the last credential check.
	// +optional
	// +kubebuilder:default={observedGeneration:-1}
	Status ProviderStatus `json:"status,omitzero"`
}

// +kubebuilder:object:root=true

// ChatProviderList is a list of ChatProviders.
type ChatProviderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []ChatProvider `json:"items"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,categories=chat,shortName=ccp
// +kubebuilder:printcolumn:name="Vendor",type=string,JSONPath=`.spec.vendor`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=0
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// ClusterChatProvider is a vendor account for ChatGroups in any namespace.
type ClusterChatProvider struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// spec is the vendor account.
	// +required
	Spec ClusterChatProviderSpec `json:"spec"`

	// status is the result of the last credential check.
	// +optional
	// +kubebuilder:default={observedGeneration:-1}
	Status ProviderStatus `json:"status,omitzero"`
}

// +kubebuilder:object:root=true

// ClusterChatProviderList is a list of ClusterChatProviders.
type ClusterChatProviderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []ClusterChatProvider `json:"items"`
}

// Provider is what the controllers need from either provider kind.
// +kubebuilder:object:generate=false
type Provider interface {
	GetNamespace() string
	GetName() string
	GetGeneration() int64
	// Settings returns the vendor account settings.
	Settings() ProviderSettings
	// SecretKey returns where the credentials Secret lives.
	SecretKey() types.NamespacedName
	// ProviderStatus returns the status to read and write.
	ProviderStatus() *ProviderStatus
}

// Settings implements Provider.
func (p *ChatProvider) Settings() ProviderSettings { return p.Spec.ProviderSettings }

// SecretKey implements Provider: a ChatProvider reads from its own namespace.
func (p *ChatProvider) SecretKey() types.NamespacedName {
	return types.NamespacedName{Namespace: p.Namespace, Name: p.Spec.CredentialsSecretRef.Name}
}

// ProviderStatus implements Provider.
func (p *ChatProvider) ProviderStatus() *ProviderStatus { return &p.Status }

// Settings implements Provider.
func (p *ClusterChatProvider) Settings() ProviderSettings { return p.Spec.ProviderSettings }

// SecretKey implements Provider.
func (p *ClusterChatProvider) SecretKey() types.NamespacedName {
	return types.NamespacedName{Namespace: p.Spec.CredentialsSecretRef.Namespace, Name: p.Spec.CredentialsSecretRef.Name}
}

// ProviderStatus implements Provider.
func (p *ClusterChatProvider) ProviderStatus() *ProviderStatus { return &p.Status }

func init() {
	SchemeBuilder.Register(&ChatProvider{}, &ChatProviderList{}, &ClusterChatProvider{}, &ClusterChatProviderList{})
}
