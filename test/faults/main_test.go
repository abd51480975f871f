// Package faults is the fault suite: each vendor's simulator breaks in the ways
// vendors and clusters do (a lost create response, a killed operator, two
// operators at once, an outage, throttling) while a real manager process
// reconciles ChatGroups against a real API server, and the tests assert exact
// outcomes: one vendor group per ChatGroup, truthful conditions, bounded call
// volume, and no secret in logs, events, conditions or error strings.
//
// The manager under test is this test binary started again in manager mode
// (see runManager): the same wiring as main.go, in its own process, so it can
// be killed with SIGKILL at any instruction and its log output captured whole.
// Each scenario has its own simulator, namespace and manager processes (which
// watch only that namespace), so scenarios run in parallel and their counters
// are exact.
package faults

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/chatgroup-operator/chatgroup-operator/internal/testenv"
)

var (
	env *testenv.Env
	// kubeconfig is the path of a kubeconfig for env's API server, for the
	// manager processes.
	kubeconfig string
)

func TestMain(m *testing.M) {
	if os.Getenv(managerModeEnv) != "" {
		os.Exit(runManager(os.Args[1:]))
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	env, err = testenv.Start(nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer env.Stop()
	dir, err := os.MkdirTemp("", "faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if kubeconfig, err = writeKubeconfig(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// writeKubeconfig writes env's client credentials as a kubeconfig file.
func writeKubeconfig(dir string) (string, error) {
	c := env.Config
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["envtest"] = &clientcmdapi.Cluster{Server: c.Host, CertificateAuthorityData: c.CAData}
	cfg.AuthInfos["envtest"] = &clientcmdapi.AuthInfo{ClientCertificateData: c.CertData, ClientKeyData: c.KeyData, Token: c.BearerToken}
	cfg.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "envtest"}
	cfg.CurrentContext = "envtest"
	path := filepath.Join(dir, "kubeconfig")
	return path, clientcmd.WriteToFile(*cfg, path)
}
