package controller

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

func TestSummarize(t *testing.T) {
	const generation = int64(3)
	const previousGeneration = int64(2)

	type want struct {
		readyStatus       metav1.ConditionStatus
		readyReason       string
		reconciling       bool
		reconcilingReason string
		stalled           bool
		observedAdvances  bool
	}
	for _, tc := range []struct {
		name   string
		before []metav1.Condition
		out    outcome
		want   want
	}{
		{
			name: "ready",
			out:  ready("all good"),
			want: want{readyStatus: metav1.ConditionTrue, readyReason: v1alpha1.SucceededReason, observedAdvances: true},
		},
		{
			name: "stalled",
			out:  outcome{state: stateStalled, reason: v1alpha1.InvalidSpecReason, message: "spec.members: bad"},
			want: want{readyStatus: metav1.ConditionFalse, readyReason: v1alpha1.InvalidSpecReason, stalled: true, observedAdvances: true},
		},
		{
			name: "waiting",
			out:  outcome{state: stateWaiting, reason: v1alpha1.CredentialsNotFoundReason, message: "no Secret"},
			want: want{readyStatus: metav1.ConditionFalse, readyReason: v1alpha1.CredentialsNotFoundReason,
				reconciling: true, reconcilingReason: v1alpha1.ProgressingReason},
		},
		{
			name: "retrying",
			out:  outcome{state: stateRetrying, reason: v1alpha1.VendorUnavailableReason, message: "503"},
			want: want{readyStatus: metav1.ConditionFalse, readyReason: v1alpha1.VendorUnavailableReason,
				reconciling: true, reconcilingReason: v1alpha1.ProgressingWithRetryReason},
		},
		{
			name: "unknown",
			out:  outcome{},
			want: want{readyStatus: metav1.ConditionFalse, readyReason: v1alpha1.ProgressingReason,
				reconciling: true, reconcilingReason: v1alpha1.ProgressingReason},
		},
		{
			name: "suspended",
			out:  outcome{state: stateSuspended, message: "suspended"},
			want: want{readyStatus: metav1.ConditionFalse, readyReason: v1alpha1.SuspendedReason},
		},
		{
			name: "stalled to ready removes Stalled",
			before: []metav1.Condition{
				{Type: v1alpha1.ReadyCondition, Status: metav1.ConditionFalse, Reason: v1alpha1.InvalidSpecReason, ObservedGeneration: previousGeneration},
				{Type: v1alpha1.StalledCondition, Status: metav1.ConditionTrue, Reason: v1alpha1.InvalidSpecReason, ObservedGeneration: previousGeneration},
			},
			out:  ready("fixed"),
			want: want{readyStatus: metav1.ConditionTrue, readyReason: v1alpha1.SucceededReason, observedAdvances: true},
		},
		{
			name: "retrying to stalled removes Reconciling",
			before: []metav1.Condition{
				{Type: v1alpha1.ReadyCondition, Status: metav1.ConditionFalse, Reason: v1alpha1.VendorUnavailableReason, ObservedGeneration: previousGeneration},
				{Type: v1alpha1.ReconcilingCondition, Status: metav1.ConditionTrue, Reason: v1alpha1.ProgressingWithRetryReason, ObservedGeneration: previousGeneration},
			},
			out:  outcome{state: stateStalled, reason: v1alpha1.GroupNotFoundReason, message: "gone"},
			want: want{readyStatus: metav1.ConditionFalse, readyReason: v1alpha1.GroupNotFoundReason, stalled: true, observedAdvances: true},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			conds := append([]metav1.Condition(nil), tc.before...)
			observed := previousGeneration

			summarize(&conds, &observed, generation, tc.out)

			r := meta.FindStatusCondition(conds, v1alpha1.ReadyCondition)
			g.Expect(r).NotTo(BeNil())
			g.Expect(r.Status).To(Equal(tc.want.readyStatus))
			g.Expect(r.Reason).To(Equal(tc.want.readyReason))

			rec := meta.FindStatusCondition(conds, v1alpha1.ReconcilingCondition)
			if tc.want.reconciling {
				g.Expect(rec).NotTo(BeNil())
				g.Expect(rec.Status).To(Equal(metav1.ConditionTrue))
				g.Expect(rec.Reason).To(Equal(tc.want.reconcilingReason))
			} else {
				g.Expect(rec).To(BeNil())
			}

			st := meta.FindStatusCondition(conds, v1alpha1.StalledCondition)
			if tc.want.stalled {
				g.Expect(st).NotTo(BeNil())
				g.Expect(st.Status).To(Equal(metav1.ConditionTrue))
				g.Expect(st.Reason).To(Equal(tc.want.readyReason))
			} else {
				g.Expect(st).To(BeNil())
			}

			for _, c := range conds {
				g.Expect(c.ObservedGeneration).To(Equal(generation), "condition %s", c.Type)
				g.Expect(c.Message).NotTo(BeEmpty(), "condition %s", c.Type)
			}

			if tc.want.observedAdvances {
				g.Expect(observed).To(Equal(generation))
			} else {
				g.Expect(observed).To(Equal(previousGeneration))
			}
		})
	}
}

func TestClassify(t *testing.T) {
	iv := intervals{Retry: 11 * time.Second, Quota: 33 * time.Hour, Deferred: 2 * time.Second}
	isTerminal := func(err error) bool { return errors.Is(err, reconcile.TerminalError(nil)) }

	for _, tc := range []struct {
		name string
		err  error

		wantState       state
		wantReason      string
		wantMsgPrefix   string   // "" to skip
		wantMsgContains []string // substrings the message must contain
		wantRequeue     time.Duration
		minRequeue      time.Duration // when > 0, checks RequeueAfter >= minRequeue instead of wantRequeue
		wantErr         bool
		wantTerminal    bool
	}{
		{
			name:            "stalled error",
			err:             stalled(v1alpha1.VendorMismatchReason, "wrong %s", "vendor"),
			wantState:       stateStalled,
			wantReason:      v1alpha1.VendorMismatchReason,
			wantMsgContains: []string{"wrong vendor"},
			wantErr:         true,
			wantTerminal:    true,
		},
		{
			name:            "wrapped stalled error",
			err:             fmt.Errorf("context: %w", stalled(v1alpha1.GroupNotFoundReason, "gone")),
			wantState:       stateStalled,
			wantReason:      v1alpha1.GroupNotFoundReason,
			wantMsgContains: []string{"gone"},
			wantErr:         true,
			wantTerminal:    true,
		},
		{
			name:            "group disabled on the vendor's side: says which state, checked again slowly",
			err:             vendors.NewError(vendors.ErrGroupDisabled, "ListChatGroup", "", "CAMS lists group G1 as SUSPENDED"),
			wantState:       stateWaiting,
			wantReason:      v1alpha1.GroupDisabledReason,
			wantMsgContains: []string{"SUSPENDED", "disabled"},
			wantRequeue:     4 * iv.Retry,
		},
		{
			name:            "vendor access denied: a permission to grant, retried slowly",
			err:             vendors.NewError(vendors.ErrAccessDenied, "update group", "88/60011", "grant the app the Chat group write permission (qyapi_chat_manage)"),
			wantState:       stateWaiting,
			wantReason:      v1alpha1.AccessDeniedReason,
			wantMsgContains: []string{"88/60011", "qyapi_chat_manage", "vendor's console"},
			wantRequeue:     4 * iv.Retry,
		},
		{
			name:            "unknown vendor code: unavailable, retried with backoff, never stalled",
			err:             vendors.NewError(vendors.Codes{}.Class("99999"), "update group", "99999", "something new"),
			wantState:       stateRetrying,
			wantReason:      v1alpha1.VendorUnavailableReason,
			wantMsgContains: []string{"99999", "something new"},
			wantErr:         true,
		},
		{
			name:       "a deferred periodic check decides nothing",
			err:        fmt.Errorf("observe: %w", vendors.ErrDeferred),
			wantState:  stateUnknown,
			minRequeue: iv.Deferred,
		},
		{
			name:            "waiting error",
			err:             waiting(v1alpha1.ProviderNotFoundReason, "provider %q missing", "p"),
			wantState:       stateWaiting,
			wantReason:      v1alpha1.ProviderNotFoundReason,
			wantMsgContains: []string{`provider "p" missing`},
			wantRequeue:     iv.Retry,
		},
		{
			name:            "vendor invalid naming a field",
			err:             &vendors.Error{Class: vendors.ErrInvalid, Op: "create group", Message: "user x does not exist", Field: "members"},
			wantState:       stateStalled,
			wantReason:      v1alpha1.InvalidSpecReason,
			wantMsgPrefix:   "spec.members:",
			wantMsgContains: []string{"user x does not exist"},
			wantErr:         true,
			wantTerminal:    true,
		},
		{
			name:          "vendor invalid without a field",
			err:           vendors.NewError(vendors.ErrInvalid, "create group", "40035", "bad"),
			wantState:     stateStalled,
			wantReason:    v1alpha1.InvalidSpecReason,
			wantMsgPrefix: "The vendor rejected the request:",
			wantErr:       true,
			wantTerminal:  true,
		},
		{
			name:            "vendor quota exceeded",
			err:             vendors.NewError(vendors.ErrQuotaExceeded, "create group", "", "monthly quota"),
			wantState:       stateStalled,
			wantReason:      v1alpha1.QuotaExceededReason,
			wantMsgContains: []string{"monthly quota"},
			wantRequeue:     iv.Quota,
		},
		{
			name:            "vendor unauthorized",
			err:             fmt.Errorf("get token: %w", vendors.NewError(vendors.ErrUnauthorized, "get access token", "", "bad secret")),
			wantState:       stateWaiting,
			wantReason:      v1alpha1.AuthenticationFailedReason,
			wantMsgContains: []string{"bad secret"},
			wantRequeue:     iv.Retry,
		},
		{
			name:            "vendor rate limited with RetryAfter",
			err:             &vendors.Error{Class: vendors.ErrRateLimited, Op: "create group", RetryAfter: 7 * time.Second},
			wantState:       stateWaiting,
			wantReason:      v1alpha1.RateLimitedReason,
			wantMsgContains: []string{"7s"},
			wantRequeue:     7 * time.Second,
		},
		{
			name:       "vendor rate limited without RetryAfter",
			err:        vendors.NewError(vendors.ErrRateLimited, "create group", "", ""),
			wantState:  stateWaiting,
			wantReason: v1alpha1.RateLimitedReason,
			minRequeue: time.Second,
		},
		{
			name:       "bare ErrRateLimited sentinel",
			err:        fmt.Errorf("throttled: %w", vendors.ErrRateLimited),
			wantState:  stateWaiting,
			wantReason: v1alpha1.RateLimitedReason,
			minRequeue: time.Second,
		},
		{
			name:            "vendor unavailable",
			err:             fmt.Errorf("update group g1: %w", vendors.NewError(vendors.ErrUnavailable, "update group", "", "502 bad gateway")),
			wantState:       stateRetrying,
			wantReason:      v1alpha1.VendorUnavailableReason,
			wantMsgContains: []string{"502 bad gateway"},
			wantErr:         true,
		},
		{
			name:            "plain error",
			err:             errors.New("patch metadata: conflict"),
			wantState:       stateRetrying,
			wantReason:      v1alpha1.ProgressingWithRetryReason,
			wantMsgContains: []string{"patch metadata: conflict"},
			wantErr:         true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			out, res, err := classify(tc.err, iv)

			g.Expect(out.state).To(Equal(tc.wantState))
			g.Expect(out.reason).To(Equal(tc.wantReason))
			if tc.wantState != stateUnknown {
				g.Expect(out.message).NotTo(BeEmpty())
			}
			if tc.wantMsgPrefix != "" {
				g.Expect(out.message).To(HavePrefix(tc.wantMsgPrefix))
			}
			for _, s := range tc.wantMsgContains {
				g.Expect(out.message).To(ContainSubstring(s))
			}
			if tc.minRequeue > 0 {
				g.Expect(res.RequeueAfter).To(BeNumerically(">=", tc.minRequeue))
			} else {
				g.Expect(res).To(Equal(ctrl.Result{RequeueAfter: tc.wantRequeue}))
			}
			if tc.wantErr {
				g.Expect(err).To(HaveOccurred())
				g.Expect(errors.Is(err, tc.err)).To(BeTrue(), "the returned error wraps the input")
			} else {
				g.Expect(err).NotTo(HaveOccurred())
			}
			g.Expect(isTerminal(err)).To(Equal(tc.wantTerminal))
		})
	}
}

// TestClassify_NoURLQueryInMessage checks that a URL query string (which may
// carry credentials) in an error's text never reaches the condition message,
// whatever class the error is.
func TestClassify_NoURLQueryInMessage(t *testing.T) {
	const leaky = `Get "https://x/?access_token=SECRET": timeout`
	for _, tc := range []struct {
		name string
		err  error
	}{
		{name: "plain error", err: errors.New(leaky)},
		{name: "wrapped plain error", err: fmt.Errorf("observe group g1: %w", errors.New(leaky))},
		{name: "vendor error built with NewError", err: vendors.NewError(vendors.ErrUnavailable, "observe group", "", leaky)},
		{name: "vendor error built with Transport", err: vendors.Transport("observe group", errors.New(leaky))},
		{
			name: "unavailable vendor error wrapping URL text",
			err:  fmt.Errorf("%s: %w", leaky, vendors.NewError(vendors.ErrUnavailable, "observe group", "", "")),
		},
		{
			name: "unavailable vendor error with an unsanitized Message",
			err:  &vendors.Error{Class: vendors.ErrUnavailable, Op: "observe group", Message: leaky},
		},
		{
			name: "invalid wrapping URL text",
			err:  fmt.Errorf("%s: %w", leaky, vendors.ErrInvalid),
		},
		{
			name: "unauthorized wrapping URL text",
			err:  fmt.Errorf("%s: %w", leaky, vendors.ErrUnauthorized),
		},
		{
			name: "rate limited wrapping URL text",
			err:  fmt.Errorf("%s: %w", leaky, vendors.ErrRateLimited),
		},
		{
			name: "quota exceeded wrapping URL text",
			err:  fmt.Errorf("%s: %w", leaky, vendors.ErrQuotaExceeded),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			out, _, _ := classify(tc.err, defaultIntervals)
			g.Expect(out.message).NotTo(ContainSubstring("SECRET"))
			g.Expect(out.message).NotTo(ContainSubstring("access_token=S"))
			g.Expect(strings.Contains(out.message, "https://x/?") && !strings.Contains(out.message, "[redacted]")).
				To(BeFalse(), "message keeps a URL query: %s", out.message)
		})
	}
}

func TestTransition(t *testing.T) {
	cond := func(status metav1.ConditionStatus, reason string) *metav1.Condition {
		return &metav1.Condition{Type: v1alpha1.ReadyCondition, Status: status, Reason: reason, Message: "msg " + reason}
	}
	for _, tc := range []struct {
		name          string
		before, after *metav1.Condition
		wantOK        bool
		wantType      string
		wantReason    string
	}{
		{name: "nil to Ready True", before: nil, after: cond(metav1.ConditionTrue, v1alpha1.SucceededReason)},
		{name: "nil after", before: cond(metav1.ConditionTrue, v1alpha1.SucceededReason), after: nil},
		{
			name:   "CredentialsNotFound to True recovers",
			before: cond(metav1.ConditionFalse, v1alpha1.CredentialsNotFoundReason),
			after:  cond(metav1.ConditionTrue, v1alpha1.SucceededReason),
			wantOK: true, wantType: "Normal", wantReason: v1alpha1.RecoveredReason,
		},
		{
			name:   "Progressing to True is no recovery",
			before: cond(metav1.ConditionFalse, v1alpha1.ProgressingReason),
			after:  cond(metav1.ConditionTrue, v1alpha1.SucceededReason),
		},
		{
			name:   "True to VendorUnavailable warns",
			before: cond(metav1.ConditionTrue, v1alpha1.SucceededReason),
			after:  cond(metav1.ConditionFalse, v1alpha1.VendorUnavailableReason),
			wantOK: true, wantType: "Warning", wantReason: v1alpha1.VendorUnavailableReason,
		},
		{
			name:   "nil to a failure warns",
			before: nil,
			after:  cond(metav1.ConditionFalse, v1alpha1.InvalidSpecReason),
			wantOK: true, wantType: "Warning", wantReason: v1alpha1.InvalidSpecReason,
		},
		{
			name:   "same status and reason twice",
			before: cond(metav1.ConditionFalse, v1alpha1.VendorUnavailableReason),
			after:  cond(metav1.ConditionFalse, v1alpha1.VendorUnavailableReason),
		},
		{
			name:   "same True twice",
			before: cond(metav1.ConditionTrue, v1alpha1.SucceededReason),
			after:  cond(metav1.ConditionTrue, v1alpha1.SucceededReason),
		},
		{
			name:   "Progressing",
			before: cond(metav1.ConditionTrue, v1alpha1.SucceededReason),
			after:  cond(metav1.ConditionFalse, v1alpha1.ProgressingReason),
		},
		{
			name:   "Suspended",
			before: cond(metav1.ConditionTrue, v1alpha1.SucceededReason),
			after:  cond(metav1.ConditionFalse, v1alpha1.SuspendedReason),
			wantOK: true, wantType: "Normal", wantReason: v1alpha1.SuspendedReason,
		},
		{
			name:   "one failure to another warns again",
			before: cond(metav1.ConditionFalse, v1alpha1.VendorUnavailableReason),
			after:  cond(metav1.ConditionFalse, v1alpha1.AuthenticationFailedReason),
			wantOK: true, wantType: "Warning", wantReason: v1alpha1.AuthenticationFailedReason,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			typ, reason, msg, ok := transition(tc.before, tc.after)
			g.Expect(ok).To(Equal(tc.wantOK))
			if !tc.wantOK {
				g.Expect([]string{typ, reason, msg}).To(Equal([]string{"", "", ""}))
				return
			}
			g.Expect(typ).To(Equal(tc.wantType))
			g.Expect(reason).To(Equal(tc.wantReason))
			g.Expect(msg).To(ContainSubstring(tc.after.Message))
		})
	}
}
