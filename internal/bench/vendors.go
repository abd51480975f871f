package bench

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
	simdingtalk "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/dingtalk"
	simtencentim "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/tencentim"
	simwhatsapp "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/whatsapp"
)

// vendor is what the benchmark needs to know about one vendor: its simulator
// with the documented rate limits on, its API names split into writes and
// reads, and the ChatGroups it is given.
type vendor struct {
	name v1alpha1.Vendor
	// limit is the vendor's documented calls per second per API.
	limit int
	// writes are the APIs that change something; every other API is a read.
	writes []string
	// maxMembers caps M (WhatsApp groups hold 8 participants, and a change
	// adds three after removing two).
	maxMembers int
}

var vendorsByName = map[v1alpha1.Vendor]vendor{
	v1alpha1.DingTalk: {name: v1alpha1.DingTalk, limit: simdingtalk.DefaultQPS,
		writes: []string{simdingtalk.OpCreate, simdingtalk.OpUpdate}},
	v1alpha1.TencentIM: {name: v1alpha1.TencentIM, limit: simtencentim.DefaultRateLimit,
		writes: []string{"create_group", "modify_group_base_info", "add_group_member", "delete_group_member", "change_group_owner", "destroy_group"}},
	v1alpha1.WhatsApp: {name: v1alpha1.WhatsApp, limit: simwhatsapp.DefaultRateLimit, maxMembers: simwhatsapp.MaxParticipants - 1,
		writes: []string{"AddChatGroup", "UpdateChatGroup", "DeleteChatGroup", "AddChatGroupInviteLink", "DeleteChatGroupInviteLink", "DeleteChatGroupParticipants"}},
}

// Accounts of the simulated vendors.
const (
	dingtalkKey    = "bench-app"
	dingtalkSecret = "bench-app-secret"
	timAppID       = int64(1400000002)
	timAdmin       = "administrator"
	timSecret      = "bench-secret-key"
	camsKeyID      = "LTAI-bench"
	camsSecret     = "bench-access-key-secret"
	camsSpace      = "cams-bench"
	camsBusiness   = "8613800000000"
)

// owner owns every group of the benchmark.
const owner = "owner"

// users returns m member IDs (phone numbers for WhatsApp).
func (v vendor) users(m int) []string {
	out := make([]string, m)
	for i := range out {
		out[i] = v.user(i)
	}
	return out
}

func (v vendor) user(i int) string {
	if v.name == v1alpha1.WhatsApp {
		return fmt.Sprintf("+861390000%04d", i)
	}
	return fmt.Sprintf("m%05d", i)
}

// members returns the effective M for a requested m.
func (v vendor) members(m int) int {
	if v.maxMembers > 0 {
		return min(m, v.maxMembers)
	}
	return m
}

// simulator is a started simulator: its handler and its call log.
type simulator struct {
	handler http.Handler
	core    *vendorsim.Sim
}

// start starts v's simulator with the documented limits and a user directory
// holding the owner and m+3 users (a change adds three).
func (v vendor) start(m int) simulator {
	directory := append([]string{owner}, v.users(m+3)...)
	switch v.name {
	case v1alpha1.DingTalk:
		s := simdingtalk.New(nil)
		s.AddApp(dingtalkKey, dingtalkSecret)
		s.SetUsers(directory...)
		return simulator{handler: s.Handler(), core: s.Sim}
	case v1alpha1.TencentIM:
		s := simtencentim.New(simtencentim.Config{Apps: map[int64]simtencentim.App{timAppID: {
			SecretKey: timSecret, Admins: []string{timAdmin}, Accounts: directory,
		}}})
		return simulator{handler: s, core: s.Sim}
	default:
		s := simwhatsapp.New(simwhatsapp.Options{AccessKeyID: camsKeyID, AccessKeySecret: camsSecret,
			CustSpaceID: camsSpace, BusinessNumber: camsBusiness})
		return simulator{handler: s, core: s.Sim}
	}
}

// credentials returns the provider's Secret data and settings for endpoint.
// The provider sets no rateLimit: the operator paces to the documented limit.
func (v vendor) credentials(endpoint string) (map[string][]byte, v1alpha1.ProviderSettings) {
	settings := v1alpha1.ProviderSettings{Vendor: v.name, Endpoint: endpoint}
	switch v.name {
	case v1alpha1.DingTalk:
		settings.DingTalk = &v1alpha1.DingTalkProvider{LegacyEndpoint: endpoint}
		return map[string][]byte{"appKey": []byte(dingtalkKey), "appSecret": []byte(dingtalkSecret)}, settings
	case v1alpha1.TencentIM:
		settings.TencentIM = &v1alpha1.TencentIMProvider{SDKAppID: timAppID, AdminIdentifier: timAdmin}
		return map[string][]byte{"secretKey": []byte(timSecret)}, settings
	default:
		settings.WhatsApp = &v1alpha1.WhatsAppProvider{CustSpaceID: camsSpace, BusinessNumber: camsBusiness}
		return map[string][]byte{"accessKeyID": []byte(camsKeyID), "accessKeySecret": []byte(camsSecret)}, settings
	}
}

// group returns the i-th ChatGroup of the benchmark with m members.
func (v vendor) group(ns string, i, m int) *v1alpha1.ChatGroup {
	cg := &v1alpha1.ChatGroup{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bench-%05d", i), Namespace: ns},
		Spec: v1alpha1.ChatGroupSpec{
			Vendor:      v.name,
			ProviderRef: v1alpha1.ProviderReference{Name: "bench"},
			Name:        fmt.Sprintf("Bench %05d", i),
			Members:     v.users(m),
			// Long enough that no periodic drift check falls into a measurement:
			// the full resync is measured on its own (a manager restart).
			SyncInterval: &metav1.Duration{Duration: 6 * time.Hour},
		},
	}
	switch v.name {
	case v1alpha1.WhatsApp:
		cg.Spec.Description = "Benchmark group"
	case v1alpha1.TencentIM:
		cg.Spec.Owner = owner
		cg.Spec.TencentIM = &v1alpha1.TencentIMGroup{GroupType: "Private"}
	default:
		cg.Spec.Owner = owner
	}
	return cg
}

// change is the change: a rename, three members added and two removed.
func (v vendor) change(spec *v1alpha1.ChatGroupSpec, m int) {
	spec.Name += "b"
	spec.Members = append(slices.Clone(spec.Members[:len(spec.Members)-2]), v.user(m), v.user(m+1), v.user(m+2))
}

// isWrite reports whether op changes something on the vendor.
func (v vendor) isWrite(op string) bool {
	return slices.Contains(v.writes, op)
}
