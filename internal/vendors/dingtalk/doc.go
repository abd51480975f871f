// Package dingtalk manages DingTalk regular (internal) groups for the ChatGroup
// operator, as an internal app.
//
// APIs (vendor-apis.md §1; shared/vendor-docs 000 and 002):
//   - POST {endpoint}/v1.0/oauth2/accessToken with appKey/appSecret: the access
//     token, cached per credential and refreshed at 90% of expireIn or once when
//     the vendor refuses it (HTTP 401, errcode 40014);
//   - POST /v1.0/im/group/create and /v1.0/im/group/update, token in the
//     x-acs-dingtalk-access-token header;
//   - GET {legacyEndpoint}/chat/get?access_token=…&chatid=…, the only documented
//     read of a regular group's owner and members;
//   - POST /v1.0/im/innerGroups/search, a keyword search in one user's groups.
//
// The group ID is the chatid; the openConversationId from create is reported as
// well. Every call goes through the shared vendors.Caller: the credential's rate
// limiter first (one bucket per API; the vendor allows 20 calls per second per
// API per app), redirects refused (the legacy token rides in the query string),
// bounded answers, the token and app secret kept out of errors, and a reconcile
// pass's repeated chat/get answered from its first. Every ID list of one call
// holds at most 40 IDs (the legacy documented cap; the v1.0 pages do not state
// one). Answers are classified by errors.go's code tables: only codes the
// vendor documents as the caller's mistake are ErrInvalid; missing permissions
// are ErrAccessDenied; anything undocumented is ErrUnavailable.
//
// Where the pages are silent the client takes the safe reading: managementOptions
// always carries all six flags; a new owner joins before ownership moves, and the
// previous owner leaves only after; chat/get fields beyond those the page lists
// (icon, extidlist) are compared only when present. Groups found by
// innerGroups/search come back as openConversationIds, which no documented API
// turns into chatids, so Find cannot adopt them (see Find).
//
// Documentation:
//   - https://help.dingtalk.io/open/development/obtain-the-access-token-of-an-internal-app
//   - https://help.dingtalk.io/open/development/create-common-group-new-version-v2
//   - https://help.dingtalk.io/open/development/obtain-a-group-session
//   - https://open.dingtalk.com/document/development/how-to-process-api-throttling-on-the-dingtalk-server
package dingtalk
