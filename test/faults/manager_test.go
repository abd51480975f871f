package faults

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/controller"
	"github.com/chatgroup-operator/chatgroup-operator/internal/registry"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// managerModeEnv, when set, makes the test binary run a manager instead of tests.
const managerModeEnv = "FAULTS_MANAGER_MODE"

// runManager is the manager process: main.go's wiring (every registered
// vendor, the same controller options, no leader election) with the cache
// limited to one namespace and every log line, V(1) included, on stderr.
func runManager(args []string) int {
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the API server")
	namespace := fs.String("namespace", "", "the only namespace to watch")
	workers := fs.Int("max-concurrent-reconciles", 4, "ChatGroup workers")
	retry := fs.Duration("retry-interval", time.Second, "retry interval")
	vendorTimeout := fs.Duration("vendor-timeout", 5*time.Second, "vendor work of one pass")
	findGrace := fs.Duration("find-grace", 0, "lookup grace before an interrupted create is made again")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.DebugLevel)))
	log := ctrl.Log.WithName("setup")

	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		log.Error(err, "Unable to load the kubeconfig")
		return 1
	}
	scheme := runtime.NewScheme()
	if err := errors.Join(clientgoscheme.AddToScheme(scheme), v1alpha1.AddToScheme(scheme)); err != nil {
		log.Error(err, "Unable to build the scheme")
		return 1
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  cache.Options{DefaultNamespaces: map[string]cache.Config{*namespace: {}}},
	})
	if err != nil {
		log.Error(err, "Unable to create the manager")
		return 1
	}
	vendors.MustRegisterMetrics(metrics.Registry)
	if err := controller.SetupWithManager(mgr, controller.Options{
		Vendors:                 registry.Vendors(),
		MaxConcurrentReconciles: *workers,
		RetryInterval:           *retry,
		VendorTimeout:           *vendorTimeout,
		DriftBatchWait:          time.Second, // the scenarios' restarts resync in batches without sitting out the default wait
		FindGrace:               *findGrace,
	}); err != nil {
		log.Error(err, "Unable to set up the controllers")
		return 1
	}
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "Manager exited with an error")
		return 1
	}
	return 0
}

// logBuffer collects the output of every manager process of a scenario.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// manager is a running manager process.
type manager struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startManager starts a manager process for namespace ns that writes its log
// to out. It is killed when the test ends, if still running.
func startManager(t *testing.T, ns string, out *logBuffer, args ...string) *manager {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args = append([]string{"--kubeconfig=" + kubeconfig, "--namespace=" + ns}, args...)
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), managerModeEnv+"=1")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(out, "--- manager pid %d started\n", cmd.Process.Pid)
	m := &manager{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(m.done)
	}()
	t.Cleanup(m.kill)
	return m
}

// kill ends the process with SIGKILL, as the kernel or kubelet would: no
// deferred function, no graceful shutdown, requests in flight abandoned.
func (m *manager) kill() {
	select {
	case <-m.done:
		return
	default:
	}
	_ = m.cmd.Process.Signal(syscall.SIGKILL)
	<-m.done
}

// running reports whether the process has not exited.
func (m *manager) running() bool {
	select {
	case <-m.done:
		return false
	default:
		return true
	}
}
