package tencentim_test

import (
	"testing"

	. "github.com/onsi/gomega"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

// The operator clears the texts and deletes the AppDefinedData keys it set
// itself when the spec drops them, and leaves what other systems wrote.
func TestTencentIM_ClearsAndDeletesOnlyWhatItSet(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	f := readyFixture(t)
	cg := f.ready(f.group("owned", func(c *v1alpha1.ChatGroup) {
		c.Spec.Description, c.Spec.Announcement = "on-call rota", "page the primary"
		c.Spec.TencentIM.AppDefinedData = map[string]string{"team": "sre", "tier": "gold"}
	}))
	id := cg.Status.GroupID
	g.Expect(cg.Status.TencentIM).To(Equal(&v1alpha1.TencentIMStatus{
		SetFields: []v1alpha1.TencentIMField{"description", "announcement"}, AppDefinedDataKeys: []string{"team", "tier"}}))
	f.sim.WriteAppData(appID, id, "theirs", "written by another backend")

	before := f.counts(id)
	cg = f.change(cg, func(c *v1alpha1.ChatGroup) {
		c.Spec.Announcement = ""
		c.Spec.TencentIM.AppDefinedData = map[string]string{"team": "sre"}
	})
	env.RequestReconcile(t, cg)
	g.Expect(since(before, f.counts(id))).To(HaveKeyWithValue("modify_group_base_info", 1), "one call, not repeated")
	g.Expect(f.bodies(id, "modify_group_base_info")).To(Equal([]map[string]any{{
		"GroupId": id, "Notification": "", "AppDefinedData": []any{map[string]any{"Key": "tier", "Value": ""}},
	}}), "the announcement is cleared and tier deleted; the other backend's key is not touched")
	grp := f.vendorGroup(id)
	g.Expect(grp.Notification).To(BeEmpty())
	g.Expect(grp.Introduction).To(Equal("on-call rota"))
	g.Expect(grp.AppDefinedData).To(Equal(map[string]string{"team": "sre", "theirs": "written by another backend"}))
	g.Expect(cg.Status.TencentIM).To(Equal(&v1alpha1.TencentIMStatus{
		SetFields: []v1alpha1.TencentIMField{"description"}, AppDefinedDataKeys: []string{"team"}}))
}
