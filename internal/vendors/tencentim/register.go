package tencentim

import (
	"maps"
	"slices"

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
	// Set is what the operator set before, from status.tencentIM: only that is
	// cleared or deleted when the spec drops it.
	Set Set
}

// FindGrace is zero: Find reads the group by its derived GroupId
// (get_group_info), which is authoritative at once, and reports a missing
// group as ErrNotFound, so an interrupted create is repeated without waiting.
const FindGrace = 0

// Set is what the operator set on a group itself. The vendor reads an empty
// Value as "delete this AppDefinedData key" and takes an empty Introduction or
// Notification as the new text (seed 001), so clearing is possible; it is done
// only for what the operator set, never for what other systems wrote.
type Set struct {
	// Fields are the texts set: "description", "announcement".
	Fields []string
	// AppDataKeys are the AppDefinedData keys set.
	AppDataKeys []string
}

// Extra is what Tencent IM reports of a group beyond the neutral fields: the
// record of what the operator has set once the group matches the spec.
type Extra struct {
	Set Set
}

// spec field names in Set.Fields.
const (
	fieldDescription  = "description"
	fieldAnnouncement = "announcement"
)

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
			s := groupSettings(obj.Spec.TencentIM)
			if st := obj.Status.TencentIM; st != nil {
				for _, f := range st.SetFields {
					s.Set.Fields = append(s.Set.Fields, string(f))
				}
				s.Set.AppDataKeys = st.AppDefinedDataKeys
			}
			want.Vendor = s
		},
		Record: recordStatus,
		Export: export,
	}
}

// recordStatus writes status.tencentIM from the record a matching group
// carries.
func recordStatus(st *v1alpha1.ChatGroupStatus, g vendors.ObservedGroup, _ string) {
	x, ok := g.Extra.(Extra)
	if !ok {
		return
	}
	if len(x.Set.Fields)+len(x.Set.AppDataKeys) == 0 {
		st.TencentIM = nil
		return
	}
	t := &v1alpha1.TencentIMStatus{AppDefinedDataKeys: slices.Clone(x.Set.AppDataKeys)}
	for _, f := range x.Set.Fields {
		t.SetFields = append(t.SetFields, v1alpha1.TencentIMField(f))
	}
	st.TencentIM = t
}

// setBy is the record once want is applied: every text and key it sets.
func setBy(want vendors.GroupSpec) Set {
	var s Set
	if want.Description != "" {
		s.Fields = append(s.Fields, fieldDescription)
	}
	if want.Announcement != "" {
		s.Fields = append(s.Fields, fieldAnnouncement)
	}
	s.AppDataKeys = slices.Sorted(maps.Keys(settingsOf(want).AppDefinedData))
	return s
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
