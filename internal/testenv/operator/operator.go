// Package operator runs the operator's controllers in a testenv manager: the
// envtest fixture of the vendors' integration tests.
//
// A vendor's suite starts it once in TestMain with its own registration, serves
// a simulator, and uses the testenv helpers for the rest:
//
//	env, err = operator.Start(controller.Options{Vendors: vendors.Registry{acme.Registration()}})
//	...
//	srv := httptest.NewServer(harness)
//	p := env.SimProvider(t, env.Namespace(t), "acme", harness, srv.URL)
//	env.WaitReady(t, cg)
//	env.RequestReconcile(t, cg) // a drift check, waited for
//
// A second or restarted operator is env.StartManager(operator.Setup(o)).
// It lives apart from testenv because the controller package's own tests use
// testenv, and a package cannot import its importer.
package operator

import (
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/chatgroup-operator/chatgroup-operator/internal/controller"
	"github.com/chatgroup-operator/chatgroup-operator/internal/testenv"
)

// Test defaults for the Options fields a test leaves zero: a few workers, and
// short waits for missing providers and Secrets and for batched drift checks,
// so tests do not sit out the operator's production intervals.
const (
	DefaultMaxConcurrentReconciles = 4
	DefaultRetryInterval           = time.Second
	DefaultDriftBatchWait          = time.Second
	DefaultBudgetFlushInterval     = 500 * time.Millisecond
)

// Setup returns a setup for testenv.Start and Env.StartManager that registers
// the operator's controllers with o (zero MaxConcurrentReconciles,
// RetryInterval, DriftBatchWait and BudgetFlushInterval take the test defaults).
func Setup(o controller.Options) func(ctrl.Manager) error {
	if o.MaxConcurrentReconciles == 0 {
		o.MaxConcurrentReconciles = DefaultMaxConcurrentReconciles
	}
	if o.RetryInterval == 0 {
		o.RetryInterval = DefaultRetryInterval
	}
	if o.DriftBatchWait == 0 {
		o.DriftBatchWait = DefaultDriftBatchWait
	}
	if o.BudgetFlushInterval == 0 {
		o.BudgetFlushInterval = DefaultBudgetFlushInterval
	}
	return func(mgr ctrl.Manager) error { return controller.SetupWithManager(mgr, o) }
}

// Start starts the control plane and a manager running the operator's
// controllers with o. Stop the returned Env when done.
func Start(o controller.Options) (*testenv.Env, error) {
	return testenv.Start(Setup(o))
}
