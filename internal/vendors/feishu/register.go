package feishu

import (
	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// RatePerAPI is the sustained rate Feishu allows each chat API: 1000 calls per
// minute (§7), in whole calls per second (16, 960 a minute). The per-second cap
// (50) is higher, so the per-minute one binds; pacing below it means the
// minute window is never exceeded, only approached.
const RatePerAPI = 16

// Secret keys of a Feishu provider's credentials Secret.
const (
	SecretAppID     = "appID"
	SecretAppSecret = "appSecret"
)

// Settings are a Feishu provider's account settings.
type Settings struct {
	// MemberIDType is spec.feishu.memberIDType: open_id, user_id or union_id.
	MemberIDType string `json:"memberIDType,omitempty"`
}

// idType is the user_id_type / member_id_type sent on every call; open_id is
// Feishu's own default (§6).
func (s Settings) idType() string {
	if s.MemberIDType == "" {
		return "open_id"
	}
	return s.MemberIDType
}

// Desired is a group's Feishu-only part (spec.feishu), in GroupSpec.Vendor.
type Desired struct {
	// ChatType is private or public ("" leaves it).
	ChatType string
	// AddMembersOwnerOnly sets add_member_permission and share_card_permission
	// together (nil leaves them).
	AddMembersOwnerOnly *bool
	// AvatarKey is status.feishu.avatarKey: the image_key last set.
	AvatarKey string
}

// Registration plugs Feishu / Lark into the operator.
func Registration(opts ...vendors.Option) vendors.Registration {
	return vendors.Registration{
		Vendor:     v1alpha1.Feishu,
		Connector:  NewConnector(opts...),
		SecretKeys: []string{SecretAppID, SecretAppSecret},
		RatePerAPI: RatePerAPI,
		// FindGrace is zero: Find never looks (the create's uuid dedupes a
		// repeat), so there is no listing to wait for.
		FindGrace: 0,
		Settings: func(p v1alpha1.ProviderSettings) any {
			var s Settings
			if p.Feishu != nil {
				s.MemberIDType = string(p.Feishu.MemberIDType)
			}
			return s
		},
		Desired: func(obj *v1alpha1.ChatGroup, want *vendors.GroupSpec) {
			d := desired(obj.Spec.Feishu)
			if st := obj.Status.Feishu; st != nil {
				d.AvatarKey = st.AvatarKey
			}
			want.Vendor = d
		},
		Record: func(st *v1alpha1.ChatGroupStatus, g vendors.ObservedGroup, _ string) {
			if info, ok := g.Extra.(chatInfo); ok && info.AvatarKey != "" {
				st.Feishu = &v1alpha1.FeishuStatus{AvatarKey: info.AvatarKey}
			}
		},
		Export: export,
	}
}

// desired reads spec.feishu.
func desired(f *v1alpha1.FeishuGroup) Desired {
	var d Desired
	if f == nil {
		return d
	}
	switch f.ChatType {
	case "Private":
		d.ChatType = "private"
	case "Public":
		d.ChatType = "public"
	}
	if f.AddMembers != "" {
		ownerOnly := f.AddMembers == v1alpha1.OwnerOnly
		d.AddMembersOwnerOnly = &ownerOnly
	}
	return d
}
