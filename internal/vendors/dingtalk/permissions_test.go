package dingtalk_test

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors/dingtalk"
	simdingtalk "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/dingtalk"
)

// A provider whose app lacks a permission the operator needs is not Ready: the
// check names the permission, before any group meets it, and a grant in the
// console is picked up by itself.
func TestDingTalk_ProviderNamesAMissingPermission(t *testing.T) {
	g := NewWithT(t)
	startEnv(t)
	ns := env.Namespace(t)
	const app = "permission-probe-app" // its own credential: a client of its own
	sim.AddApp(app, appSecret)
	sim.Revoke(app, simdingtalk.PermChatManage)
	settings, data := harness.Provider(simURL)
	data[dingtalk.SecretAppKey] = []byte(app)
	data[dingtalk.SecretAppSecret] = []byte(appSecret)
	p := env.Provider(t, ns, "dingtalk", settings, data)

	c := env.WaitProvider(t, p, metav1.ConditionFalse, v1alpha1.AccessDeniedReason)
	g.Expect(c.Message).To(ContainSubstring("qyapi_chat_manage"))
	sim.Grant(app, simdingtalk.PermChatManage)
	env.WaitProvider(t, p, metav1.ConditionTrue, v1alpha1.SucceededReason)
}
