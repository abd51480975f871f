package plugin

import (
	"bytes"
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	clientfake "sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// TestDropManaged checks that export leaves out only the groups bound by
// ChatGroups on the exported account: another account may use the same group
// IDs, and a provider the user cannot read counts as the same account.
func TestDropManaged(t *testing.T) {
	g := NewWithT(t)
	scheme := runtime.NewScheme()
	g.Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	g.Expect(v1alpha1.AddToScheme(scheme)).To(Succeed())
	provider := func(ns, name, endpoint string) client.Object {
		return &v1alpha1.ChatProvider{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: v1alpha1.ChatProviderSpec{ProviderSettings: v1alpha1.ProviderSettings{Vendor: v1alpha1.WhatsApp, Endpoint: endpoint}}}
	}
	bound := func(ns, name, provider, id string) client.Object {
		return &v1alpha1.ChatGroup{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: map[string]string{v1alpha1.GroupIDAnnotation: id}},
			Spec:       v1alpha1.ChatGroupSpec{Vendor: v1alpha1.WhatsApp, ProviderRef: v1alpha1.ProviderReference{Name: provider}},
		}
	}
	exported := provider("team", "account", "https://a.example")
	c := clientfake.NewClientBuilder().WithScheme(scheme).WithObjects(
		exported,
		provider("team", "alias", "https://a.example"), // the same account under another name
		provider("other", "account", "https://b.example"),
		bound("team", "same-provider", "account", "g1"),
		bound("team", "same-account", "alias", "g2"),
		bound("other", "other-account", "account", "g3"),
		bound("hidden", "unreadable-provider", "missing", "g4"),
	).Build()

	var errOut bytes.Buffer
	o := &exportOptions{options: &options{streams: genericiooptions.IOStreams{ErrOut: &errOut}}}
	reg := vendors.Registration{Vendor: v1alpha1.WhatsApp}
	var groups []vendors.ObservedGroup
	for _, id := range []string{"g1", "g2", "g3", "g4", "g5"} {
		groups = append(groups, vendors.ObservedGroup{ID: id})
	}
	kept, skipped := o.dropManaged(context.Background(), c, "team", reg,
		reg.AccountKey(exported.(*v1alpha1.ChatProvider).Settings()), groups)

	var ids []string
	for _, k := range kept {
		ids = append(ids, k.ID)
	}
	g.Expect(ids).To(Equal([]string{"g3", "g5"}), "another account's g3 is not managed on this one")
	g.Expect(skipped).To(Equal([]string{"hidden/unreadable-provider", "team/same-account", "team/same-provider"}))
	g.Expect(errOut.String()).To(BeEmpty())
}

// TestRetryReads: a throttled or busy read is tried again, up to readAttempts
// times; any other failure ends it at once.
func TestRetryReads(t *testing.T) {
	firstReadRetry = time.Millisecond
	throttled := &vendors.Error{Class: vendors.ErrRateLimited, Op: "list", Message: "throttled"}
	busy := &vendors.Error{Class: vendors.ErrBusy, Op: "list", Message: "busy"}
	denied := &vendors.Error{Class: vendors.ErrAccessDenied, Op: "list", Message: "denied"}
	for _, tc := range []struct {
		name      string
		failures  []error
		wantCalls int
		wantErr   error
	}{
		{"succeeds at once", nil, 1, nil},
		{"throttled, then succeeds", []error{throttled, throttled}, 3, nil},
		{"busy, then succeeds", []error{busy}, 2, nil},
		{"throttled every time", []error{throttled, throttled, throttled, throttled, throttled, throttled}, readAttempts, vendors.ErrRateLimited},
		{"access denied is not retried", []error{denied}, 1, vendors.ErrAccessDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			var errOut bytes.Buffer
			o := &exportOptions{options: &options{streams: genericiooptions.IOStreams{ErrOut: &errOut}}}
			calls := 0
			err := o.retryReads(context.Background(), func() error {
				calls++
				if calls <= len(tc.failures) {
					return tc.failures[calls-1]
				}
				return nil
			})
			g.Expect(calls).To(Equal(tc.wantCalls))
			if tc.wantErr == nil {
				g.Expect(err).NotTo(HaveOccurred())
			} else {
				g.Expect(err).To(MatchError(tc.wantErr))
			}
		})
	}
}
