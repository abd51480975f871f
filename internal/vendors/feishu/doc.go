// Package feishu is the client for Feishu (open.feishu.cn) and Lark
// (open.larksuite.com) group chats, one API (IM v1), with an internal app's
// tenant_access_token (bot identity). Its reference is
// ../shared/docs/vendor-apis-feishu.md, cited by section.
//
// Decisions on the reference's open questions (§11) that the client depends on:
//   - Q1 (a repeated create with the same uuid): answered with the first chat,
//     code 0. Find therefore says "create again" and the repeat dedupes. Were it
//     an error instead, the repeat would fail visibly (not make a second chat).
//   - Q3 (get after dissolve): 232009 and 232006 both mean gone, and a
//     chat_status of dissolved or dissolved_save too.
//   - Q4 (adding a member or removing a non-member): no-op successes; the client
//     diffs against the member list first, so neither is sent on purpose.
//   - Q5 (may the creator bot transfer a user-owned chat): yes, with
//     im:chat:operate_as_owner (D-update lists owner_id among what it may change).
//     The bot is also made a manager at create (set_bot_manager) so member
//     changes keep working without that scope.
//   - Q7 (read-after-write lag): none assumed; a lagging read only makes the
//     next pass repeat an idempotent change.
//   - Q9 (HTTP status of token errors): the code decides, whatever the status.
//
// Members are added with succeed_type=1: Feishu adds every usable ID and names
// the rest, which the client returns as a vendors.UnknownMembersError once the
// whole change is applied.
package feishu
