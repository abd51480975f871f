package v1alpha1_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/testenv"
)

// The admission rules (CEL, OpenAPI) are checked against a real API server with
// the CRDs installed; no controller runs.
var (
	env       *testenv.Env
	k8sClient client.Client
	ctx       = context.Background()
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	if env, err = testenv.Start(nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer env.Stop()
	k8sClient = env.Client
	return m.Run()
}

// providerSettings returns valid settings for a provider of vendor v.
func providerSettings(v v1alpha1.Vendor) v1alpha1.ProviderSettings {
	s := v1alpha1.ProviderSettings{Vendor: v}
	switch v {
	case v1alpha1.TencentIM:
		s.TencentIM = &v1alpha1.TencentIMProvider{SDKAppID: 1400000000, AdminIdentifier: "administrator"}
	case v1alpha1.WhatsApp:
		s.WhatsApp = &v1alpha1.WhatsAppProvider{CustSpaceID: "cams-test", BusinessNumber: "8613800000000"}
	}
	return s
}

// newGroup returns a valid ChatGroup for vendor v, changed by mods.
func newGroup(ns, name string, v v1alpha1.Vendor, mods ...func(*v1alpha1.ChatGroup)) *v1alpha1.ChatGroup {
	return testenv.Group(ns, name, v, mods...)
}

// TestChatGroup_AdmissionRules applies each CEL rule's violation to the API server
// and expects a rejection naming the field and the rule.
func TestChatGroup_AdmissionRules(t *testing.T) {
	ns := env.Namespace(t)
	for _, tc := range []struct {
		name   string
		vendor v1alpha1.Vendor
		mod    func(*v1alpha1.ChatGroup)
		want   string // the field path and the rule's message
	}{
		{"DingTalk name over 20 characters", v1alpha1.DingTalk,
			func(c *v1alpha1.ChatGroup) { c.Spec.Name = strings.Repeat("群", 21) },
			"spec.name: Invalid value: spec.name must be 1-20 characters for DingTalk"},
		{"DingTalk without owner", v1alpha1.DingTalk,
			func(c *v1alpha1.ChatGroup) { c.Spec.Owner = "" },
			"spec.owner: Invalid value: spec.owner or spec.ownerRef is required for DingTalk"},
		{"owner and ownerRef together", v1alpha1.DingTalk,
			func(c *v1alpha1.ChatGroup) { c.Spec.OwnerRef = &v1alpha1.ChatUserReference{Name: "alice"} },
			"spec.ownerRef: Invalid value: spec.owner and spec.ownerRef are mutually exclusive"},
		{"ownerRef on WhatsApp", v1alpha1.WhatsApp,
			func(c *v1alpha1.ChatGroup) { c.Spec.OwnerRef = &v1alpha1.ChatUserReference{Name: "alice"} },
			"spec.ownerRef: Invalid value: spec.ownerRef is not allowed for WhatsApp"},
		{"membersFrom entry with two sources", v1alpha1.TencentIM,
			func(c *v1alpha1.ChatGroup) {
				c.Spec.MembersFrom = []v1alpha1.MembersSource{{
					UserRef:  &v1alpha1.ChatUserReference{Name: "bob"},
					GroupRef: &v1alpha1.ChatGroupReference{Name: "core"},
				}}
			},
			"spec.membersFrom[0]: Invalid value: spec.membersFrom[] must set exactly one of userRef, selector and groupRef"},
		{"membersFrom entry with no source", v1alpha1.TencentIM,
			func(c *v1alpha1.ChatGroup) { c.Spec.MembersFrom = []v1alpha1.MembersSource{{}} },
			"spec.membersFrom[] must set exactly one of userRef, selector and groupRef"},
		{"membersFrom on an AVChatRoom", v1alpha1.TencentIM,
			func(c *v1alpha1.ChatGroup) {
				c.Spec.Members = nil
				c.Spec.TencentIM = &v1alpha1.TencentIMGroup{GroupType: "AVChatRoom"}
				c.Spec.MembersFrom = []v1alpha1.MembersSource{{UserRef: &v1alpha1.ChatUserReference{Name: "bob"}}}
			},
			"spec.membersFrom: Invalid value: spec.membersFrom must be empty for TencentIM AVChatRoom groups"},
		{"announcement on DingTalk", v1alpha1.DingTalk,
			func(c *v1alpha1.ChatGroup) { c.Spec.Announcement = "hello" },
			"spec.announcement: Invalid value: spec.announcement is only supported by TencentIM"},
		{"description on DingTalk", v1alpha1.DingTalk,
			func(c *v1alpha1.ChatGroup) { c.Spec.Description = "hello" },
			"spec.description is not supported by DingTalk"},
		{"joinPolicy Closed on DingTalk", v1alpha1.DingTalk,
			func(c *v1alpha1.ChatGroup) {
				c.Spec.ManagementOptions = &v1alpha1.ManagementOptions{JoinPolicy: v1alpha1.Closed}
			},
			"spec.managementOptions.joinPolicy: Invalid value: spec.managementOptions.joinPolicy Closed is not supported by DingTalk"},
		{"deletionPolicy Delete on DingTalk", v1alpha1.DingTalk,
			func(c *v1alpha1.ChatGroup) { c.Spec.DeletionPolicy = v1alpha1.Delete },
			"spec.deletionPolicy: Invalid value: spec.deletionPolicy Delete is supported on DingTalk only for scene groups"},
		{"deletionPolicy Delete on an explicit DingTalk regular group", v1alpha1.DingTalk,
			func(c *v1alpha1.ChatGroup) {
				c.Spec.DeletionPolicy = v1alpha1.Delete
				c.Spec.DingTalk = &v1alpha1.DingTalkGroup{GroupKind: v1alpha1.DingTalkRegular}
			},
			"spec.deletionPolicy: Invalid value: spec.deletionPolicy Delete is supported on DingTalk only for scene groups"},
		{"DingTalk regular group name of 21 characters", v1alpha1.DingTalk,
			func(c *v1alpha1.ChatGroup) {
				c.Spec.Name = strings.Repeat("群", 21)
				c.Spec.DingTalk = &v1alpha1.DingTalkGroup{GroupKind: v1alpha1.DingTalkRegular}
			},
			"spec.name: Invalid value: spec.name must be 1-20 characters for DingTalk (1-30 for scene groups)"},
		{"DingTalk scene group name over 30 characters", v1alpha1.DingTalk,
			func(c *v1alpha1.ChatGroup) {
				c.Spec.Name = strings.Repeat("群", 31)
				c.Spec.DingTalk = &v1alpha1.DingTalkGroup{GroupKind: v1alpha1.DingTalkScene}
			},
			"spec.name: Invalid value: spec.name must be 1-20 characters for DingTalk (1-30 for scene groups)"},
		{"unknown DingTalk groupKind", v1alpha1.DingTalk,
			func(c *v1alpha1.ChatGroup) { c.Spec.DingTalk = &v1alpha1.DingTalkGroup{GroupKind: "Service"} },
			`spec.dingtalk.groupKind: Unsupported value: "Service"`},
		{"tencentIM block on DingTalk", v1alpha1.DingTalk,
			func(c *v1alpha1.ChatGroup) { c.Spec.TencentIM = &v1alpha1.TencentIMGroup{} },
			"spec.tencentIM: Invalid value: spec.tencentIM is only allowed when spec.vendor is TencentIM"},
		{"dingtalk block on TencentIM", v1alpha1.TencentIM,
			func(c *v1alpha1.ChatGroup) { c.Spec.DingTalk = &v1alpha1.DingTalkGroup{} },
			"spec.dingtalk: Invalid value: spec.dingtalk is only allowed when spec.vendor is DingTalk"},
		{"TencentIM name over 30 bytes", v1alpha1.TencentIM,
			func(c *v1alpha1.ChatGroup) { c.Spec.Name = strings.Repeat("群", 11) }, // 33 bytes, 11 characters
			"spec.name must be at most 30 bytes (UTF-8) for TencentIM"},
		{"TencentIM description over 240 bytes", v1alpha1.TencentIM,
			func(c *v1alpha1.ChatGroup) { c.Spec.Description = strings.Repeat("d", 241) },
			"spec.description: Invalid value: spec.description must be at most 240 bytes (UTF-8) for TencentIM"},
		{"TencentIM announcement over 300 bytes", v1alpha1.TencentIM,
			func(c *v1alpha1.ChatGroup) { c.Spec.Announcement = strings.Repeat("通", 101) },
			"spec.announcement must be at most 300 bytes (UTF-8) for TencentIM"},
		{"TencentIM icon over 100 bytes", v1alpha1.TencentIM,
			func(c *v1alpha1.ChatGroup) { c.Spec.Icon = "https://example.com/" + strings.Repeat("i", 81) },
			"spec.icon: Invalid value: spec.icon must be at most 100 bytes for TencentIM"},
		{"DingTalk-only option on TencentIM", v1alpha1.TencentIM,
			func(c *v1alpha1.ChatGroup) {
				c.Spec.ManagementOptions = &v1alpha1.ManagementOptions{Searchable: ptr.To(true)}
			},
			"spec.managementOptions supports only joinPolicy and muteAll for TencentIM"},
		{"members on an AVChatRoom", v1alpha1.TencentIM,
			func(c *v1alpha1.ChatGroup) { c.Spec.TencentIM = &v1alpha1.TencentIMGroup{GroupType: "AVChatRoom"} },
			"spec.members must be empty for TencentIM AVChatRoom groups"},
		{"TencentIM groupID with the reserved prefix", v1alpha1.TencentIM,
			func(c *v1alpha1.ChatGroup) { c.Spec.TencentIM = &v1alpha1.TencentIMGroup{GroupID: "@TGS#abc"} },
			"spec.tencentIM.groupID: Invalid value: spec.tencentIM.groupID must start with @TGS#_ for Community groups and must not start with @TGS# otherwise"},
		{"TencentIM Community groupID without the prefix", v1alpha1.TencentIM,
			func(c *v1alpha1.ChatGroup) {
				c.Spec.TencentIM = &v1alpha1.TencentIMGroup{GroupType: "Community", GroupID: "plain"}
			},
			"spec.tencentIM.groupID must start with @TGS#_ for Community groups"},
		{"TencentIM groupID over 48 bytes", v1alpha1.TencentIM,
			func(c *v1alpha1.ChatGroup) {
				c.Spec.TencentIM = &v1alpha1.TencentIMGroup{GroupID: strings.Repeat("g", 49)}
			},
			"spec.tencentIM.groupID: Invalid value"},
		{"nine WhatsApp members", v1alpha1.WhatsApp,
			func(c *v1alpha1.ChatGroup) {
				c.Spec.Members = nil
				for i := range 9 {
					c.Spec.Members = append(c.Spec.Members, "+861380000000"+string(rune('1'+i)))
				}
			},
			"spec.members: Invalid value: spec.members may list at most 8 phone numbers for WhatsApp"},
		{"WhatsApp member that is not a phone number", v1alpha1.WhatsApp,
			func(c *v1alpha1.ChatGroup) { c.Spec.Members = []string{"alice"} },
			"spec.members must be E.164 phone numbers for WhatsApp"},
		{"owner on WhatsApp", v1alpha1.WhatsApp,
			func(c *v1alpha1.ChatGroup) { c.Spec.Owner = "+8613800000001" },
			"spec.owner: Invalid value: spec.owner is not allowed for WhatsApp"},
		{"managementOptions on WhatsApp", v1alpha1.WhatsApp,
			func(c *v1alpha1.ChatGroup) {
				c.Spec.ManagementOptions = &v1alpha1.ManagementOptions{MuteAll: ptr.To(true)}
			},
			"spec.managementOptions is not supported by WhatsApp"},
		{"Feishu name over 60 characters", v1alpha1.Feishu,
			func(c *v1alpha1.ChatGroup) { c.Spec.Name = strings.Repeat("群", 61) },
			"spec.name: Invalid value: spec.name must be at most 60 characters for Feishu"},
		{"Feishu Public chat with a 1-character name", v1alpha1.Feishu,
			func(c *v1alpha1.ChatGroup) {
				c.Spec.Name = "群"
				c.Spec.Feishu = &v1alpha1.FeishuGroup{ChatType: "Public"}
			},
			"spec.name: Invalid value: spec.name must be at least 2 characters for a Feishu Public chat"},
		{"Feishu description over 100 characters", v1alpha1.Feishu,
			func(c *v1alpha1.ChatGroup) { c.Spec.Description = strings.Repeat("述", 101) },
			"spec.description: Invalid value: spec.description must be at most 100 characters for Feishu"},
		{"Feishu over 5000 members", v1alpha1.Feishu,
			func(c *v1alpha1.ChatGroup) {
				c.Spec.Members = nil
				for i := range 5001 {
					c.Spec.Members = append(c.Spec.Members, fmt.Sprintf("ou_%d", i))
				}
			},
			"spec.members: Invalid value: spec.members may list at most 5000 users for Feishu"},
		{"muteAll on Feishu", v1alpha1.Feishu,
			func(c *v1alpha1.ChatGroup) {
				c.Spec.ManagementOptions = &v1alpha1.ManagementOptions{MuteAll: ptr.To(true)}
			},
			"spec.managementOptions: Invalid value: spec.managementOptions supports only mentionAll, joinPolicy and managedBy for Feishu"},
		{"joinPolicy Closed on Feishu", v1alpha1.Feishu,
			func(c *v1alpha1.ChatGroup) {
				c.Spec.ManagementOptions = &v1alpha1.ManagementOptions{JoinPolicy: v1alpha1.Closed}
			},
			"spec.managementOptions.joinPolicy: Invalid value: spec.managementOptions.joinPolicy Closed is not supported by Feishu"},
		{"announcement on Feishu", v1alpha1.Feishu,
			func(c *v1alpha1.ChatGroup) { c.Spec.Announcement = "hello" },
			"spec.announcement is only supported by TencentIM"},
		{"feishu block on TencentIM", v1alpha1.TencentIM,
			func(c *v1alpha1.ChatGroup) { c.Spec.Feishu = &v1alpha1.FeishuGroup{ChatType: "Private"} },
			"spec.feishu: Invalid value: spec.feishu is only allowed when spec.vendor is Feishu"},
		{"Feishu chatType outside the enum", v1alpha1.Feishu,
			func(c *v1alpha1.ChatGroup) { c.Spec.Feishu = &v1alpha1.FeishuGroup{ChatType: "Secret"} },
			`spec.feishu.chatType: Unsupported value: "Secret"`},
		{"syncInterval under 10s", v1alpha1.WhatsApp,
			func(c *v1alpha1.ChatGroup) { c.Spec.SyncInterval = &metav1.Duration{Duration: 5e9} },
			"spec.syncInterval must be at least 10s"},
		{"maxRemovals over one hundred percent", v1alpha1.TencentIM,
			func(c *v1alpha1.ChatGroup) { c.Spec.RemovalGuard = guard(intstr.FromString("150%")) },
			`spec.removalGuard.maxRemovals: Invalid value: "150%": spec.removalGuard.maxRemovals must be a non-negative integer or a percentage from 0% to 100%`},
		{"negative maxRemovals", v1alpha1.TencentIM,
			func(c *v1alpha1.ChatGroup) { c.Spec.RemovalGuard = guard(intstr.FromInt32(-1)) },
			"spec.removalGuard.maxRemovals must be a non-negative integer or a percentage"},
		{"maxRemovals neither number nor percentage", v1alpha1.DingTalk,
			func(c *v1alpha1.ChatGroup) { c.Spec.RemovalGuard = guard(intstr.FromString("half")) },
			"spec.removalGuard.maxRemovals must be a non-negative integer or a percentage"},
		{"unknown managementPolicy", v1alpha1.WhatsApp,
			func(c *v1alpha1.ChatGroup) { c.Spec.ManagementPolicy = "ReadOnly" },
			`spec.managementPolicy: Unsupported value: "ReadOnly"`},
		{"unknown vendor", "Slack",
			func(c *v1alpha1.ChatGroup) {},
			`spec.vendor: Unsupported value: "Slack"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			cg := newGroup(ns, "cel-"+strings.ToLower(strings.ReplaceAll(tc.name, " ", "-")), tc.vendor,
				func(c *v1alpha1.ChatGroup) { c.Spec.Name = "valid name" }, tc.mod)
			err := k8sClient.Create(ctx, cg)
			g.Expect(err).To(HaveOccurred())
			g.Expect(err.Error()).To(ContainSubstring(tc.want))
		})
	}
}

// TestChatGroup_ImmutableFields changes each immutable field of an accepted
// object and expects the API server to refuse the update.
func TestChatGroup_ImmutableFields(t *testing.T) {
	ns := env.Namespace(t)
	for _, tc := range []struct {
		name   string
		vendor v1alpha1.Vendor
		mod    func(*v1alpha1.ChatGroup)
		want   string
	}{
		{"vendor", v1alpha1.TencentIM,
			func(c *v1alpha1.ChatGroup) {
				c.Spec.Vendor = v1alpha1.WhatsApp
				c.Spec.Owner = ""
				c.Spec.Members = nil
			},
			`spec.vendor: Invalid value: "WhatsApp": spec.vendor is immutable`},
		{"dingtalk conversationType", v1alpha1.DingTalk,
			func(c *v1alpha1.ChatGroup) {
				c.Spec.DingTalk = &v1alpha1.DingTalkGroup{ConversationType: "Standard"}
			},
			"spec.dingtalk.conversationType: Invalid value: spec.dingtalk.conversationType is immutable"},
		{"dingtalk groupKind", v1alpha1.DingTalk,
			func(c *v1alpha1.ChatGroup) {
				c.Spec.DingTalk = &v1alpha1.DingTalkGroup{GroupKind: v1alpha1.DingTalkScene}
			},
			"spec.dingtalk.groupKind: Invalid value: spec.dingtalk.groupKind is immutable"},
		{"tencentIM groupType", v1alpha1.TencentIM,
			func(c *v1alpha1.ChatGroup) { c.Spec.TencentIM = &v1alpha1.TencentIMGroup{GroupType: "Public"} },
			"spec.tencentIM.groupType: Invalid value: spec.tencentIM.groupType is immutable"},
		{"tencentIM groupID", v1alpha1.TencentIM,
			func(c *v1alpha1.ChatGroup) { c.Spec.TencentIM = &v1alpha1.TencentIMGroup{GroupID: "custom-id"} },
			"spec.tencentIM.groupID is immutable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			// Suspended so the accepted object causes no vendor calls.
			cg := newGroup(ns, "immutable-"+strings.ReplaceAll(tc.name, " ", "-"), tc.vendor, func(c *v1alpha1.ChatGroup) {
				c.Spec.Name = "valid name"
				c.Spec.Suspend = true
			})
			cg.Name = strings.ToLower(cg.Name)
			g.Expect(k8sClient.Create(ctx, cg)).To(Succeed())
			patch := client.MergeFrom(cg.DeepCopy())
			tc.mod(cg)
			err := k8sClient.Patch(ctx, cg, patch)
			g.Expect(err).To(HaveOccurred())
			g.Expect(err.Error()).To(ContainSubstring(tc.want))
		})
	}
}

// TestChatGroup_DefaultsAndAcceptedSpecs checks the CRD defaults and that valid
// specs at the vendors' limits are accepted.
func TestChatGroup_DefaultsAndAcceptedSpecs(t *testing.T) {
	g := NewWithT(t)
	ns := env.Namespace(t)
	for _, cg := range []*v1alpha1.ChatGroup{
		newGroup(ns, "limit-dingtalk", v1alpha1.DingTalk, func(c *v1alpha1.ChatGroup) {
			c.Spec.Name = strings.Repeat("群", 20)
			c.Spec.Suspend = true
		}),
		newGroup(ns, "limit-dingtalk-scene", v1alpha1.DingTalk, func(c *v1alpha1.ChatGroup) {
			c.Spec.Name = strings.Repeat("群", 30)
			c.Spec.DingTalk = &v1alpha1.DingTalkGroup{GroupKind: v1alpha1.DingTalkScene}
			c.Spec.DeletionPolicy = v1alpha1.Delete
			c.Spec.Suspend = true
		}),
		newGroup(ns, "limit-tencent", v1alpha1.TencentIM, func(c *v1alpha1.ChatGroup) {
			c.Spec.Name = strings.Repeat("群", 10) // 30 bytes
			c.Spec.TencentIM = &v1alpha1.TencentIMGroup{GroupType: "Community", GroupID: "@TGS#_custom"}
			c.Spec.DeletionPolicy = v1alpha1.Delete
			c.Spec.Suspend = true
		}),
		newGroup(ns, "limit-feishu", v1alpha1.Feishu, func(c *v1alpha1.ChatGroup) {
			c.Spec.Name = strings.Repeat("群", 60)
			c.Spec.Description = strings.Repeat("述", 100)
			c.Spec.Feishu = &v1alpha1.FeishuGroup{ChatType: "Public", AddMembers: v1alpha1.OwnerOnly}
			c.Spec.ManagementOptions = &v1alpha1.ManagementOptions{MentionAll: v1alpha1.OwnerOnly,
				JoinPolicy: v1alpha1.ApprovalRequired, ManagedBy: v1alpha1.Everyone}
			c.Spec.DeletionPolicy = v1alpha1.Delete
			c.Spec.Suspend = true
		}),
		newGroup(ns, "limit-whatsapp", v1alpha1.WhatsApp, func(c *v1alpha1.ChatGroup) {
			c.Spec.Members = []string{"+8613800000001", "+8613800000002", "+8613800000003", "+8613800000004",
				"+8613800000005", "+8613800000006", "+8613800000007", "+8613800000008"}
			c.Spec.Suspend = true
		}),
	} {
		g.Expect(k8sClient.Create(ctx, cg)).To(Succeed(), cg.Name)
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(cg), cg)).To(Succeed())
		g.Expect(cg.Spec.ProviderRef.Kind).To(Equal(v1alpha1.ChatProviderKind))
		g.Expect(cg.Spec.MemberPolicy).To(Equal(v1alpha1.Authoritative))
		g.Expect(cg.Spec.SyncInterval.Duration.String()).To(Equal("10m0s"))
		g.Expect(cg.Spec.ManagementPolicy).To(Equal(v1alpha1.Full))
		g.Expect(cg.Spec.RemovalGuard).To(BeNil(), "no default: the provider's guard, else 50%%, applies")
	}

	// A DingTalk block without groupKind is a regular group.
	dt := newGroup(ns, "default-kind", v1alpha1.DingTalk, func(c *v1alpha1.ChatGroup) {
		c.Spec.DingTalk = &v1alpha1.DingTalkGroup{OwnerType: v1alpha1.DingTalkOwnerType("Employee")}
		c.Spec.Suspend = true
	})
	g.Expect(k8sClient.Create(ctx, dt)).To(Succeed())
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(dt), dt)).To(Succeed())
	g.Expect(dt.Spec.DingTalk.GroupKind).To(Equal(v1alpha1.DingTalkRegular))

	// Removal limits at the edges of the rule are accepted.
	for _, max := range []intstr.IntOrString{intstr.FromInt32(0), intstr.FromInt32(25), intstr.FromString("0%"), intstr.FromString("100%"), intstr.FromString("7%")} {
		cg := newGroup(ns, "guard-"+strings.TrimSuffix(strings.ToLower(max.String()), "%")+map[bool]string{true: "pct"}[max.Type == intstr.String], v1alpha1.TencentIM, func(c *v1alpha1.ChatGroup) {
			c.Spec.RemovalGuard = guard(max)
			c.Spec.ManagementPolicy = v1alpha1.ObserveOnly
			c.Spec.Suspend = true
		})
		g.Expect(k8sClient.Create(ctx, cg)).To(Succeed(), max.String())
	}
}

// guard returns a removal guard with the given limit.
func guard(max intstr.IntOrString) *v1alpha1.RemovalGuard {
	return &v1alpha1.RemovalGuard{MaxRemovals: &max}
}

// TestChatGroup_PeopleAccepted checks that people may replace literal IDs: a
// DingTalk group owned through ownerRef, with members from all three sources.
func TestChatGroup_PeopleAccepted(t *testing.T) {
	g := NewWithT(t)
	ns := env.Namespace(t)
	cg := newGroup(ns, "people", v1alpha1.DingTalk, func(c *v1alpha1.ChatGroup) {
		c.Spec.Owner = ""
		c.Spec.OwnerRef = &v1alpha1.ChatUserReference{Name: "alice"}
		c.Spec.MembersFrom = []v1alpha1.MembersSource{
			{UserRef: &v1alpha1.ChatUserReference{Name: "bob"}},
			{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "sre"}}},
			{GroupRef: &v1alpha1.ChatGroupReference{Name: "core"}},
		}
		c.Spec.Suspend = true
	})
	g.Expect(k8sClient.Create(ctx, cg)).To(Succeed())
}

// chatUser returns a ChatUser with the given accounts.
func chatUser(ns, name string, accounts ...v1alpha1.ChatUserAccount) *v1alpha1.ChatUser {
	return &v1alpha1.ChatUser{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       v1alpha1.ChatUserSpec{DisplayName: "Alice Zhang", Accounts: accounts},
	}
}

// TestChatUser_AdmissionRules checks the ChatUser kind's rules, and that the
// design's example (a vendor-wide and a provider-specific DingTalk account) is
// accepted.
func TestChatUser_AdmissionRules(t *testing.T) {
	ns := env.Namespace(t)
	partner := &v1alpha1.ProviderReference{Kind: v1alpha1.ClusterChatProviderKind, Name: "dingtalk-partner"}
	t.Run("accepted", func(t *testing.T) {
		g := NewWithT(t)
		cu := chatUser(ns, "alice",
			v1alpha1.ChatUserAccount{Vendor: v1alpha1.DingTalk, ID: "0420172437"},
			v1alpha1.ChatUserAccount{Vendor: v1alpha1.TencentIM, ID: "alice"},
			v1alpha1.ChatUserAccount{Vendor: v1alpha1.WhatsApp, ID: "+8613800000001"},
			v1alpha1.ChatUserAccount{Vendor: v1alpha1.Feishu, ID: "ou_7d8a6e6df7621556ce0d21922b676706ccs"},
			v1alpha1.ChatUserAccount{Vendor: v1alpha1.DingTalk, ProviderRef: partner, ID: "manager7"},
			// Same name, other kind: another provider.
			v1alpha1.ChatUserAccount{Vendor: v1alpha1.DingTalk, ProviderRef: &v1alpha1.ProviderReference{Name: "dingtalk-partner"}, ID: "m8"})
		g.Expect(k8sClient.Create(ctx, cu)).To(Succeed())
	})
	for _, tc := range []struct {
		name     string
		accounts []v1alpha1.ChatUserAccount
		want     string
	}{
		{"empty id", []v1alpha1.ChatUserAccount{{Vendor: v1alpha1.TencentIM, ID: ""}},
			"spec.accounts[0].id: Invalid value: \"\": spec.accounts[0].id in body should be at least 1 chars long"},
		{"id over 64 characters", []v1alpha1.ChatUserAccount{{Vendor: v1alpha1.TencentIM, ID: strings.Repeat("a", 65)}},
			"spec.accounts[0].id: Too long: may not be more than 64 bytes"},
		{"WhatsApp id that is not a phone number", []v1alpha1.ChatUserAccount{{Vendor: v1alpha1.WhatsApp, ID: "alice"}},
			"spec.accounts[0].id: Invalid value: spec.accounts[].id must be an E.164 phone number for WhatsApp"},
		{"two vendor-wide accounts", []v1alpha1.ChatUserAccount{
			{Vendor: v1alpha1.TencentIM, ID: "a"}, {Vendor: v1alpha1.TencentIM, ID: "b"}},
			"spec.accounts: Invalid value: spec.accounts may hold at most one entry per (vendor, providerRef)"},
		{"two accounts for one provider", []v1alpha1.ChatUserAccount{
			{Vendor: v1alpha1.DingTalk, ProviderRef: partner, ID: "a"}, {Vendor: v1alpha1.DingTalk, ProviderRef: partner, ID: "b"}},
			"spec.accounts may hold at most one entry per (vendor, providerRef)"},
		{"unknown vendor", []v1alpha1.ChatUserAccount{{Vendor: "Slack", ID: "a"}},
			`spec.accounts[0].vendor: Unsupported value: "Slack"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			err := k8sClient.Create(ctx, chatUser(ns, "cu-"+strings.ToLower(strings.ReplaceAll(tc.name, " ", "-")), tc.accounts...))
			g.Expect(err).To(HaveOccurred())
			g.Expect(err.Error()).To(ContainSubstring(tc.want))
		})
	}
}

// TestProvider_AdmissionRules checks the provider kinds' CEL rules.
func TestProvider_AdmissionRules(t *testing.T) {
	ns := env.Namespace(t)
	for _, tc := range []struct {
		name string
		mod  func(*v1alpha1.ProviderSettings)
		want string
	}{
		{"TencentIM without its block", func(s *v1alpha1.ProviderSettings) { s.TencentIM = nil },
			"spec.tencentIM: Invalid value: spec.tencentIM is required when spec.vendor is TencentIM"},
		{"dingtalk block on TencentIM", func(s *v1alpha1.ProviderSettings) { s.DingTalk = &v1alpha1.DingTalkProvider{} },
			"spec.dingtalk is only allowed when spec.vendor is DingTalk"},
		{"whatsapp block on TencentIM", func(s *v1alpha1.ProviderSettings) {
			s.WhatsApp = &v1alpha1.WhatsAppProvider{CustSpaceID: "x", BusinessNumber: "8613800000000"}
		}, "spec.whatsapp is required when spec.vendor is WhatsApp and not allowed otherwise"},
		{"endpoint with a query string", func(s *v1alpha1.ProviderSettings) { s.Endpoint = "https://example.com/?token=x" },
			"spec.endpoint must be an http(s) URL without query or fragment"},
		{"legacyEndpoint with a query string", func(s *v1alpha1.ProviderSettings) {
			*s = providerSettings(v1alpha1.DingTalk)
			s.DingTalk = &v1alpha1.DingTalkProvider{LegacyEndpoint: "https://oapi.example.com/?access_token=x"}
		}, "spec.dingtalk.legacyEndpoint must be an http(s) URL without query or fragment"},
		{"maxRemovals over one hundred percent", func(s *v1alpha1.ProviderSettings) { s.RemovalGuard = guard(intstr.FromString("101%")) },
			`spec.removalGuard.maxRemovals: Invalid value: "101%": spec.removalGuard.maxRemovals must be a non-negative integer or a percentage from 0% to 100%`},
		{"feishu block on TencentIM", func(s *v1alpha1.ProviderSettings) {
			s.Feishu = &v1alpha1.FeishuProvider{MemberIDType: "user_id"}
		}, "spec.feishu: Invalid value: spec.feishu is only allowed when spec.vendor is Feishu"},
		{"Feishu memberIDType outside the enum", func(s *v1alpha1.ProviderSettings) {
			*s = providerSettings(v1alpha1.Feishu)
			s.Feishu = &v1alpha1.FeishuProvider{MemberIDType: "email"}
		}, `spec.feishu.memberIDType: Unsupported value: "email"`},
		{"TencentIM without an SDKAppID", func(s *v1alpha1.ProviderSettings) { s.TencentIM.SDKAppID = 0 },
			"spec.tencentIM.sdkAppID: Invalid value: 0: spec.tencentIM.sdkAppID in body should be greater than or equal to 1"},
		{"DingTalk sceneGroupTemplateID over 128 characters", func(s *v1alpha1.ProviderSettings) {
			*s = providerSettings(v1alpha1.DingTalk)
			s.DingTalk = &v1alpha1.DingTalkProvider{SceneGroupTemplateID: strings.Repeat("t", 129)}
		}, "spec.dingtalk.sceneGroupTemplateID: Too long"},
		{"callBudget of zero calls", func(s *v1alpha1.ProviderSettings) { s.CallBudget = &v1alpha1.CallBudget{} },
			"spec.callBudget.callsPerMonth in body should be greater than or equal to 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			s := providerSettings(v1alpha1.TencentIM)
			tc.mod(&s)
			p := &v1alpha1.ChatProvider{
				ObjectMeta: metav1.ObjectMeta{Name: "p-" + strings.ToLower(strings.ReplaceAll(tc.name, " ", "-")), Namespace: ns},
				Spec:       v1alpha1.ChatProviderSpec{ProviderSettings: s, CredentialsSecretRef: v1alpha1.LocalSecretReference{Name: "x"}},
			}
			err := k8sClient.Create(ctx, p)
			g.Expect(err).To(HaveOccurred())
			g.Expect(err.Error()).To(ContainSubstring(tc.want))
		})
	}

	t.Run("callBudget is accepted", func(t *testing.T) {
		g := NewWithT(t)
		s := providerSettings(v1alpha1.DingTalk)
		s.CallBudget = &v1alpha1.CallBudget{CallsPerMonth: 5000}
		p := &v1alpha1.ChatProvider{
			ObjectMeta: metav1.ObjectMeta{Name: "p-budget", Namespace: ns},
			Spec:       v1alpha1.ChatProviderSpec{ProviderSettings: s, CredentialsSecretRef: v1alpha1.LocalSecretReference{Name: "x"}},
		}
		g.Expect(k8sClient.Create(ctx, p)).To(Succeed())
		g.Expect(p.Spec.CallBudget.CallsPerMonth).To(Equal(int64(5000)))
	})

	t.Run("Feishu with or without its block", func(t *testing.T) {
		g := NewWithT(t)
		for name, block := range map[string]*v1alpha1.FeishuProvider{"p-feishu-bare": nil, "p-feishu-block": {}} {
			s := providerSettings(v1alpha1.Feishu)
			s.Feishu = block
			p := &v1alpha1.ChatProvider{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
				Spec:       v1alpha1.ChatProviderSpec{ProviderSettings: s, CredentialsSecretRef: v1alpha1.LocalSecretReference{Name: "x"}},
			}
			g.Expect(k8sClient.Create(ctx, p)).To(Succeed(), name)
			if block != nil {
				g.Expect(p.Spec.Feishu.MemberIDType).To(Equal(v1alpha1.FeishuMemberIDType("open_id")), "defaulted")
			}
		}
	})

	t.Run("vendor is immutable", func(t *testing.T) {
		g := NewWithT(t)
		p := &v1alpha1.ChatProvider{
			ObjectMeta: metav1.ObjectMeta{Name: "p-immutable", Namespace: ns},
			Spec: v1alpha1.ChatProviderSpec{ProviderSettings: providerSettings(v1alpha1.DingTalk),
				CredentialsSecretRef: v1alpha1.LocalSecretReference{Name: "x"}},
		}
		g.Expect(k8sClient.Create(ctx, p)).To(Succeed())
		patch := client.MergeFrom(p.DeepCopy())
		p.Spec.ProviderSettings = providerSettings(v1alpha1.WhatsApp)
		err := k8sClient.Patch(ctx, p, patch)
		g.Expect(err).To(HaveOccurred())
		g.Expect(err.Error()).To(ContainSubstring("spec.vendor is immutable"))
	})
}

// TestClusterChatProvider_SafetyFields checks that a ClusterChatProvider keeps
// allowedNamespaces and removalGuard as written.
func TestClusterChatProvider_SafetyFields(t *testing.T) {
	g := NewWithT(t)
	p := &v1alpha1.ClusterChatProvider{
		ObjectMeta: metav1.ObjectMeta{Name: "ccp-safety"},
		Spec: v1alpha1.ClusterChatProviderSpec{
			ProviderSettings:     providerSettings(v1alpha1.DingTalk),
			CredentialsSecretRef: v1alpha1.SecretReference{Name: "x", Namespace: "chat-system"},
			AllowedNamespaces: &v1alpha1.AllowedNamespaces{Selector: metav1.LabelSelector{
				MatchLabels: map[string]string{"chat.example.com/dingtalk": "allowed"}}},
		},
	}
	p.Spec.RemovalGuard = guard(intstr.FromInt32(5))
	g.Expect(k8sClient.Create(ctx, p)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, p) })
	got := &v1alpha1.ClusterChatProvider{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(p), got)).To(Succeed())
	g.Expect(got.Spec.AllowedNamespaces.Selector.MatchLabels).To(HaveKeyWithValue("chat.example.com/dingtalk", "allowed"))
	g.Expect(got.Spec.RemovalGuard.MaxRemovals.IntValue()).To(Equal(5))
}
