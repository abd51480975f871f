//go:build tools

// Package tools pins helm, which 'make helm' builds into bin/ for the chart's
// lint, template and package steps. It is a module of its own because helm's
// Kubernetes libraries are newer than those hack/tools builds the control plane
// from.
package tools

import (
	_ "helm.sh/helm/v4/cmd/helm"
)
