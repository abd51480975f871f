package feishu

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// codes is the retry-class table of vendor-apis-feishu.md §7, code by code.
// Anything else (an undocumented code, an answer that is not Feishu's
// envelope) is ErrUnavailable: retried and shown with its code, never a stall.
var codes = vendors.Codes{
	// Token (§1, §7): refreshed and retried once by the client (tokenInvalid);
	// a second one means the app's credentials are refused.
	"99991661": vendors.ErrUnauthorized,
	"99991663": vendors.ErrUnauthorized,
	"99991664": vendors.ErrUnauthorized,
	"99991668": vendors.ErrUnauthorized,
	"99991671": vendors.ErrUnauthorized,
	// The token endpoint's answers to a wrong app_id or app_secret. The
	// reference lists no codes for that endpoint; these are Feishu's published
	// auth codes [inference], and anything else there stays ErrUnavailable.
	"10003": vendors.ErrUnauthorized,
	"10014": vendors.ErrUnauthorized,
	// Throttle (§7): per API (HTTP 429) and per chat.
	"99991400": vendors.ErrRateLimited,
	"232019":   vendors.ErrRateLimited,
	// Transient (§7): a create with this uuid is still running; retried with the
	// same uuid. It may have been applied: ambiguous.
	"232068": vendors.ErrUnavailable,
	// Gone (§7): invalid chat_id, dissolved.
	"232006": vendors.ErrNotFound,
	"232009": vendors.ErrNotFound,
	// Lost access and permissions (§7): granted in the developer console or by
	// the chat's owner, never in the spec.
	"232010":   vendors.ErrAccessDenied,
	"232011":   vendors.ErrAccessDenied,
	"232033":   vendors.ErrAccessDenied,
	"99991672": vendors.ErrAccessDenied,
	"232014":   vendors.ErrAccessDenied,
	"232017":   vendors.ErrAccessDenied,
	"232002":   vendors.ErrAccessDenied,
	"232016":   vendors.ErrAccessDenied,
	"232038":   vendors.ErrAccessDenied,
	"232025":   vendors.ErrAccessDenied,
	"232034":   vendors.ErrAccessDenied,
	// Input (§7): stalled until the spec changes.
	"232001": vendors.ErrInvalid, "232008": vendors.ErrInvalid, "232012": vendors.ErrInvalid,
	"232013": vendors.ErrInvalid, "232020": vendors.ErrInvalid, "232022": vendors.ErrInvalid,
	"232024": vendors.ErrInvalid, "232026": vendors.ErrInvalid, "232027": vendors.ErrInvalid,
	"232028": vendors.ErrInvalid, "232029": vendors.ErrInvalid, "232030": vendors.ErrInvalid,
	"232031": vendors.ErrInvalid, "232035": vendors.ErrInvalid, "232040": vendors.ErrInvalid,
	"232041": vendors.ErrInvalid, "232042": vendors.ErrInvalid, "232043": vendors.ErrInvalid,
	"232044": vendors.ErrInvalid, "232076": vendors.ErrInvalid, "99992351": vendors.ErrInvalid,
}

// fields names the spec field an Input code is about.
var fields = map[string]string{
	"232012": "owner", "232031": "owner", "232035": "owner",
	"232020": "name", "232026": "name", "232042": "name",
	"232013": "members", "232044": "members", "232022": "members", "232024": "members",
	"232027": "members", "232028": "members", "232043": "members", "99992351": "members",
	"232030": "owner", "232041": "icon",
}

// advice says what to do about the codes whose vendor text does not.
var advice = map[string]string{
	"99991672": "the app lacks an API scope; grant im:chat and im:chat:operate_as_owner in the developer console and publish a new version",
	"232025":   "the app's bot capability is off; enable it in the developer console",
	"232034":   "the app is not installed in this tenant",
	"232011":   "the app's bot is not in the chat; add the bot to the chat",
	"232017":   "the app's bot is neither the chat's owner nor its creator with im:chat:operate_as_owner; grant that scope or make the bot a manager",
	"232002":   "the app's bot may not change this chat's settings; grant im:chat:operate_as_owner",
	"232016":   "only the owner and managers may edit this chat",
	"10003":    "Feishu does not know this app; check appID in the provider's credentials Secret",
	"10014":    "Feishu rejected the app secret; check appSecret in the provider's credentials Secret",
	"99991663": "Feishu rejected the tenant_access_token twice; check the app's credentials",
}

// tokenInvalid are the codes after which the token is refreshed and the call
// retried once (§1: the SDK's three and the two community-reported ones).
var tokenInvalid = map[string]bool{"99991661": true, "99991663": true, "99991664": true, "99991668": true, "99991671": true}

// envelope is every answer's frame (§2); the token endpoint's fields are top-level.
type envelope struct {
	Code *int            `json:"code"`
	Msg  string          `json:"msg"`
	Data json.RawMessage `json:"data"`
}

// check is the client's reading of an answer (vendors.Check): code 0 with a
// 2xx status is success; the JSON body is read whatever the status (§2).
func check(api string, r vendors.Response) error {
	var env envelope
	if err := json.Unmarshal(r.Body, &env); err != nil || env.Code == nil {
		return unexpected(api, r)
	}
	if *env.Code == 0 && r.Status >= 200 && r.Status < 300 {
		return nil
	}
	code := strconv.Itoa(*env.Code)
	class := codes.Class(code)
	if r.Status == http.StatusTooManyRequests {
		class = vendors.ErrRateLimited
	}
	msg := env.Msg
	if a, ok := advice[code]; ok {
		msg = a + " (" + env.Msg + ")"
	}
	if id := r.Header.Get("X-Tt-Logid"); id != "" {
		msg += "; log id " + id
	}
	e := vendors.NewError(class, api, code, msg)
	if class == vendors.ErrInvalid {
		e.Field = fields[code]
	}
	if class == vendors.ErrRateLimited {
		e.RetryAfter = resetAfter(r.Header)
	}
	return e
}

// resetAfter reads x-ogw-ratelimit-reset (seconds, §7); at least a second.
func resetAfter(h http.Header) time.Duration {
	n, err := strconv.Atoi(h.Get("x-ogw-ratelimit-reset"))
	if err != nil || n < 1 {
		return time.Second
	}
	return time.Duration(n) * time.Second
}

// unexpected classifies an answer that is not Feishu's envelope (a gateway, a
// proxy, the wrong endpoint): by HTTP status, never ErrInvalid.
func unexpected(api string, r vendors.Response) error {
	e := vendors.NewError(vendors.StatusClass(r.Status), api, "", "unexpected HTTP "+strconv.Itoa(r.Status)+" answer without a Feishu code; check that the provider's endpoint is "+DefaultEndpoint+" or "+LarkEndpoint)
	if r.Status == http.StatusTooManyRequests {
		e.RetryAfter = resetAfter(r.Header)
	}
	return e
}

// codeOf returns the vendor code of a classified error, or "".
func codeOf(err error) string {
	var e *vendors.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
