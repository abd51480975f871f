package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/yaml"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

func newPlanCommand(parent *options) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "plan NAME",
		Short: "Show what differs on the vendor and is not being changed (status.drift)",
		Long: `plan prints a ChatGroup's status.drift for people: with managementPolicy
ObserveOnly, everything that differs between the spec and the vendor group (what
Full would change); otherwise the removals the removal guard holds, with the
command that approves them. -o yaml or -o json prints status.drift as data.`,
		Example: `  # What would switching release-train to managementPolicy Full change?
  kubectl chatgroup plan release-train -n team-a

  # The drift as JSON, for a script
  kubectl chatgroup plan release-train -o json`,
		Args: exactArgs(1, "the ChatGroup's name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "" && output != "yaml" && output != "json" {
				return usageError("--output must be yaml or json, not %q", output)
			}
			ns, err := parent.namespace()
			if err != nil {
				return err
			}
			c, err := parent.client()
			if err != nil {
				return err
			}
			cg, err := getChatGroup(cmd.Context(), c, ns, args[0])
			if err != nil {
				return err
			}
			return printPlan(parent.streams.Out, cg, output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "print status.drift as yaml or json instead of text")
	return cmd
}

// printPlan writes cg's drift as data (format yaml or json) or for people.
func printPlan(w io.Writer, cg *v1alpha1.ChatGroup, format string) error {
	drift := cg.Status.Drift
	if drift == nil {
		drift = &v1alpha1.Drift{}
	}
	switch format {
	case "json":
		data, err := json.MarshalIndent(drift, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", data)
		return err
	case "yaml":
		data, err := yaml.Marshal(drift)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	_, err := io.WriteString(w, planText(cg))
	return err
}

// planText describes cg's drift in sentences.
func planText(cg *v1alpha1.ChatGroup) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	policy := cg.Spec.ManagementPolicy
	if policy == "" {
		policy = v1alpha1.Full
	}
	p("ChatGroup %s/%s: %s group %s, managementPolicy %s", cg.Namespace, cg.Name, cg.Spec.Vendor, orDash(cg.Status.GroupID), policy)
	if ready := meta.FindStatusCondition(cg.Status.Conditions, v1alpha1.ReadyCondition); ready != nil {
		p("Ready=%s %s: %s", ready.Status, ready.Reason, ready.Message)
	}
	if cg.Status.ObservedGeneration != cg.Generation {
		p("The operator has not finished with generation %d yet; this is what it found for generation %d.", cg.Generation, cg.Status.ObservedGeneration)
	}
	d := cg.Status.Drift
	if d == nil || (d.Summary == "" && len(d.Fields) == 0 && d.AddCount == 0 && d.RemoveCount == 0) {
		p("No drift: nothing differs that the operator is not changing.")
		return b.String()
	}
	if d.Summary != "" {
		p("Drift: %s", d.Summary)
	}
	if len(d.Fields) > 0 {
		p("Differs: %s", strings.Join(d.Fields, ", "))
	}
	if d.AddCount > 0 {
		p("To add (%d): %s%s", d.AddCount, strings.Join(d.Add, " "), more(d.AddCount, len(d.Add)))
	}
	if d.RemoveCount > 0 {
		p("To remove (%d): %s%s", d.RemoveCount, strings.Join(d.Remove, " "), more(d.RemoveCount, len(d.Remove)))
	}
	if d.RemovalToken != "" {
		p("The removal guard holds these removals (token %s). Approve exactly this set with:", d.RemovalToken)
		p("  kubectl chatgroup approve %s -n %s", cg.Name, cg.Namespace)
	} else if policy == v1alpha1.ObserveOnly {
		p("Nothing is changed while managementPolicy is ObserveOnly; with Full the operator would make the group match the spec.")
	}
	return b.String()
}

func more(count int32, listed int) string {
	if int(count) > listed {
		return fmt.Sprintf(" (and %d more)", int(count)-listed)
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newApproveCommand(parent *options) *cobra.Command {
	return &cobra.Command{
		Use:   "approve NAME",
		Short: "Approve the member removals the removal guard holds on a ChatGroup",
		Long: `approve sets the annotation im.chatgroup.io/approve-removals to the ChatGroup's
status.drift.removalToken: the operator then applies exactly the held removals
that 'kubectl chatgroup plan NAME' lists. If the set changes before the operator
acts, the token no longer matches and nothing is removed. approve refuses (exit
code 1) when no removals are held.`,
		Example: `  # See what is held, then approve it
  kubectl chatgroup plan release-train -n team-a
  kubectl chatgroup approve release-train -n team-a
  kubectl chatgroup reconcile release-train -n team-a`,
		Args: exactArgs(1, "the ChatGroup's name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return parent.approve(cmd.Context(), args[0])
		},
	}
}

func (o *options) approve(ctx context.Context, name string) error {
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
	d := cg.Status.Drift
	if d == nil || d.RemovalToken == "" {
		return errors.New("ChatGroup " + ns + "/" + name + " has no removals held by the removal guard (status.drift.removalToken is empty): there is nothing to approve; 'kubectl chatgroup plan " + name + "' shows its drift")
	}
	if err := annotate(ctx, c, cg, v1alpha1.ApproveRemovalsAnnotation, d.RemovalToken); err != nil {
		return err
	}
	fmt.Fprintf(o.streams.Out, "chatgroup/%s approved: removing %d members (token %s): %s%s\n",
		name, d.RemoveCount, d.RemovalToken, strings.Join(d.Remove, " "), more(d.RemoveCount, len(d.Remove)))
	return nil
}
