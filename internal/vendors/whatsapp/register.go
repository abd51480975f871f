package whatsapp

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// RatePerAPI is the CAMS limit assumed per action: 10 calls per second
// (vendor-apis.md §3.4 says the vendor leaves it unconfirmed).
const RatePerAPI = 10

// Secret keys of a CAMS provider's credentials Secret.
const (
	SecretAccessKeyID     = "accessKeyID"
	SecretAccessKeySecret = "accessKeySecret"
)

// InviteLinkKey is the key of the invite link in ObservedGroup.Invitation (and
// so in the Secret the operator publishes it in).
const InviteLinkKey = "inviteLink"

// Settings are a CAMS provider's account settings.
type Settings struct {
	CustSpaceID    string `json:"custSpaceID"`
	BusinessNumber string `json:"businessNumber"`
}

// GroupSettings are what a ChatGroup's status tells the client.
type GroupSettings struct {
	// PictureHash is pictureHash of the picture last sent
	// (status.whatsapp.pictureHash).
	PictureHash string
}

// Extra is the record of the picture sent, once the group matches the spec.
type Extra struct {
	PictureHash string
}

// settingsOf returns want's GroupSettings.
func settingsOf(want vendors.GroupSpec) GroupSettings {
	s, _ := want.Vendor.(GroupSettings)
	return s
}

// pictureHash is a short, stable digest of a picture URL for status.
func pictureHash(url string) string {
	sum := sha256.Sum256([]byte(url))
	return hex.EncodeToString(sum[:16])
}

// sentPicture is the record once want is applied.
func sentPicture(want vendors.GroupSpec) string {
	if want.Icon != "" {
		return pictureHash(want.Icon)
	}
	return settingsOf(want).PictureHash
}

// FindGrace is how long CAMS's ListChatGroup may not list a group that
// AddChatGroup accepted. Creation is asynchronous and the reference only says to
// poll ListChatGroup by subject until the group appears (vendor-apis.md §3.5),
// with no bound; two minutes is an assumption well beyond the seconds the
// CREATING state is seen to last.
const FindGrace = 2 * time.Minute

// Registration plugs WhatsApp (through CAMS) into the operator.
func Registration(opts ...vendors.Option) vendors.Registration {
	return vendors.Registration{
		Vendor:     v1alpha1.WhatsApp,
		Connector:  NewConnector(opts...),
		SecretKeys: []string{SecretAccessKeyID, SecretAccessKeySecret},
		RatePerAPI: RatePerAPI,
		FindGrace:  FindGrace,
		Settings: func(p v1alpha1.ProviderSettings) any {
			var s Settings
			if w := p.WhatsApp; w != nil {
				s = Settings{CustSpaceID: w.CustSpaceID, BusinessNumber: w.BusinessNumber}
			}
			return s
		},
		Desired: func(obj *v1alpha1.ChatGroup, want *vendors.GroupSpec) {
			var s GroupSettings
			if ws := obj.Status.WhatsApp; ws != nil {
				want.ObservedName = ws.Subject // a renamed group is looked up under its last subject first
				s.PictureHash = ws.PictureHash
			}
			want.Vendor = s
		},
		Record: func(st *v1alpha1.ChatGroupStatus, g vendors.ObservedGroup, inviteSecret string) {
			ws := st.WhatsApp
			if ws == nil {
				ws = &v1alpha1.WhatsAppStatus{}
			}
			if g.Name != "" {
				ws.Subject = g.Name
			}
			ws.PendingMembers, ws.InviteLinkSecretName = g.PendingMembers, inviteSecret
			if x, ok := g.Extra.(Extra); ok {
				ws.PictureHash = x.PictureHash
			}
			st.WhatsApp = ws
		},
		Export: export,
	}
}

// invitation is what pending members need to join: the invite link, if any.
func invitation(link string) map[string][]byte {
	if link == "" {
		return nil
	}
	return map[string][]byte{InviteLinkKey: []byte(link)}
}
