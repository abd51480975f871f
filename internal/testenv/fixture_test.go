package testenv

import (
	"testing"

	. "github.com/onsi/gomega"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

func TestProviderObjects(t *testing.T) {
	g := NewWithT(t)
	settings := v1alpha1.ProviderSettings{Vendor: "Any", Endpoint: "http://127.0.0.1:1", RateLimit: &v1alpha1.RateLimit{}}
	data := map[string][]byte{"key": []byte("value")}

	secret, p := ProviderObjects("ns", "acct", settings, data)

	g.Expect(p.Namespace).To(Equal("ns"))
	g.Expect(p.Name).To(Equal("acct"))
	g.Expect(p.Spec.ProviderSettings).To(Equal(settings))
	g.Expect(p.Spec.CredentialsSecretRef.Name).To(Equal(secret.Name), "the provider refers to its Secret")
	g.Expect(secret.Namespace).To(Equal("ns"))
	g.Expect(secret.Data).To(Equal(data))

	secret.Data["key"] = []byte("changed")
	p.Spec.RateLimit.QPS = 7
	g.Expect(data["key"]).To(Equal([]byte("value")), "the Secret does not share the caller's map")
	g.Expect(settings.RateLimit.QPS).To(BeZero(), "the provider does not share the caller's settings")
}
