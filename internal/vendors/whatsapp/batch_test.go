package whatsapp

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// batchAccount is a fake CAMS account with n groups "Team NN", each with one
// participant (so no invite link), and the batch items that match them.
func batchAccount(t *testing.T, n int) (*fakeCAMS, []vendors.BatchItem) {
	f := newFakeCAMS(t)
	var items []vendors.BatchItem
	for i := range n {
		id, number := fmt.Sprintf("G%02d", i), fmt.Sprintf("86138000000%02d", i)
		f.groups = append(f.groups, chatGroup{GroupID: id, Subject: fmt.Sprintf("Team %02d", i), GroupStatus: statusActive})
		f.participants[id] = []string{number}
		items = append(items, vendors.BatchItem{ID: id, MemberCount: 1, Want: vendors.GroupSpec{
			Name: fmt.Sprintf("Team %02d", i), Members: []string{"+" + number}, MemberPolicy: vendors.Authoritative}})
	}
	return f, items
}

func TestObserveBatch(t *testing.T) {
	t.Run("a whole sweep lists each page once and reads the participants the list lacks", func(t *testing.T) {
		g := NewWithT(t)
		f, items := batchAccount(t, 45)
		f.groups[7].Subject = "Renamed by hand"
		f.participants["G30"] = append(f.participants["G30"], "8613800000099")
		unchanged, err := newTestClient(t, f).ObserveBatch(ctx, items)
		g.Expect(err).NotTo(HaveOccurred())
		for i, ok := range unchanged {
			g.Expect(ok).To(Equal(i != 7 && i != 30), "group %d", i)
		}
		g.Expect(f.callsOf("ListChatGroup")).To(HaveLen(3), "45 groups, 20 a page")
		for _, c := range f.callsOf("ListChatGroup") {
			g.Expect(c.Params.Get("Subject")).To(BeEmpty())
		}
		g.Expect(f.callsOf("ListChatGroupParticipants")).To(HaveLen(45))
	})

	t.Run("a small batch stops listing once subject lookups are cheaper", func(t *testing.T) {
		g := NewWithT(t)
		f, all := batchAccount(t, 100)
		items := []vendors.BatchItem{all[1], all[2], all[90]}
		unchanged, err := newTestClient(t, f).ObserveBatch(ctx, items)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(unchanged).To(Equal([]bool{true, true, true}))
		calls := f.callsOf("ListChatGroup")
		g.Expect(calls).To(HaveLen(2), "one page, then G90 by its subject")
		g.Expect(calls[1].Params.Get("Subject")).To(Equal("Team 90"))
	})

	t.Run("a throttled participants read is waited out, not the end of the batch", func(t *testing.T) {
		g := NewWithT(t)
		f, items := batchAccount(t, 5)
		throttled := 0
		f.respond = func(action string, q url.Values) (int, string) {
			if action == "ListChatGroupParticipants" && q.Get("GroupId") == "G02" && throttled == 0 {
				throttled++
				return http.StatusBadRequest, `{"Code":"Throttling.User","Message":"Request was denied due to user flow control."}`
			}
			return 0, ""
		}
		unchanged, err := newTestClient(t, f).ObserveBatch(ctx, items)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(unchanged).To(Equal([]bool{true, true, true, true, true}))
		g.Expect(f.callsOf("ListChatGroupParticipants")).To(HaveLen(6), "G02 read twice")
	})

	t.Run("a failure part-way keeps the answers given before it", func(t *testing.T) {
		g := NewWithT(t)
		f, items := batchAccount(t, 5)
		f.respond = func(action string, q url.Values) (int, string) {
			if action == "ListChatGroupParticipants" && q.Get("GroupId") == "G03" {
				return http.StatusForbidden, `{"Code":"Forbidden.RAM","Message":"not allowed"}`
			}
			return 0, ""
		}
		unchanged, err := newTestClient(t, f).ObserveBatch(ctx, items)
		g.Expect(err).To(MatchError(vendors.ErrAccessDenied))
		g.Expect(unchanged).To(HaveLen(5))
		g.Expect(unchanged[:3]).To(HaveEach(BeTrue()), "G00-G02 were read before the failure")
		g.Expect(unchanged[3:]).To(HaveEach(BeFalse()), "G03 and G04 are left to reads of their own")
	})

	t.Run("a group gone, being deleted or with a new member count is reported changed", func(t *testing.T) {
		g := NewWithT(t)
		f, items := batchAccount(t, 3)
		f.groups = append(f.groups[:1], f.groups[2:]...) // G01 gone
		f.groups[1].GroupStatus = statusDeleting         // G02
		items[0].MemberCount = 2                         // G00: a pending member joined
		unchanged, err := newTestClient(t, f).ObserveBatch(ctx, items)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(unchanged).To(Equal([]bool{false, false, false}))
	})
}
