package whatsapp

import (
	"testing"

	. "github.com/onsi/gomega"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

func TestCompare(t *testing.T) {
	const link = "https://chat.whatsapp.com/ABC"
	base := snapshot{Subject: "Field team", Description: "Site visits", Picture: "https://img.example/a.jpg"}
	with := func(mod func(*snapshot)) snapshot {
		s := base
		mod(&s)
		return s
	}
	spec := func(mod func(*vendors.GroupSpec)) vendors.GroupSpec {
		w := vendors.GroupSpec{Name: "Field team", Description: "Site visits", Icon: "https://img.example/a.jpg", MemberPolicy: vendors.Authoritative,
			Vendor: GroupSettings{PictureHash: pictureHash("https://img.example/a.jpg")}}
		if mod != nil {
			mod(&w)
		}
		return w
	}
	for _, tc := range []struct {
		name     string
		want     vendors.GroupSpec
		got      snapshot
		expect   changes
		upToDate bool
		diff     string
	}{
		{name: "identical", want: spec(nil), got: base, upToDate: true},
		{name: "subject and description differ", want: spec(func(w *vendors.GroupSpec) { w.Name, w.Description = "Field crew", "Visits" }), got: base,
			expect: changes{Subject: "Field crew", Description: "Visits"}, diff: "subject, description"},
		{name: "picture differs", want: spec(func(w *vendors.GroupSpec) { w.Icon = "https://img.example/b.jpg" }), got: base,
			expect: changes{Picture: "https://img.example/b.jpg"}, diff: "profile picture"},
		{name: "the picture is compared with the record of what was sent, not CAMS's copy", want: spec(nil),
			got: with(func(s *snapshot) { s.Picture = "https://cams-media.example/copy.jpg" }), upToDate: true},
		{name: "no record (adoption, upgrade): the picture is sent once", want: spec(func(w *vendors.GroupSpec) { w.Vendor = nil }), got: base,
			expect: changes{Picture: "https://img.example/a.jpg"}, diff: "profile picture"},
		{name: "unset description and icon leave the vendor's alone", want: spec(func(w *vendors.GroupSpec) { w.Description, w.Icon = "", "" }), got: base, upToDate: true},
		{name: "pending invitees with an open link are up to date",
			want:     spec(func(w *vendors.GroupSpec) { w.Members = []string{"+8613800000001", "+8613800000002"} }),
			got:      with(func(s *snapshot) { s.InviteLink, s.Participants = link, []string{"8613800000001"} }),
			expect:   changes{Pending: []string{"+8613800000002"}},
			upToDate: true, diff: "1 members awaiting invite"},
		{name: "pending invitees without a link need one",
			want:   spec(func(w *vendors.GroupSpec) { w.Members = []string{"+8613800000001"} }),
			got:    base,
			expect: changes{Pending: []string{"+8613800000001"}, OpenLink: true}, diff: "open invite link, 1 members awaiting invite"},
		{name: "everyone joined: revoke the link",
			want:   spec(func(w *vendors.GroupSpec) { w.Members = []string{"8613800000001"} }),
			got:    with(func(s *snapshot) { s.InviteLink, s.Participants = link, []string{"8613800000001"} }),
			expect: changes{RevokeLink: true}, diff: "revoke invite link"},
		{name: "numbers compare without the plus sign",
			want:     spec(func(w *vendors.GroupSpec) { w.Members = []string{"+8613800000001"} }),
			got:      with(func(s *snapshot) { s.Participants = []string{"8613800000001"} }),
			upToDate: true},
		{name: "authoritative removes unlisted participants, never the business number",
			want:   spec(func(w *vendors.GroupSpec) { w.Members = []string{"+8613800000001"} }),
			got:    with(func(s *snapshot) { s.Participants = []string{"8613800000001", "8613800000009", testBusiness} }),
			expect: changes{Remove: []string{"8613800000009"}}, diff: "remove 1 participants"},
		{name: "additive removes only unlisted members the operator added",
			want: spec(func(w *vendors.GroupSpec) {
				w.MemberPolicy, w.Members, w.AddedMembers = vendors.Additive, []string{"+8613800000001"}, []string{"+8613800000001", "+8613800000008"}
			}),
			got:    with(func(s *snapshot) { s.Participants = []string{"8613800000001", "8613800000008", "8613800000009"} }),
			expect: changes{Remove: []string{"8613800000008"}}, diff: "remove 1 participants"},
		{name: "no members listed: authoritative empties the group",
			want:   spec(nil),
			got:    with(func(s *snapshot) { s.Participants = []string{"8613800000009"} }),
			expect: changes{Remove: []string{"8613800000009"}}, diff: "remove 1 participants"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			ch := compare(tc.want, tc.got, testBusiness)
			g.Expect(ch).To(Equal(tc.expect))
			g.Expect(ch.upToDate()).To(Equal(tc.upToDate))
			g.Expect(ch.String()).To(Equal(tc.diff))
			g.Expect(ch.String()).NotTo(ContainSubstring("86138"), "no phone numbers in logs")
		})
	}
}

func TestSettingsParams_SendsOnlyWhatDiffers(t *testing.T) {
	g := NewWithT(t)
	g.Expect(settingsParams("G1", changes{Description: "new"})).To(Equal(map[string]string{"GroupId": "G1", "Description": "new"}))
	g.Expect(settingsParams("G1", changes{Subject: "s", Picture: "p"})).To(Equal(map[string]string{"GroupId": "G1", "Subject": "s", "ProfilePictureFile": "p"}))
}
