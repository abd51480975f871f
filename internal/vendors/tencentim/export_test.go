package tencentim

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
	timsim "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/tencentim"
)

// TestListGroups_ExportsWhatObserveFindsUpToDate lists an app's groups from the
// simulator (more than one get_group_info batch, every group type with its
// settings) and checks that the spec Registration.Export writes for each group
// is what Observe finds up to date: adopting it makes no call.
func TestListGroups_ExportsWhatObserveFindsUpToDate(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	sim := timsim.New(timsim.Config{Apps: map[int64]timsim.App{exampleAppID: {
		SecretKey: exampleKey, Admins: []string{exampleAdmin}, Accounts: accounts("u", 5), GroupDataKeys: []string{"team"},
	}}})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	members := func(ids ...string) []timsim.Member {
		var out []timsim.Member
		for _, id := range ids {
			out = append(out, timsim.Member{Account: id})
		}
		return out
	}
	for i := range 52 {
		sim.PutGroup(exampleAppID, timsim.Group{ID: fmt.Sprintf("p-%02d", i), Type: private, Name: fmt.Sprintf("Team %d", i),
			Owner: "u0", MaxMembers: 200, InviteJoinOption: "FreeAccess", Members: members("u0", "u1", "u2")})
	}
	sim.PutGroup(exampleAppID, timsim.Group{ID: "pub", Type: public, Name: "Announcements", Introduction: "All hands",
		Notification: "Read me", FaceURL: "https://example.com/face.png", Owner: "u1", MaxMembers: 2000,
		ApplyJoinOption: "NeedPermission", InviteJoinOption: "DisableInvite", MuteAll: true,
		AppDefinedData: map[string]string{"team": "sre"}, Members: members("u1", "u3")})
	sim.PutGroup(exampleAppID, timsim.Group{ID: "av", Type: avChatRoom, Name: "Live", ApplyJoinOption: "FreeAccess"})
	sim.PutGroup(exampleAppID, timsim.Group{ID: "community", Type: community, Name: "Guild", MaxMembers: 100000, Members: members("u4")})

	c := connect(t, srv.URL, nil, nil)
	var last [2]int
	got, err := c.ListGroups(ctx, func(read, total int) { last = [2]int{read, total} })
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(HaveLen(55))
	g.Expect(last).To(Equal([2]int{55, 55}))
	g.Expect(sim.Count("get_appid_group_list")).To(Equal(1))
	g.Expect(sim.Count("get_group_info")).To(Equal(2), "50 groups a call")
	g.Expect(sim.Count("get_group_member_info")).To(Equal(54), "every group but the AVChatRoom, which keeps no member list")

	for _, o := range got {
		spec := v1alpha1.ChatGroupSpec{Vendor: v1alpha1.TencentIM, Name: o.Name, Owner: o.Owner, Members: o.Members}
		export(o, &spec)
		want := vendors.GroupSpec{UID: "uid", Name: spec.Name, Owner: spec.Owner, Members: spec.Members, MemberPolicy: vendors.Authoritative,
			Description: spec.Description, Announcement: spec.Announcement, Icon: spec.Icon, Vendor: groupSettings(spec.TencentIM)}
		if opts := spec.ManagementOptions; opts != nil {
			want.Options = vendors.Options{JoinPolicy: string(opts.JoinPolicy), MuteAll: opts.MuteAll}
		}
		g.Expect(validate(want)).To(Succeed(), o.ID)
		obs, err := c.Observe(ctx, o.ID, want)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(obs.UpToDate).To(BeTrue(), "%s: %s", o.ID, obs.Diff)
		if o.ID == "pub" {
			g.Expect(spec.ManagementOptions.JoinPolicy).To(Equal(v1alpha1.ApprovalRequired))
			g.Expect(spec.TencentIM).To(Equal(&v1alpha1.TencentIMGroup{GroupType: public, MaxMembers: new(int32(2000)),
				InviteJoinPolicy: v1alpha1.Closed, AppDefinedData: map[string]string{"team": "sre"}}))
		}
	}
}
