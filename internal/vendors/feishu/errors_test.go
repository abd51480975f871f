package feishu

import (
	"errors"
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// TestCheck_CodeTable reads every documented code (§7) and the answers that are
// not Feishu's into their classes.
func TestCheck_CodeTable(t *testing.T) {
	body := func(code string) []byte { return []byte(`{"code":` + code + `,"msg":"m"}`) }
	for code, class := range codes {
		t.Run(code, func(t *testing.T) {
			err := check("op", vendors.Response{Status: http.StatusBadRequest, Header: http.Header{}, Body: body(code)})
			NewWithT(t).Expect(errors.Is(err, class)).To(BeTrue(), "%v", err)
		})
	}
	for _, tc := range []struct {
		name   string
		status int
		body   string
		class  error
	}{
		{"success", 200, `{"code":0,"msg":"ok","data":{}}`, nil},
		{"undocumented code", 400, `{"code":1234567,"msg":"new"}`, vendors.ErrUnavailable},
		{"not JSON", 502, `<html>bad gateway</html>`, vendors.ErrUnavailable},
		{"JSON without a code", 200, `{"message":"hi"}`, vendors.ErrUnavailable},
		{"503 without a code", 503, ``, vendors.ErrBusy},
		{"429 without a code", 429, ``, vendors.ErrRateLimited},
		{"code 0 with an error status", 500, `{"code":0}`, vendors.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			err := check("op", vendors.Response{Status: tc.status, Header: http.Header{}, Body: []byte(tc.body)})
			if tc.class == nil {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(errors.Is(err, tc.class)).To(BeTrue(), "%v", err)
		})
	}
}

func TestCheck_ThrottleReadsTheResetHeaderAndInputNamesTheField(t *testing.T) {
	g := NewWithT(t)
	h := http.Header{}
	h.Set("x-ogw-ratelimit-reset", "7")
	err := check("op", vendors.Response{Status: 429, Header: h, Body: []byte(`{"code":99991400,"msg":"request trigger frequency limit"}`)})
	g.Expect(errors.Is(err, vendors.ErrRateLimited)).To(BeTrue())
	g.Expect(vendors.RetryAfter(err)).To(Equal(7 * time.Second))

	err = check("op", vendors.Response{Status: 400, Header: http.Header{}, Body: []byte(`{"code":232019,"msg":"busy"}`)})
	g.Expect(vendors.RetryAfter(err)).To(Equal(time.Second), "the per-chat throttle has no header: a second")

	err = check("op", vendors.Response{Status: 400, Header: http.Header{}, Body: []byte(`{"code":232012,"msg":"not in chat"}`)})
	g.Expect(errors.Is(err, vendors.ErrInvalid)).To(BeTrue())
	g.Expect(vendors.FieldOf(err)).To(Equal("owner"))

	err = check("op", vendors.Response{Status: 400, Header: http.Header{}, Body: []byte(`{"code":99991672,"msg":"scope"}`)})
	g.Expect(errors.Is(err, vendors.ErrAccessDenied)).To(BeTrue())
	g.Expect(err.Error()).To(ContainSubstring("im:chat:operate_as_owner"))
}

func TestPatch_SendsOnlyWhatDiffersAndThePairedPermissionsTogether(t *testing.T) {
	yes, no := true, false
	got := chatInfo{Name: "a", ChatType: "private", AddMemberPermission: "all_members", ShareCardPermission: "allowed",
		AtAllPermission: "all_members", EditPermission: "all_members", MembershipApproval: "no_approval_required"}
	for _, tc := range []struct {
		name string
		want vendors.GroupSpec
		out  map[string]string
	}{
		{"nothing", vendors.GroupSpec{Name: "a"}, map[string]string{}},
		{"rename", vendors.GroupSpec{Name: "b"}, map[string]string{"name": "b"}},
		{"unset options are left", vendors.GroupSpec{Name: "a", Options: vendors.Options{MentionAllOwnerOnly: &no}}, map[string]string{}},
		{"mention all", vendors.GroupSpec{Name: "a", Options: vendors.Options{MentionAllOwnerOnly: &yes}},
			map[string]string{"at_all_permission": "only_owner"}},
		{"add members owner only", vendors.GroupSpec{Name: "a", Vendor: Desired{AddMembersOwnerOnly: &yes}},
			map[string]string{"add_member_permission": "only_owner", "share_card_permission": "not_allowed"}},
		{"a half-set pair is sent whole", vendors.GroupSpec{Name: "a", Vendor: Desired{AddMembersOwnerOnly: &no}},
			map[string]string{}},
		{"approval and public", vendors.GroupSpec{Name: "a", Options: vendors.Options{JoinPolicy: "ApprovalRequired"}, Vendor: Desired{ChatType: "public"}},
			map[string]string{"membership_approval": "approval_required", "chat_type": "public"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(patch(got, tc.want)).To(Equal(tc.out))
		})
	}
	half := got
	half.ShareCardPermission = "not_allowed"
	NewWithT(t).Expect(patch(half, vendors.GroupSpec{Vendor: Desired{AddMembersOwnerOnly: &no}})).
		To(Equal(map[string]string{"add_member_permission": "all_members", "share_card_permission": "allowed"}))
}
