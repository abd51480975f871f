// Command playground runs the operator on this machine against simulated vendors,
// so a newcomer can watch it manage groups with one command (make playground):
// a local kube-apiserver and etcd with the CRDs, every registered vendor's
// simulator on loopback, config/samples pointed at them, and the real
// bin/manager as a separate process. It prints what happens as it happens and
// the kubectl commands to try. Ctrl-C stops everything and removes what it made.
//
// Run it from the repository root after building bin/manager and bin/k8s (the
// Makefile target does both).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/internal/playground"
	"github.com/chatgroup-operator/chatgroup-operator/internal/registry"
	"github.com/chatgroup-operator/chatgroup-operator/internal/testenv"
)

// Paths, relative to the repository root.
const (
	managerBinary = "bin/manager"
	kubectlBinary = "bin/k8s/kubectl"
	pluginBinary  = "bin/kubectl-chatgroup"
	kubeconfig    = "bin/playground.kubeconfig"
	samplesDir    = "config/samples"
)

// createDelay is how long a simulated vendor that creates groups
// asynchronously takes, so that the asynchronous create can be seen.
const createDelay = 3 * time.Second

func main() {
	if ran, err := execControlPlane(); ran { // started by envtest as kube-apiserver or etcd
		fmt.Fprintln(os.Stderr, "playground:", err)
		os.Exit(1)
	}
	// Ctrl-C, SIGTERM, a closed terminal (SIGHUP), the parent's exit (make's,
	// say: SIGTERM) and a closed stdout (tee gone after the same Ctrl-C) all
	// stop the playground in order; a second Ctrl-C ends it at once, and its
	// children with it. With SIGPIPE ignored, what it prints to a closed stdout
	// is lost instead of killing it mid-cleanup.
	signal.Ignore(syscall.SIGPIPE)
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		interrupted := false
		for s := range signals {
			cancel()
			if s == os.Interrupt && interrupted {
				_ = os.Remove(kubeconfig)
				os.Exit(130)
			}
			interrupted = interrupted || s == os.Interrupt
		}
	}()
	watchStdout(cancel)
	if err := dieWithParent(syscall.SIGTERM); err != nil {
		cancel()
	}
	// An error after a stop was asked for is the stop's doing (a create
	// canceled, say): the playground has stopped as asked.
	if err := run(ctx, cancel); err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "playground:", err)
		os.Exit(1)
	}
}

// run sets everything up, then watches until ctx ends or the manager exits;
// its defers take everything down again in reverse order. stop is called once
// shutdown begins.
func run(ctx context.Context, stop func()) error {
	for _, f := range []string{"go.mod", managerBinary, kubectlBinary, pluginBinary} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("%s is missing: run 'make playground' from the repository root", f)
		}
	}
	tmp, err := os.MkdirTemp("", "chatgroup-playground-")
	if err != nil {
		return err
	}
	defer func() {
		_ = os.RemoveAll(tmp)
		say("Stopped. Removed %s and %s.", kubeconfig, tmp)
	}()

	if err := wrapControlPlane(tmp); err != nil {
		return err
	}
	say("Starting kube-apiserver and etcd (bin/k8s) and installing the CRDs...")
	env, err := testenv.Start(nil)
	if err != nil {
		return err
	}
	defer env.Stop()

	sims := playground.StartSimulators(registry.Simulators(), playground.SimOptions{CreateDelay: createDelay})
	defer sims.Close()
	var urls []string
	for _, sim := range sims.All() {
		urls = append(urls, fmt.Sprintf("%s %s", sim.Vendor, sim.URL))
	}
	say("Simulators on loopback: %s", strings.Join(urls, ", "))

	if err := playground.WriteKubeconfig(env.Config, "playground", kubeconfig, ""); err != nil {
		return err
	}
	defer os.Remove(kubeconfig)

	logPath := filepath.Join(tmp, "manager.log")
	mgr, err := playground.StartManager(playground.ManagerOptions{
		Binary: managerBinary, Kubeconfig: kubeconfig, LogPath: logPath,
		Args: []string{"--retry-interval=5s"},
	})
	if err != nil {
		return err
	}
	defer func() {
		stop()
		say("Stopping the manager, the simulators and the control plane...")
		mgr.Stop(10 * time.Second)
	}()
	say("Started the operator: %s %s\n    its log: %s; its metrics: %s", managerBinary, strings.Join(mgr.Args, " "), logPath, mgr.MetricsURL)

	applied := time.Now()
	objs, err := applySamples(ctx, env.Client, sims)
	if err != nil {
		return err
	}
	groupsFile := filepath.Join(tmp, "chatgroups.yaml") // to apply the samples' groups again
	if err := playground.WriteChatGroups(objs, groupsFile); err != nil {
		return err
	}
	w := newWatcher(env.Client, sims, sampleGroups(objs), logPath, applied)
	w.tryThis = sims.TryThis(kubectlBinary+" --kubeconfig "+kubeconfig, pluginBinary+" --kubeconfig "+kubeconfig, objs, groupsFile)
	return w.run(ctx, mgr)
}

// applySamples points the samples at the simulators, says how, and creates them.
func applySamples(ctx context.Context, c client.Client, sims *playground.Simulators) ([]*unstructured.Unstructured, error) {
	objs, err := playground.LoadSamples(samplesDir)
	if err != nil {
		return nil, err
	}
	notes, err := sims.PointAtSimulators(objs)
	if err != nil {
		return nil, err
	}
	say("Applying %s/. The samples' providers point at the real vendors with REPLACE_ME credentials, so the playground changes them on the way in (the ChatGroups go in as they are):", samplesDir)
	for _, n := range notes {
		fmt.Println("    " + n)
	}
	for _, u := range objs {
		err := c.Create(ctx, u)
		if u.GetKind() == "Namespace" {
			err = client.IgnoreAlreadyExists(err)
		}
		if err != nil {
			return nil, fmt.Errorf("create %s %s: %w", u.GetKind(), u.GetName(), err)
		}
	}
	return objs, nil
}

// sampleGroups returns the namespace/name of the samples' ChatGroups.
func sampleGroups(objs []*unstructured.Unstructured) []string {
	var keys []string
	for _, u := range objs {
		if u.GetKind() == "ChatGroup" {
			keys = append(keys, u.GetNamespace()+"/"+u.GetName())
		}
	}
	return keys
}

// say prints a line of the playground's own narration.
func say(format string, args ...any) {
	fmt.Printf("==> "+format+"\n", args...)
}
