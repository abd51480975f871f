package whatsapp

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
	camssim "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/whatsapp"
)

// TestListGroups_ExportsWhatObserveFindsUpToDate lists more than a page of
// groups from the simulator and checks that members leave out the business
// number and that the spec Registration.Export writes for each group is what
// Observe finds up to date: adopting it makes no call.
func TestListGroups_ExportsWhatObserveFindsUpToDate(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	sim := camssim.New(camssim.Config{AccessKeyID: testKeyID, AccessKeySecret: testSecret, CustSpaceID: testSpace, BusinessNumber: testBusiness,
		RateLimit: -1}) // unlimited: pacing is the limiter's test
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	for i := range pageSize + 2 {
		sim.Put(fmt.Sprintf("Store %d", i), testBusiness, "+8613900000001", fmt.Sprintf("86139000001%02d", i))
	}
	c, err := New(testCredentials(srv.URL))
	g.Expect(err).NotTo(HaveOccurred())

	got, err := c.ListGroups(ctx, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(HaveLen(pageSize + 2))
	g.Expect(sim.Count("ListChatGroup")).To(Equal(2), "pages of %d", pageSize)
	g.Expect(sim.Count("ListChatGroupParticipants")).To(Equal(pageSize + 2))
	for _, o := range got {
		g.Expect(o.Members).To(HaveLen(2), o.ID)
		g.Expect(o.Members).NotTo(ContainElement(testBusiness), "the business number administers every group")
		spec := v1alpha1.ChatGroupSpec{Vendor: v1alpha1.WhatsApp, Name: o.Name, Members: o.Members}
		export(o, &spec)
		want := vendors.GroupSpec{Name: spec.Name, Members: spec.Members, MemberPolicy: vendors.Authoritative,
			Description: spec.Description, Icon: spec.Icon}
		obs, err := c.Observe(ctx, o.ID, want)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(obs.UpToDate).To(BeTrue(), "%s: %s", o.ID, obs.Diff)
	}
}
