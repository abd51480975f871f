// Package plugin is kubectl-chatgroup, the kubectl plugin that brings existing
// vendor groups under management (export), shows what the operator holds back
// (plan), approves held removals (approve) and asks for a drift check now
// (reconcile). It talks to the API server with the user's own kubeconfig and
// credentials, and to vendors through the operator's own clients
// (internal/registry); it names no vendor.
package plugin

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/registry"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// Exit codes.
const (
	// ExitOK: the command did what it says.
	ExitOK = 0
	// ExitFailed: the command failed or refused (an API or vendor error, no
	// held removals to approve, a reconcile that timed out).
	ExitFailed = 1
	// ExitUsage: wrong arguments or flags.
	ExitUsage = 2
	// ExitNotReady: reconcile was handled but the ChatGroup is not Ready.
	ExitNotReady = 3
)

// exitError carries an exit code with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError is an error in how the command was called.
func usageError(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// Main runs kubectl-chatgroup with args and returns its exit code.
func Main(args []string, streams genericiooptions.IOStreams) int {
	cmd := NewCommand(streams, registry.Vendors)
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(streams.ErrOut, "error: %v\n", err)
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return ExitFailed
}

// VendorsFunc returns the registered vendors, their clients built with opts.
type VendorsFunc func(opts ...vendors.Option) vendors.Registry

// options are what every subcommand shares.
type options struct {
	streams genericiooptions.IOStreams
	flags   *genericclioptions.ConfigFlags
	vendors VendorsFunc
}

// NewCommand returns the kubectl-chatgroup command with its subcommands.
func NewCommand(streams genericiooptions.IOStreams, vs VendorsFunc) *cobra.Command {
	o := &options{streams: streams, flags: genericclioptions.NewConfigFlags(true), vendors: vs}
	cmd := &cobra.Command{
		Use:   "kubectl-chatgroup",
		Short: "Bring existing chat groups under management and review what the operator holds back",
		Long: `kubectl chatgroup works with ChatGroups of the chatgroup operator.

It uses your kubeconfig and your own permissions: export reads the provider and
its credentials Secret as you, never as the operator.

Exit codes: 0 done; 1 failed or refused; 2 wrong arguments or flags;
3 (reconcile) handled, but the ChatGroup is not Ready.`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
		// kubectl runs kubectl-chatgroup for 'kubectl chatgroup': help says so.
		Annotations: map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl chatgroup"},
	}
	o.flags.AddFlags(cmd.PersistentFlags())
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: ExitUsage, err: err} })
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	cmd.AddCommand(newExportCommand(o), newPlanCommand(o), newApproveCommand(o), newReconcileCommand(o))
	for _, c := range cmd.Commands() {
		c.SetFlagErrorFunc(cmd.FlagErrorFunc())
	}
	return cmd
}

// exactArgs is cobra.ExactArgs as a usage error.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError("expected %s, got %d arguments", what, len(args))
		}
		return nil
	}
}

// namespace is the namespace from -n or the kubeconfig's context.
func (o *options) namespace() (string, error) {
	ns, _, err := o.flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return "", fmt.Errorf("read the kubeconfig: %w", err)
	}
	return ns, nil
}

// client returns an API client acting as the kubeconfig's user.
func (o *options) client() (client.Client, error) {
	cfg, err := o.flags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("read the kubeconfig: %w", err)
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{Scheme: scheme})
}

// stderr is where progress and summaries go, so that stdout stays data.
func (o *options) stderr() io.Writer {
	if o.streams.ErrOut == nil {
		return os.Stderr
	}
	return o.streams.ErrOut
}
