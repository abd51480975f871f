package dingtalk

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// TestSceneGroups walks the scene-group APIs as vendor-apis.md §1.4.5 documents
// them: snake_case writes, camelCase reads, the 30-character title, the
// template, uuid dedupe, members and disband.
func TestSceneGroups(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	f.AddTemplate("tpl")
	tok := f.token(t)
	create := func(body map[string]any) response {
		return f.do(t, "POST", "/v1.0/im/sceneGroup/create", tok, body)
	}
	valid := func() map[string]any {
		return map[string]any{"title": strings.Repeat("群", 30), "template_id": "tpl", "owner_user_id": "owner",
			"user_ids": []string{"u1", "u2"}, "uuid": "uid-1", "management_options": map[string]int{"searchable": 1}}
	}

	for name, tc := range map[string]struct {
		mod  func(map[string]any)
		code string
	}{
		"title over 30 characters": {func(b map[string]any) { b["title"] = strings.Repeat("群", 31) }, CodeParameterInvalid},
		"unknown template":         {func(b map[string]any) { b["template_id"] = "nope" }, CodeTemplateNotFound},
		"unknown owner":            {func(b map[string]any) { b["owner_user_id"] = "ghost" }, CodeMemberNotFound},
		"unknown member":           {func(b map[string]any) { b["user_ids"] = []string{"ghost"} }, CodeMemberNotFound},
		"camelCase field":          {func(b map[string]any) { b["templateId"] = b["template_id"]; delete(b, "template_id") }, CodeParameterInvalid},
	} {
		b := valid()
		tc.mod(b)
		r := create(b)
		g.Expect(r.status).To(Equal(400), name)
		g.Expect(r.str("code")).To(Equal(tc.code), name)
	}
	g.Expect(f.SceneGroupsTitled(strings.Repeat("群", 30))).To(BeEmpty(), "refused creates make nothing")

	first := create(valid())
	g.Expect(first.status).To(Equal(200), "%v", first.body)
	cid := first.str("open_conversation_id")
	g.Expect(cid).To(HavePrefix("cid"))
	again := create(valid())
	g.Expect(again.str("open_conversation_id")).To(Equal(cid), "the same uuid returns the same group")
	g.Expect(again.str("chat_id")).To(Equal(first.str("chat_id")))
	g.Expect(f.SceneGroupsTitled(strings.Repeat("群", 30))).To(HaveLen(1))
	other := valid()
	other["uuid"] = "uid-2"
	g.Expect(create(other).str("open_conversation_id")).NotTo(Equal(cid), "another uuid is another group")

	q := f.do(t, "POST", "/v1.0/im/sceneGroups/query", tok, map[string]any{"openConversationId": cid})
	g.Expect(q.str("ownerUserId")).To(Equal("owner"))
	g.Expect(q.str("templateId")).To(Equal("tpl"))

	g.Expect(f.do(t, "POST", "/v1.0/im/sceneGroup/member/add", tok, map[string]any{"open_conversation_id": cid, "user_ids": []string{"u3"}}).status).To(Equal(200))
	g.Expect(f.do(t, "POST", "/v1.0/im/sceneGroup/update", tok, map[string]any{"open_conversation_id": cid, "owner_user_id": "u4"}).status).
		To(Equal(400), "a new owner must be a member first")
	g.Expect(f.do(t, "POST", "/v1.0/im/sceneGroup/update", tok, map[string]any{"open_conversation_id": cid, "owner_user_id": "u3", "title": "new"}).status).To(Equal(200))
	g.Expect(f.do(t, "POST", "/v1.0/im/sceneGroup/member/delete", tok, map[string]any{"open_conversation_id": cid, "user_ids": []string{"u3"}}).status).
		To(Equal(400), "the owner cannot be removed")
	g.Expect(f.do(t, "POST", "/v1.0/im/sceneGroup/member/delete", tok, map[string]any{"open_conversation_id": cid, "user_ids": []string{"owner"}}).status).To(Equal(200))

	page := f.do(t, "POST", "/v1.0/im/sceneGroups/members/batchQuery", tok, map[string]any{"openConversationId": cid, "maxResults": 2})
	g.Expect(page.body["hasMore"]).To(BeTrue())
	rest := f.do(t, "POST", "/v1.0/im/sceneGroups/members/batchQuery", tok, map[string]any{"openConversationId": cid, "maxResults": 2, "nextToken": page.str("nextToken")})
	g.Expect(rest.body["hasMore"]).To(BeFalse())
	sg, _ := f.SceneGroup(cid)
	g.Expect(sg.Title).To(Equal("new"))
	g.Expect(sg.Members).To(Equal([]string{"u1", "u2", "u3"}))

	g.Expect(f.do(t, "POST", "/v1.0/im/chat/scenegroup/disband", tok, map[string]any{"openConversationId": cid}).status).To(Equal(200))
	_, ok := f.SceneGroup(cid)
	g.Expect(ok).To(BeFalse())
	g.Expect(f.do(t, "POST", "/v1.0/im/sceneGroups/query", tok, map[string]any{"openConversationId": cid}).status).To(Equal(400))
}
