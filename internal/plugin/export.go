package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// exportOptions are export's flags.
type exportOptions struct {
	*options
	provider       string
	cluster        bool
	groupIDs       []string
	output         string
	includeManaged bool
}

func newExportCommand(parent *options) *cobra.Command {
	o := &exportOptions{options: parent}
	cmd := &cobra.Command{
		Use:   "export --provider NAME [--cluster-provider] [--group-id ID]...",
		Short: "Print ChatGroups that adopt a vendor account's existing groups, read-only",
		Long: `export reads a provider and its credentials Secret (as you), reads the
account's existing groups through the operator's own vendor clients, paced below
the vendor's rate limits, and prints a ChatGroup for each: spec.adoptGroupID,
the name, owner, members and settings as the vendor holds them, and
managementPolicy ObserveOnly. Applied, they adopt every group with no vendor
write, and each is Ready with reason InSync.

Vendors whose API lists an account's groups export all of them (--group-id
picks some); for the others name the groups with --group-id. Groups that a
ChatGroup you can see already manages are left out (--include-managed keeps
them). The output is sorted by name and stable: exporting the same groups twice
gives the same bytes. Names come from the groups' names (made valid Kubernetes
names, unique within the output). Progress and a summary go to stderr.`,
		Example: `  # Every group of the account of ChatProvider tencentim in namespace team-a
  kubectl chatgroup export --provider tencentim -n team-a > groups.yaml
  kubectl apply -f groups.yaml

  # Two groups of the account of ClusterChatProvider dingtalk-prod, as ChatGroups in team-sre
  kubectl chatgroup export --provider dingtalk-prod --cluster-provider -n team-sre --group-id chat1 --group-id chat2`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context()) },
	}
	f := cmd.Flags()
	f.StringVar(&o.provider, "provider", "", "the ChatProvider (in the namespace) or, with --cluster-provider, the ClusterChatProvider whose account to export")
	f.BoolVar(&o.cluster, "cluster-provider", false, "--provider names a ClusterChatProvider")
	f.StringArrayVar(&o.groupIDs, "group-id", nil, "export only this vendor group ID (repeatable); required for vendors that cannot list groups")
	f.StringVarP(&o.output, "output", "o", "yaml", "output format: yaml or json (a List)")
	f.BoolVar(&o.includeManaged, "include-managed", false, "also export groups that a ChatGroup already manages")
	return cmd
}

// exportSummary is what an export did, for its stderr summary.
type exportSummary struct {
	exported, skipped int
	calls             int64
	took              time.Duration
}

func (o *exportOptions) run(ctx context.Context) error {
	if o.provider == "" {
		return usageError("--provider is required: the ChatProvider (or, with --cluster-provider, ClusterChatProvider) whose account to export")
	}
	if o.output != "yaml" && o.output != "json" {
		return usageError("--output must be yaml or json, not %q", o.output)
	}
	ns, err := o.namespace()
	if err != nil {
		return err
	}
	c, err := o.client()
	if err != nil {
		return err
	}
	start := time.Now()
	p, ref, err := o.getProvider(ctx, c, ns)
	if err != nil {
		return err
	}
	var calls atomic.Int64
	hc := &http.Client{Timeout: vendors.DefaultTimeout, Transport: countingTransport{next: http.DefaultTransport, n: &calls}}
	reg, ok := o.vendors(vendors.WithHTTPClient(hc)).Get(p.Settings().Vendor)
	if !ok {
		return fmt.Errorf("this kubectl-chatgroup has no client for vendor %s; use the release that matches your operator", p.Settings().Vendor)
	}
	gc, err := connect(ctx, c, p, reg)
	if err != nil {
		return err
	}
	groups, err := o.readGroups(ctx, gc, reg.Vendor)
	if err != nil {
		return err
	}
	sum := exportSummary{}
	if !o.includeManaged {
		var skipped []string
		groups, skipped = o.dropManaged(ctx, c, ns, reg, reg.AccountKey(p.Settings()), groups)
		sum.skipped = len(skipped)
		if len(skipped) > 0 {
			fmt.Fprintf(o.stderr(), "Left out the groups that ChatGroups manage already (--include-managed keeps them): %s\n", strings.Join(skipped, ", "))
		}
	}
	objs := chatGroups(groups, reg, ref, ns)
	if err := print(o.streams.Out, o.output, objs, header(reg.Vendor, ref, ns, len(objs))); err != nil {
		return err
	}
	sum.exported, sum.calls, sum.took = len(objs), calls.Load(), time.Since(start)
	fmt.Fprintf(o.stderr(), "Exported %s of %s %s with %d vendor calls in %.1fs\n",
		groupCount(sum.exported, reg.Vendor), ref.Kind, ref.Name, sum.calls, sum.took.Seconds())
	return nil
}

// getProvider reads the provider --provider names, as the user.
func (o *exportOptions) getProvider(ctx context.Context, c client.Client, ns string) (v1alpha1.Provider, v1alpha1.ProviderReference, error) {
	var p interface {
		v1alpha1.Provider
		client.Object
	}
	ref := v1alpha1.ProviderReference{Kind: v1alpha1.ChatProviderKind, Name: o.provider}
	key := client.ObjectKey{Namespace: ns, Name: o.provider}
	where := " in namespace " + ns
	if o.cluster {
		p, ref.Kind, key.Namespace, where = &v1alpha1.ClusterChatProvider{}, v1alpha1.ClusterChatProviderKind, "", ""
	} else {
		p = &v1alpha1.ChatProvider{}
	}
	if err := c.Get(ctx, key, p); err != nil {
		hint := " (for a ClusterChatProvider add --cluster-provider)"
		if o.cluster {
			hint = ""
		}
		if apierrors.IsNotFound(err) {
			return nil, ref, fmt.Errorf("%s %q not found%s%s", ref.Kind, o.provider, where, hint)
		}
		return nil, ref, fmt.Errorf("read %s %q%s: %w", ref.Kind, o.provider, where, err)
	}
	return p, ref, nil
}

// connect builds the vendor client for p from its Secret, read as the user,
// paced by the provider's rate limit as the operator paces it.
func connect(ctx context.Context, c client.Client, p v1alpha1.Provider, reg vendors.Registration) (vendors.GroupClient, error) {
	key := p.SecretKey()
	secret := &corev1.Secret{}
	if err := c.Get(ctx, key, secret); err != nil {
		switch {
		case apierrors.IsNotFound(err):
			return nil, fmt.Errorf("the provider's credentials Secret %s does not exist", key)
		case apierrors.IsForbidden(err):
			return nil, fmt.Errorf("you may not read the provider's credentials Secret %s: export reads it as you; ask for 'get' on secrets in namespace %s", key, key.Namespace)
		}
		return nil, fmt.Errorf("read the provider's credentials Secret %s: %w", key, err)
	}
	for _, k := range reg.SecretKeys {
		if len(secret.Data[k]) == 0 {
			return nil, fmt.Errorf("the provider's credentials Secret %s has no key %q (a %s provider needs %v)", key, k, reg.Vendor, reg.SecretKeys)
		}
	}
	s := p.Settings()
	creds := vendors.Credentials{Endpoint: s.Endpoint, Secret: secret.Data, Limiter: vendors.NewLimiter(reg.ProviderLimits(s), nil)}
	if reg.Settings != nil {
		creds.Settings = reg.Settings(s)
	}
	gc, err := reg.Connector.Connect(ctx, creds)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", reg.Vendor, err)
	}
	return gc, nil
}

// readGroups lists the account's groups (only --group-id's, when given), or
// observes each --group-id where the vendor cannot list.
func (o *exportOptions) readGroups(ctx context.Context, gc vendors.GroupClient, vendor v1alpha1.Vendor) ([]vendors.ObservedGroup, error) {
	lister, ok := gc.(vendors.Lister)
	if !ok && len(o.groupIDs) == 0 {
		return nil, usageError("%s has no API that lists an account's groups: name the groups to export with --group-id", vendor)
	}
	if !ok {
		var out []vendors.ObservedGroup
		for _, id := range o.groupIDs {
			var obs vendors.Observation
			err := o.retryReads(ctx, func() (err error) {
				obs, err = gc.Observe(ctx, id, vendors.GroupSpec{})
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("read %s group %s: %w", vendor, id, err)
			}
			if !obs.Exists {
				return nil, fmt.Errorf("%s has no group %s", vendor, id)
			}
			out = append(out, obs.Group)
		}
		return out, nil
	}
	var groups []vendors.ObservedGroup
	err := o.retryReads(ctx, func() (err error) {
		groups, err = lister.ListGroups(ctx, newProgress(o.stderr(), time.Second).report)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list the %s account's groups: %w", vendor, err)
	}
	if len(o.groupIDs) == 0 {
		return groups, nil
	}
	var out []vendors.ObservedGroup
	for _, id := range o.groupIDs {
		i := slices.IndexFunc(groups, func(g vendors.ObservedGroup) bool { return g.ID == id })
		if i < 0 {
			return nil, fmt.Errorf("%s has no group %s among the account's %d groups", vendor, id, len(groups))
		}
		out = append(out, groups[i])
	}
	return out, nil
}

// readAttempts bounds how often export tries a read the vendor throttled or
// was too busy for; reads change nothing, so trying again is safe.
const readAttempts = 5

// firstReadRetry is the first wait before a read is tried again.
var firstReadRetry = time.Second

// retryReads runs read until it succeeds, fails other than by a throttle or a
// busy vendor, or has been tried readAttempts times, waiting what the vendor
// asks for (at least firstReadRetry, doubling) in between.
func (o *exportOptions) retryReads(ctx context.Context, read func() error) error {
	wait := firstReadRetry
	for attempt := 1; ; attempt++ {
		err := read()
		if err == nil || attempt == readAttempts || !(errors.Is(err, vendors.ErrRateLimited) || errors.Is(err, vendors.ErrBusy)) {
			return err
		}
		d := max(wait, vendors.RetryAfter(err))
		fmt.Fprintf(o.stderr(), "The vendor is throttled or busy; trying again in %s (%d of %d): %s\n",
			d.Round(time.Second), attempt+1, readAttempts, vendors.Sanitize(err.Error()))
		select {
		case <-ctx.Done():
			return err
		case <-time.After(d):
		}
		wait *= 2
	}
}

// dropManaged leaves out the groups that a ChatGroup the user can see (in
// every namespace, else in ns) binds already on the same account (account is
// reg.AccountKey of the exported provider; group IDs are unique only within an
// account), and returns those ChatGroups. A ChatGroup whose provider the user
// cannot read counts as on the same account.
func (o *exportOptions) dropManaged(ctx context.Context, c client.Client, ns string, reg vendors.Registration, account string, groups []vendors.ObservedGroup) ([]vendors.ObservedGroup, []string) {
	list := &v1alpha1.ChatGroupList{}
	if err := c.List(ctx, list); err != nil {
		if err := c.List(ctx, list, client.InNamespace(ns)); err != nil {
			fmt.Fprintf(o.stderr(), "Could not list ChatGroups to leave out groups they manage already: %v\n", err)
			return groups, nil
		}
	}
	accounts := map[client.ObjectKey]string{} // provider -> account key
	sameAccount := func(cg *v1alpha1.ChatGroup) bool {
		key, p := providerOf(cg)
		if _, ok := accounts[key]; !ok {
			accounts[key] = account
			if err := c.Get(ctx, key, p); err == nil {
				accounts[key] = reg.AccountKey(p.Settings())
			}
		}
		return accounts[key] == account
	}
	bound := map[string]string{}
	for i := range list.Items {
		cg := &list.Items[i]
		if cg.Spec.Vendor != reg.Vendor || !sameAccount(cg) {
			continue
		}
		for _, id := range []string{cg.Annotations[v1alpha1.GroupIDAnnotation], cg.Status.GroupID, cg.Spec.AdoptGroupID} {
			if id != "" {
				bound[id] = cg.Namespace + "/" + cg.Name
			}
		}
	}
	var skipped []string
	groups = slices.DeleteFunc(groups, func(g vendors.ObservedGroup) bool {
		if by, ok := bound[g.ID]; ok {
			skipped = append(skipped, by)
			return true
		}
		return false
	})
	slices.Sort(skipped)
	return groups, skipped
}

// providerOf returns where cg's provider lives and an empty object to read it
// into.
func providerOf(cg *v1alpha1.ChatGroup) (client.ObjectKey, interface {
	v1alpha1.Provider
	client.Object
}) {
	ref := cg.Spec.ProviderRef
	if ref.Kind == v1alpha1.ClusterChatProviderKind {
		return client.ObjectKey{Name: ref.Name}, &v1alpha1.ClusterChatProvider{}
	}
	return client.ObjectKey{Namespace: cg.Namespace, Name: ref.Name}, &v1alpha1.ChatProvider{}
}

// countingTransport counts the requests sent to the vendor.
type countingTransport struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.next.RoundTrip(r)
}

// progress writes "Read n/total groups" to stderr at most once per interval,
// so a long listing shows it is moving.
type progress struct {
	w        io.Writer
	interval time.Duration
	last     time.Time
}

func newProgress(w io.Writer, interval time.Duration) *progress {
	return &progress{w: w, interval: interval, last: time.Now()}
}

func (p *progress) report(read, total int) {
	if time.Since(p.last) < p.interval {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "Read %d of %d groups\n", read, total)
}
