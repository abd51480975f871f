package tencentim_test

import (
	"encoding/json"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

// Periodic drift checks of groups in sync share one get_group_info call (up to
// 50 GroupIds); the group that call shows changed, and only that group, is then
// read on its own and brought back to the spec.
func TestDriftBatch(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	f := readyFixture(t)
	var ids []string
	for _, name := range []string{"b1", "b2", "b3"} {
		ids = append(ids, f.ready(f.group(name)).Status.GroupID)
	}
	renamed := f.vendorGroup(ids[1])
	renamed.Name = "Renamed by hand"
	f.sim.PutGroup(appID, renamed)
	before := len(f.sim.AppCalls(appID))

	// Any provider event queues a pass for each of its groups: for groups in
	// sync, a periodic drift check.
	p := &v1alpha1.ChatProvider{}
	g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: "tencentim"}, p)).To(Succeed())
	patch := client.MergeFrom(p.DeepCopy())
	p.Annotations = map[string]string{"example.com/touched": "1"}
	g.Expect(env.Client.Patch(ctx, p, patch)).To(Succeed())

	g.Eventually(func() string { return f.vendorGroup(ids[1]).Name }).WithTimeout(20 * time.Second).Should(Equal("Team b2"))
	calls := func() int { return len(f.sim.AppCalls(appID)) }
	g.Consistently(calls).WithTimeout(3 * time.Second).WithPolling(500 * time.Millisecond).Should(Equal(calls()))

	batched, individual := f.groupCalls(before)
	for _, id := range ids {
		g.Expect(batched[id]).To(BeNumerically(">=", 1), "group %s was checked in a batch", id)
	}
	g.Expect(individual).To(Equal(map[string]int{
		"get_group_info " + ids[1]:         1,
		"get_group_member_info " + ids[1]:  1,
		"modify_group_base_info " + ids[1]: 1,
	}), "only the changed group is read on its own, once, and fixed")
}

// TestDriftBatch_People: groups whose members come from ChatUsers share the
// batched drift check too, while a ChatUser change that alters their members
// is applied at once, each group read on its own and not through a batch.
func TestDriftBatch_People(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	f := readyFixture(t)
	person := func(name, account string) *v1alpha1.ChatUser {
		return &v1alpha1.ChatUser{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns, Labels: map[string]string{"team": "sre"}},
			Spec:       v1alpha1.ChatUserSpec{Accounts: []v1alpha1.ChatUserAccount{{Vendor: v1alpha1.TencentIM, ID: account}}},
		}
	}
	for _, u := range []*v1alpha1.ChatUser{person("p1", "u1"), person("p2", "u2")} {
		g.Expect(env.Client.Create(ctx, u)).To(Succeed())
	}
	var ids []string
	for _, name := range []string{"p1", "p2"} {
		cg := f.ready(f.group("sre-"+name, func(cg *v1alpha1.ChatGroup) {
			cg.Spec.Members = nil
			cg.Spec.MembersFrom = []v1alpha1.MembersSource{{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "sre"}}}}
		}))
		g.Expect(f.memberIDs(cg.Status.GroupID)).To(ConsistOf("owner1", "u1", "u2"))
		ids = append(ids, cg.Status.GroupID)
	}
	calls := func() int { return len(f.sim.AppCalls(appID)) }
	g.Consistently(calls).WithTimeout(2 * time.Second).WithPolling(500 * time.Millisecond).Should(Equal(calls()))

	before := calls()
	p := &v1alpha1.ChatProvider{}
	g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: "tencentim"}, p)).To(Succeed())
	patch := client.MergeFrom(p.DeepCopy())
	p.Annotations = map[string]string{"example.com/touched": "1"}
	g.Expect(env.Client.Patch(ctx, p, patch)).To(Succeed())
	g.Eventually(func() []int {
		batched, _ := f.groupCalls(before)
		return []int{batched[ids[0]], batched[ids[1]]}
	}).WithTimeout(20*time.Second).Should(HaveEach(BeNumerically(">=", 1)), "both groups checked in a batch")
	g.Consistently(calls).WithTimeout(2 * time.Second).WithPolling(500 * time.Millisecond).Should(Equal(calls()))
	_, individual := f.groupCalls(before)
	g.Expect(individual).To(BeEmpty(), "groups in sync are not read on their own")

	before = calls()
	g.Expect(env.Client.Create(ctx, person("p3", "u3"))).To(Succeed())
	for _, id := range ids {
		g.Eventually(func() []string { return f.memberIDs(id) }).WithTimeout(20 * time.Second).Should(ContainElement("u3"))
	}
	batched, individual := f.groupCalls(before)
	g.Expect(batched).To(BeEmpty(), "a ChatUser change does not wait for a batched read")
	for _, id := range ids {
		g.Expect(individual).To(HaveKeyWithValue("add_group_member "+id, 1))
	}
}

// groupCalls counts the simulator's calls since the first `before`: per group,
// the batched reads that included it, and per "op group" the calls about that
// group alone.
func (f *fixture) groupCalls(before int) (batched, individual map[string]int) {
	f.t.Helper()
	batched, individual = map[string]int{}, map[string]int{}
	for _, c := range f.sim.AppCalls(appID)[before:] {
		var body struct {
			GroupID  string   `json:"GroupId"`
			GroupIDs []string `json:"GroupIdList"`
		}
		NewWithT(f.t).Expect(json.Unmarshal(c.Body, &body)).To(Succeed())
		switch {
		case len(body.GroupIDs) > 1:
			for _, id := range body.GroupIDs {
				batched[id]++
			}
		case len(body.GroupIDs) == 1:
			individual[c.Op+" "+body.GroupIDs[0]]++
		case body.GroupID != "":
			individual[c.Op+" "+body.GroupID]++
		}
	}
	return batched, individual
}

// memberIDs are the accounts of group id's members on the vendor.
func (f *fixture) memberIDs(id string) []string {
	var ids []string
	for _, m := range f.vendorGroup(id).Members {
		ids = append(ids, m.Account)
	}
	return ids
}
