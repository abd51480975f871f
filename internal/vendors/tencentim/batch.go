package tencentim

import (
	"context"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// BatchSize implements vendors.BatchObserver: get_group_info takes at most 50
// GroupIds (https://trtc.io/document/34961).
func (c *Client) BatchSize() int { return groupInfoCap }

// groupInfoCap is get_group_info's GroupIdList cap.
const groupInfoCap = 50

// ObserveBatch implements vendors.BatchObserver with one get_group_info call
// per 50 groups. Its unfiltered answer carries each group's profile, custom data
// and member list, so the comparison is Observe's. A group the answer reports
// with an error (gone, or any other code), or whose member list is shorter than
// its MemberNum, is reported changed: Observe reads it on its own.
func (c *Client) ObserveBatch(ctx context.Context, items []vendors.BatchItem) ([]bool, error) {
	out := make([]bool, len(items))
	for start := 0; start < len(items); start += groupInfoCap {
		chunk := items[start:min(start+groupInfoCap, len(items))]
		ids := make([]string, len(chunk))
		for i, it := range chunk {
			ids[i] = it.ID
		}
		var resp groupInfoResponse
		if err := c.do(ctx, read("get_group_info", ""), groupInfoRequest{GroupIDs: ids}, &resp); err != nil {
			return nil, err
		}
		byID := make(map[string]groupInfo, len(resp.Groups))
		for _, gi := range resp.Groups {
			byID[gi.GroupID] = gi
		}
		for i, it := range chunk {
			gi, ok := byID[it.ID]
			out[start+i] = ok && unchanged(gi, it)
		}
	}
	return out, nil
}

// unchanged reports whether a get_group_info entry shows the group matching
// it.Want with the member count last recorded.
func unchanged(gi groupInfo, it vendors.BatchItem) bool {
	if gi.ErrorCode != 0 {
		return false
	}
	g := fromInfo(gi)
	if g.Type != avChatRoom {
		if len(gi.MemberList) < gi.MemberNum {
			return false // a partial list proves nothing
		}
		g.Members = make([]string, 0, len(gi.MemberList))
		for _, m := range gi.MemberList {
			g.Members = append(g.Members, m.Account)
			if m.Role == "Owner" && g.Owner == "" {
				g.Owner = m.Account
			}
		}
	}
	if g.Members != nil && len(g.Members) != it.MemberCount {
		return false // status needs the new count
	}
	upToDate, _ := compare(it.Want, g)
	return upToDate
}
