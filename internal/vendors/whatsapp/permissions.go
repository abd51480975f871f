package whatsapp

import (
	"context"
	"errors"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// probeGroupID is a GroupId no group has: CAMS makes group IDs itself.
const probeGroupID = "chatgroup-operator-permission-probe"

// probes are the RAM actions the operator needs that can be tried without a
// group, each as a call on probeGroupID that changes nothing. AddChatGroup
// cannot be: any accepted call creates a group (a group refused it says so,
// naming cams:AddChatGroup); ListChatGroup is the credential check itself.
var probes = []struct {
	action string
	params map[string]string
}{
	{"UpdateChatGroup", map[string]string{"GroupId": probeGroupID}},
	{"DeleteChatGroup", map[string]string{"GroupId": probeGroupID}},
	{"AddChatGroupInviteLink", map[string]string{"GroupId": probeGroupID}},
	{"DeleteChatGroupInviteLink", map[string]string{"GroupId": probeGroupID}},
	{"ListChatGroupParticipants", map[string]string{"GroupId": probeGroupID, "Page": jsonParam(page{Index: 1, Size: 1})}},
	{"DeleteChatGroupParticipants", map[string]string{"GroupId": probeGroupID, "List": jsonParam([]participant{{ParticipantNumber: "0"}})}},
}

// probePermissions tries every action of probes. Alibaba Cloud authorizes a
// RAM user's call before the API runs and on resource "*" only (vendor-apis.md
// §3.1, seed 003 "RAM authorization"), so a missing action is refused whatever
// the GroupId (Forbidden.RAM / NoPermission with AccessDeniedDetail, §3.4) and
// the refusal names the action to grant; any other answer (the group does not
// exist) proves the action. Refusals of the caller as a whole (signature,
// throttle, outage) end the probe too, to be tried again.
func (c *Client) probePermissions(ctx context.Context) error {
	for _, p := range probes {
		var err error
		if p.action == "ListChatGroupParticipants" {
			err = c.read(ctx, p.action, p.params, nil)
		} else {
			err = c.write(ctx, p.action, p.params, nil)
		}
		if refused(err) {
			return err
		}
	}
	return nil
}

// refused reports whether a probe's answer refuses the caller rather than the
// made-up GroupId.
func refused(err error) bool {
	for _, class := range []error{vendors.ErrAccessDenied, vendors.ErrUnauthorized, vendors.ErrRateLimited, vendors.ErrQuotaExceeded, vendors.ErrBusy} {
		if errors.Is(err, class) {
			return true
		}
	}
	return false
}
