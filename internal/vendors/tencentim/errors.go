package tencentim

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// Vendor codes the client acts on, beyond classifying them.
const (
	codeUserSigExpired     = 70001 // regenerate the UserSig and retry once
	codeGroupNotFound      = 10010 // the group does not exist or was dismissed
	codeGroupIDInvalid     = 10015 // no group with this ID
	codeGroupIDUsed        = 10021 // GroupId taken (by someone else's create)
	codeGroupIDUsedByAdmin = 10025 // GroupId taken, and the caller owns that group
)

// throttleDelay is how long to wait after the vendor throttled a call. Its limits
// are per second, and it sends no Retry-After.
const throttleDelay = time.Second

// codes is the vendor's code table: the REST common error table and the group
// error table of vendor-apis.md §2.4. A code not listed (or a code the vendor
// adds later) is ErrUnavailable: retried with backoff and shown in status, never
// a stall, since nothing says the spec is at fault.
var codes = vendors.Codes{
	// Throttled (§2.4 "retry with backoff"; 70050 "retry after 1 min").
	"60007": vendors.ErrRateLimited, // REST call frequency over the limit
	"60011": vendors.ErrRateLimited, // SDKAppID request frequency over the limit
	"60018": vendors.ErrRateLimited, // too frequent, retry later
	"60019": vendors.ErrRateLimited, // too frequent, retry later
	"10006": vendors.ErrRateLimited, // group operation frequency limit
	"70050": vendors.ErrRateLimited, // signature checks failed too often: locked for a minute

	// Transient (§2.4 "retry"): the request may or may not have taken effect
	// (ambiguous). The vendor documents no "busy, not processed" code: only the
	// throttle codes above and an HTTP 503 or 429 on the way are definite.
	"10002": vendors.ErrUnavailable, // internal error
	"60008": vendors.ErrUnavailable, // service timeout
	"60014": vendors.ErrUnavailable, // account swap timeout

	// The credentials or account settings are wrong (§2.1, §2.2, §2.4): fixed
	// in the provider or its Secret.
	"60004": vendors.ErrUnauthorized, // account or signature error
	"60005": vendors.ErrUnauthorized, // account or signature error
	"60006": vendors.ErrUnauthorized, // SDKAppID invalid
	"60010": vendors.ErrUnauthorized, // the identifier is not an App admin
	"70001": vendors.ErrUnauthorized, // UserSig expired, still after one regeneration
	"70003": vendors.ErrUnauthorized, // UserSig unparsable
	"70009": vendors.ErrUnauthorized, // UserSig signature does not verify
	"70013": vendors.ErrUnauthorized, // UserSig for another identifier
	"70014": vendors.ErrUnauthorized, // UserSig for another SDKAppID
	"70016": vendors.ErrUnauthorized, // no key for the SDKAppID
	"70020": vendors.ErrUnauthorized, // SDKAppID not in this data centre

	// Permissions and features granted in the IM console (§2.4): retried slowly;
	// the message names what to grant.
	"10007": vendors.ErrAccessDenied, // insufficient permission
	"10026": vendors.ErrAccessDenied, // command disabled for this SDKAppID
	"60016": vendors.ErrAccessDenied, // SDKAppID disabled
	"60017": vendors.ErrAccessDenied, // request disabled
	"60021": vendors.ErrAccessDenied, // source IP not in the allow-list
	"70051": vendors.ErrAccessDenied, // account blacklisted

	// Paid quotas and plans (§2.4 "purchase"): retrying cannot succeed soon.
	"10036": vendors.ErrQuotaExceeded, // live-group (AVChatRoom) quota
	"60020": vendors.ErrQuotaExceeded, // paid plan expired

	// The group is gone (§2.3 get_group_info and destroy_group, §2.5): these two
	// codes only, matched exactly.
	"10010": vendors.ErrNotFound, // group does not exist or was dismissed
	"10015": vendors.ErrNotFound, // group ID not found

	// The caller's mistake (§2.3, §2.4): the same request cannot succeed.
	"60002": vendors.ErrInvalid, // HTTP parse error
	"60003": vendors.ErrInvalid, // JSON parse error
	"60009": vendors.ErrInvalid, // bad resource URL
	"60012": vendors.ErrInvalid, // missing SDKAppID
	"60015": vendors.ErrInvalid, // account must be a string
	"10003": vendors.ErrInvalid, // bad command
	"10004": vendors.ErrInvalid, // bad parameter (limits, immutable fields, owner not a member)
	"10005": vendors.ErrInvalid, // too many accounts in the request
	"10013": vendors.ErrInvalid, // invitee already a member
	"10014": vendors.ErrInvalid, // group full
	"10016": vendors.ErrInvalid, // rejected by the app's own callback
	"10019": vendors.ErrInvalid, // account does not exist
	"10021": vendors.ErrInvalid, // GroupId already used
	"10025": vendors.ErrInvalid, // GroupId already used by the caller
	"10037": vendors.ErrInvalid, // an account is in as many groups as it may be
	"10038": vendors.ErrInvalid, // member-count quota
	"70107": vendors.ErrInvalid, // account not imported
	"80001": vendors.ErrInvalid, // content filter
}

// advice says what a user should check or grant, for codes whose vendor text
// does not.
var advice = map[int]string{
	60004: "the UserSig was rejected; check the secretKey in the credentials Secret and spec.tencentIM.adminIdentifier",
	60005: "the UserSig was rejected; check the secretKey in the credentials Secret and spec.tencentIM.adminIdentifier",
	60006: "the SDKAppID is not valid; check spec.tencentIM.sdkAppID",
	60009: "the vendor has no such REST resource; check that spec.endpoint is the REST API domain without a path",
	60010: "the request needs an App admin; spec.tencentIM.adminIdentifier must be an App admin account in the IM console",
	60016: "the SDKAppID is disabled; enable the app in the IM console",
	60017: "the app's REST requests are disabled; enable the REST API for the app in the IM console",
	60020: "the app's paid plan has expired; renew it in the IM console",
	60021: "the operator's source IP is not in the app's IP allow-list; add it to the allow-list in the IM console",
	70001: "the UserSig expired again right after it was regenerated; check the operator host's clock",
	70003: "the UserSig could not be parsed; check the secretKey in the credentials Secret",
	70009: "the UserSig signature did not verify; check that the secretKey in the credentials Secret is the app's key",
	70013: "the UserSig is for another account; check spec.tencentIM.adminIdentifier",
	70014: "the UserSig is for another SDKAppID; check spec.tencentIM.sdkAppID and that the secretKey belongs to that app",
	70016: "the vendor has no key for this SDKAppID; check spec.tencentIM.sdkAppID and that spec.endpoint is the app's region domain",
	70020: "the SDKAppID is not served at this endpoint; set spec.endpoint to the domain of the app's region (e.g. https://adminapisgp.im.qcloud.com for Singapore)",
	70050: "too many failed signature checks; the vendor locks the account for a minute, check the secretKey in the credentials Secret",
	70051: "the account is blacklisted; remove spec.tencentIM.adminIdentifier from the app's blacklist in the IM console",
	10007: "the operator's account lacks the permission; grant spec.tencentIM.adminIdentifier the App admin role in the IM console",
	10026: "the command is disabled for this SDKAppID; enable the group feature it needs (e.g. Community groups) for the app in the IM console",
	10036: "the app's live-group (AVChatRoom) quota is used up; raise it in the IM console",
}

// retryAfter overrides throttleDelay for codes the vendor documents a longer pause for.
var retryAfter = map[int]time.Duration{70050: time.Minute}

// queryString matches a query string in vendor text, also of a relative URL
// (vendors.Sanitize catches absolute ones): the request's query carries the UserSig.
var queryString = regexp.MustCompile(`\?[^\s"'?]*=[^\s"']*`)

// memberCodes name members (accounts) as the cause: not imported, or in too many
// groups, or the group is full.
var memberCodes = []int{10014, 10019, 10037, 10038, 70107}

// classify turns a vendor error code into a classified error for command: the
// class from codes, the vendor's code and text, and advice where there is some.
func classify(command string, code int, info string) *vendors.Error {
	class := codes.Class(strconv.Itoa(code))
	info = queryString.ReplaceAllString(info, "?[redacted]")
	msg := info
	if a, ok := advice[code]; ok {
		msg = a
		if info != "" {
			msg += " (vendor says: " + info + ")"
		}
	}
	e := vendors.NewError(class, command, strconv.Itoa(code), msg)
	if class == vendors.ErrRateLimited {
		e.RetryAfter = throttleDelay
		if d, ok := retryAfter[code]; ok {
			e.RetryAfter = d
		}
	}
	if class == vendors.ErrInvalid {
		e.Field = fieldFor(command, code)
	}
	return e
}

// fieldFor names the spec field an invalid-request code points at, when the
// command makes it clear.
func fieldFor(command string, code int) string {
	if !slices.Contains(memberCodes, code) {
		return ""
	}
	if command == "change_group_owner" {
		return "owner"
	}
	return "members"
}

// statusError classifies a non-200 HTTP answer. The vendor answers 200 for every
// API outcome (vendor-apis.md §2.1), so anything else is an infrastructure fault
// or a wrong endpoint: ErrUnavailable (ambiguous), except a 429 or 503 on the
// way, which say the request was not processed (definite: vendors.StatusClass).
func statusError(command string, status int) *vendors.Error {
	switch {
	case status == http.StatusTooManyRequests:
		return &vendors.Error{Class: vendors.ErrRateLimited, Op: command, Code: strconv.Itoa(status),
			Message: "throttled by the endpoint", RetryAfter: throttleDelay}
	case status >= 500:
		return vendors.NewError(vendors.StatusClass(status), command, strconv.Itoa(status), "the endpoint failed with HTTP "+strconv.Itoa(status))
	}
	return vendors.NewError(vendors.ErrUnavailable, command, strconv.Itoa(status),
		"unexpected HTTP "+strconv.Itoa(status)+"; check that spec.endpoint is the Tencent IM REST API domain of the app's region")
}

// hasCode reports whether err is a vendor error with one of the codes want.
func hasCode(err error, want ...int) bool {
	var e *vendors.Error
	if !errors.As(err, &e) {
		return false
	}
	for _, c := range want {
		if e.Code == strconv.Itoa(c) {
			return true
		}
	}
	return false
}
