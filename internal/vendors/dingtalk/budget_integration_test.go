package dingtalk_test

import (
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors/dingtalk"
)

// A provider whose call budget is spent: its status counts the metered calls
// (every group call, not the token), drift checks wait for the next month, and
// an edit still goes to DingTalk at once.
func TestDingTalk_CallBudget(t *testing.T) {
	startEnv(t)
	g := NewWithT(t)
	ns := env.Namespace(t)
	settings, data := harness.Provider(simURL)
	data[dingtalk.SecretAppSecret] = []byte(appSecret)
	settings.CallBudget = &v1alpha1.CallBudget{CallsPerMonth: 2}
	settings.RateLimit = &v1alpha1.RateLimit{QPS: 17, Burst: 1} // its own limiter: other tests share the app
	p := env.Provider(t, ns, "dingtalk", settings, data)

	var groups []*v1alpha1.ChatGroup
	for _, name := range []string{"budget-a", "budget-b"} {
		cg := newGroup(ns, name)
		g.Expect(env.Client.Create(ctx, cg)).To(Succeed())
		groups = append(groups, env.WaitReady(t, cg))
	}
	metered := func() int {
		n := 0
		for _, cg := range groups {
			n += len(writes(cg.Status.GroupID, ""))
		}
		return n
	}
	budget := func(g Gomega) *v1alpha1.CallBudgetStatus {
		got := &v1alpha1.ChatProvider{}
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(p), got)).To(Succeed())
		g.Expect(got.Status.CallBudget).NotTo(BeNil())
		return got.Status.CallBudget
	}
	// Every group write is metered; beyond them only the provider's permission
	// probes (chat/get and group/update of a chatid no group has, once per
	// client) and at most a read per group.
	const probes = 2
	g.Eventually(func(g Gomega) int64 { return budget(g).Used }).WithTimeout(10 * time.Second).
		Should(BeNumerically(">=", metered()+probes))
	g.Expect(budget(g).Used).To(BeNumerically("<=", metered()+probes+len(groups)))

	// Overspent: no drift check before the month ends.
	end := budget(g).WindowStart.AddDate(0, 1, 0)
	g.Expect(budget(g).DriftInterval.Duration).To(BeNumerically("~", time.Until(end), 2*time.Minute))

	// An edit goes first: at once, whatever the budget says.
	before := groups[0].Status.GroupID
	patchSpec(t, groups[0], func(s *v1alpha1.ChatGroupSpec) { s.Name += "x" })
	edited := env.WaitReady(t, groups[0])
	g.Expect(writes(before, "")).NotTo(BeEmpty())
	ready := readyCondition(edited)
	g.Expect(ready.Message).To(ContainSubstring("next drift check at " + end.Format("2006-01")))
	g.Expect(strings.Contains(ready.Message, "call budget")).To(BeTrue())
	// The edit's group/update and its chat/get are metered (and whatever else
	// the credential's checks made meanwhile).
	g.Eventually(func(g Gomega) int64 { return budget(g).Used }).WithTimeout(10 * time.Second).
		Should(BeNumerically(">=", metered()+probes+1))
}
