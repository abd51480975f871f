package tencentim_test

import (
	"encoding/json"
	"testing"
	"time"

	. "github.com/onsi/gomega"
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

	batched := map[string]int{}    // group -> batch reads that included it
	individual := map[string]int{} // "op group" -> calls about that group alone
	for _, c := range f.sim.AppCalls(appID)[before:] {
		var body struct {
			GroupID  string   `json:"GroupId"`
			GroupIDs []string `json:"GroupIdList"`
		}
		g.Expect(json.Unmarshal(c.Body, &body)).To(Succeed())
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
	for _, id := range ids {
		g.Expect(batched[id]).To(BeNumerically(">=", 1), "group %s was checked in a batch", id)
	}
	g.Expect(individual).To(Equal(map[string]int{
		"get_group_info " + ids[1]:         1,
		"get_group_member_info " + ids[1]:  1,
		"modify_group_base_info " + ids[1]: 1,
	}), "only the changed group is read on its own, once, and fixed")
}
