package whatsapp

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// CAMS's error codes and their classes. vendor-apis.md §3.4: a call failed when
// the body's Code is not "OK"; CAMS's own code page was not retrieved, so the
// table holds the Alibaba Cloud gateway codes the reference gives as
// retryable (Throttling*, ServiceUnavailable, InternalError) and permanent
// (InvalidParameter*, Forbidden* / not allowlisted, InvalidAccessKeyId*), the
// signature V3 codes (§3.1), and the one group-gone code. Anything else, and
// any answer that is not a CAMS envelope, is ErrUnavailable: retried and shown
// with its code, never a stall (vendors.Codes).
var codes = vendors.Codes{
	// Flow control (§3.4 "Throttling*").
	"Throttling":      vendors.ErrRateLimited,
	"Throttling.User": vendors.ErrRateLimited,
	"Throttling.Api":  vendors.ErrRateLimited,
	// Transient (§3.4). ServiceUnavailable is the gateway's "temporary failure,
	// not processed" and a reused nonce is refused by the signature check before
	// the action runs (a fluke of the random source: the next call has a new
	// one): both definite (ErrBusy). InternalError may come after the action ran:
	// ambiguous.
	"ServiceUnavailable": vendors.ErrBusy,
	"InternalError":      vendors.ErrUnavailable,
	"SignatureNonceUsed": vendors.ErrBusy,
	// A wrong endpoint or API version (not CAMS, or a proxy): not the group's
	// absence, so it must never release a finalizer.
	"InvalidAction.NotFound": vendors.ErrUnavailable,
	"InvalidVersion":         vendors.ErrUnavailable,
	// The credentials or the request's signature (§3.1, §3.4 "InvalidAccessKeyId*").
	"SignatureDoesNotMatch":       vendors.ErrUnauthorized,
	"IncompleteSignature":         vendors.ErrUnauthorized,
	"InvalidAccessKeyId.NotFound": vendors.ErrUnauthorized,
	"InvalidAccessKeyId.Inactive": vendors.ErrUnauthorized,
	"InvalidTimeStamp.Expired":    vendors.ErrUnauthorized,
	"InvalidTimeStamp.Format":     vendors.ErrUnauthorized,
	// The caller's mistake (§3.4 "InvalidParameter*"; required parameters, §3.2).
	"MissingParameter": vendors.ErrInvalid,
	"InvalidParameter": vendors.ErrInvalid,
	// The group is gone. Matched exactly: a code that merely contains
	// "NotFound" (a wrong action, an unknown AccessKey) says nothing about the
	// group.
	"GroupNotExist": vendors.ErrNotFound,
}

// families are the code families vendor-apis.md gives with a wildcard, by
// prefix. Only these are matched by prefix; the group-gone code never is.
var families = []struct {
	prefix string
	class  error
}{
	{"Throttling.", vendors.ErrRateLimited},          // §3.4 "Throttling*"
	{"InvalidParameter.", vendors.ErrInvalid},        // §3.4 "InvalidParameter*": InvalidParameter.Subject and the like
	{"MissingParameter.", vendors.ErrInvalid},        // the same, for a missing one
	{"InvalidAccessKeyId.", vendors.ErrUnauthorized}, // §3.4 "InvalidAccessKeyId*"
	// §3.1 and §3.4 "Forbidden* / not-allowlisted": the RAM user lacks a
	// cams:* action, or the account is not on the chat-group allowlist. Both
	// are granted in a console, not in the spec.
	{"Forbidden", vendors.ErrAccessDenied},
	{"NoPermission", vendors.ErrAccessDenied},
}

// classOf maps a CAMS error code onto a class: the table, then the families,
// and ErrUnavailable for a code neither knows.
func classOf(code string) error {
	if class, ok := codes[code]; ok {
		return class
	}
	for _, f := range families {
		if strings.HasPrefix(code, f.prefix) {
			return f.class
		}
	}
	return codes.Class(code)
}

// envelope is the part every CAMS answer has (vendor-apis.md §3.4).
type envelope struct {
	Code      string
	Message   string
	RequestID string `json:"RequestId"`
	// AccessDeniedDetail is "None" in an answer and an object in the
	// gateway's RAM denial (whose AuthAction the advice names anyway): never
	// decoded, so that either form is read.
	AccessDeniedDetail json.RawMessage
}

// check is the client's reading of an answer (vendors.Check). Success is Code
// "OK" with a 2xx status; the body's Success is ignored, since the
// documentation shows false next to "OK" (§3.2).
func check(action string, r vendors.Response) error {
	var env envelope
	if err := json.Unmarshal(r.Body, &env); err != nil || env.Code == "" {
		return unexpectedResponse(action, r.Status)
	}
	if r.Status >= 200 && r.Status < 300 && env.Code == "OK" {
		return nil
	}
	return apiError(action, r.Status, env.Code, env.Message, retryAfter(r.Header))
}

// apiError classifies a CAMS error and says what to do about it. An HTTP 429
// is a throttle whatever its code says.
func apiError(action string, status int, code, message string, after time.Duration) *vendors.Error {
	class := classOf(code)
	if status == http.StatusTooManyRequests {
		class = vendors.ErrRateLimited
	}
	e := vendors.NewError(class, action, code, advice(action, code, class, signatureLike.ReplaceAllString(message, "[redacted]")))
	switch class {
	case vendors.ErrRateLimited:
		e.RetryAfter = max(after, time.Second) // CAMS documents no delay (§3.4)
	case vendors.ErrInvalid:
		if e.Field = fieldOf(code); e.Field == "" { // the code names the parameter more surely than the text
			e.Field = fieldOf(message)
		}
	}
	return e
}

// signatureLike matches SHA-256-sized hex runs: signatures, and the hashed
// canonical request Alibaba Cloud quotes back when a signature does not match.
var signatureLike = regexp.MustCompile(`\b[0-9a-fA-F]{64}\b`)

// advice is the error's message: what the user should check. For signature
// errors the vendor's own text is dropped, because Alibaba Cloud quotes its
// string-to-sign there.
func advice(action, code string, class error, message string) string {
	switch {
	case code == "SignatureDoesNotMatch", code == "IncompleteSignature":
		return "CAMS rejected the request signature; check that accessKeySecret in the provider's credentials Secret belongs to its accessKeyID"
	case strings.HasPrefix(code, "InvalidAccessKeyId"):
		return "CAMS does not know this AccessKey ID or it is disabled; check accessKeyID in the provider's credentials Secret and that the key is enabled in the RAM console"
	case strings.HasPrefix(code, "InvalidTimeStamp"):
		return "CAMS rejected the request time; the operator's clock must be within 15 minutes of UTC"
	case strings.HasPrefix(code, "Forbidden.RAM"), strings.HasPrefix(code, "NoPermission"):
		return "the RAM user of the provider's AccessKey may not call " + action + "; grant it the RAM action cams:" + action +
			" (a grant is picked up without any change to the spec)" + suffix(message)
	case class == vendors.ErrAccessDenied:
		return "the account may not call " + action + "; grant the RAM user the action cams:" + action +
			" and make sure the Alibaba Cloud account is on the CAMS chat-group allowlist (a Meta beta feature; ask the account manager)" +
			suffix(message)
	case code == "InvalidAction.NotFound", code == "InvalidVersion":
		return "the endpoint does not serve CAMS " + action + " (API " + apiVersion + "); check that the provider's endpoint is CAMS (" + DefaultEndpoint + ")" +
			suffix(message)
	}
	return message
}

func suffix(message string) string {
	if message == "" {
		return ""
	}
	return ": " + message
}

// unexpectedResponse classifies an answer that is not a CAMS envelope (a proxy
// or load balancer answered, a redirect, or the endpoint is not CAMS). Nothing
// proves the call had no effect, so it is never a definite error.
func unexpectedResponse(action string, status int) *vendors.Error {
	if status == http.StatusTooManyRequests {
		return &vendors.Error{Class: vendors.ErrRateLimited, Op: action, Message: "HTTP 429", RetryAfter: time.Second}
	}
	msg := "unexpected HTTP " + strconv.Itoa(status) + " response without a CAMS error code"
	if status < 500 {
		msg += "; check that the provider's endpoint is CAMS (" + DefaultEndpoint + ")"
	}
	// A 503 says the request was not processed (definite); any other status
	// may come after it was (ambiguous).
	return vendors.NewError(vendors.StatusClass(status), action, "", msg)
}

// fieldOf names the spec field a CAMS parameter error is about, or "".
func fieldOf(text string) string {
	for _, f := range []struct{ param, field string }{
		{"ProfilePictureFile", "icon"},
		{"Description", "description"},
		{"Subject", "name"},
		{"ParticipantNumber", "members"},
	} {
		if strings.Contains(text, f.param) {
			return f.field
		}
	}
	return ""
}

// retryAfter reads a Retry-After header in seconds (CAMS usually sends none).
func retryAfter(h http.Header) time.Duration {
	s, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || s <= 0 {
		return 0
	}
	return time.Duration(s) * time.Second
}
