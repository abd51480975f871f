package tencentim

import (
	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// RatePerAPI is Tencent IM's documented limit: 200 calls per second per API
// (vendor-apis.md §2.5).
const RatePerAPI = 200

// SecretKey is the key of the app's key in the credentials Secret.
const SecretKey = "secretKey"

// Settings are a Tencent IM provider's account settings.
type Settings struct {
	SDKAppID        int64  `json:"sdkAppID"`
	AdminIdentifier string `json:"adminIdentifier"`
}

// GroupSettings are a ChatGroup's Tencent IM-only settings, defaults applied.
type GroupSettings struct {
	GroupType        string
	GroupID          string
	MaxMembers       *int32
	InviteJoinPolicy string
	AppDefinedData   map[string]string
}

// FindGrace is zero: Find reads the group by its derived GroupId
// (get_group_info), which is authoritative at once, and reports a missing
// group as ErrNotFound, so an interrupted create is repeated without waiting.
const FindGrace = 0

// Registration plugs Tencent IM into the operator.
func Registration(opts ...vendors.Option) vendors.Registration {
	return vendors.Registration{
		Vendor:     v1alpha1.TencentIM,
		Connector:  NewConnector(opts...),
		SecretKeys: []string{SecretKey},
		RatePerAPI: RatePerAPI,
		FindGrace:  FindGrace,
		Settings: func(p v1alpha1.ProviderSettings) any {
			var s Settings
			if t := p.TencentIM; t != nil {
				s = Settings{SDKAppID: t.SDKAppID, AdminIdentifier: t.AdminIdentifier}
			}
			return s
		},
		Desired: func(obj *v1alpha1.ChatGroup, want *vendors.GroupSpec) {
			want.Vendor = groupSettings(obj.Spec.TencentIM)
		},
	}
}

// groupSettings reads spec.tencentIM with the API's defaults.
func groupSettings(t *v1alpha1.TencentIMGroup) GroupSettings {
	s := GroupSettings{GroupType: "Private"}
	if t != nil {
		s.GroupID = t.GroupID
		s.MaxMembers = t.MaxMembers
		s.InviteJoinPolicy = string(t.InviteJoinPolicy)
		s.AppDefinedData = t.AppDefinedData
		if t.GroupType != "" {
			s.GroupType = string(t.GroupType)
		}
	}
	return s
}

// settingsOf returns want's Tencent IM settings (the defaults when unset).
func settingsOf(want vendors.GroupSpec) GroupSettings {
	if s, ok := want.Vendor.(GroupSettings); ok {
		return s
	}
	return groupSettings(nil)
}
