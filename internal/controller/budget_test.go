package controller

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	clientfake "sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

func TestBudgetInterval(t *testing.T) {
	now := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC) // 15 days before the window ends
	_, end := budgetWindow(now)
	for _, tc := range []struct {
		name   string
		budget int64
		used   int64
		groups int
		want   time.Duration
	}{
		{"no groups: the group's own interval", 5000, 0, 0, defaultSyncInterval},
		{"a large budget: the group's own interval", 10_000_000, 0, 10, defaultSyncInterval},
		// 5000 - 1000 used - 500 reserve = 3500 calls for 2 groups over 15 days.
		{"DingTalk standard edition, two groups", 5000, 1000, 2, (15 * 24 * time.Hour * 2 / 3500).Round(time.Minute)},
		{"only the reserve for changes left: no check before the window ends", 5000, 4600, 2, 15 * 24 * time.Hour},
		{"overspent by changes: no check before the window ends", 5000, 7000, 2, 15 * 24 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(budgetInterval(tc.budget, tc.used, tc.groups, defaultSyncInterval, now, end)).To(Equal(tc.want))
		})
	}
}

func TestNextBudgetStatus(t *testing.T) {
	g := NewWithT(t)
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	cur := &v1alpha1.CallBudgetStatus{WindowStart: &metav1.Time{Time: nov}, Used: 40}

	same := nextBudgetStatus(cur, 5000, 5, 1, nov.Add(20*24*time.Hour))
	g.Expect(same.Used).To(Equal(int64(45)), "added to this month's count")
	g.Expect(same.WindowStart.Time).To(Equal(nov))

	next := nextBudgetStatus(cur, 5000, 5, 1, nov.AddDate(0, 1, 2))
	g.Expect(next.Used).To(Equal(int64(5)), "a new month starts from zero")
	g.Expect(next.WindowStart.Time).To(Equal(nov.AddDate(0, 1, 0)))
	g.Expect(next.DriftInterval.Duration).To(Equal(defaultSyncInterval))
}

// The count lives in the provider's status: a restarted operator (new
// connections, its meters at zero) adds to it instead of starting over, and a
// record with no new calls adds nothing. Only the vendor's metered calls count
// (DingTalk: not the token API).
func TestBudgetKeeper_CountSurvivesARestart(t *testing.T) {
	g := NewWithT(t)
	ctx := t.Context()
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: "ns"},
		Data: map[string][]byte{"appKey": []byte("k"), "appSecret": []byte("s")}}
	p := unitProvider("ns", "p", v1alpha1.DingTalk, "creds", func(p *v1alpha1.ChatProvider) {
		p.Spec.CallBudget = &v1alpha1.CallBudget{CallsPerMonth: 5000}
		p.Status.CallBudget = &v1alpha1.CallBudgetStatus{WindowStart: &metav1.Time{Time: nov}, Used: 40} // before the restart
	})
	conns, _, _ := unitConnections(secret)
	c := newFakeClient(p)
	k := &budgetKeeper{Client: c, connections: conns, interval: time.Minute, clock: clocktesting.NewFakeClock(nov.Add(24 * time.Hour))}

	_, err := conns.Client(ctx, p)
	g.Expect(err).NotTo(HaveOccurred())
	lim := conns.cache[providerKey(p)].limiter
	for range 5 {
		lim.Sent("chat/get")
	}
	lim.Sent("oauth2/accessToken")
	stored := func() *v1alpha1.CallBudgetStatus {
		got := &v1alpha1.ChatProvider{}
		g.Expect(c.Get(ctx, client.ObjectKeyFromObject(p), got)).To(Succeed())
		return got.Status.CallBudget
	}

	g.Expect(k.flush(ctx)).To(Succeed())
	g.Expect(stored().Used).To(Equal(int64(45)))
	g.Expect(k.flush(ctx)).To(Succeed())
	g.Expect(stored().Used).To(Equal(int64(45)), "nothing new, nothing added")
	lim.Sent("group/update")
	g.Expect(k.flush(ctx)).To(Succeed())
	g.Expect(stored().Used).To(Equal(int64(46)))
	g.Expect(stored().DriftInterval.Duration).To(Equal(defaultSyncInterval), "no groups use it")
}

// newFakeClient is a fake client holding objs, with the providers' status
// subresource and the ChatGroups' provider index.
func newFakeClient(objs ...client.Object) client.Client {
	return clientfake.NewClientBuilder().WithScheme(testScheme).
		WithStatusSubresource(&v1alpha1.ChatProvider{}, &v1alpha1.ClusterChatProvider{}).
		WithIndex(&v1alpha1.ChatGroup{}, providerRefIndex, func(o client.Object) []string {
			ref := o.(*v1alpha1.ChatGroup).Spec.ProviderRef
			return []string{string(kindOf(ref)) + "/" + ref.Name}
		}).
		WithObjects(objs...).Build()
}
