package controller

import (
	"time"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// Options configure the operator's reconcilers.
type Options struct {
	// Vendors are the vendors this operator manages groups on.
	Vendors vendors.Registry
	// MaxConcurrentReconciles is the number of ChatGroup workers.
	MaxConcurrentReconciles int
	// RetryInterval is how long to wait for a missing provider or Secret.
	RetryInterval time.Duration
	// VendorTimeout bounds the vendor work of one pass.
	VendorTimeout time.Duration
	// DriftBatchWait is how long a periodic drift check waits to share a
	// batched read (DefaultDriftBatchWait when zero).
	DriftBatchWait time.Duration
	// FindGrace, when positive, replaces every vendor's lookup grace
	// (vendors.Registration.FindGrace) before an interrupted create is made again.
	FindGrace time.Duration
	// BudgetFlushInterval is how often metered calls are added to the status
	// of providers with a call budget (DefaultBudgetFlushInterval when zero).
	BudgetFlushInterval time.Duration
}

// SetupWithManager registers the ChatGroup, ChatProvider and ClusterChatProvider
// reconcilers with mgr, sharing one set of vendor connections and rate limiters.
func SetupWithManager(mgr ctrl.Manager, o Options) error {
	conns := &Connections{
		APIReader: mgr.GetAPIReader(),
		Vendors:   o.Vendors,
		Limiters:  vendors.NewLimiters(nil),
	}
	if err := (&ChatGroupReconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Connections:             conns,
		Recorder:                mgr.GetEventRecorder("chatgroup-controller"),
		MaxConcurrentReconciles: o.MaxConcurrentReconciles,
		RetryInterval:           o.RetryInterval,
		VendorTimeout:           o.VendorTimeout,
		DriftBatchWait:          o.DriftBatchWait,
		FindGrace:               o.FindGrace,
	}).SetupWithManager(mgr); err != nil {
		return err
	}
	flush := o.BudgetFlushInterval
	if flush <= 0 {
		flush = DefaultBudgetFlushInterval
	}
	if err := mgr.Add(&budgetKeeper{Client: mgr.GetClient(), connections: conns, interval: flush, clock: clock.RealClock{}}); err != nil {
		return err
	}
	for name, newObj := range map[string]func() ProviderObject{
		"chatprovider":        func() ProviderObject { return &v1alpha1.ChatProvider{} },
		"clusterchatprovider": func() ProviderObject { return &v1alpha1.ClusterChatProvider{} },
	} {
		if err := (&ProviderReconciler{
			Client:        mgr.GetClient(),
			NewObject:     newObj,
			Connections:   conns,
			Recorder:      mgr.GetEventRecorder(name + "-controller"),
			RetryInterval: o.RetryInterval,
		}).SetupWithManager(mgr, name); err != nil {
			return err
		}
	}
	return nil
}
