package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ChatUserAccount is one vendor account of a person.
// +kubebuilder:validation:XValidation:rule="self.vendor != 'WhatsApp' || self.id.matches('^[+]?[1-9][0-9]{6,14}$')",message="spec.accounts[].id must be an E.164 phone number for WhatsApp",fieldPath=".id"
type ChatUserAccount struct {
	// vendor is the chat platform of this account.
	// +required
	Vendor Vendor `json:"vendor"`

	// providerRef limits this account to groups of that provider (e.g. a second
	// DingTalk organisation). An account with a providerRef beats the vendor-wide
	// account (no providerRef) of the same vendor for that provider's groups.
	// +optional
	ProviderRef *ProviderReference `json:"providerRef,omitempty"`

	// id is exactly what a ChatGroup of this vendor lists in spec.members: a DingTalk
	// staff userId, a Tencent IM account, a WhatsApp E.164 phone number, a Feishu
	// open_id, user_id or union_id (as the provider's spec.feishu.memberIDType says).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	ID string `json:"id"`
}

// ChatUserSpec is one person and the account that person has on each vendor.
type ChatUserSpec struct {
	// displayName is the person's name, for people reading the object.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	DisplayName string `json:"displayName,omitempty"`

	// accounts are the person's vendor accounts, at most one per (vendor,
	// providerRef). ChatGroups that name this person (spec.ownerRef,
	// spec.membersFrom) use the account for their provider if there is one, else
	// the vendor-wide account of their vendor.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(a, self.exists_one(b, b.vendor == a.vendor && (has(a.providerRef) ? (has(b.providerRef) && b.providerRef.name == a.providerRef.name && (has(b.providerRef.kind) ? b.providerRef.kind : 'ChatProvider') == (has(a.providerRef.kind) ? a.providerRef.kind : 'ChatProvider')) : !has(b.providerRef))))",message="spec.accounts may hold at most one entry per (vendor, providerRef)"
	Accounts []ChatUserAccount `json:"accounts,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:categories=chat,shortName=cu
// +kubebuilder:printcolumn:name="Display Name",type=string,JSONPath=`.spec.displayName`
// +kubebuilder:printcolumn:name="Accounts",type=string,JSONPath=`.spec.accounts`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// ChatUser is one person and that person's account on each vendor. ChatGroups in
// the same namespace name people through spec.ownerRef and spec.membersFrom
// instead of listing vendor IDs; changing or deleting a ChatUser updates every
// group that includes the person.
type ChatUser struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// spec is the person and their vendor accounts.
	// +required
	Spec ChatUserSpec `json:"spec"`
}

// +kubebuilder:object:root=true

// ChatUserList is a list of ChatUsers.
type ChatUserList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []ChatUser `json:"items"`
}

// AccountFor returns the person's ID on a group of vendor v managed by provider
// ref: the account for that provider if there is one, else the vendor-wide one.
func (s *ChatUserSpec) AccountFor(v Vendor, ref ProviderReference) (string, bool) {
	kind := ref.Kind
	if kind == "" {
		kind = ChatProviderKind
	}
	wide, found := "", false
	for _, a := range s.Accounts {
		if a.Vendor != v {
			continue
		}
		if a.ProviderRef == nil {
			wide, found = a.ID, true
			continue
		}
		k := a.ProviderRef.Kind
		if k == "" {
			k = ChatProviderKind
		}
		if k == kind && a.ProviderRef.Name == ref.Name {
			return a.ID, true
		}
	}
	return wide, found
}

func init() {
	SchemeBuilder.Register(&ChatUser{}, &ChatUserList{})
}
