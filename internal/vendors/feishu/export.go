package feishu

import (
	"context"
	"net/http"
	"net/url"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

var _ vendors.Lister = (*Client)(nil)

// maxListPages stops a listing that never ends: a million chats.
const maxListPages = 10000

// ListGroups implements vendors.Lister: the bot's chats (§3.5; oldest first,
// the default sort, which the doc says never skips chats while paging), then
// get and the member pages of each, as Observe reads them. Dissolved chats are
// skipped, and so are chats that vanish between the list and the get.
func (c *Client) ListGroups(ctx context.Context, progress func(read, total int)) ([]vendors.ObservedGroup, error) {
	var ids []string
	token := ""
	for range maxListPages {
		q := url.Values{"user_id_type": {c.idType}, "page_size": {"100"}, "sort_type": {"ByCreateTimeAsc"}}
		if token != "" {
			q.Set("page_token", token)
		}
		var page struct {
			Items []struct {
				ChatID     string `json:"chat_id"`
				ChatStatus string `json:"chat_status"`
			} `json:"items"`
			HasMore   bool   `json:"has_more"`
			PageToken string `json:"page_token"`
		}
		if err := c.do(ctx, call{api: "chat/list", method: http.MethodGet, path: chatsPath, query: q}, &page); err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			if it.ChatStatus == "" || it.ChatStatus == "normal" {
				ids = append(ids, it.ChatID)
			}
		}
		if !page.HasMore || page.PageToken == "" {
			return c.readAll(ctx, ids, progress)
		}
		token = page.PageToken
	}
	return nil, vendors.NewError(vendors.ErrUnavailable, "chat/list", "", "the chat list did not end")
}

func (c *Client) readAll(ctx context.Context, ids []string, progress func(read, total int)) ([]vendors.ObservedGroup, error) {
	out := make([]vendors.ObservedGroup, 0, len(ids))
	for _, id := range ids {
		obs, err := c.Observe(ctx, id, vendors.GroupSpec{})
		if err != nil {
			return nil, err
		}
		if !obs.Exists {
			continue
		}
		out = append(out, obs.Group)
		if progress != nil {
			progress(len(out), len(ids))
		}
	}
	return out, nil
}

// export writes a chat's texts and settings into the spec that adopts it
// (Registration.Export), so that Observe finds nothing to change. The avatar
// is left out: get returns it as a URL, while a spec names an image_key.
func export(g vendors.ObservedGroup, spec *v1alpha1.ChatGroupSpec) {
	info, ok := g.Extra.(chatInfo)
	if !ok {
		return
	}
	spec.Description = info.Description
	aud := map[string]v1alpha1.Audience{"all_members": v1alpha1.Everyone, "only_owner": v1alpha1.OwnerOnly}
	join := map[string]v1alpha1.JoinPolicy{"no_approval_required": v1alpha1.Open, "approval_required": v1alpha1.ApprovalRequired}
	opts := &v1alpha1.ManagementOptions{MentionAll: aud[info.AtAllPermission], ManagedBy: aud[info.EditPermission],
		JoinPolicy: join[info.MembershipApproval]}
	if *opts != (v1alpha1.ManagementOptions{}) {
		spec.ManagementOptions = opts
	}
	f := &v1alpha1.FeishuGroup{ChatType: map[string]v1alpha1.FeishuChatType{"private": "Private", "public": "Public"}[info.ChatType]}
	// The pair is exported only when it is consistent: a spec can hold no other.
	if a := aud[info.AddMemberPermission]; a != "" && (info.ShareCardPermission == "not_allowed") == (a == v1alpha1.OwnerOnly) {
		f.AddMembers = a
	}
	if *f != (v1alpha1.FeishuGroup{}) {
		spec.Feishu = f
	}
}
