package plugin

import (
	"bytes"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

func TestSlug(t *testing.T) {
	for name, want := range map[string]string{
		"SRE On-call":           "sre-on-call",
		"  --Release__Train!! ": "release-train",
		"运维值班":                  "",
		"Ops 运维 2026":           "ops-2026",
		"ÄÖÜ team":              "team",
		"a-very-long-group-name-that-goes-on-and-on-beyond-what-anyone-reads": "a-very-long-group-name-that-goes-on-and-on-beyon", // 48 characters
	} {
		got := slug(name)
		if got != want {
			t.Errorf("slug(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestObjectNames(t *testing.T) {
	for _, tc := range []struct {
		name   string
		groups []vendors.ObservedGroup
		want   []string
	}{
		{"names from titles", []vendors.ObservedGroup{{ID: "1", Name: "SRE On-call"}, {ID: "2", Name: "Release"}},
			[]string{"sre-on-call", "release"}},
		{"a shared title gets each group's ID hash", []vendors.ObservedGroup{{ID: "1", Name: "Ops"}, {ID: "2", Name: "ops"}, {ID: "3", Name: "Dev"}},
			[]string{"ops-" + idHash("1", 8), "ops-" + idHash("2", 8), "dev"}},
		{"a title without letters or digits", []vendors.ObservedGroup{{ID: "1", Name: "运维值班"}, {ID: "2", Name: "值班"}},
			[]string{"group-" + idHash("1", 8), "group-" + idHash("2", 8)}},
		{"a title that equals another's derived name", []vendors.ObservedGroup{{ID: "1", Name: "运维"}, {ID: "2", Name: "group-" + idHash("1", 8)}},
			[]string{"group-" + idHash("1", 8), "group-" + idHash("1", 8) + "-" + idHash("2", 16)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got := objectNames(tc.groups)
			g.Expect(got).To(Equal(tc.want))
			for _, n := range got {
				g.Expect(validation.IsDNS1123Label(n)).To(BeEmpty(), n)
			}
		})
	}
}

// TestPrint_IsStable checks that the export of the same groups, listed in any
// order, is the same bytes, and that the owner is not repeated as a member.
func TestPrint_IsStable(t *testing.T) {
	g := NewWithT(t)
	reg := vendors.Registration{Vendor: v1alpha1.TencentIM}
	ref := v1alpha1.ProviderReference{Kind: v1alpha1.ChatProviderKind, Name: "account"}
	a := []vendors.ObservedGroup{
		{ID: "g1", Name: "Ops", Owner: "u0", Members: []string{"u2", "u0", "u1"}},
		{ID: "g2", Name: "Dev", Owner: "u1", Members: []string{"u1"}},
	}
	b := []vendors.ObservedGroup{a[1], a[0]}
	var outA, outB bytes.Buffer
	g.Expect(print(&outA, "yaml", chatGroups(a, reg, ref, "team"), "# header\n")).To(Succeed())
	g.Expect(print(&outB, "yaml", chatGroups(b, reg, ref, "team"), "# header\n")).To(Succeed())
	g.Expect(outA.String()).To(Equal(outB.String()))
	g.Expect(outA.String()).To(Equal(`# header
---
apiVersion: im.chatgroup.io/v1alpha1
kind: ChatGroup
metadata:
  name: dev
  namespace: team
spec:
  adoptGroupID: g2
  managementPolicy: ObserveOnly
  name: Dev
  owner: u1
  providerRef:
    kind: ChatProvider
    name: account
  vendor: TencentIM
---
apiVersion: im.chatgroup.io/v1alpha1
kind: ChatGroup
metadata:
  name: ops
  namespace: team
spec:
  adoptGroupID: g1
  managementPolicy: ObserveOnly
  members:
  - u1
  - u2
  name: Ops
  owner: u0
  providerRef:
    kind: ChatProvider
    name: account
  vendor: TencentIM
`))
}
