package whatsapp

import (
	"encoding/json"
	"net/http"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// checkCase is one answer and the class check must give it.
type checkCase struct {
	name      string
	status    int
	body      []byte
	wantClass error // nil: accepted
}

// body is a CAMS error envelope with code.
func body(code string) []byte { return []byte(`{"Code":"` + code + `","Message":"m","RequestId":"R"}`) }

// checkCases drive the whole code table: every code it holds and every family,
// codes it must not confuse, and answers that are not CAMS's.
var checkCases = []checkCase{
	// Success is Code OK on a 2xx, whatever Success says.
	{name: "OK", status: 200, body: []byte(`{"Code":"OK","Success":false}`)},
	{name: "OK on a 5xx", status: 500, body: body("OK"), wantClass: vendors.ErrUnavailable},
	{name: "OK on a redirect", status: 302, body: body("OK"), wantClass: vendors.ErrUnavailable},

	// The table, code by code.
	{name: "Throttling", status: 400, body: body("Throttling"), wantClass: vendors.ErrRateLimited},
	{name: "Throttling.User", status: 400, body: body("Throttling.User"), wantClass: vendors.ErrRateLimited},
	{name: "Throttling.Api", status: 503, body: body("Throttling.Api"), wantClass: vendors.ErrRateLimited},
	{name: "ServiceUnavailable", status: 503, body: body("ServiceUnavailable"), wantClass: vendors.ErrUnavailable},
	{name: "InternalError", status: 500, body: body("InternalError"), wantClass: vendors.ErrUnavailable},
	{name: "SignatureNonceUsed", status: 400, body: body("SignatureNonceUsed"), wantClass: vendors.ErrUnavailable},
	{name: "InvalidAction.NotFound", status: 404, body: body("InvalidAction.NotFound"), wantClass: vendors.ErrUnavailable},
	{name: "InvalidVersion", status: 404, body: body("InvalidVersion"), wantClass: vendors.ErrUnavailable},
	{name: "SignatureDoesNotMatch", status: 400, body: body("SignatureDoesNotMatch"), wantClass: vendors.ErrUnauthorized},
	{name: "IncompleteSignature", status: 400, body: body("IncompleteSignature"), wantClass: vendors.ErrUnauthorized},
	{name: "InvalidAccessKeyId.NotFound", status: 404, body: body("InvalidAccessKeyId.NotFound"), wantClass: vendors.ErrUnauthorized},
	{name: "InvalidAccessKeyId.Inactive", status: 400, body: body("InvalidAccessKeyId.Inactive"), wantClass: vendors.ErrUnauthorized},
	{name: "InvalidTimeStamp.Expired", status: 400, body: body("InvalidTimeStamp.Expired"), wantClass: vendors.ErrUnauthorized},
	{name: "InvalidTimeStamp.Format", status: 400, body: body("InvalidTimeStamp.Format"), wantClass: vendors.ErrUnauthorized},
	{name: "MissingParameter", status: 400, body: body("MissingParameter"), wantClass: vendors.ErrInvalid},
	{name: "InvalidParameter", status: 400, body: body("InvalidParameter"), wantClass: vendors.ErrInvalid},
	{name: "GroupNotExist", status: 404, body: body("GroupNotExist"), wantClass: vendors.ErrNotFound},

	// The families.
	{name: "Throttling.Tenant", status: 400, body: body("Throttling.Tenant"), wantClass: vendors.ErrRateLimited},
	{name: "InvalidParameter.Subject", status: 400, body: body("InvalidParameter.Subject"), wantClass: vendors.ErrInvalid},
	{name: "MissingParameter.GroupId", status: 400, body: body("MissingParameter.GroupId"), wantClass: vendors.ErrInvalid},
	{name: "InvalidAccessKeyId", status: 400, body: body("InvalidAccessKeyId.Other"), wantClass: vendors.ErrUnauthorized},
	{name: "Forbidden", status: 403, body: body("Forbidden"), wantClass: vendors.ErrAccessDenied},
	{name: "Forbidden.RAM", status: 403, body: body("Forbidden.RAM"), wantClass: vendors.ErrAccessDenied},
	{name: "Forbidden.NotAllowlisted", status: 403, body: body("Forbidden.NotAllowlisted"), wantClass: vendors.ErrAccessDenied},
	{name: "NoPermission", status: 403, body: body("NoPermission"), wantClass: vendors.ErrAccessDenied},
	{name: "NoPermission.Type", status: 403, body: body("NoPermission.Type"), wantClass: vendors.ErrAccessDenied},

	// Codes that look like the group is gone but are not the documented one.
	{name: "a code containing NotFound", status: 404, body: body("ChatGroup.NotFound"), wantClass: vendors.ErrUnavailable},
	{name: "a code containing NotExist", status: 404, body: body("GroupNotExist.Other"), wantClass: vendors.ErrUnavailable},

	// Anything else is retried, never a stall.
	{name: "an unknown code", status: 400, body: body("Undocumented.Code"), wantClass: vendors.ErrUnavailable},
	{name: "an unknown code on 403", status: 403, body: body("Denied"), wantClass: vendors.ErrUnavailable},
	{name: "an unknown code on 429 is a throttle", status: 429, body: body("TooMany"), wantClass: vendors.ErrRateLimited},
	{name: "not JSON", status: 200, body: []byte(`<html>hello</html>`), wantClass: vendors.ErrUnavailable},
	{name: "no Code", status: 200, body: []byte(`{"Success":true}`), wantClass: vendors.ErrUnavailable},
	{name: "empty body", status: 200, wantClass: vendors.ErrUnavailable},
	{name: "an unexpected status without a body", status: 418, wantClass: vendors.ErrUnavailable},
	{name: "a redirect", status: 301, body: []byte(`moved`), wantClass: vendors.ErrUnavailable},
	{name: "a 5xx page", status: 502, body: []byte(`<html>bad gateway</html>`), wantClass: vendors.ErrUnavailable},
	{name: "a 429 page", status: 429, body: []byte(`slow down`), wantClass: vendors.ErrRateLimited},
}

func TestCheck(t *testing.T) {
	for _, tc := range checkCases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			err := check("UpdateChatGroup", vendors.Response{Status: tc.status, Header: http.Header{}, Body: tc.body})
			if tc.wantClass == nil {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(tc.wantClass))
			for _, class := range []error{vendors.ErrNotFound, vendors.ErrInvalid, vendors.ErrAccessDenied, vendors.ErrUnauthorized, vendors.ErrRateLimited, vendors.ErrUnavailable} {
				if class != tc.wantClass {
					g.Expect(err).NotTo(MatchError(class), "exactly one class")
				}
			}
		})
	}
}

// TestCheck_CoversTheTable fails when a code is added to the table without a
// row in TestCheck.
func TestCheck_CoversTheTable(t *testing.T) {
	g := NewWithT(t)
	var tested []string
	for _, tc := range checkCases {
		var env envelope
		if json.Unmarshal(tc.body, &env) == nil && env.Code != "" {
			tested = append(tested, env.Code)
		}
	}
	for code := range codes {
		g.Expect(tested).To(ContainElement(code), "TestCheck has no row for %s", code)
	}
	for _, f := range families {
		g.Expect(tested).To(ContainElement(HavePrefix(f.prefix)), "TestCheck has no row for the family %s", f.prefix)
	}
}

func TestCheck_UnknownCodesCarryTheVendorsCodeAndMessage(t *testing.T) {
	g := NewWithT(t)
	err := check("UpdateChatGroup", vendors.Response{Status: 400, Body: []byte(`{"Code":"Undocumented.Code","Message":"something odd"}`)})
	g.Expect(err).To(MatchError(vendors.ErrUnavailable))
	g.Expect(err.Error()).To(ContainSubstring("Undocumented.Code"))
	g.Expect(err.Error()).To(ContainSubstring("something odd"))
	g.Expect(vendors.Definite(err)).To(BeFalse(), "nothing proves the call had no effect")
}

func TestCheck_AccessDeniedNamesThePermission(t *testing.T) {
	g := NewWithT(t)
	for _, code := range []string{"Forbidden.RAM", "NoPermission"} {
		err := check("DeleteChatGroupParticipants", vendors.Response{Status: 403, Body: []byte(`{"Code":"` + code + `","Message":"denied"}`)})
		g.Expect(err).To(MatchError(vendors.ErrAccessDenied))
		g.Expect(err.Error()).To(ContainSubstring("cams:DeleteChatGroupParticipants"))
		g.Expect(err.Error()).To(ContainSubstring("RAM action"))
		g.Expect(err.Error()).To(ContainSubstring("denied"), "the vendor's own words too")
	}
}

// The gateway's RAM denial carries AccessDeniedDetail as an object, where
// answers have the string "None"; both are CAMS envelopes.
func TestCheck_AccessDeniedDetailObjectIsRead(t *testing.T) {
	g := NewWithT(t)
	body := `{"Code":"Forbidden.RAM","Message":"User not authorized","AccessDeniedDetail":{"AuthAction":"cams:UpdateChatGroup","NoPermissionType":"ImplicitDeny"}}`
	err := check("UpdateChatGroup", vendors.Response{Status: 403, Body: []byte(body)})
	g.Expect(err).To(MatchError(vendors.ErrAccessDenied))
	g.Expect(err.Error()).To(ContainSubstring("cams:UpdateChatGroup"))
}
