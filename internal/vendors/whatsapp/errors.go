package whatsapp

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// apiError classifies a CAMS error from its HTTP status and body Code, and says
// what to do about it. message is the vendor's text, already scrubbed of the
// request's signature and secret.
func apiError(action string, status int, code, message string, after time.Duration) *vendors.Error {
	class := classOf(status, code)
	e := vendors.NewError(class, action, code, advice(action, code, message))
	switch class {
	case vendors.ErrRateLimited:
		e.RetryAfter = max(after, time.Second)
	case vendors.ErrInvalid:
		if e.Field = fieldOf(code); e.Field == "" { // the code names the parameter more surely than the text
			e.Field = fieldOf(message)
		}
	}
	return e
}

// classOf maps a CAMS error onto a class. Codes decide where they are known
// (Alibaba Cloud answers InvalidAccessKeyId.NotFound with 404, which must not
// read as "group not found"); the HTTP status decides otherwise.
func classOf(status int, code string) error {
	has := func(prefixes ...string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(code, p) {
				return true
			}
		}
		return false
	}
	switch {
	case has("Throttling"):
		return vendors.ErrRateLimited
	case has("ServiceUnavailable", "InternalError", "SignatureNonceUsed"):
		// a reused nonce is a fluke of the random source: the next call has a new one
		return vendors.ErrUnavailable
	case has("SignatureDoesNotMatch", "IncompleteSignature", "InvalidAccessKeyId", "InvalidTimeStamp", "Forbidden", "NoPermission"):
		return vendors.ErrUnauthorized
	case strings.Contains(code, "NotFound") || strings.Contains(code, "NotExist"):
		return vendors.ErrNotFound
	case has("InvalidParameter", "MissingParameter", "Missing"):
		return vendors.ErrInvalid
	}
	switch {
	case status == http.StatusTooManyRequests:
		return vendors.ErrRateLimited
	case status >= 500:
		return vendors.ErrUnavailable
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return vendors.ErrUnauthorized
	case status == http.StatusNotFound:
		return vendors.ErrNotFound
	}
	return vendors.ErrInvalid
}

// advice is the error's message: what the user should check. For signature
// errors the vendor's own text is dropped, because Alibaba Cloud quotes its
// string-to-sign there.
func advice(action, code, message string) string {
	switch {
	case strings.HasPrefix(code, "SignatureDoesNotMatch"), strings.HasPrefix(code, "IncompleteSignature"):
		return "CAMS rejected the request signature; check that accessKeySecret in the provider's credentials Secret belongs to its accessKeyID"
	case strings.HasPrefix(code, "InvalidAccessKeyId"):
		return "CAMS does not know this AccessKey ID or it is disabled; check accessKeyID in the provider's credentials Secret and that the key is enabled in the RAM console"
	case strings.HasPrefix(code, "InvalidTimeStamp"):
		return "CAMS rejected the request time; the operator's clock must be within 15 minutes of UTC"
	case strings.HasPrefix(code, "Forbidden"), strings.HasPrefix(code, "NoPermission"):
		return "the account may not call " + action + "; grant the RAM user cams:" + action +
			" and make sure the Alibaba Cloud account is on the CAMS chat-group allowlist (a Meta beta feature; ask the account manager)" +
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

// unexpectedResponse classifies a response that is not a CAMS envelope (a proxy
// or load balancer answered, or the endpoint is not CAMS). Nothing proves the
// call had no effect, so it is never a definite error.
func unexpectedResponse(action string, status int) *vendors.Error {
	if status == http.StatusTooManyRequests {
		return &vendors.Error{Class: vendors.ErrRateLimited, Op: action, Message: "HTTP 429", RetryAfter: time.Second}
	}
	msg := "unexpected HTTP " + strconv.Itoa(status) + " response without a CAMS error code"
	if status < 500 {
		msg += "; check that the provider's endpoint is CAMS (" + DefaultEndpoint + ")"
	}
	return vendors.NewError(vendors.ErrUnavailable, action, "", msg)
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
