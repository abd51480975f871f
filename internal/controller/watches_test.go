package controller

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

func TestRetryBackoff_IsCapped(t *testing.T) {
	g := NewWithT(t)
	rl := retryBackoff()
	req := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "g"}}
	first := rl.When(req)
	g.Expect(first).To(BeNumerically("<", maxRetryBackoff/1000), "the first retry comes quickly")
	var last = first
	for range 40 { // a long outage: far beyond where 5 ms doubling passes the cap
		last = rl.When(req)
	}
	g.Expect(last).To(Equal(maxRetryBackoff))
	rl.Forget(req)
	g.Expect(rl.When(req)).To(BeNumerically("<", maxRetryBackoff/1000), "a success starts over")
}
