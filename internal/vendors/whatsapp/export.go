package whatsapp

import (
	"context"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

var _ vendors.Lister = (*Client)(nil)

// ListGroups implements vendors.Lister: every page of ListChatGroup, then
// ListChatGroupParticipants for each live group. Groups being created or
// deleted are skipped. Members leave out the business number, which
// administers every group and is never a listed member; ObservedGroup.Extra
// holds the group as listed, for Registration.Export.
func (c *Client) ListGroups(ctx context.Context, progress func(read, total int)) ([]vendors.ObservedGroup, error) {
	var live []chatGroup
	err := c.scanGroups(ctx, "", func(g chatGroup) bool {
		if g.GroupStatus == statusActive || g.GroupStatus == statusUpdating {
			live = append(live, g)
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	out := make([]vendors.ObservedGroup, 0, len(live))
	for _, g := range live {
		numbers, err := c.participants(ctx, g.GroupID)
		if err != nil {
			return nil, err
		}
		members := make([]string, 0, len(numbers))
		for _, n := range numbers {
			if normalize(n) != normalize(c.businessNumber) {
				members = append(members, n)
			}
		}
		o := observed(g, members, nil)
		o.Invitation = nil // an open invite link is not exported
		o.Extra = g
		out = append(out, o)
		if progress != nil {
			progress(len(out), len(live))
		}
	}
	return out, nil
}

// export writes the group's description into the spec that adopts it. The
// picture is left out: CAMS lists only its own copy of it, never the URL that
// was sent, and compare checks a picture against the hash of the URL the
// operator sent (status.whatsapp.pictureHash), which an adopted group has not.
func export(g vendors.ObservedGroup, spec *v1alpha1.ChatGroupSpec) {
	if got, ok := g.Extra.(chatGroup); ok {
		spec.Description = got.Description
	}
}
