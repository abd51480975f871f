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
		{code: 10007, wantClass: vendors.ErrInvalid, wantInText: "vendor text"},
		{code: 10019, command: "create_group", wantClass: vendors.ErrInvalid, wantField: "members", wantInText: "vendor text"},
		{code: 10019, command: "change_group_owner", wantClass: vendors.ErrInvalid, wantField: "owner"},
		{code: 10037, command: "add_group_member", wantClass: vendors.ErrInvalid, wantField: "members"},
		{code: 10038, command: "add_group_member", wantClass: vendors.ErrInvalid, wantField: "members"},
		{code: 80001, wantClass: vendors.ErrInvalid, wantInText: "vendor text"},
		{code: 12345, wantClass: vendors.ErrInvalid, wantInText: "vendor text"},
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

func TestStatusError(t *testing.T) {
	for _, tc := range []struct {
		status    int
		wantClass error
	}{
		{status: 429, wantClass: vendors.ErrRateLimited},
		{status: 500, wantClass: vendors.ErrUnavailable},
		{status: 503, wantClass: vendors.ErrUnavailable},
		{status: 404, wantClass: vendors.ErrUnavailable},
	} {
		t.Run(itoa(int64(tc.status)), func(t *testing.T) {
			g := NewWithT(t)
			err := statusError("get_group_info", tc.status)
			g.Expect(errors.Is(err, tc.wantClass)).To(BeTrue())
			g.Expect(vendors.Definite(err)).To(Equal(tc.wantClass == vendors.ErrRateLimited))
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
