package dingtalk

import (
	"slices"
	"strings"
	"time"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// RatePerAPI is DingTalk's documented limit: 20 calls per second per app and API
// (vendor-apis.md §1.5).
const RatePerAPI = 20

// Settings are a DingTalk provider's settings beyond its endpoint.
type Settings struct {
	// LegacyEndpoint is the oapi base URL; empty means DefaultLegacyEndpoint.
	LegacyEndpoint string `json:"legacyEndpoint,omitempty"`
	// SceneGroupTemplateID is the template scene groups are made from.
	SceneGroupTemplateID string `json:"sceneGroupTemplateID,omitempty"`
}

// GroupSettings are a ChatGroup's DingTalk-only settings, defaults applied.
type GroupSettings struct {
	OwnerType        string // Employee | External
	ExternalMembers  []string
	ConversationType string // Internal | Standard
	Kind             string // Regular | Scene
	// Written is what the operator last wrote of the write-only fields, from
	// status.dingtalk.
	Written Written
}

// Written is what the operator last wrote of the fields group/create and
// group/update accept but the legacy chat/get never returns (icon, extidlist:
// https://help.dingtalk.io/open/development/obtain-a-group-session). They are
// compared with this record instead of the vendor's group.
type Written struct {
	// IconHash is iconHash of the icon last set; empty when none was.
	IconHash string
	// ExternalMembers are the external contacts last put in the group.
	ExternalMembers []string
}

// Extra is what DingTalk reports of a group beyond the neutral fields.
type Extra struct {
	// OpenConversationID is the group's ID in DingTalk's newer APIs.
	OpenConversationID string
	// Written is the record of the write-only fields after a create or an
	// update; nil keeps the one in status.
	Written *Written
}

// FindGrace is how long DingTalk's group search (innerGroups/search, the only
// lookup by name) may lag behind a create. DingTalk documents no delay for its
// search index (vendor-apis.md §1.4.4); a minute is an assumption with a wide
// margin over the seconds a search index usually takes. Scene groups are never
// searched: their create is deduped by uuid, so it is simply repeated.
const FindGrace = time.Minute

// Metered is DingTalk's rule for the monthly call quota of a standard-edition
// organisation (5,000 calls, ApiCountLimitForOrg; vendor-apis.md §1.5, from
// https://open.dingtalk.com/document/development/how-to-process-api-throttling-on-the-dingtalk-server):
// every API counts except the token, auth and contacts APIs.
func Metered(api string) bool {
	for _, free := range []string{"oauth2/", "gettoken", "sns/", "user/", "topapi/v2/user/", "department/", "contact/"} {
		if strings.HasPrefix(api, free) {
			return false
		}
	}
	return true
}

// Registration plugs DingTalk into the operator.
func Registration(opts ...vendors.Option) vendors.Registration {
	return vendors.Registration{
		Vendor:     v1alpha1.DingTalk,
		Connector:  NewConnector(opts...),
		SecretKeys: []string{SecretAppKey, SecretAppSecret},
		RatePerAPI: RatePerAPI,
		FindGrace:  FindGrace,
		Metered:    Metered,
		Settings: func(p v1alpha1.ProviderSettings) any {
			var s Settings
			if p.DingTalk != nil {
				s.LegacyEndpoint = p.DingTalk.LegacyEndpoint
				s.SceneGroupTemplateID = p.DingTalk.SceneGroupTemplateID
			}
			return s
		},
		Desired: func(obj *v1alpha1.ChatGroup, want *vendors.GroupSpec) {
			s := groupSettings(obj.Spec.DingTalk)
			if st := obj.Status.DingTalk; st != nil {
				s.Written = Written{IconHash: st.IconHash, ExternalMembers: st.ExternalMembers}
			}
			want.Vendor = s
		},
		Record: recordStatus,
	}
}

// recordStatus writes status.dingtalk: the openConversationId where known and the
// record of the write-only fields after a create or an update.
func recordStatus(st *v1alpha1.ChatGroupStatus, g vendors.ObservedGroup, _ string) {
	x, ok := g.Extra.(Extra)
	if !ok || (x.OpenConversationID == "" && x.Written == nil) {
		return
	}
	d := st.DingTalk
	if d == nil {
		d = &v1alpha1.DingTalkStatus{}
	}
	if x.OpenConversationID != "" {
		d.OpenConversationID = x.OpenConversationID
	}
	if w := x.Written; w != nil {
		d.IconHash, d.ExternalMembers = w.IconHash, slices.Clone(w.ExternalMembers)
	}
	st.DingTalk = d
	if d.OpenConversationID == "" && d.IconHash == "" && len(d.ExternalMembers) == 0 {
		st.DingTalk = nil
	}
}

// groupSettings reads spec.dingtalk with the API's defaults.
func groupSettings(d *v1alpha1.DingTalkGroup) GroupSettings {
	s := GroupSettings{OwnerType: "Employee", ConversationType: "Internal", Kind: "Regular"}
	if d != nil {
		s.ExternalMembers = d.ExternalMembers
		if d.OwnerType != "" {
			s.OwnerType = string(d.OwnerType)
		}
		if d.ConversationType != "" {
			s.ConversationType = string(d.ConversationType)
		}
		if d.GroupKind != "" {
			s.Kind = string(d.GroupKind)
		}
	}
	return s
}

// settingsOf returns want's DingTalk settings (the defaults when unset).
func settingsOf(want vendors.GroupSpec) GroupSettings {
	if s, ok := want.Vendor.(GroupSettings); ok {
		return s
	}
	return groupSettings(nil)
}
