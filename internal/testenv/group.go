package testenv

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
)

// Group returns a ChatGroup that admission accepts for vendor v, referring to
// the ChatProvider named after the vendor (lowercase), changed by mods.
func Group(ns, name string, v v1alpha1.Vendor, mods ...func(*v1alpha1.ChatGroup)) *v1alpha1.ChatGroup {
	cg := &v1alpha1.ChatGroup{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.ChatGroupSpec{
			Vendor:      v,
			ProviderRef: v1alpha1.ProviderReference{Name: strings.ToLower(string(v))},
			Name:        name,
		},
	}
	switch v {
	case v1alpha1.DingTalk:
		cg.Spec.Owner = "owner1"
		cg.Spec.Members = []string{"u1", "u2", "u3", "u4", "u5"}
	case v1alpha1.TencentIM:
		cg.Spec.Owner = "owner1"
		cg.Spec.Members = []string{"u1", "u2"}
	case v1alpha1.WhatsApp:
		cg.Spec.Members = []string{"+8613800000001"}
	}
	for _, m := range mods {
		m(cg)
	}
	return cg
}
