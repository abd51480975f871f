package dingtalk

import (
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
}

// GroupSettings are a ChatGroup's DingTalk-only settings, defaults applied.
type GroupSettings struct {
	OwnerType        string // Employee | External
	ExternalMembers  []string
	ConversationType string // Internal | Standard
}

// Extra is what DingTalk reports of a group beyond the neutral fields.
type Extra struct {
	// OpenConversationID is the group's ID in DingTalk's newer APIs.
	OpenConversationID string
}

// Registration plugs DingTalk into the operator.
func Registration(opts ...vendors.Option) vendors.Registration {
	return vendors.Registration{
		Vendor:     v1alpha1.DingTalk,
		Connector:  NewConnector(opts...),
		SecretKeys: []string{SecretAppKey, SecretAppSecret},
		RatePerAPI: RatePerAPI,
		Settings: func(p v1alpha1.ProviderSettings) any {
			var s Settings
			if p.DingTalk != nil {
				s.LegacyEndpoint = p.DingTalk.LegacyEndpoint
			}
			return s
		},
		Desired: func(obj *v1alpha1.ChatGroup, want *vendors.GroupSpec) {
			want.Vendor = groupSettings(obj.Spec.DingTalk)
		},
		Record: func(st *v1alpha1.ChatGroupStatus, g vendors.ObservedGroup, _ string) {
			if x, ok := g.Extra.(Extra); ok && x.OpenConversationID != "" {
				st.DingTalk = &v1alpha1.DingTalkStatus{OpenConversationID: x.OpenConversationID}
			}
		},
	}
}

// groupSettings reads spec.dingtalk with the API's defaults.
func groupSettings(d *v1alpha1.DingTalkGroup) GroupSettings {
	s := GroupSettings{OwnerType: "Employee", ConversationType: "Internal"}
	if d != nil {
		s.ExternalMembers = d.ExternalMembers
		if d.OwnerType != "" {
			s.OwnerType = string(d.OwnerType)
		}
		if d.ConversationType != "" {
			s.ConversationType = string(d.ConversationType)
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
