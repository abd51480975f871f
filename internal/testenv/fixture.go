package testenv

import (
	"context"
	"maps"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// ProviderObjects returns a ChatProvider named name in ns with settings, and its
// credentials Secret (name + "-credentials") holding data. Tests that change
// them before creating (or create them through another client) start here;
// the others call Env.Provider.
func ProviderObjects(ns, name string, settings v1alpha1.ProviderSettings, data map[string][]byte) (*corev1.Secret, *v1alpha1.ChatProvider) {
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-credentials", Namespace: ns},
		Data:       maps.Clone(data),
	}
	p := &v1alpha1.ChatProvider{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.ChatProviderSpec{
			ProviderSettings:     *settings.DeepCopy(),
			CredentialsSecretRef: v1alpha1.LocalSecretReference{Name: secret.Name},
		},
	}
	return secret, p
}

// Provider creates a ChatProvider named name in ns with settings, and its
// credentials Secret holding data (see ProviderObjects).
func (e *Env) Provider(t testing.TB, ns, name string, settings v1alpha1.ProviderSettings, data map[string][]byte) *v1alpha1.ChatProvider {
	t.Helper()
	secret, p := ProviderObjects(ns, name, settings, data)
	g := NewWithT(t)
	g.Expect(e.Client.Create(context.Background(), secret)).To(Succeed())
	g.Expect(e.Client.Create(context.Background(), p)).To(Succeed())
	return p
}

// SimProvider creates a ChatProvider named name in ns, and its credentials
// Secret, for the simulated account h served at url.
func (e *Env) SimProvider(t testing.TB, ns, name string, h vendorsim.Harness, url string) *v1alpha1.ChatProvider {
	t.Helper()
	settings, data := h.Provider(url)
	return e.Provider(t, ns, name, settings, data)
}

// WaitProvider waits until p's Ready condition has status st and reason (any
// reason when empty) for its current generation, and returns the condition.
func (e *Env) WaitProvider(t testing.TB, p client.Object, st metav1.ConditionStatus, reason string) metav1.Condition {
	t.Helper()
	var got metav1.Condition
	NewWithT(t).Eventually(func(g Gomega) {
		g.Expect(e.Client.Get(context.Background(), client.ObjectKeyFromObject(p), p)).To(Succeed())
		c := meta.FindStatusCondition(providerConditions(p), v1alpha1.ReadyCondition)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.ObservedGeneration).To(Equal(p.GetGeneration()))
		g.Expect(c.Status).To(Equal(st), c.Message)
		if reason != "" {
			g.Expect(c.Reason).To(Equal(reason), c.Message)
		}
		got = *c
	}).WithTimeout(30 * time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
	return got
}

// providerConditions returns the conditions of a ChatProvider or
// ClusterChatProvider (nil for anything else).
func providerConditions(p client.Object) []metav1.Condition {
	switch p := p.(type) {
	case *v1alpha1.ChatProvider:
		return p.Status.Conditions
	case *v1alpha1.ClusterChatProvider:
		return p.Status.Conditions
	}
	return nil
}

// RequestReconcile asks the operator for a pass over cg now (the
// reconcile-requested-at annotation, set to a fresh value), waits until the
// operator has handled that request, and leaves cg as the operator left it. It
// returns the value it requested.
func (e *Env) RequestReconcile(t testing.TB, cg *v1alpha1.ChatGroup) string {
	t.Helper()
	at := time.Now().UTC().Format(time.RFC3339Nano)
	e.RequestReconcileAt(t, cg, at)
	return at
}

// RequestReconcileAt is RequestReconcile with a given annotation value, for
// tests that must tell their requests apart.
func (e *Env) RequestReconcileAt(t testing.TB, cg *v1alpha1.ChatGroup, at string) {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	patch := client.MergeFrom(cg.DeepCopy())
	metav1.SetMetaDataAnnotation(&cg.ObjectMeta, v1alpha1.ReconcileRequestAnnotation, at)
	g.Expect(e.Client.Patch(ctx, cg, patch)).To(Succeed())
	g.Eventually(func(g Gomega) string {
		g.Expect(e.Client.Get(ctx, client.ObjectKeyFromObject(cg), cg)).To(Succeed())
		return cg.Status.LastHandledReconcileAt
	}).WithTimeout(30*time.Second).WithPolling(100*time.Millisecond).Should(Equal(at), "reconcile requested at %s not handled", at)
}

// WaitGone waits until obj no longer exists (its finalizers are done).
func (e *Env) WaitGone(t testing.TB, obj client.Object) {
	t.Helper()
	NewWithT(t).Eventually(func() bool {
		err := e.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)
		return apierrors.IsNotFound(err)
	}).WithTimeout(30 * time.Second).WithPolling(100 * time.Millisecond).Should(BeTrue())
}
