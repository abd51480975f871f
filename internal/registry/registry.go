// Package registry lists the vendors this build supports: the one place outside
// the vendors' own packages and the API types that names them. Adding a vendor
// is a line in each list (docs/adding-a-vendor.md).
package registry

import (
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors/dingtalk"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors/feishu"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors/tencentim"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors/whatsapp"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
	simdingtalk "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/dingtalk"
	simfeishu "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/feishu"
	simtencentim "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/tencentim"
	simwhatsapp "github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim/whatsapp"
)

// Vendors returns the registrations of the supported vendors, their clients
// built with opts.
func Vendors(opts ...vendors.Option) vendors.Registry {
	return vendors.Registry{
		dingtalk.Registration(opts...),
		tencentim.Registration(opts...),
		whatsapp.Registration(opts...),
		feishu.Registration(opts...),
	}
}

// Simulators returns the vendors' simulators, for the playground, the
// end-to-end test, the fault suite and the benchmark.
func Simulators() []vendorsim.Registration {
	return []vendorsim.Registration{
		simdingtalk.Registration(),
		simtencentim.Registration(),
		simwhatsapp.Registration(),
		simfeishu.Registration(),
	}
}
