package controller

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// state is how a pass ended.
type state int

const (
	// stateUnknown: the pass ended before deciding (e.g. a Kubernetes API error).
	stateUnknown state = iota
	// stateReady: the vendor matches this generation's spec.
	stateReady
	// stateWaiting: waiting for something expected to change by itself (a provider
	// or Secret to appear, a rate limit to pass).
	stateWaiting
	// stateRetrying: a transient failure; retried with backoff.
	stateRetrying
	// stateStalled: the user must change something.
	stateStalled
	// stateSuspended: spec.suspend is true.
	stateSuspended
	// stateDrift: managementPolicy ObserveOnly and the vendor group differs; the
	// generation is concluded, nothing is under way.
	stateDrift
)

// outcome is what a pass concluded; summarize turns it into conditions.
type outcome struct {
	state   state
	reason  string
	message string
}

func ready(message string) outcome {
	return outcome{state: stateReady, reason: v1alpha1.SucceededReason, message: message}
}

func suspended(message string) outcome {
	return outcome{state: stateSuspended, message: message}
}

// intervals are the requeue delays classify uses.
type intervals struct {
	// Retry is how long to wait for a missing provider or Secret to appear.
	Retry time.Duration
	// Quota is how long to wait after a long-term quota was exhausted.
	Quota time.Duration
	// Deferred is when a periodic check that made way for changes is tried again.
	Deferred time.Duration
}

var defaultIntervals = intervals{Retry: 30 * time.Second, Quota: time.Hour, Deferred: time.Second}

// accessDenied is how long to wait after the vendor refused access: it takes a
// person in the vendor's console to fix, so a few Retry intervals.
func (iv intervals) accessDenied() time.Duration { return 4 * iv.Retry }

// reasonError is an error with a condition reason, raised by the reconcilers
// themselves: stalled ones only a change by the user can fix (an invalid spec, a
// vendor mismatch); waiting ones are expected to clear by themselves (a missing
// provider or Secret appearing).
type reasonError struct {
	stalled bool
	reason  string
	message string
}

func (e *reasonError) Error() string { return e.message }

func stalled(reason, format string, args ...any) error {
	return &reasonError{stalled: true, reason: reason, message: fmt.Sprintf(format, args...)}
}

func waiting(reason, format string, args ...any) error {
	return &reasonError{reason: reason, message: fmt.Sprintf(format, args...)}
}

// classify is the one place that maps an error to an outcome and a result:
//   - stalled errors and vendor ErrInvalid: Stalled, terminal (no requeue until the
//     spec changes);
//   - vendor ErrQuotaExceeded: Stalled, checked again after iv.Quota;
//   - waiting errors: Ready=False, requeue after iv.Retry;
//   - vendor ErrUnauthorized: Ready=False/AuthenticationFailed, requeue after
//     iv.Retry to notice a fixed Secret (the client makes no vendor call meanwhile);
//   - vendor ErrRateLimited: Ready=False/RateLimited, requeue after the vendor's delay;
//   - vendor ErrInProgress: Ready=False/Creating, requeue after the vendor's delay;
//   - vendor ErrAccessDenied: Ready=False/AccessDenied, requeue after a few
//     Retry intervals (a permission is granted in the vendor's console);
//   - ErrDeferred (a periodic check made way for changes): no outcome, status
//     stays as it is, requeue after iv.Deferred;
//   - vendor ErrUnavailable (a transient failure, or a code the client does not
//     know): Ready=False/VendorUnavailable with the vendor's code and message,
//     returned for backoff;
//   - anything else: Ready=False and the error is returned for backoff.
func classify(err error, iv intervals) (outcome, ctrl.Result, error) {
	text := vendors.Sanitize(err.Error()) // error text may quote request URLs
	var re *reasonError
	switch {
	case errors.Is(err, vendors.ErrDeferred):
		return outcome{}, ctrl.Result{RequeueAfter: jitter(iv.Deferred)}, nil
	case errors.As(err, &re) && re.stalled:
		return outcome{stateStalled, re.reason, re.message}, ctrl.Result{}, reconcile.TerminalError(err)
	case errors.As(err, &re):
		return outcome{stateWaiting, re.reason, re.message}, ctrl.Result{RequeueAfter: iv.Retry}, nil
	case errors.Is(err, vendors.ErrInvalid):
		msg := "The vendor rejected the request: " + text
		if f := vendors.FieldOf(err); f != "" {
			msg = fmt.Sprintf("spec.%s: %s", f, msg)
		}
		return outcome{stateStalled, v1alpha1.InvalidSpecReason, msg}, ctrl.Result{}, reconcile.TerminalError(err)
	case errors.Is(err, vendors.ErrQuotaExceeded):
		return outcome{stateStalled, v1alpha1.QuotaExceededReason, "The vendor's call quota is exhausted: " + text},
			ctrl.Result{RequeueAfter: iv.Quota}, nil
	case errors.Is(err, vendors.ErrUnauthorized):
		return outcome{stateWaiting, v1alpha1.AuthenticationFailedReason,
				"The vendor rejected the provider's credentials: " + text + "; check the credentials Secret and the provider's settings"},
			ctrl.Result{RequeueAfter: iv.Retry}, nil // cheap: no vendor call until the Secret changes (vendors.UnauthorizedHoldOff)
	case errors.Is(err, vendors.ErrAccessDenied):
		return outcome{stateWaiting, v1alpha1.AccessDeniedReason, "The vendor refused access: " + text + "; grant it in the vendor's console, the operator retries"},
			ctrl.Result{RequeueAfter: iv.accessDenied()}, nil
	case errors.Is(err, vendors.ErrGroupDisabled):
		return outcome{stateWaiting, v1alpha1.GroupDisabledReason, "The vendor has disabled the group: " + text + "; the operator checks again"},
			ctrl.Result{RequeueAfter: iv.accessDenied()}, nil
	case errors.Is(err, vendors.ErrInProgress):
		after := max(vendors.RetryAfter(err), time.Second)
		return outcome{stateWaiting, v1alpha1.CreatingReason, "The vendor is still creating the group; checking again in " + after.Round(time.Second).String()},
			ctrl.Result{RequeueAfter: after}, nil
	case errors.Is(err, vendors.ErrRateLimited):
		after := max(vendors.RetryAfter(err), time.Second)
		return outcome{stateWaiting, v1alpha1.RateLimitedReason, fmt.Sprintf("Throttled; retrying in %s: %s", after.Round(time.Second), text)},
			ctrl.Result{RequeueAfter: after}, nil
	}
	var ve *vendors.Error
	if errors.As(err, &ve) {
		return outcome{stateRetrying, v1alpha1.VendorUnavailableReason, "The vendor call failed and will be retried: " + text}, ctrl.Result{}, err
	}
	return outcome{stateRetrying, v1alpha1.ProgressingWithRetryReason, "Retrying after an error: " + text}, ctrl.Result{}, err
}

// classifyDeleteFailure maps a failed deletion of group id: the finalizer stays,
// Ready says why (DeleteFailed) and how to let go of the group; a stalled
// failure stays stalled (only a spec change helps), any other is retried.
func classifyDeleteFailure(err error, id string, iv intervals) (outcome, ctrl.Result, error) {
	out, res, err := classify(err, iv)
	if out.state != stateStalled {
		out.state = stateRetrying
	}
	out.reason = v1alpha1.DeleteFailedReason
	out.message = fmt.Sprintf("Cannot delete group %s: %s. To remove the object and keep the group, set spec.deletionPolicy to Orphan", id, out.message)
	if res.RequeueAfter == 0 && err == nil {
		res.RequeueAfter = iv.Retry
	}
	return out, res, err
}

// setCondition sets a condition stamped with the object's generation (the API
// helper leaves observedGeneration alone).
func setCondition(conds *[]metav1.Condition, generation int64, typ string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(conds, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: message, ObservedGeneration: generation,
	})
}

// summarize writes the kstatus conditions for out, and advances observedGeneration
// only when the generation is concluded (Ready or Stalled):
//   - ready: Ready=True; Reconciling and Stalled removed;
//   - stalled: Ready=False and Stalled=True with the reason; Reconciling removed;
//   - waiting/retrying/unknown: Ready=False with the reason, Reconciling=True
//     (ProgressingWithRetry when retrying); Stalled removed;
//   - suspended: Ready=False/Suspended; Reconciling and Stalled removed;
//   - drift (ObserveOnly): Ready=False/DriftDetected; Reconciling and Stalled
//     removed; the generation is concluded.
func summarize(conds *[]metav1.Condition, observedGeneration *int64, generation int64, out outcome) {
	switch out.state {
	case stateReady:
		setCondition(conds, generation, v1alpha1.ReadyCondition, metav1.ConditionTrue, out.reason, out.message)
		meta.RemoveStatusCondition(conds, v1alpha1.ReconcilingCondition)
		meta.RemoveStatusCondition(conds, v1alpha1.StalledCondition)
		*observedGeneration = generation
	case stateStalled:
		setCondition(conds, generation, v1alpha1.ReadyCondition, metav1.ConditionFalse, out.reason, out.message)
		setCondition(conds, generation, v1alpha1.StalledCondition, metav1.ConditionTrue, out.reason, out.message)
		meta.RemoveStatusCondition(conds, v1alpha1.ReconcilingCondition)
		*observedGeneration = generation
	case stateDrift:
		setCondition(conds, generation, v1alpha1.ReadyCondition, metav1.ConditionFalse, out.reason, out.message)
		meta.RemoveStatusCondition(conds, v1alpha1.ReconcilingCondition)
		meta.RemoveStatusCondition(conds, v1alpha1.StalledCondition)
		*observedGeneration = generation
	case stateSuspended:
		setCondition(conds, generation, v1alpha1.ReadyCondition, metav1.ConditionFalse, v1alpha1.SuspendedReason, out.message)
		meta.RemoveStatusCondition(conds, v1alpha1.ReconcilingCondition)
		meta.RemoveStatusCondition(conds, v1alpha1.StalledCondition)
	default:
		reason, message := out.reason, out.message
		if reason == "" {
			reason, message = v1alpha1.ProgressingReason, "Reconciliation in progress"
		}
		progress := v1alpha1.ProgressingReason
		if out.state == stateRetrying {
			progress = v1alpha1.ProgressingWithRetryReason
		}
		setCondition(conds, generation, v1alpha1.ReadyCondition, metav1.ConditionFalse, reason, message)
		setCondition(conds, generation, v1alpha1.ReconcilingCondition, metav1.ConditionTrue, progress, message)
		meta.RemoveStatusCondition(conds, v1alpha1.StalledCondition)
	}
}

// transition describes how Ready changed in a pass, for events. It returns ok=false
// when Ready did not change in a way worth an event: only transitions are reported.
func transition(before, after *metav1.Condition) (eventType, reason, message string, ok bool) {
	if after == nil {
		return "", "", "", false
	}
	if before != nil && before.Status == after.Status && before.Reason == after.Reason {
		return "", "", "", false
	}
	switch {
	case after.Status == metav1.ConditionTrue:
		if before == nil || before.Status == metav1.ConditionTrue || !isFailure(before.Reason) {
			return "", "", "", false
		}
		return "Normal", v1alpha1.RecoveredReason, "Recovered: " + after.Message, true
	case isFailure(after.Reason):
		return "Warning", after.Reason, after.Message, true
	case after.Reason == v1alpha1.SuspendedReason:
		return "Normal", after.Reason, after.Message, true
	}
	return "", "", "", false
}

// isFailure reports whether a Ready reason means something went wrong.
func isFailure(reason string) bool {
	switch reason {
	case v1alpha1.SucceededReason, v1alpha1.InSyncReason, v1alpha1.ProgressingReason, v1alpha1.SuspendedReason, v1alpha1.CreatingReason, "":
		return false
	}
	return true
}
