package controller

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors/fake"
)

// callsOf counts every vendor call made for cg (by UID) or on group id.
func callsOf(cg *v1alpha1.ChatGroup, id string) int {
	n := 0
	for _, op := range []string{fake.OpObserve, fake.OpFind, fake.OpCreate, fake.OpUpdate, fake.OpDelete} {
		n += callsFor(op, cg, id)
	}
	return n
}

// TestChatGroup_AllowedNamespaces: a namespace the ClusterChatProvider's
// selector does not match is Stalled ProviderNotAllowed with no vendor call;
// labelling the namespace lets its group in without any other change.
func TestChatGroup_AllowedNamespaces(t *testing.T) {
	g := NewWithT(t)
	secretNS := env.Namespace(t)
	ns := env.Namespace(t)
	name := "ccp-allowed-" + utilrand.String(5)
	g.Expect(k8sClient.Create(ctx, credentialsSecret(secretNS, "creds", v1alpha1.TencentIM, "s3cr3t"))).To(Succeed())
	ccp := &v1alpha1.ClusterChatProvider{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.ClusterChatProviderSpec{
			ProviderSettings:     providerSettings(v1alpha1.TencentIM),
			CredentialsSecretRef: v1alpha1.SecretReference{Name: "creds", Namespace: secretNS},
			AllowedNamespaces: &v1alpha1.AllowedNamespaces{Selector: metav1.LabelSelector{
				MatchLabels: map[string]string{"chat.example.com/tencent": "allowed"}}},
		},
	}
	g.Expect(k8sClient.Create(ctx, ccp)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, ccp) })

	cg := newGroup(ns, "outsider", v1alpha1.TencentIM, func(c *v1alpha1.ChatGroup) {
		c.Spec.ProviderRef = v1alpha1.ProviderReference{Kind: v1alpha1.ClusterChatProviderKind, Name: name}
	})
	g.Expect(k8sClient.Create(ctx, cg)).To(Succeed())
	got := env.WaitFor(t, cg, metav1.ConditionFalse, v1alpha1.ProviderNotAllowedReason)
	g.Expect(condStatus(got, v1alpha1.StalledCondition)).To(Equal(metav1.ConditionTrue))
	g.Expect(readyMsg(got)).To(ContainSubstring("may not be used from namespace " + ns))
	g.Expect(callsOf(got, "")).To(Equal(0), "a namespace outside the selector makes no vendor call")

	nsObj := &corev1.Namespace{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: ns}, nsObj)).To(Succeed())
	patch := client.MergeFrom(nsObj.DeepCopy())
	nsObj.Labels = map[string]string{"chat.example.com/tencent": "allowed"}
	g.Expect(k8sClient.Patch(ctx, nsObj, patch)).To(Succeed())
	got = env.WaitReady(t, cg)
	g.Expect(callsFor(fake.OpCreate, got, "")).To(Equal(1), "relabelling the namespace lets the group in")
}

// TestChatGroup_GroupInUse: a second ChatGroup adopting a vendor group another
// ChatGroup is bound to makes no vendor call and names the first; deleting the
// first (Orphan) lets the second take the group over.
func TestChatGroup_GroupInUse(t *testing.T) {
	g := NewWithT(t)
	ns1, ns2 := env.Namespace(t), env.Namespace(t)
	newProvider(t, ns1, v1alpha1.DingTalk)
	newProvider(t, ns2, v1alpha1.DingTalk)
	id := vendor.Put(vendors.GroupSpec{Name: "shared", Owner: "owner1", Members: []string{"u1"}})
	first := newGroup(ns1, "first", v1alpha1.DingTalk, func(c *v1alpha1.ChatGroup) { c.Spec.AdoptGroupID = id })
	g.Expect(k8sClient.Create(ctx, first)).To(Succeed())
	first = env.WaitReady(t, first)

	second := newGroup(ns2, "second", v1alpha1.DingTalk, func(c *v1alpha1.ChatGroup) {
		c.Spec.AdoptGroupID = id
		c.Spec.Name = "second name"
	})
	g.Expect(k8sClient.Create(ctx, second)).To(Succeed())
	got := env.WaitFor(t, second, metav1.ConditionFalse, v1alpha1.GroupInUseReason)
	g.Expect(condStatus(got, v1alpha1.StalledCondition)).To(Equal(metav1.ConditionTrue))
	g.Expect(readyMsg(got)).To(ContainSubstring("ChatGroup " + ns1 + "/first"))
	g.Expect(got.Annotations).NotTo(HaveKey(v1alpha1.GroupIDAnnotation))
	g.Expect(callsOf(got, "")).To(Equal(0), "the second makes no vendor call while the first holds the group")
	writes := callsFor(fake.OpUpdate, first, id)
	vg, _ := vendor.Group(id)
	g.Expect(vg.Name).To(Equal("first"), "the first keeps the group")

	g.Expect(k8sClient.Delete(ctx, first)).To(Succeed())
	waitGone(t, first)
	got = env.WaitReady(t, second)
	g.Expect(got.Annotations[v1alpha1.GroupIDAnnotation]).To(Equal(id))
	vg, _ = vendor.Group(id)
	g.Expect(vg.Name).To(Equal("second name"))
	g.Expect(callsFor(fake.OpUpdate, got, id)).To(Equal(writes+1), "one update, by the second, after the first went")
}

// condStatus returns the status of condition typ ("" when absent).
func condStatus(cg *v1alpha1.ChatGroup, typ string) metav1.ConditionStatus {
	for _, c := range cg.Status.Conditions {
		if c.Type == typ {
			return c.Status
		}
	}
	return ""
}

// readyMsg returns the Ready condition's message.
func readyMsg(cg *v1alpha1.ChatGroup) string {
	for _, c := range cg.Status.Conditions {
		if c.Type == v1alpha1.ReadyCondition {
			return c.Message
		}
	}
	return ""
}
