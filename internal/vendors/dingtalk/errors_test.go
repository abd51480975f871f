package dingtalk

import (
	"errors"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// TestCheck drives the whole code table through the client's Check: every
// documented code to its class, and anything else (an unknown code, a body
// that is not the vendor's, an unexpected status, a redirect) to Unavailable.
func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name       string
		api        string
		status     int
		body       string
		wantClass  error // nil: no error
		wantCode   string
		wantMsg    []string
		retryAfter time.Duration
	}{
		// v1.0 APIs: the HTTP status and the code of the JSON body.
		{name: "success", api: apiCreate, status: 200, body: `{"success":true}`},
		{name: "parameter.invalid", api: apiCreate, status: 400, body: `{"code":"parameter.invalid","message":"Invalid input parameter"}`,
			wantClass: vendors.ErrInvalid, wantCode: "parameter.invalid", wantMsg: []string{"Invalid input parameter"}},
		{name: "member.notFound", api: apiCreate, status: 400, body: `{"code":"member.notFound","message":"no such member"}`, wantClass: vendors.ErrInvalid, wantCode: "member.notFound"},
		{name: "member.exceed", api: apiUpdate, status: 400, body: `{"code":"member.exceed","message":"too many members"}`, wantClass: vendors.ErrInvalid, wantCode: "member.exceed"},
		{name: "owner outside the visibility scope", api: apiCreate, status: 400,
			body:      `{"code":"permession.checkFailed","message":"The group owner is not within the app visibility scope"}`,
			wantClass: vendors.ErrAccessDenied, wantCode: "permession.checkFailed",
			wantMsg: []string{"visibility scope", "grant the app the permission qyapi_chat_manage", "Standard group"}},
		{name: "missing permission on update", api: apiUpdate, status: 400, body: `{"code":"permession.checkFailed","message":"Permission check failed"}`,
			wantClass: vendors.ErrAccessDenied, wantMsg: []string{"Permission check failed", "qyapi_chat_manage"}},
		{name: "missing permission on search", api: apiSearch, status: 400, body: `{"code":"permession.checkFailed","message":"Permission check failed"}`,
			wantClass: vendors.ErrAccessDenied, wantMsg: []string{"qyapi_chat_read"}},
		{name: "system.error", api: apiUpdate, status: 500, body: `{"code":"system.error","message":"Try again"}`, wantClass: vendors.ErrUnavailable, wantCode: "system.error"},
		{name: "bare 502 from a gateway", api: apiUpdate, status: 502, body: `<html>bad gateway</html>`, wantClass: vendors.ErrUnavailable, wantCode: "502", wantMsg: []string{"Bad Gateway"}},
		{name: "per-app QPS", api: apiUpdate, status: 403, body: `{"code":"Forbidden.AccessDenied.QpsLimitForAppkeyAndApi","message":"slow down"}`, wantClass: vendors.ErrRateLimited, retryAfter: time.Second},
		{name: "global QPS", api: apiUpdate, status: 403, body: `{"code":"Forbidden.AccessDenied.QpsLimitForApi","message":"slow down"}`, wantClass: vendors.ErrRateLimited, retryAfter: time.Second},
		{name: "a code that only looks like a QPS code", api: apiUpdate, status: 403, body: `{"code":"Forbidden.AccessDenied.QpsLimitForSomethingElse","message":"?"}`,
			wantClass: vendors.ErrUnavailable, wantCode: "Forbidden.AccessDenied.QpsLimitForSomethingElse"},
		{name: "429", api: apiUpdate, status: 429, body: ``, wantClass: vendors.ErrRateLimited, retryAfter: time.Second},
		{name: "monthly quota", api: apiCreate, status: 403, body: `{"code":"Forbidden.AccessDenied.ApiCountLimitForOrg","message":"quota used up"}`, wantClass: vendors.ErrQuotaExceeded},
		{name: "token refused", api: apiUpdate, status: 401, body: `{"code":"InvalidAuthentication","message":"bad token"}`, wantClass: vendors.ErrUnauthorized},
		{name: "unlisted 403", api: apiUpdate, status: 403, body: `{"code":"Forbidden.Something","message":"no"}`,
			wantClass: vendors.ErrUnavailable, wantCode: "Forbidden.Something", wantMsg: []string{"no"}},
		{name: "unknown code on a 400", api: apiUpdate, status: 400, body: `{"code":"chat.somethingNew","message":"something new"}`,
			wantClass: vendors.ErrUnavailable, wantCode: "chat.somethingNew", wantMsg: []string{"something new"}},
		{name: "per-IP ban", api: apiUpdate, status: 200, body: `{"status":1111,"wait":5,"punish":"deny"}`, wantClass: vendors.ErrRateLimited, retryAfter: 5 * time.Minute},
		{name: "a 200 that is not JSON", api: apiUpdate, status: 200, body: `<html>blocked</html>`, wantClass: vendors.ErrUnavailable},
		{name: "a redirect", api: apiUpdate, status: 302, body: ``, wantClass: vendors.ErrUnavailable, wantCode: "302"},
		{name: "an unexpected 404", api: apiUpdate, status: 404, body: `not found`, wantClass: vendors.ErrUnavailable, wantCode: "404"},

		// The token API: its only inputs are the credentials.
		{name: "token: wrong secret", api: apiToken, status: 400, body: `{"code":"invalidClientIdOrSecret","message":"bad secret"}`, wantClass: vendors.ErrUnauthorized},
		{name: "token: parameter.invalid", api: apiToken, status: 400, body: `{"code":"parameter.invalid","message":"appKey"}`, wantClass: vendors.ErrUnauthorized},
		{name: "token: throttled", api: apiToken, status: 403, body: `{"code":"Forbidden.AccessDenied.QpsLimitForAppkeyAndApi","message":"slow"}`, wantClass: vendors.ErrRateLimited, retryAfter: time.Second},
		{name: "token: missing permission", api: apiToken, status: 400, body: `{"code":"permession.checkFailed","message":"Permission check failed"}`,
			wantClass: vendors.ErrAccessDenied, wantMsg: []string{"qyapi_base"}},
		{name: "token: vendor down", api: apiToken, status: 503, body: `{}`, wantClass: vendors.ErrBusy},
		{name: "a gateway's bare 503: not processed", api: apiCreate, status: 503, body: `<html>unavailable</html>`, wantClass: vendors.ErrBusy, wantCode: "503"},
		{name: "a gateway's 504 may come after the create ran", api: apiCreate, status: 504, body: `<html>timeout</html>`, wantClass: vendors.ErrUnavailable, wantCode: "504"},
		{name: "a bare 429", api: apiCreate, status: 429, body: ``, wantClass: vendors.ErrRateLimited, wantCode: "429", retryAfter: time.Second},
		{name: "token: redirect", api: apiToken, status: 307, body: ``, wantClass: vendors.ErrUnavailable},

		// The legacy chat/get: HTTP 200 and errcode.
		{name: "legacy ok", api: apiGet, status: 200, body: `{"errcode":0,"errmsg":"ok"}`},
		{name: "busy", api: apiGet, status: 200, body: `{"errcode":-1,"errmsg":"系统繁忙"}`, wantClass: vendors.ErrBusy, wantCode: "-1"},
		{name: "legacy 503", api: apiGet, status: 503, body: ``, wantClass: vendors.ErrBusy, wantCode: "503"},
		{name: "invalid token", api: apiGet, status: 200, body: `{"errcode":40014,"errmsg":"不合法的access_token"}`, wantClass: vendors.ErrUnauthorized, wantCode: "40014"},
		{name: "legacy per-app QPS", api: apiGet, status: 200, body: `{"errcode":90018}`, wantClass: vendors.ErrRateLimited, retryAfter: time.Second},
		{name: "legacy global QPS", api: apiGet, status: 200, body: `{"errcode":90002}`, wantClass: vendors.ErrRateLimited, retryAfter: time.Second},
		{name: "QPS as errcode 88", api: apiGet, status: 200, body: `{"errcode":88,"sub_code":"90018","sub_msg":"too fast"}`,
			wantClass: vendors.ErrRateLimited, wantCode: "88/90018", retryAfter: time.Second},
		{name: "token as errcode 88", api: apiGet, status: 200, body: `{"errcode":88,"sub_code":"40014"}`, wantClass: vendors.ErrUnauthorized, wantCode: "88/40014"},
		{name: "missing permission as errcode 88", api: apiGet, status: 200, body: `{"errcode":88,"sub_code":"60011","sub_msg":"没有调用该接口的权限"}`,
			wantClass: vendors.ErrAccessDenied, wantCode: "88/60011", wantMsg: []string{"没有调用该接口的权限", "qyapi_chat_read"}},
		{name: "missing permission", api: apiGet, status: 200, body: `{"errcode":60011,"errmsg":"没有调用该接口的权限"}`, wantClass: vendors.ErrAccessDenied, wantCode: "60011"},
		{name: "legacy monthly quota", api: apiGet, status: 200, body: `{"errcode":90020}`, wantClass: vendors.ErrQuotaExceeded},
		{name: "unknown chatid (undocumented errcode)", api: apiGet, status: 200, body: `{"errcode":34001,"errmsg":"无效的会话id"}`,
			wantClass: vendors.ErrUnavailable, wantCode: "34001", wantMsg: []string{"无效的会话id"}},
		{name: "unlisted code", api: apiGet, status: 200, body: `{"errcode":40035,"errmsg":"不合法的参数"}`, wantClass: vendors.ErrUnavailable, wantCode: "40035"},
		{name: "errcode 88 with an unlisted sub_code", api: apiGet, status: 200, body: `{"errcode":88,"sub_code":"12345","sub_msg":"?"}`, wantClass: vendors.ErrUnavailable, wantCode: "88/12345"},
		{name: "legacy answer from a gateway", api: apiGet, status: 502, body: `<html></html>`, wantClass: vendors.ErrUnavailable, wantCode: "502"},
		{name: "legacy redirect", api: apiGet, status: 302, body: ``, wantClass: vendors.ErrUnavailable, wantCode: "302"},
		{name: "legacy 200 that is not JSON", api: apiGet, status: 200, body: `<html></html>`, wantClass: vendors.ErrUnavailable},
		{name: "legacy 200 without errcode", api: apiGet, status: 200, body: `{"chat_info":{}}`, wantClass: vendors.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			err := check(tc.api, vendors.Response{Status: tc.status, Body: []byte(tc.body)})
			if tc.wantClass == nil {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(errors.Is(err, tc.wantClass)).To(BeTrue(), err.Error())
			// Only what proves nothing was applied is definite; a failure that
			// may come after the change was made is not.
			g.Expect(vendors.Definite(err)).To(Equal(tc.wantClass != vendors.ErrUnavailable), "definite")
			g.Expect(vendors.RetryAfter(err)).To(Equal(tc.retryAfter))
			var e *vendors.Error
			g.Expect(errors.As(err, &e)).To(BeTrue())
			g.Expect(e.Op).To(Equal(tc.api))
			if tc.wantCode != "" {
				g.Expect(e.Code).To(Equal(tc.wantCode))
			}
			for _, m := range tc.wantMsg {
				g.Expect(e.Message).To(ContainSubstring(m))
			}
		})
	}
}

// TestCodeTables checks that each documented code has its class in TestCheck's
// terms, so no table entry goes untested.
func TestCodeTables(t *testing.T) {
	g := NewWithT(t)
	for code, class := range v1Codes {
		err := check(apiUpdate, vendors.Response{Status: 400, Body: []byte(`{"code":"` + code + `","message":"m"}`)})
		g.Expect(errors.Is(err, class)).To(BeTrue(), "v1.0 code %s: %v", code, err)
	}
	for code, class := range legacyCodes {
		for _, body := range []string{`{"errcode":` + code + `}`, `{"errcode":88,"sub_code":"` + code + `"}`} {
			err := check(apiGet, vendors.Response{Status: 200, Body: []byte(body)})
			g.Expect(errors.Is(err, class)).To(BeTrue(), "legacy %s: %v", body, err)
		}
	}
	g.Expect(v1Codes.Class("no.such.code")).To(Equal(vendors.ErrUnavailable))
	g.Expect(legacyCodes.Class("99999")).To(Equal(vendors.ErrUnavailable))
}

func TestWithField(t *testing.T) {
	want := vendors.GroupSpec{Owner: "boss", Members: []string{"u1", "u10"}, Vendor: GroupSettings{ExternalMembers: []string{"union7"}}}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{name: "unknown member", err: vendors.NewError(vendors.ErrInvalid, "op", "parameter.invalid", "Invalid input parameter: user u10 does not exist."), want: "members"},
		{name: "no partial match", err: vendors.NewError(vendors.ErrInvalid, "op", "parameter.invalid", "user u100 does not exist"), want: ""},
		{name: "owner by ID", err: vendors.NewError(vendors.ErrInvalid, "op", "parameter.invalid", `user "boss" does not exist`), want: "owner"},
		{name: "owner visibility", err: vendors.NewError(vendors.ErrInvalid, "op", "permession.checkFailed", "The group owner is not within the app visibility scope"), want: "owner"},
		{name: "external member", err: vendors.NewError(vendors.ErrInvalid, "op", "parameter.invalid", "bad unionId union7"), want: "dingtalk.externalMembers"},
		{name: "only Invalid errors", err: vendors.NewError(vendors.ErrUnavailable, "op", "", "user u1 is busy"), want: ""},
		{name: "a set field stays", err: &vendors.Error{Class: vendors.ErrInvalid, Field: "name", Message: "u1"}, want: "name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(vendors.FieldOf(withField(tc.err, want))).To(Equal(tc.want))
		})
	}
}
