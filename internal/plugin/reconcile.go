package plugin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

// pollInterval is how often reconcile reads the ChatGroup while it waits.
const pollInterval = 500 * time.Millisecond

func newReconcileCommand(parent *options) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "reconcile NAME",
		Short: "Ask the operator to check a ChatGroup against its vendor now, and wait for the answer",
		Long: `reconcile sets the annotation im.chatgroup.io/reconcile-requested-at on the
ChatGroup, which makes the operator observe the vendor group now instead of at
the next syncInterval, waits until status.lastHandledReconcileAt shows the
request handled, and prints the Ready condition. It exits 0 when the ChatGroup
is Ready, 3 when it is not, and 1 when the request was not handled within
--timeout.`,
		Example: `  # Check sre-oncall in team-sre now
  kubectl chatgroup reconcile sre-oncall -n team-sre

  # In a script: fail unless the group is in sync within 30 seconds
  kubectl chatgroup reconcile sre-oncall --timeout 30s || echo "not in sync"`,
		Args: exactArgs(1, "the ChatGroup's name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return parent.reconcile(cmd.Context(), args[0], timeout)
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "how long to wait for the operator to handle the request")
	return cmd
}

func (o *options) reconcile(ctx context.Context, name string, timeout time.Duration) error {
	if timeout <= 0 {
		return usageError("--timeout must be positive")
	}
	ns, err := o.namespace()
	if err != nil {
		return err
	}
	c, err := o.client()
	if err != nil {
		return err
	}
	cg, err := getChatGroup(ctx, c, ns, name)
	if err != nil {
		return err
	}
	// Unique per request, so an earlier request's answer never counts.
	token := time.Now().UTC().Format(time.RFC3339Nano)
	if err := annotate(ctx, c, cg, v1alpha1.ReconcileRequestAnnotation, token); err != nil {
		return err
	}
	err = wait.PollUntilContextTimeout(ctx, pollInterval, timeout, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(cg), cg); err != nil {
			return false, fmt.Errorf("read ChatGroup %s/%s: %w", ns, name, err)
		}
		return cg.Status.LastHandledReconcileAt == token, nil
	})
	if wait.Interrupted(err) {
		return fmt.Errorf("ChatGroup %s/%s did not handle the request within %s; is the operator running (kubectl get deployments -A -l control-plane=controller-manager)?", ns, name, timeout)
	}
	if err != nil {
		return err
	}
	ready := meta.FindStatusCondition(cg.Status.Conditions, v1alpha1.ReadyCondition)
	if ready == nil {
		fmt.Fprintf(o.streams.Out, "chatgroup/%s handled; Ready is not reported yet\n", name)
		return &exitError{code: ExitNotReady, err: errors.New("ChatGroup " + name + " is not Ready")}
	}
	fmt.Fprintf(o.streams.Out, "chatgroup/%s handled: Ready=%s %s: %s\n", name, ready.Status, ready.Reason, ready.Message)
	if ready.Status != metav1.ConditionTrue {
		return &exitError{code: ExitNotReady, err: fmt.Errorf("ChatGroup %s is not Ready (%s)", name, ready.Reason)}
	}
	return nil
}

// getChatGroup reads a ChatGroup, with an error that says where it looked.
func getChatGroup(ctx context.Context, c client.Client, ns, name string) (*v1alpha1.ChatGroup, error) {
	cg := &v1alpha1.ChatGroup{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, cg); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("ChatGroup %q not found in namespace %s (-n sets the namespace)", name, ns)
		}
		return nil, fmt.Errorf("read ChatGroup %s/%s: %w", ns, name, err)
	}
	return cg, nil
}

// annotate sets one annotation with a merge patch, leaving the rest alone.
func annotate(ctx context.Context, c client.Client, cg *v1alpha1.ChatGroup, key, value string) error {
	base := cg.DeepCopy()
	if cg.Annotations == nil {
		cg.Annotations = map[string]string{}
	}
	cg.Annotations[key] = value
	if err := c.Patch(ctx, cg, client.MergeFrom(base)); err != nil {
		return fmt.Errorf("annotate ChatGroup %s/%s: %w", cg.Namespace, cg.Name, err)
	}
	return nil
}
