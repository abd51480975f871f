package tencentim

import (
	"fmt"
	"net/http/httptest"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
	timsim "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/tencentim"
)

// ObserveBatch against the simulator: 60 groups cost two get_group_info calls
// (50 GroupIds each at most); a renamed, a missing and a grown group are changed.
func TestObserveBatch(t *testing.T) {
	g := NewWithT(t)
	sim := timsim.New(timsim.Config{Apps: map[int64]timsim.App{exampleAppID: {
		SecretKey: exampleKey, Admins: []string{exampleAdmin}, Accounts: []string{"owner", "u1", "u2"},
	}}})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := New(vendors.Credentials{Endpoint: srv.URL, Settings: Settings{SDKAppID: exampleAppID, AdminIdentifier: exampleAdmin},
		Secret: map[string][]byte{"secretKey": []byte(exampleKey)}})
	g.Expect(err).NotTo(HaveOccurred())

	var items []vendors.BatchItem
	for i := range 60 {
		id, name := fmt.Sprintf("g%02d", i), fmt.Sprintf("Team %02d", i)
		items = append(items, vendors.BatchItem{ID: id, MemberCount: 2, Want: vendors.GroupSpec{
			Name: name, Owner: "owner", Members: []string{"u1"}, MemberPolicy: vendors.Authoritative}})
		if i == 50 {
			continue // missing on the vendor
		}
		grp := timsim.Group{ID: id, Type: "Private", Name: name, Owner: "owner", MaxMembers: 200,
			Members: []timsim.Member{{Account: "owner"}, {Account: "u1"}}}
		switch i {
		case 5:
			grp.Name = "Renamed by hand"
		case 30:
			grp.Members = append(grp.Members, timsim.Member{Account: "u2"})
		}
		sim.PutGroup(exampleAppID, grp)
	}

	unchanged, err := c.ObserveBatch(t.Context(), items)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(unchanged).To(HaveLen(60))
	for i, ok := range unchanged {
		g.Expect(ok).To(Equal(i != 5 && i != 30 && i != 50), "group %d", i)
	}
	g.Expect(sim.Count("get_group_info")).To(Equal(2))
	g.Expect(sim.Count("get_group_member_info")).To(BeZero(), "members come with get_group_info")
}
