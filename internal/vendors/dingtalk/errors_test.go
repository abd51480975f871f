package dingtalk

import (
	"errors"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

func TestV1Error(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		body       string
		wantClass  error // nil: no error
		wantCode   string
		wantMsg    string
		retryAfter time.Duration
	}{
		{name: "success", status: 200, body: `{"success":true}`},
		{name: "parameter.invalid", status: 400, body: `{"code":"parameter.invalid","message":"Invalid input parameter"}`, wantClass: vendors.ErrInvalid, wantCode: "parameter.invalid", wantMsg: "Invalid input parameter"},
		{name: "owner outside the visibility scope", status: 400, body: `{"code":"permession.checkFailed","message":"The group owner is not within the app visibility scope"}`, wantClass: vendors.ErrInvalid, wantMsg: "visibility scope"},
		{name: "system.error", status: 500, body: `{"code":"system.error","message":"Try again"}`, wantClass: vendors.ErrUnavailable},
		{name: "bare 502 from a gateway", status: 502, body: `<html>bad gateway</html>`, wantClass: vendors.ErrUnavailable, wantMsg: "Bad Gateway"},
		{name: "per-app QPS", status: 403, body: `{"code":"Forbidden.AccessDenied.QpsLimitForAppkeyAndApi","message":"slow down"}`, wantClass: vendors.ErrRateLimited, retryAfter: time.Second},
		{name: "global QPS", status: 403, body: `{"code":"Forbidden.AccessDenied.QpsLimitForApi","message":"slow down"}`, wantClass: vendors.ErrRateLimited, retryAfter: time.Second},
		{name: "429", status: 429, body: ``, wantClass: vendors.ErrRateLimited, retryAfter: time.Second},
		{name: "monthly quota", status: 403, body: `{"code":"Forbidden.AccessDenied.ApiCountLimitForOrg","message":"quota used up"}`, wantClass: vendors.ErrQuotaExceeded},
		{name: "token refused", status: 401, body: `{"code":"InvalidAuthentication","message":"bad token"}`, wantClass: vendors.ErrUnauthorized},
		{name: "unlisted 403", status: 403, body: `{"code":"Forbidden.Something","message":"no"}`, wantClass: vendors.ErrUnauthorized},
		{name: "unlisted 400", status: 400, body: `{"code":"member.notFound","message":"no such member"}`, wantClass: vendors.ErrInvalid},
		{name: "per-IP ban", status: 200, body: `{"status":1111,"wait":5,"punish":"deny"}`, wantClass: vendors.ErrRateLimited, retryAfter: 5 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			err := v1Error("group/create", tc.status, []byte(tc.body))
			if tc.wantClass == nil {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(errors.Is(err, tc.wantClass)).To(BeTrue(), err.Error())
			g.Expect(vendors.RetryAfter(err)).To(Equal(tc.retryAfter))
			var e *vendors.Error
			g.Expect(errors.As(err, &e)).To(BeTrue())
			g.Expect(e.Op).To(Equal("group/create"))
			if tc.wantCode != "" {
				g.Expect(e.Code).To(Equal(tc.wantCode))
			}
			g.Expect(e.Message).To(ContainSubstring(tc.wantMsg))
		})
	}
}

func TestLegacyError(t *testing.T) {
	for _, tc := range []struct {
		name      string
		body      legacyBody
		wantClass error
		wantCode  string
	}{
		{name: "ok", body: legacyBody{ErrCode: 0, ErrMsg: "ok"}},
		{name: "busy", body: legacyBody{ErrCode: -1, ErrMsg: "系统繁忙"}, wantClass: vendors.ErrUnavailable},
		{name: "invalid token", body: legacyBody{ErrCode: 40014, ErrMsg: "不合法的access_token"}, wantClass: vendors.ErrUnauthorized, wantCode: "40014"},
		{name: "per-app QPS", body: legacyBody{ErrCode: 90018}, wantClass: vendors.ErrRateLimited},
		{name: "global QPS", body: legacyBody{ErrCode: 90002}, wantClass: vendors.ErrRateLimited},
		{name: "QPS as errcode 88", body: legacyBody{ErrCode: 88, SubCode: "90018", SubMsg: "too fast"}, wantClass: vendors.ErrRateLimited, wantCode: "88/90018"},
		{name: "token as errcode 88", body: legacyBody{ErrCode: 88, SubCode: "40014"}, wantClass: vendors.ErrUnauthorized},
		{name: "missing permission as errcode 88", body: legacyBody{ErrCode: 88, SubCode: "60011", SubMsg: "没有调用该接口的权限"}, wantClass: vendors.ErrInvalid},
		{name: "monthly quota", body: legacyBody{ErrCode: 90020}, wantClass: vendors.ErrQuotaExceeded},
		{name: "unknown chat", body: legacyBody{ErrCode: 34001}, wantClass: vendors.ErrNotFound},
		{name: "unlisted code", body: legacyBody{ErrCode: 40035, ErrMsg: "不合法的参数"}, wantClass: vendors.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			err := legacyError("chat/get", tc.body)
			if tc.wantClass == nil {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(errors.Is(err, tc.wantClass)).To(BeTrue(), err.Error())
			if tc.wantCode != "" {
				g.Expect(err.Error()).To(ContainSubstring("(" + tc.wantCode + ")"))
			}
			if errors.Is(err, vendors.ErrRateLimited) {
				g.Expect(vendors.RetryAfter(err)).To(Equal(time.Second))
			}
		})
	}
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

func TestScrub(t *testing.T) {
	g := NewWithT(t)
	err := scrub(vendors.NewError(vendors.ErrInvalid, "op", "tok123", "token tok123 and secret s3cr3t rejected"), "tok123", "s3cr3t", "")
	g.Expect(err.Error()).NotTo(ContainSubstring("tok123"))
	g.Expect(err.Error()).NotTo(ContainSubstring("s3cr3t"))
	g.Expect(err.Error()).To(ContainSubstring("[redacted]"))
	plain := errors.New("plain")
	g.Expect(scrub(plain, "x")).To(BeIdenticalTo(plain))
}
