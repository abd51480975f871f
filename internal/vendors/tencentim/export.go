package tencentim

import (
	"context"
	"maps"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

var _ vendors.Lister = (*Client)(nil)

const (
	// listPageSize is get_appid_group_list's Limit maximum (vendor-apis.md §2.3).
	listPageSize = 10000
	// infoBatch is how many groups one get_group_info call reads (GroupIdList
	// holds at most 50).
	infoBatch = 50
	// maxListPages stops a listing that never ends: 10 million groups.
	maxListPages = 1000
)

type (
	groupListPageRequest struct {
		Limit int `json:"Limit"`
		// Next is the cursor: 0 asks for the first page, and a returned 0
		// means the list is complete. The vendor says to parse it as uint64.
		Next uint64 `json:"Next,omitempty"`
	}
	groupListPageResponse struct {
		TotalCount int `json:"TotalCount"`
		GroupIDs   []struct {
			GroupID string `json:"GroupId"`
		} `json:"GroupIdList"`
		Next uint64 `json:"Next"`
	}
)

// ListGroups implements vendors.Lister: get_appid_group_list for the IDs, then
// get_group_info for 50 groups a call and get_group_member_info for each
// group's members. Groups dismissed while the list is read are skipped.
// ObservedGroup.Extra holds the whole profile, for Registration.Export.
func (c *Client) ListGroups(ctx context.Context, progress func(read, total int)) ([]vendors.ObservedGroup, error) {
	ids, err := c.groupIDs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]vendors.ObservedGroup, 0, len(ids))
	for _, batch := range vendors.Batches(ids, infoBatch) {
		var resp groupInfoResponse
		if err := c.do(ctx, read("get_group_info", ""), groupInfoRequest{GroupIDs: batch}, &resp); err != nil {
			return nil, err
		}
		for _, gi := range resp.Groups {
			switch gi.ErrorCode {
			case 0:
			case codeGroupNotFound, codeGroupIDInvalid:
				continue
			default:
				return nil, classify("get_group_info", gi.ErrorCode, gi.ErrorInfo)
			}
			g := fromInfo(gi)
			if g.Type != avChatRoom {
				members, owner, err := c.readMembers(ctx, g)
				if err != nil {
					return nil, err
				}
				g.Members = members
				if g.Owner == "" {
					g.Owner = owner
				}
			}
			o := g.observed()
			o.Extra = g
			out = append(out, o)
			if progress != nil {
				progress(len(out), len(ids))
			}
		}
	}
	return out, nil
}

// groupIDs pages through get_appid_group_list.
func (c *Client) groupIDs(ctx context.Context) ([]string, error) {
	var ids []string
	req := groupListPageRequest{Limit: listPageSize}
	for range maxListPages {
		var resp groupListPageResponse
		if err := c.do(ctx, read("get_appid_group_list", ""), req, &resp); err != nil {
			return nil, err
		}
		for _, g := range resp.GroupIDs {
			ids = append(ids, g.GroupID)
		}
		if resp.Next == 0 || len(resp.GroupIDs) == 0 {
			return ids, nil
		}
		req.Next = resp.Next
	}
	return nil, vendors.NewError(vendors.ErrUnavailable, "get_appid_group_list", "", "the group list did not end")
}

// joinPolicies and invitePolicies map the vendor's ApplyJoinOption and
// InviteJoinOption back to the API's join policies.
var (
	joinPolicies   = inverse(applyJoinOptions)
	invitePolicies = inverse(inviteJoinOptions)
)

func inverse(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

// export writes a group's profile into the spec that adopts it: the texts,
// the settings compare checks, and spec.tencentIM (the group type when not
// the default Private). Settings the group type does not have are left out,
// so that the spec passes validate.
func export(g vendors.ObservedGroup, spec *v1alpha1.ChatGroupSpec) {
	got, ok := g.Extra.(group)
	if !ok {
		return
	}
	spec.Description, spec.Announcement, spec.Icon = got.Introduction, got.Notification, got.FaceURL
	opts := &v1alpha1.ManagementOptions{MuteAll: new(got.MuteAll)}
	if got.Type != private && got.Type != community {
		opts.JoinPolicy = v1alpha1.JoinPolicy(joinPolicies[got.ApplyJoin])
	}
	spec.ManagementOptions = opts
	t := &v1alpha1.TencentIMGroup{AppDefinedData: maps.Clone(got.AppData)}
	if got.Type != private {
		t.GroupType = v1alpha1.TencentIMGroupType(got.Type)
	}
	if got.Type != avChatRoom { // an AVChatRoom has neither
		t.InviteJoinPolicy = v1alpha1.JoinPolicy(invitePolicies[got.InviteJoin])
		if got.MaxMembers > 0 {
			t.MaxMembers = new(int32(got.MaxMembers))
		}
	}
	if t.GroupType != "" || t.InviteJoinPolicy != "" || t.MaxMembers != nil || len(t.AppDefinedData) > 0 {
		spec.TencentIM = t
	}
}
