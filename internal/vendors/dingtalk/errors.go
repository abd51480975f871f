package dingtalk

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// v1Codes are the documented v1.0 error codes (the "code" of the JSON error
// body). Any other code is ErrUnavailable: only what DingTalk documents as the
// caller's mistake stalls a ChatGroup.
var v1Codes = vendors.Codes{
	// vendor-apis.md §1.4.1/§1.4.2 (seed pages 000, 002): 400, a rejected parameter.
	"parameter.invalid": vendors.ErrInvalid,
	// §1.4.5, §1.5: a bad owner userId, too many members (scene-group pages).
	"member.notFound": vendors.ErrInvalid,
	"member.exceed":   vendors.ErrInvalid,
	// §1.4.5, scene groups: the template does not exist, or the organisation or
	// app may not use it (granted by DingTalk or in the console).
	"groupTemplate.notFound":                          vendors.ErrInvalid,
	"groupTemplate.permessionDenied.orgNotInGrayList": vendors.ErrAccessDenied,
	"groupTemplate.permessionDenied.appNotInstalled":  vendors.ErrAccessDenied,
	"groupTemplate.permessionDenied.orgNotConsistent": vendors.ErrAccessDenied,
	// §1.4.1: 400, a missing app permission or an owner outside the app's
	// visibility scope, both granted in the developer console. Spelled as the
	// vendor spells it.
	"permession.checkFailed": vendors.ErrAccessDenied,
	// §1.4.1: 500, "try again". Nothing says the request was not applied:
	// ambiguous.
	"system.error": vendors.ErrUnavailable,
	// §1.5: per app and API, and global, QPS limits (HTTP 403).
	"Forbidden.AccessDenied.QpsLimitForAppkeyAndApi": vendors.ErrRateLimited,
	"Forbidden.AccessDenied.QpsLimitForApi":          vendors.ErrRateLimited,
	// §1.5: the monthly call quota, not retryable before next month.
	"Forbidden.AccessDenied.ApiCountLimitForOrg": vendors.ErrQuotaExceeded,
}

// legacyCodes are the documented legacy (oapi) errcodes, which come with HTTP
// 200. errcode 88 carries the real code in sub_code, looked up here too.
var legacyCodes = vendors.Codes{
	// The global "system busy": the request was not processed (definite).
	"-1": vendors.ErrBusy,
	// §1.2, §1.5: the access token is invalid or expired.
	"40014": vendors.ErrUnauthorized,
	// §1.5: per app and API, and global, QPS limits (90018 also as 88/90018).
	"90018": vendors.ErrRateLimited,
	"90002": vendors.ErrRateLimited,
	// §1.5: the monthly call quota.
	"90020": vendors.ErrQuotaExceeded,
	// DingTalk's global return codes (88/60011, "没有调用该接口的权限", as
	// quoted in issue 11; not yet in vendor-apis.md): the app lacks the API's
	// permission, granted in the developer console.
	"60011": vendors.ErrAccessDenied,
}

// errcodeSubCode is the legacy errcode whose cause is in sub_code.
const errcodeSubCode = "88"

// throttleDelay is how long to wait after a QPS code: the vendor says to sleep at
// least a second (§1.5).
const throttleDelay = time.Second

// permissions names the app permission each API needs (§1.2, seed pages 000 and
// 002): what an ErrAccessDenied message asks to grant.
var permissions = map[string]string{
	apiToken:  "qyapi_base",
	apiCreate: "qyapi_chat_manage (group basic information management)",
	apiUpdate: "qyapi_chat_manage (group basic information management)",
	apiGet:    "qyapi_chat_read (group information read)",
	apiSearch: "qyapi_chat_read (group information read)",
	// Scene groups (§1.4.5); the template must also be published and the app
	// allowed to use it.
	apiSceneCreate:  "qyapi_chat_manage (group basic information management)",
	apiSceneUpdate:  "qyapi_chat_manage (group basic information management)",
	apiSceneAdd:     "qyapi_chat_manage (group basic information management)",
	apiSceneRemove:  "qyapi_chat_manage (group basic information management)",
	apiSceneDisband: "qyapi_chat_manage (group basic information management)",
	apiSceneQuery:   "qyapi_chat_read (group information read)",
	apiSceneMembers: "qyapi_chat_read (group information read)",
}

// check is the client's vendors.Check: it reads an answer of api by the API's
// envelope (legacy errcode for chat/get, HTTP status and code for v1.0).
func check(api string, r vendors.Response) error {
	err := v1Error(api, r.Status, r.Body)
	if api == apiGet {
		err = legacyError(api, r.Status, r.Body)
	}
	if api == apiToken {
		err = tokenError(r.Status, err)
	}
	return withAdvice(api, err)
}

// v1Body is the v1.0 error body, plus the fields of the per-IP ban answer
// ({"status":1111,"wait":5,"punish":"deny"}, wait in minutes; §1.5).
type v1Body struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Punish  string `json:"punish"`
	Wait    int    `json:"wait"`
}

// v1Error classifies a v1.0 answer from its HTTP status and body code; it returns
// nil for a 2xx JSON answer that is not a ban.
func v1Error(op string, status int, body []byte) error {
	var b v1Body
	jsonErr := json.Unmarshal(body, &b)
	switch {
	case jsonErr == nil && b.Punish == "deny":
		e := vendors.NewError(vendors.ErrRateLimited, op, "IPBanned", "DingTalk banned this IP for calling too often")
		e.RetryAfter = time.Duration(max(b.Wait, 1)) * time.Minute
		return e
	case status >= 200 && status < 300 && jsonErr != nil:
		// §1.5: the IP ban may also come as an HTML page.
		return vendors.NewError(vendors.ErrUnavailable, op, strconv.Itoa(status), "the answer is not DingTalk's JSON")
	case status >= 200 && status < 300:
		return nil
	}
	code, msg := b.Code, b.Message
	if code == "" {
		code = strconv.Itoa(status)
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	e := vendors.NewError(v1Class(status, b.Code), op, code, msg)
	if e.Class == vendors.ErrRateLimited {
		e.RetryAfter = throttleDelay
	}
	return e
}

// v1Class picks the class of a failed v1.0 answer: the documented code, else
// the documented statuses; a 503 or 429 (from DingTalk's gateway) says the
// request was not processed; anything else (an undocumented code, a redirect,
// an unexpected status, a gateway page) is ErrUnavailable, ambiguous.
func v1Class(status int, code string) error {
	if class, ok := v1Codes[code]; ok {
		return class
	}
	if status == http.StatusUnauthorized { // §1.2, §1.5: the token was refused
		return vendors.ErrUnauthorized
	}
	return vendors.StatusClass(status)
}

// legacyBody is the oapi envelope.
type legacyBody struct {
	ErrCode *int   `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
	SubCode string `json:"sub_code"`
	SubMsg  string `json:"sub_msg"`
}

// legacyError classifies a legacy answer; nil when it is HTTP 200 with errcode 0.
// The legacy APIs answer errors with HTTP 200, so any other status, or a body
// without an errcode, comes from something in between: ErrUnavailable.
func legacyError(op string, status int, body []byte) error {
	if status != http.StatusOK {
		return vendors.NewError(vendors.StatusClass(status), op, strconv.Itoa(status), http.StatusText(status))
	}
	var b legacyBody
	if err := json.Unmarshal(body, &b); err != nil || b.ErrCode == nil {
		return vendors.NewError(vendors.ErrUnavailable, op, "", "the answer is not DingTalk's JSON")
	}
	if *b.ErrCode == 0 {
		return nil
	}
	code, msg := strconv.Itoa(*b.ErrCode), b.ErrMsg
	class := legacyCodes.Class(code)
	if code == errcodeSubCode { // the real cause is in sub_code
		code, msg = code+"/"+b.SubCode, b.SubMsg
		class = legacyCodes.Class(b.SubCode)
	}
	e := vendors.NewError(class, op, code, msg)
	if class == vendors.ErrRateLimited {
		e.RetryAfter = throttleDelay
	}
	return e
}

// tokenError reads a refusal of the token API: its only inputs are appKey and
// appSecret, so a 4xx that is not a documented throttle, quota or missing
// permission means the credentials are wrong (retried slowly, and again when
// the Secret changes). Redirects and server failures stay what they are.
func tokenError(status int, err error) error {
	var e *vendors.Error
	if errors.As(err, &e) && status >= 400 && status < 500 && (e.Class == vendors.ErrInvalid || e.Class == vendors.ErrUnavailable) {
		e.Class = vendors.ErrUnauthorized
	}
	return err
}

// withAdvice makes an ErrAccessDenied message name what to grant.
func withAdvice(api string, err error) error {
	var e *vendors.Error
	if !errors.As(err, &e) || e.Class != vendors.ErrAccessDenied {
		return err
	}
	e.Message = fmt.Sprintf("%s; in the DingTalk developer console grant the app the permission %s, "+
		"and keep the group's owner and members within the app's visibility scope", e.Message, permissions[api])
	if api == apiCreate {
		e.Message += " (a Standard group also needs allow-listing by DingTalk support)"
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
