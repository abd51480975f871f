package tencentim

import (
	"errors"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		code       int
		command    string
		wantClass  error
		wantRetry  time.Duration
		wantField  string
		wantInText string
	}{
		{code: 60007, wantClass: vendors.ErrRateLimited, wantRetry: time.Second},
		{code: 60011, wantClass: vendors.ErrRateLimited, wantRetry: time.Second},
		{code: 60018, wantClass: vendors.ErrRateLimited, wantRetry: time.Second},
		{code: 60019, wantClass: vendors.ErrRateLimited, wantRetry: time.Second},
		{code: 10006, wantClass: vendors.ErrRateLimited, wantRetry: time.Second},
		{code: 70050, wantClass: vendors.ErrRateLimited, wantRetry: time.Minute, wantInText: "secretKey"},
		{code: 10002, wantClass: vendors.ErrUnavailable},
		{code: 60008, wantClass: vendors.ErrUnavailable},
		{code: 60004, wantClass: vendors.ErrUnauthorized, wantInText: "secretKey"},
		{code: 60005, wantClass: vendors.ErrUnauthorized, wantInText: "adminIdentifier"},
		{code: 70001, wantClass: vendors.ErrUnauthorized, wantInText: "clock"},
		{code: 70003, wantClass: vendors.ErrUnauthorized, wantInText: "secretKey"},
		{code: 70009, wantClass: vendors.ErrUnauthorized, wantInText: "secretKey"},
		{code: 70013, wantClass: vendors.ErrUnauthorized, wantInText: "spec.tencentIM.adminIdentifier"},
		{code: 70014, wantClass: vendors.ErrUnauthorized, wantInText: "spec.tencentIM.sdkAppID"},
		{code: 70016, wantClass: vendors.ErrUnauthorized, wantInText: "spec.endpoint"},
		{code: 70020, wantClass: vendors.ErrUnauthorized, wantInText: "spec.endpoint"},
		{code: 60010, wantClass: vendors.ErrUnauthorized, wantInText: "App admin"},
		{code: 10010, wantClass: vendors.ErrNotFound},
		{code: 10015, wantClass: vendors.ErrNotFound},
		{code: 10004, wantClass: vendors.ErrInvalid, wantInText: "vendor text"},
		{code: 10007, wantClass: vendors.ErrAccessDenied, wantInText: "App admin role"},
		{code: 10026, wantClass: vendors.ErrAccessDenied, wantInText: "enable"},
		{code: 60021, wantClass: vendors.ErrAccessDenied, wantInText: "allow-list"},
		{code: 10019, command: "create_group", wantClass: vendors.ErrInvalid, wantField: "members", wantInText: "vendor text"},
		{code: 10019, command: "change_group_owner", wantClass: vendors.ErrInvalid, wantField: "owner"},
		{code: 10037, command: "add_group_member", wantClass: vendors.ErrInvalid, wantField: "members"},
		{code: 10038, command: "add_group_member", wantClass: vendors.ErrInvalid, wantField: "members"},
		{code: 80001, wantClass: vendors.ErrInvalid, wantInText: "vendor text"},
		{code: 12345, wantClass: vendors.ErrUnavailable, wantInText: "vendor text"},
	} {
		t.Run(itoa(int64(tc.code))+" "+tc.command, func(t *testing.T) {
			g := NewWithT(t)
			command := tc.command
			if command == "" {
				command = "modify_group_base_info"
			}
			err := classify(command, tc.code, "vendor text")
			g.Expect(errors.Is(err, tc.wantClass)).To(BeTrue(), "class of %d", tc.code)
			g.Expect(err.Code).To(Equal(itoa(int64(tc.code))))
			g.Expect(err.Op).To(Equal(command))
			g.Expect(err.RetryAfter).To(Equal(tc.wantRetry))
			g.Expect(err.Field).To(Equal(tc.wantField))
			g.Expect(err.Error()).To(ContainSubstring("vendor text"), "the vendor's own words are kept")
			if tc.wantInText != "" {
				g.Expect(err.Error()).To(ContainSubstring(tc.wantInText))
			}
		})
	}
}

// TestCodes drives the whole code table: every code vendor-apis.md §2.4
// documents, and the class it must have.
func TestCodes(t *testing.T) {
	want := map[error][]int{
		vendors.ErrRateLimited:   {60007, 60011, 60018, 60019, 10006, 70050},
		vendors.ErrUnavailable:   {10002, 60008, 60014},
		vendors.ErrUnauthorized:  {60004, 60005, 60006, 60010, 70001, 70003, 70009, 70013, 70014, 70016, 70020},
		vendors.ErrAccessDenied:  {10007, 10026, 60016, 60017, 60021, 70051},
		vendors.ErrQuotaExceeded: {10036, 60020},
		vendors.ErrNotFound:      {10010, 10015},
		vendors.ErrInvalid: {60002, 60003, 60009, 60012, 60015, 10003, 10004, 10005, 10013, 10014, 10016, 10019,
			10021, 10025, 10037, 10038, 70107, 80001},
	}
	listed := map[string]bool{}
	for class, list := range want {
		for _, code := range list {
			listed[itoa(int64(code))] = true
			t.Run(itoa(int64(code)), func(t *testing.T) {
				g := NewWithT(t)
				err := classify("modify_group_base_info", code, "vendor text")
				g.Expect(err.Class).To(BeIdenticalTo(class))
				g.Expect(err.Code).To(Equal(itoa(int64(code))))
				g.Expect(err.Error()).To(ContainSubstring("vendor text"))
				if class == vendors.ErrAccessDenied || class == vendors.ErrQuotaExceeded {
					g.Expect(err.Message).To(ContainSubstring("IM console"), "the message says where to grant it")
				}
			})
		}
	}
	for code := range codes {
		NewWithT(t).Expect(listed).To(HaveKey(code), "code %s has no expected class in this test", code)
	}
	for _, code := range []int{0, 1, 10001, 10099, 20004, 60013, 70002, 99999} {
		t.Run("undocumented "+itoa(int64(code)), func(t *testing.T) {
			g := NewWithT(t)
			err := classify("add_group_member", code, "something new")
			g.Expect(err.Class).To(BeIdenticalTo(vendors.ErrUnavailable), "retried and shown, never a stall")
			g.Expect(err.Error()).To(And(ContainSubstring(itoa(int64(code))), ContainSubstring("something new")))
			g.Expect(vendors.Definite(err)).To(BeFalse())
		})
	}
}

// TestCheck reads whole answers: the envelope, and what is not the envelope.
func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		body      string
		wantClass error // nil: success
		wantCode  string
	}{
		{name: "OK", status: 200, body: `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`},
		{name: "documented code", status: 200, body: `{"ActionStatus":"FAIL","ErrorCode":10004,"ErrorInfo":"bad"}`,
			wantClass: vendors.ErrInvalid, wantCode: "10004"},
		{name: "undocumented code", status: 200, body: `{"ActionStatus":"FAIL","ErrorCode":12345,"ErrorInfo":"new"}`,
			wantClass: vendors.ErrUnavailable, wantCode: "12345"},
		{name: "FAIL without a code", status: 200, body: `{"ActionStatus":"FAIL","ErrorCode":0,"ErrorInfo":"odd"}`,
			wantClass: vendors.ErrUnavailable, wantCode: "0"},
		{name: "non-JSON body", status: 200, body: `<html>gateway</html>`, wantClass: vendors.ErrUnavailable},
		{name: "JSON that is not the envelope", status: 200, body: `{"code":0}`, wantClass: vendors.ErrUnavailable},
		{name: "empty body", status: 200, body: ``, wantClass: vendors.ErrUnavailable},
		{name: "unexpected status", status: 404, body: `{"ActionStatus":"FAIL","ErrorCode":10004}`, wantClass: vendors.ErrUnavailable, wantCode: "404"},
		{name: "server error", status: 502, wantClass: vendors.ErrUnavailable, wantCode: "502"},
		{name: "a redirect", status: 302, wantClass: vendors.ErrUnavailable, wantCode: "302"},
		{name: "a proxy's throttle", status: 429, wantClass: vendors.ErrRateLimited, wantCode: "429"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			err := check("create_group", vendors.Response{Status: tc.status, Body: []byte(tc.body)})
			if tc.wantClass == nil {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			var ve *vendors.Error
			g.Expect(errors.As(err, &ve)).To(BeTrue())
			g.Expect(ve.Class).To(BeIdenticalTo(tc.wantClass))
			g.Expect(ve.Code).To(Equal(tc.wantCode))
			g.Expect(ve.Op).To(Equal("create_group"))
		})
	}
}

func TestStatusError(t *testing.T) {
	for _, tc := range []struct {
		status    int
		wantClass error
	}{
		{status: 429, wantClass: vendors.ErrRateLimited},
		{status: 500, wantClass: vendors.ErrUnavailable},
		{status: 502, wantClass: vendors.ErrUnavailable},
		{status: 503, wantClass: vendors.ErrBusy},
		{status: 504, wantClass: vendors.ErrUnavailable},
		{status: 404, wantClass: vendors.ErrUnavailable},
	} {
		t.Run(itoa(int64(tc.status)), func(t *testing.T) {
			g := NewWithT(t)
			err := statusError("get_group_info", tc.status)
			g.Expect(errors.Is(err, tc.wantClass)).To(BeTrue())
			g.Expect(vendors.Definite(err)).To(Equal(tc.wantClass == vendors.ErrRateLimited || tc.wantClass == vendors.ErrBusy))
		})
	}
}

func TestHasCode(t *testing.T) {
	g := NewWithT(t)
	err := classify("create_group", 10021, "taken")
	g.Expect(hasCode(err, 10021, 10025)).To(BeTrue())
	g.Expect(hasCode(err, 10025)).To(BeFalse())
	g.Expect(hasCode(errors.New("10021"), 10021)).To(BeFalse(), "only classified vendor errors carry codes")
}
