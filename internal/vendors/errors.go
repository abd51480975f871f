package vendors

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"time"
	"unicode/utf8"
)

// Error classes. Every vendor maps its HTTP statuses and body codes onto exactly one
// of them; the controller decides what to do from the class alone.
var (
	// ErrNotFound: the group does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: the vendor rejected the request's content with a code it
	// documents as the caller's mistake; retrying the same spec cannot succeed.
	ErrInvalid = errors.New("invalid request")
	// ErrAccessDenied: the vendor refused for want of a permission or visibility
	// that is granted in the vendor's console, not in the spec; retried slowly.
	ErrAccessDenied = errors.New("access denied")
	// ErrUnauthorized: the vendor rejected the credentials.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrRateLimited: the call was throttled; retry after Error.RetryAfter.
	ErrRateLimited = errors.New("rate limited")
	// ErrUnavailable: a transient failure (5xx, network, timeout) or an answer the
	// client does not know (an undocumented code, a body that is not the vendor's);
	// retry with backoff. The request may or may not have taken effect: the
	// failure is ambiguous.
	ErrUnavailable = errors.New("unavailable")
	// ErrBusy is ErrUnavailable that proves the request was not applied: the
	// request never left (dial, DNS, TLS, or a failure before its body was
	// written), or the vendor answered HTTP 503 or a code it documents as
	// "busy/unavailable, not processed". It is retried exactly like
	// ErrUnavailable (errors.Is(ErrBusy, ErrUnavailable) holds and its text is
	// the same), but Definite: a create it ends certainly made nothing.
	ErrBusy = fmt.Errorf("%w", ErrUnavailable)
	// ErrInProgress: the vendor is still working on an earlier request (e.g. an
	// asynchronous create); look again after Error.RetryAfter.
	ErrInProgress = errors.New("in progress")
	// ErrGroupDisabled: the vendor holds the group in a state where it cannot be
	// used or changed (deactivated, suspended by the vendor). Nothing in the spec
	// changes it and it may be lifted on the vendor's side: checked again slowly.
	ErrGroupDisabled = errors.New("group disabled")
	// ErrQuotaExceeded: a quota that does not refill soon (e.g. a monthly call
	// quota); retrying now cannot succeed.
	ErrQuotaExceeded = errors.New("quota exceeded")
)

// Error is a classified vendor error. Its text never contains credentials: build it
// from vendor codes and messages, not from request URLs.
type Error struct {
	// Class is one of the Err* sentinels.
	Class error
	// Op is what was attempted, e.g. "create group".
	Op string
	// Code is the vendor's error code, if any.
	Code string
	// Message is the vendor's explanation or advice for the user.
	Message string
	// Field names the GroupSpec field at fault, in the API's terms (e.g. "members"),
	// when the vendor says which one.
	Field string
	// RetryAfter is how long to wait before calling again (ErrRateLimited).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	msg := e.Op
	if msg == "" {
		msg = e.Class.Error()
	} else {
		msg += ": " + e.Class.Error()
	}
	if e.Code != "" {
		msg += " (" + e.Code + ")"
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrX) work for the class.
func (e *Error) Unwrap() error { return e.Class }

// NewError returns a classified error; message is sanitized.
func NewError(class error, op, code, message string) *Error {
	return &Error{Class: class, Op: op, Code: code, Message: Sanitize(message)}
}

// RetryAfter returns how long the vendor asked to wait, or zero.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// FieldOf returns the spec field a vendor error names, or "".
func FieldOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// Codes is a vendor's code table: each documented error code and its class.
// A transient code that the vendor documents as "not processed" (busy,
// unavailable) maps to ErrBusy; one that may have been applied (an internal
// error, a timeout inside the vendor) to ErrUnavailable.
type Codes map[string]error

// Class returns the class of code. A code the vendor does not document (or the
// client does not know) is ErrUnavailable: retried and shown in status, never a
// permanent stall, since nothing says the spec is at fault.
func (c Codes) Class(code string) error {
	if class, ok := c[code]; ok {
		return class
	}
	return ErrUnavailable
}

// Definite reports whether err proves the request had no effect: the vendor
// rejected it (invalid, unauthorized, throttled, over quota, busy) or it never
// left. Any other failure (a timeout or reset after the request was sent, a
// 500/502/504 or a code the vendor does not document as "not processed", a lost
// response) is ambiguous: the change may have been applied.
func Definite(err error) bool {
	return errors.Is(err, ErrInvalid) || errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrAccessDenied) ||
		errors.Is(err, ErrRateLimited) || errors.Is(err, ErrQuotaExceeded) ||
		errors.Is(err, ErrNotFound) || errors.Is(err, ErrBusy)
}

// StatusClass is the class of an HTTP status that came without a vendor code
// the client knows (a gateway's or load balancer's answer): 429 says the
// request was throttled and 503 that it was not processed (both definite);
// any other status is ErrUnavailable (ambiguous).
func StatusClass(status int) error {
	switch status {
	case http.StatusTooManyRequests:
		return ErrRateLimited
	case http.StatusServiceUnavailable:
		return ErrBusy
	}
	return ErrUnavailable
}

// Transport classifies an error from an HTTP round trip (network failure,
// timeout) whose request was sent (or may have been) as ErrUnavailable,
// dropping the request URL, which may carry credentials in its query string.
func Transport(op string, err error) *Error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &Error{Class: ErrUnavailable, Op: op, Message: Sanitize(err.Error())}
}

// Unsent is Transport for a round trip that failed before the request was
// written (dial, DNS, TLS handshake): ErrBusy, since the vendor never saw it.
func Unsent(op string, err error) *Error {
	e := Transport(op, err)
	e.Class = ErrBusy
	return e
}

var urlWithQuery = regexp.MustCompile(`(?i)\b(https?://[^\s?"']*)\?[^\s"']*`)

var secretParam = regexp.MustCompile(`(?i)\b(access_token|usersig|signature|accesskeysecret|appsecret|secretkey|sign)=[^&\s"']*`)

// Sanitize removes URL query strings and credential-looking parameters from s, and
// bounds its length, so vendor text can go into conditions and events.
func Sanitize(s string) string {
	s = urlWithQuery.ReplaceAllString(s, "$1?[redacted]")
	s = secretParam.ReplaceAllString(s, "$1=[redacted]")
	const maxLen = 512
	if len(s) > maxLen {
		cut := maxLen
		for cut > 0 && !utf8.RuneStart(s[cut]) { // do not split a character
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
