package faults

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/testenv"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
	simdingtalk "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/dingtalk"
	timsim "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/tencentim"
	camssim "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/whatsapp"
)

// Canary secrets: each appears only in its credentials Secret. Finding one, or
// a token or signature derived from it, anywhere else is a leak.
const (
	dingtalkCanary = "canary-dingtalk-app-secret-7f3a"
	tencentCanary  = "canary-tencent-secret-key-91c2"
	camsCanary     = "canary-cams-access-key-secret-5d8e"
)

// simulator is one vendor's simulator as the scenarios drive it.
type simulator interface {
	http.Handler
	// core holds the fault knobs and the call log by operation.
	core() *vendorsim.Sim
	// opOf names the vendor API a request calls, as the call log does.
	opOf(r *http.Request) string
	// isThrottle reports whether an answer is the vendor's throttle response.
	isThrottle(status int, body []byte) bool
	// createOp is the API that creates a group.
	createOp() string
	// secrets are the canary and every token or signature the simulator was
	// sent, none of which may leak.
	secrets() []string
	// groupIDs lists the vendor groups titled name.
	groupIDs(name string) []string
	// matches checks that cg's vendor group has its name and members.
	matches(g Gomega, cg *v1alpha1.ChatGroup)
	// throttle answers every call with the vendor's throttle response for d.
	throttle(d time.Duration)
	// credentials returns the provider's Secret data and settings.
	credentials() (map[string]string, v1alpha1.ProviderSettings)
	// group returns the spec of the i-th ChatGroup of a scenario.
	group(i int) v1alpha1.ChatGroupSpec
}

// kit builds a vendor's simulator. vendorLimit is the vendor's calls per second
// per API (0: the documented default).
type kit struct {
	vendor v1alpha1.Vendor
	newSim func(vendorLimit int) simulator
}

var kits = []kit{
	{vendor: v1alpha1.DingTalk, newSim: newDingTalk},
	{vendor: v1alpha1.TencentIM, newSim: newTencentIM},
	{vendor: v1alpha1.WhatsApp, newSim: newCAMS},
}

// people are the vendor user IDs scenarios use as owners and members.
var people = []string{"owner1", "u1", "u2", "u3", "u4", "u5", "n1", "n2", "n3"}

// editSpec is the change scenarios make: a rename, three members added and two
// removed.
func editSpec(s *v1alpha1.ChatGroupSpec) {
	s.Name += "b"
	s.Members = append(slices.Clone(s.Members[:len(s.Members)-2]), renumber(s.Vendor, "n1", "n2", "n3")...)
}

// renumber turns user IDs into WhatsApp phone numbers for WhatsApp specs.
func renumber(v v1alpha1.Vendor, ids ...string) []string {
	if v != v1alpha1.WhatsApp {
		return ids
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = fmt.Sprintf("+86139%08d", slices.Index(people, id))
	}
	return out
}

// --- DingTalk

type dingTalkSim struct{ *simdingtalk.Server }

func newDingTalk(vendorLimit int) simulator {
	s := dingTalkSim{simdingtalk.New(nil)}
	s.AddApp("ding-app", dingtalkCanary)
	s.SetUsers(people...)
	if vendorLimit > 0 {
		s.SetQPS(vendorLimit)
	}
	return s
}

func (s dingTalkSim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.Handler().ServeHTTP(w, r) }
func (s dingTalkSim) core() *vendorsim.Sim                             { return s.Sim }
func (s dingTalkSim) createOp() string                                 { return simdingtalk.OpCreate }

func (s dingTalkSim) opOf(r *http.Request) string {
	switch p := r.URL.Path; {
	case p == "/chat/get":
		return simdingtalk.OpGet
	case strings.HasPrefix(p, "/v1.0/im/"):
		return strings.TrimPrefix(p, "/v1.0/im/")
	default:
		return strings.TrimPrefix(p, "/v1.0/")
	}
}

func (s dingTalkSim) isThrottle(_ int, body []byte) bool {
	return bytes.Contains(body, []byte(simdingtalk.CodeQPSLimit)) ||
		bytes.Contains(body, []byte(fmt.Sprintf(`"errcode":%d`, simdingtalk.ErrcodeQPSLimit)))
}

func (s dingTalkSim) throttle(d time.Duration) {
	ops := []string{simdingtalk.OpToken, simdingtalk.OpCreate, simdingtalk.OpUpdate, simdingtalk.OpGet, simdingtalk.OpSearch}
	for _, op := range ops {
		s.SetThrottle(op, true)
	}
	time.AfterFunc(d, func() {
		for _, op := range ops {
			s.SetThrottle(op, false)
		}
	})
}

func (s dingTalkSim) secrets() []string { return append([]string{dingtalkCanary}, s.Tokens()...) }

func (s dingTalkSim) groupIDs(name string) []string {
	var ids []string
	for _, g := range s.GroupsNamed(name) {
		ids = append(ids, g.ChatID)
	}
	return ids
}

func (s dingTalkSim) matches(g Gomega, cg *v1alpha1.ChatGroup) {
	grp, ok := s.Group(cg.Status.GroupID)
	g.Expect(ok).To(BeTrue())
	g.Expect(grp.Name).To(Equal(cg.Spec.Name))
	g.Expect(grp.Members).To(ConsistOf(append([]string{cg.Spec.Owner}, cg.Spec.Members...)))
}

func (s dingTalkSim) credentials() (map[string]string, v1alpha1.ProviderSettings) {
	return map[string]string{"appKey": "ding-app", "appSecret": dingtalkCanary},
		v1alpha1.ProviderSettings{Vendor: v1alpha1.DingTalk, DingTalk: &v1alpha1.DingTalkProvider{}}
}

func (s dingTalkSim) group(i int) v1alpha1.ChatGroupSpec {
	return v1alpha1.ChatGroupSpec{Vendor: v1alpha1.DingTalk, Name: fmt.Sprintf("Team %03d", i), Owner: "owner1",
		Members: []string{"u1", "u2", "u3", "u4", "u5"}}
}

// --- Tencent IM

const timAppID = int64(1400000001)

type tencentSim struct{ *timsim.Server }

func newTencentIM(vendorLimit int) simulator {
	s := tencentSim{timsim.New(timsim.Config{Apps: map[int64]timsim.App{timAppID: {
		SecretKey: tencentCanary, Admins: []string{"administrator"}, Accounts: people,
	}}})}
	if vendorLimit > 0 {
		s.SetRateLimit(timAppID, vendorLimit)
	}
	return s
}

func (s tencentSim) core() *vendorsim.Sim { return s.Sim }
func (s tencentSim) createOp() string     { return "create_group" }

func (s tencentSim) opOf(r *http.Request) string {
	return strings.TrimPrefix(r.URL.Path, "/v4/group_open_http_svc/")
}

func (s tencentSim) isThrottle(_ int, body []byte) bool {
	return bytes.Contains(body, []byte(`"ErrorCode":60007`))
}

func (s tencentSim) throttle(d time.Duration) { s.Throttle(d) }

func (s tencentSim) secrets() []string { return append([]string{tencentCanary}, s.UserSigs()...) }

func (s tencentSim) groupIDs(name string) []string {
	var ids []string
	for _, g := range s.Groups(timAppID) {
		if g.Name == name {
			ids = append(ids, g.ID)
		}
	}
	return ids
}

func (s tencentSim) matches(g Gomega, cg *v1alpha1.ChatGroup) {
	grp, ok := s.Group(timAppID, cg.Status.GroupID)
	g.Expect(ok).To(BeTrue())
	g.Expect(grp.Name).To(Equal(cg.Spec.Name))
	g.Expect(grp.Accounts()).To(ConsistOf(append([]string{cg.Spec.Owner}, cg.Spec.Members...)))
}

func (s tencentSim) credentials() (map[string]string, v1alpha1.ProviderSettings) {
	return map[string]string{"secretKey": tencentCanary}, v1alpha1.ProviderSettings{Vendor: v1alpha1.TencentIM,
		TencentIM: &v1alpha1.TencentIMProvider{SDKAppID: timAppID, AdminIdentifier: "administrator"}}
}

func (s tencentSim) group(i int) v1alpha1.ChatGroupSpec {
	return v1alpha1.ChatGroupSpec{Vendor: v1alpha1.TencentIM, Name: fmt.Sprintf("Team %03d", i), Owner: "owner1",
		Members: []string{"u1", "u2", "u3", "u4", "u5"}, TencentIM: &v1alpha1.TencentIMGroup{GroupType: "Private"}}
}

// --- WhatsApp (CAMS)

const (
	camsKeyID    = "LTAI-faults"
	camsSpace    = "cams-faults"
	camsBusiness = "8613800000000"
)

type camsSim struct{ *camssim.Sim }

func newCAMS(vendorLimit int) simulator {
	return camsSim{camssim.New(camssim.Options{AccessKeyID: camsKeyID, AccessKeySecret: camsCanary,
		CustSpaceID: camsSpace, BusinessNumber: camsBusiness, CreateDelay: 300 * time.Millisecond, RateLimit: vendorLimit})}
}

func (s camsSim) core() *vendorsim.Sim { return s.Sim.Sim }
func (s camsSim) createOp() string     { return "AddChatGroup" }

func (s camsSim) opOf(r *http.Request) string {
	if a := r.Header.Get("x-acs-action"); a != "" {
		return a
	}
	return r.URL.Query().Get("Action")
}

func (s camsSim) isThrottle(_ int, body []byte) bool {
	return bytes.Contains(body, []byte("Throttling"))
}

func (s camsSim) throttle(d time.Duration) { s.Throttle(d) }

func (s camsSim) secrets() []string { return append([]string{camsCanary}, s.Signatures()...) }

func (s camsSim) groupIDs(name string) []string {
	var ids []string
	for _, g := range s.GroupsWithSubject(name) {
		ids = append(ids, g.ID)
	}
	return ids
}

// matches checks the subject and that nobody unlisted is in the group: CAMS
// members join only through the invite link, so listed ones may be pending.
func (s camsSim) matches(g Gomega, cg *v1alpha1.ChatGroup) {
	grp, ok := s.Group(cg.Status.GroupID)
	g.Expect(ok).To(BeTrue())
	g.Expect(grp.Subject).To(Equal(cg.Spec.Name))
	listed := []string{}
	for _, m := range cg.Spec.Members {
		listed = append(listed, strings.TrimPrefix(m, "+"))
	}
	g.Expect(listed).To(ContainElements(grp.Participants))
}

func (s camsSim) credentials() (map[string]string, v1alpha1.ProviderSettings) {
	return map[string]string{"accessKeyID": camsKeyID, "accessKeySecret": camsCanary}, v1alpha1.ProviderSettings{
		Vendor: v1alpha1.WhatsApp, WhatsApp: &v1alpha1.WhatsAppProvider{CustSpaceID: camsSpace, BusinessNumber: camsBusiness}}
}

func (s camsSim) group(i int) v1alpha1.ChatGroupSpec {
	return v1alpha1.ChatGroupSpec{Vendor: v1alpha1.WhatsApp, Name: fmt.Sprintf("Team %03d", i),
		Description: "On call", Members: renumber(v1alpha1.WhatsApp, "u1", "u2", "u3", "u4", "u5")}
}

// providerObjects returns the credentials Secret and a ChatProvider "vendor"
// for sim at endpoint in ns.
func providerObjects(sim simulator, ns, endpoint string, limit *v1alpha1.RateLimit) (*corev1.Secret, *v1alpha1.ChatProvider) {
	data, settings := sim.credentials()
	settings.Endpoint = endpoint
	if settings.DingTalk != nil {
		settings.DingTalk.LegacyEndpoint = endpoint
	}
	settings.RateLimit = limit
	return testenv.CredentialsSecret(ns, "vendor-credentials", data), &v1alpha1.ChatProvider{
		ObjectMeta: metav1.ObjectMeta{Name: "vendor", Namespace: ns},
		Spec: v1alpha1.ChatProviderSpec{ProviderSettings: settings,
			CredentialsSecretRef: v1alpha1.LocalSecretReference{Name: "vendor-credentials"}},
	}
}
