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

// codeClasses maps vendor codes to error classes. Codes not listed are ErrInvalid:
// the vendor rejected the request's content, and the same request cannot succeed.
var codeClasses = map[int]error{
	// Frequency limits: retry after a pause.
	60007: vendors.ErrRateLimited, // REST call frequency over the limit
	60011: vendors.ErrRateLimited, // SDKAppID request frequency over the limit
	60018: vendors.ErrRateLimited, // too frequent, retry later
	60019: vendors.ErrRateLimited, // too frequent, retry later
	10006: vendors.ErrRateLimited, // group operation frequency limit
	70050: vendors.ErrRateLimited, // signature checks failed too often: locked for a minute

	// Transient faults: the request may or may not have taken effect.
	10002: vendors.ErrUnavailable, // internal error, retry
	60008: vendors.ErrUnavailable, // service timeout
	60014: vendors.ErrUnavailable, // account swap timeout

	// The account settings are wrong: fixable in the provider or its Secret only.
	60004: vendors.ErrUnauthorized,
	60005: vendors.ErrUnauthorized,
	60006: vendors.ErrUnauthorized,
	60010: vendors.ErrUnauthorized,
	60021: vendors.ErrUnauthorized,
	70001: vendors.ErrUnauthorized, // still expired after one regeneration
	70003: vendors.ErrUnauthorized,
	70009: vendors.ErrUnauthorized,
	70013: vendors.ErrUnauthorized,
	70014: vendors.ErrUnauthorized,
	70016: vendors.ErrUnauthorized,
	70020: vendors.ErrUnauthorized,

	// The group is gone.
	codeGroupNotFound:  vendors.ErrNotFound,
	codeGroupIDInvalid: vendors.ErrNotFound,
}

// advice says what a user should check for codes whose vendor text does not.
var advice = map[int]string{
	60004: "the UserSig was rejected; check the secretKey in the credentials Secret and spec.tencentIM.adminIdentifier",
	60005: "the UserSig was rejected; check the secretKey in the credentials Secret and spec.tencentIM.adminIdentifier",
	60006: "the SDKAppID is not valid; check spec.tencentIM.sdkAppID",
	60010: "the request needs an App admin; spec.tencentIM.adminIdentifier must be an App admin account in the IM console",
	60021: "the operator's source IP is not in the app's IP allow-list in the IM console",
	70001: "the UserSig expired again right after it was regenerated; check the operator host's clock",
	70003: "the UserSig could not be parsed; check the secretKey in the credentials Secret",
	70009: "the UserSig signature did not verify; check that the secretKey in the credentials Secret is the app's key",
	70013: "the UserSig is for another account; check spec.tencentIM.adminIdentifier",
	70014: "the UserSig is for another SDKAppID; check spec.tencentIM.sdkAppID and that the secretKey belongs to that app",
	70016: "the vendor has no key for this SDKAppID; check spec.tencentIM.sdkAppID and that spec.endpoint is the app's region domain",
	70020: "the SDKAppID is not served at this endpoint; set spec.endpoint to the domain of the app's region (e.g. https://adminapisgp.im.qcloud.com for Singapore)",
	70050: "too many failed signature checks; the vendor locks the account for a minute, check the secretKey in the credentials Secret",
}

// retryAfter overrides throttleDelay for codes the vendor documents a longer pause for.
var retryAfter = map[int]time.Duration{70050: time.Minute}

// queryString matches a query string in vendor text, also of a relative URL
// (vendors.Sanitize catches absolute ones): the request's query carries the UserSig.
var queryString = regexp.MustCompile(`\?[^\s"'?]*=[^\s"']*`)

// memberCodes name members (accounts) as the cause: not imported, or in too many
// groups, or the group is full.
var memberCodes = []int{10014, 10019, 10037, 10038, 70107}

// classify turns a vendor error code into a classified error for command.
func classify(command string, code int, info string) *vendors.Error {
	class, ok := codeClasses[code]
	if !ok {
		class = vendors.ErrInvalid
	}
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
// API outcome, so anything else is an infrastructure fault or a wrong endpoint.
func statusError(command string, status int) *vendors.Error {
	switch {
	case status == http.StatusTooManyRequests:
		return &vendors.Error{Class: vendors.ErrRateLimited, Op: command, Code: strconv.Itoa(status),
			Message: "throttled by the endpoint", RetryAfter: throttleDelay}
	case status >= 500:
		return vendors.NewError(vendors.ErrUnavailable, command, strconv.Itoa(status), "the endpoint failed with HTTP "+strconv.Itoa(status))
	}
	return vendors.NewError(vendors.ErrUnavailable, command, strconv.Itoa(status),
		"unexpected HTTP "+strconv.Itoa(status)+"; check that spec.endpoint is the Tencent IM REST API domain of the app's region")
}

// hasCode reports whether err is a vendor error with one of codes.
func hasCode(err error, codes ...int) bool {
	var e *vendors.Error
	if !errors.As(err, &e) {
		return false
	}
	for _, c := range codes {
		if e.Code == strconv.Itoa(c) {
			return true
		}
	}
	return false
}
