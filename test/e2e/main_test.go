//go:build e2e

// Package e2e tests the operator as a user meets it: the real manager binary
// (bin/manager) runs as a separate process against a local kube-apiserver and
// etcd and every registered vendor's simulator, and the test drives it only through
// kubectl (bin/k8s/kubectl), reading the simulators' state to check what reached
// the vendors. Run it with 'make e2e', which builds both binaries first; 'make
// test' runs it after the unit and integration tests.
//
// With UPDATE_FIXTURES=1 the test also rewrites config/argocd/testdata, the real
// objects the Argo CD health check is tested against in every 'make test'.
package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/chatgroup-operator/chatgroup-operator/internal/playground"
	"github.com/chatgroup-operator/chatgroup-operator/internal/registry"
	"github.com/chatgroup-operator/chatgroup-operator/internal/testenv"
)

// createDelay is how long a simulated vendor that creates groups
// asynchronously takes: long enough to see the group Progressing, short enough
// for a bounded test.
const createDelay = 3 * time.Second

var (
	// root is the repository root.
	root = filepath.Join("..", "..")
	// managerBinary and kubectlBinary are built by 'make e2e'.
	managerBinary = filepath.Join(root, "bin", "manager")
	kubectlBinary = filepath.Join(root, "bin", "k8s", "kubectl")

	sims *playground.Simulators
	tmp  string
	// restConfig reaches the API server as an admin.
	restConfig *rest.Config
	// kubeconfig is the admin's, for kubectl.
	kubeconfig string
	// mgrOpts run the manager as the operator's ServiceAccount.
	mgrOpts playground.ManagerOptions
	// mgr is the running manager; killAndRestart replaces it.
	mgr *playground.Manager
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	for _, f := range []string{managerBinary, kubectlBinary} {
		if _, err := os.Stat(f); err != nil {
			fmt.Fprintf(os.Stderr, "%s is missing: run 'make e2e', which builds it\n", f)
			return 1
		}
	}
	var err error
	if tmp, err = os.MkdirTemp("", "chatgroup-e2e-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)

	env, err := testenv.Start(nil) // the control plane only: the manager is bin/manager
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer env.Stop()
	sims = playground.StartSimulators(registry.Simulators(), playground.SimOptions{CreateDelay: createDelay})
	defer sims.Close()

	restConfig = env.Config
	kubeconfig = filepath.Join(tmp, "kubeconfig")
	if err := playground.WriteKubeconfig(env.Config, "e2e", kubeconfig, ""); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { // the first step starts it
		if mgr != nil {
			mgr.Stop(10 * time.Second)
		}
	}()
	code := m.Run()
	if code != 0 && mgrOpts.LogPath != "" {
		fmt.Fprintf(os.Stderr, "\nThe manager's log ends with:\n%s\n", playground.Tail(mgrOpts.LogPath, 60))
	}
	return code
}
