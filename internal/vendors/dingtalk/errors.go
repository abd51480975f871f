package dingtalk

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// v1.0 error codes (the "code" of the JSON error body).
const (
	codeParameterInvalid = "parameter.invalid"
	// codePermissionDenied is spelled as the vendor spells it. It covers an owner
	// outside the app's visibility scope and a missing app permission.
	codePermissionDenied = "permession.checkFailed"
	codeSystemError      = "system.error"
	// codeQPSLimitPrefix starts the per-app-and-API and the global QPS codes
	// (Forbidden.AccessDenied.QpsLimitForAppkeyAndApi, ...QpsLimitForApi).
	codeQPSLimitPrefix = "Forbidden.AccessDenied.QpsLimit"
	codeMonthlyQuota   = "Forbidden.AccessDenied.ApiCountLimitForOrg"
)

// Legacy (oapi) errcodes; they come with HTTP 200.
const (
	errcodeBusy = -1
	// errcodeAuthFailed carries the cause in sub_code.
	errcodeAuthFailed   = 88
	errcodeInvalidToken = 40014
	errcodeQPSLimit     = 90018
	errcodeQPSGlobal    = 90002
	errcodeMonthlyQuota = 90020
	// errcodeChatNotFound is chat/get's answer for an unknown chatid. The vendor
	// pages we have do not list it; 34001 ("invalid conversation id") is our
	// reading of the global code list, shared with the simulator as an assumption.
	errcodeChatNotFound = 34001
)

// throttleDelay is how long to wait after a QPS code: the vendor says to sleep at
// least a second.
const throttleDelay = time.Second

// v1Classes maps the documented v1.0 codes to error classes.
var v1Classes = map[string]error{
	codeParameterInvalid: vendors.ErrInvalid,
	codePermissionDenied: vendors.ErrInvalid,
	codeSystemError:      vendors.ErrUnavailable,
	codeMonthlyQuota:     vendors.ErrQuotaExceeded,
}

// legacyClasses maps the documented legacy errcodes to error classes.
var legacyClasses = map[int]error{
	errcodeBusy:         vendors.ErrUnavailable,
	errcodeInvalidToken: vendors.ErrUnauthorized,
	errcodeQPSLimit:     vendors.ErrRateLimited,
	errcodeQPSGlobal:    vendors.ErrRateLimited,
	errcodeMonthlyQuota: vendors.ErrQuotaExceeded,
	errcodeChatNotFound: vendors.ErrNotFound,
}

// v1Body is the v1.0 error body, plus the fields of the per-IP ban answer
// ({"status":1111,"wait":5,"punish":"deny"}, wait in minutes).
type v1Body struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Punish  string `json:"punish"`
	Wait    int    `json:"wait"`
}

// v1Error classifies a v1.0 answer from its HTTP status and body code; it returns
// nil for a 2xx answer that is not a ban.
func v1Error(op string, status int, body []byte) error {
	var b v1Body
	_ = json.Unmarshal(body, &b) // a body that is not the envelope is classified by status
	if b.Punish == "deny" {
		e := vendors.NewError(vendors.ErrRateLimited, op, "IPBanned", "DingTalk banned this IP for calling too often")
		e.RetryAfter = time.Duration(max(b.Wait, 1)) * time.Minute
		return e
	}
	if status >= 200 && status < 300 {
		return nil
	}
	class := v1Class(status, b.Code)
	msg := b.Message
	if msg == "" {
		msg = http.StatusText(status)
	}
	e := vendors.NewError(class, op, b.Code, msg)
	if class == vendors.ErrRateLimited {
		e.RetryAfter = throttleDelay
	}
	return e
}

// v1Class picks the class for a v1.0 error: the code when it is known, else the status.
func v1Class(status int, code string) error {
	if class, ok := v1Classes[code]; ok {
		return class
	}
	switch {
	case strings.HasPrefix(code, codeQPSLimitPrefix), status == http.StatusTooManyRequests:
		return vendors.ErrRateLimited
	case status == http.StatusUnauthorized:
		return vendors.ErrUnauthorized
	case status == http.StatusForbidden:
		// An unlisted refusal of the app itself: fixed in the developer console,
		// not in the spec.
		return vendors.ErrUnauthorized
	case status >= 500:
		return vendors.ErrUnavailable
	}
	return vendors.ErrInvalid
}

// legacyBody is the oapi envelope.
type legacyBody struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
	SubCode string `json:"sub_code"`
	SubMsg  string `json:"sub_msg"`
}

// legacyError classifies a legacy answer; nil when errcode is 0.
func legacyError(op string, b legacyBody) error {
	if b.ErrCode == 0 {
		return nil
	}
	code, msg := strconv.Itoa(b.ErrCode), b.ErrMsg
	class, ok := legacyClasses[b.ErrCode]
	if b.ErrCode == errcodeAuthFailed { // the real cause is in sub_code
		code, msg = code+"/"+b.SubCode, b.SubMsg
		sub, _ := strconv.Atoi(b.SubCode)
		class, ok = legacyClasses[sub]
	}
	if !ok {
		class = vendors.ErrInvalid
	}
	e := vendors.NewError(class, op, code, msg)
	if class == vendors.ErrRateLimited {
		e.RetryAfter = throttleDelay
	}
	return e
}

// httpError classifies a non-200 answer of a legacy API, which answers errors
// with HTTP 200: anything else comes from a gateway or proxy.
func httpError(op string, status int) error {
	return vendors.NewError(v1Class(status, ""), op, strconv.Itoa(status), http.StatusText(status))
}

// scrub removes secrets (the access token, the app secret) from a classified
// error's text. Vendor messages are not supposed to echo them, but an error
// string is written into conditions and events, so it is not left to trust.
func scrub(err error, secrets ...string) error {
	var e *vendors.Error
	if !errors.As(err, &e) {
		return err
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		e.Message = strings.ReplaceAll(e.Message, s, "[redacted]")
		e.Code = strings.ReplaceAll(e.Code, s, "[redacted]")
	}
	return err
}

// withField names the spec field an Invalid error is about, when the vendor's
// message names one of want's IDs (or the owner's visibility): the vendor has no
// structured field, so its message is the only pointer.
func withField(err error, want vendors.GroupSpec) error {
	var e *vendors.Error
	if !errors.As(err, &e) || e.Field != "" || !errors.Is(err, vendors.ErrInvalid) {
		return err
	}
	words := map[string]bool{}
	for _, w := range strings.FieldsFunc(e.Message, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(`,;:"'()[]{}`, r)
	}) {
		words[strings.TrimRight(w, ".")] = true
	}
	named := func(ids []string) bool {
		for _, id := range ids {
			if words[id] {
				return true
			}
		}
		return false
	}
	switch {
	case words[want.Owner] || strings.Contains(strings.ToLower(e.Message), "group owner"):
		e.Field = "owner"
	case named(want.Members):
		e.Field = "members"
	case named(settingsOf(want).ExternalMembers):
		e.Field = "dingtalk.externalMembers"
	}
	return err
}
