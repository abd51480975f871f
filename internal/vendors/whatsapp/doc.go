// Package whatsapp manages WhatsApp groups through Alibaba Cloud Chat App Message
// Service (CAMS, API version 2020-06-06,
// https://www.alibabacloud.com/help/en/chatapp/developer-reference/api-cams-2020-06-06-updatechatgroup
// and its sibling pages).
//
// Transport. CAMS is an RPC-style Alibaba Cloud API: every call is POST / with the
// action's parameters in the query string (arrays and structs as JSON strings),
// CustSpaceId and BusinessNumber on every call, signed with ACS3-HMAC-SHA256 (the
// "V3" signature) from the provider's accessKeyID and accessKeySecret. The official
// SDK cannot be fetched here, so auth.go signs by hand; its test reproduces the
// signature from Alibaba Cloud's published worked example byte for byte. A call
// succeeded when the body's Code is "OK" (the documentation shows Success:false next
// to Code "OK", so Success is ignored).
//
// What WhatsApp groups allow, and how the operator maps them:
//   - Creation is asynchronous and returns no group ID: AddChatGroup returns a
//     UniqueCode and the group shows up in ListChatGroup as CREATING, then ACTIVE.
//     Create never returns an ID; it returns an ErrInProgress error and the
//     controller finds the group by subject (Find) once it is ACTIVE. Before
//     creating, Create looks for a group with the same subject, so a lost response
//     or a restart never makes a second group.
//   - There is no "get group": Observe lists groups by subject (the spec's name)
//     and pages through all groups when the subject has changed.
//   - Members cannot be added: they join through an invite link. Listed members
//     who have not joined are reported as PendingMembers with the group's current
//     InviteLink; Update opens a link (AddChatGroupInviteLink) while anyone is
//     pending and revokes it (DeleteChatGroupInviteLink) once nobody is. A group
//     whose only difference from the spec is pending invitees with an open link
//     is up to date: the operator has done everything it can, so Ready is True
//     while MembersSynced is False with reason AwaitingInvitees.
//   - Unlisted participants are removed with DeleteChatGroupParticipants. The
//     business number administers the group and is never removed.
//   - Phone numbers are compared without a leading "+", because CAMS spells them
//     without one (its examples show "8613800***").
//   - Subject, Description and ProfilePictureFile (spec.icon) are the mutable
//     settings; UpdateChatGroup sends only those that differ.
//
// Every ChatGroup API is a Meta beta feature: the Alibaba Cloud account must be on
// CAMS's allowlist, and the RAM user needs the cams:*ChatGroup* actions. Forbidden*
// and NoPermission* answers are ErrAccessDenied and name the action to grant.
// Only codes documented as the caller's mistake are ErrInvalid; a code errors.go
// does not know is ErrUnavailable (retried, shown in status), as is a group
// still UPDATING. CAMS documents no rate limit for these actions; the operator
// paces calls at 10/s per action and credential.
//
// Every call goes through vendors.Caller: pacing, pass reads (a read is keyed
// by its action and parameters), redirects refused, bounded bodies, and the
// signature and secret kept out of errors.
package whatsapp
