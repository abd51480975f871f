// Command manager runs the chatgroup-operator controllers.
package main

import (
	"flag"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	_ "golang.org/x/crypto/x509roots/fallback" // CA roots for TLS to the vendors when the image has none
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	_ "k8s.io/client-go/plugin/pkg/client/auth"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/cachetrim"
	"github.com/chatgroup-operator/chatgroup-operator/internal/controller"
	"github.com/chatgroup-operator/chatgroup-operator/internal/registry"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
	// +kubebuilder:scaffold:imports
)

var (
	scheme   = runtime.NewScheme()
	setupLog = ctrl.Log.WithName("setup")
)

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))
	// +kubebuilder:scaffold:scheme
}

// options are the manager's flags.
type options struct {
	metricsAddr             string
	probeAddr               string
	pprofAddr               string
	leaderElect             bool
	maxConcurrentReconciles int
	watchNamespaces         string
	retryInterval           time.Duration
	vendorTimeout           time.Duration
	driftBatchWait          time.Duration
	findGrace               time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.metricsAddr, "metrics-bind-address", ":8080", "The address the metrics endpoint binds to; 0 disables it.")
	flag.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "The address the health probe endpoint binds to.")
	flag.StringVar(&o.pprofAddr, "pprof-bind-address", "", "The address Go's pprof endpoints bind to, for profiling; empty disables them.")
	flag.BoolVar(&o.leaderElect, "leader-elect", false, "Enable leader election, so only one manager is active at a time.")
	flag.IntVar(&o.maxConcurrentReconciles, "max-concurrent-reconciles", 4, "How many ChatGroups are reconciled at once.")
	flag.StringVar(&o.watchNamespaces, "watch-namespaces", "", "Comma-separated namespaces to manage ChatGroups and ChatProviders in; empty means all.")
	flag.DurationVar(&o.retryInterval, "retry-interval", 30*time.Second, "How often to look again for a missing provider or credentials Secret.")
	flag.DurationVar(&o.vendorTimeout, "vendor-timeout", time.Minute, "The longest the vendor calls of one reconcile may take.")
	flag.DurationVar(&o.driftBatchWait, "drift-batch-wait", controller.DefaultDriftBatchWait, "How long a periodic drift check waits to share a batched vendor read with other groups of its provider.")
	flag.DurationVar(&o.findGrace, "find-grace", 0, "How long a vendor's lookup may miss a group an interrupted create made, before it is created again; 0 means each vendor's own (docs/faults.md).")
	zapOpts := zap.Options{Development: false}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))

	applyMemoryLimit()
	mgr := mustSetupManager(o)
	mustSetupControllers(mgr, o)

	setupLog.Info("Starting manager")
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setupLog.Error(err, "Manager exited with an error")
		os.Exit(1)
	}
}

// defaultGCPercent is the collector's target unless GOGC is set. Most of the
// heap is the informer cache, which is long-lived and changes slowly, so Go's
// default (100: the heap may double before a collection) mostly buys room for
// garbage; half of that costs a little CPU in a process that spends its time
// waiting for vendors' rate limits.
const defaultGCPercent = 50

// applyMemoryLimit sets the collector's target (defaultGCPercent unless GOGC
// is set) and Go's soft memory limit to 90% of MEMORY_LIMIT (bytes;
// config/manager sets it from the container's limits.memory), so that the
// collector works harder as the cache grows instead of the kernel killing the
// process at the limit. GOMEMLIMIT, when set, is left to the runtime.
func applyMemoryLimit() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	if limit, err := strconv.ParseInt(os.Getenv("MEMORY_LIMIT"), 10, 64); err == nil && limit > 0 {
		debug.SetMemoryLimit(limit / 10 * 9)
		setupLog.Info("Soft memory limit set", "bytes", limit/10*9)
	}
}

// mustSetupManager builds the manager: metrics, probes, leader election and the
// namespaces the cache watches.
func mustSetupManager(o options) ctrl.Manager {
	cacheOpts := cache.Options{DefaultTransform: cachetrim.Transform}
	if o.watchNamespaces != "" {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{}
		for ns := range strings.SplitSeq(o.watchNamespaces, ",") {
			if ns = strings.TrimSpace(ns); ns != "" {
				cacheOpts.DefaultNamespaces[ns] = cache.Config{}
			}
		}
	}
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: o.metricsAddr},
		HealthProbeBindAddress: o.probeAddr,
		PprofBindAddress:       o.pprofAddr,
		LeaderElection:         o.leaderElect,
		LeaderElectionID:       "chatgroup-operator.im.chatgroup.io",
		Cache:                  cacheOpts,
	})
	if err != nil {
		setupLog.Error(err, "Unable to create manager")
		os.Exit(1)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		setupLog.Error(err, "Unable to set up health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		setupLog.Error(err, "Unable to set up ready check")
		os.Exit(1)
	}
	vendors.MustRegisterMetrics(metrics.Registry)
	return mgr
}

// mustSetupControllers wires the ChatGroup, ChatProvider and ClusterChatProvider
// reconcilers to one shared set of vendor connections.
func mustSetupControllers(mgr ctrl.Manager, o options) {
	if err := controller.SetupWithManager(mgr, controller.Options{
		Vendors:                 registry.Vendors(),
		MaxConcurrentReconciles: o.maxConcurrentReconciles,
		RetryInterval:           o.retryInterval,
		VendorTimeout:           o.vendorTimeout,
		DriftBatchWait:          o.driftBatchWait,
		FindGrace:               o.findGrace,
	}); err != nil {
		setupLog.Error(err, "Unable to set up controllers")
		os.Exit(1)
	}
	// +kubebuilder:scaffold:builder
}
