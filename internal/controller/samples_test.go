package controller

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/internal/registry"
)

// TestSamplesAreAccepted applies every object in config/samples with a server-side
// dry run (namespaces for real), so the README's examples stay valid against the CRDs.
func TestSamplesAreAccepted(t *testing.T) {
	g := NewWithT(t)
	files, err := filepath.Glob(filepath.Join("..", "..", "config", "samples", "*.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	var objs []*unstructured.Unstructured
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(f)
		g.Expect(err).NotTo(HaveOccurred())
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			u := &unstructured.Unstructured{}
			if err := dec.Decode(&u.Object); errors.Is(err, io.EOF) {
				break
			} else {
				g.Expect(err).NotTo(HaveOccurred(), f)
			}
			if len(u.Object) > 0 {
				objs = append(objs, u)
			}
		}
	}
	g.Expect(len(objs)).To(BeNumerically(">=", 9), "a Secret, a provider and a ChatGroup per vendor")
	for _, u := range objs {
		if u.GetKind() == "Namespace" {
			g.Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, u))).To(Succeed())
		}
	}
	kinds := map[string]int{}
	for _, u := range objs {
		if u.GetKind() != "Namespace" {
			g.Expect(k8sClient.Create(ctx, u, client.DryRunAll)).To(Succeed(), u.GetKind()+"/"+u.GetName())
		}
		kinds[u.GetKind()]++
	}
	g.Expect(kinds).To(HaveKeyWithValue("ChatGroup", len(registry.Vendors())), "a sample group per registered vendor")
}
