package controller

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// publishInvitation ends a successful pass: it publishes what members who must
// join by themselves need (g.Invitation, such as an invite link) in a Secret
// owned by the ChatGroup, sets MembersSynced, and has the vendor's registration
// record its status extras. While anyone is pending MembersSynced is
// False/AwaitingInvitees; once nobody is, the Secret is deleted and
// MembersSynced is True. The Secret is read with a direct GET and written only
// when its content changes.
func (r *ChatGroupReconciler) publishInvitation(ctx context.Context, obj *v1alpha1.ChatGroup, g vendors.ObservedGroup, reg vendors.Registration) error {
	secretName := ""
	switch {
	case len(g.PendingMembers) == 0:
		if err := r.deleteInviteSecret(ctx, obj); err != nil {
			return err
		}
		setCondition(&obj.Status.Conditions, obj.Generation, v1alpha1.MembersSyncedCondition, metav1.ConditionTrue,
			v1alpha1.SucceededReason, "Every listed member is in the group")
	default:
		if len(g.Invitation) > 0 {
			secretName = inviteSecretName(obj)
			if err := r.ensureInviteSecret(ctx, obj, g.Invitation); err != nil {
				return err
			}
		}
		setCondition(&obj.Status.Conditions, obj.Generation, v1alpha1.MembersSyncedCondition, metav1.ConditionFalse,
			v1alpha1.AwaitingInviteesReason, fmt.Sprintf("%d listed members have not joined yet; share the invite link in Secret %q with them",
				len(g.PendingMembers), secretName))
	}
	if reg.Record != nil {
		reg.Record(&obj.Status, g, secretName)
	}
	return nil
}

// deleteInviteSecret deletes obj's invitation Secret if an earlier pass may
// have written one (members were awaited then), so a group that never had
// pending members costs no API call.
func (r *ChatGroupReconciler) deleteInviteSecret(ctx context.Context, obj *v1alpha1.ChatGroup) error {
	c := meta.FindStatusCondition(obj.Status.Conditions, v1alpha1.MembersSyncedCondition)
	if c == nil || c.Reason != v1alpha1.AwaitingInviteesReason {
		return nil
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: inviteSecretName(obj), Namespace: obj.Namespace}}
	if err := r.Delete(ctx, secret); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("delete invite link Secret: %w", err)
	}
	return nil
}

// ensureInviteSecret makes the ChatGroup's invitation Secret hold data.
func (r *ChatGroupReconciler) ensureInviteSecret(ctx context.Context, obj *v1alpha1.ChatGroup, data map[string][]byte) error {
	want := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: inviteSecretName(obj), Namespace: obj.Namespace},
		Data:       data,
	}
	if err := controllerutil.SetControllerReference(obj, want, r.Scheme()); err != nil {
		return err
	}
	got := &corev1.Secret{}
	err := r.apiReader().Get(ctx, client.ObjectKeyFromObject(want), got)
	switch {
	case apierrors.IsNotFound(err):
		err = r.Create(ctx, want)
	case err == nil && !maps.EqualFunc(got.Data, data, func(a, b []byte) bool { return string(a) == string(b) }):
		patch := client.MergeFrom(got.DeepCopy())
		got.Data = want.Data
		err = r.Patch(ctx, got, patch)
	}
	if err != nil {
		return fmt.Errorf("write invite link Secret: %w", err)
	}
	return nil
}

// inviteSecretName is the name of obj's invitation Secret.
func inviteSecretName(obj *v1alpha1.ChatGroup) string {
	const suffix = "-invite-link"
	name := obj.Name
	if len(name)+len(suffix) > 253 {
		name = name[:253-len(suffix)]
	}
	return name + suffix
}
