package controller

import (
	"github.com/chatgroup-operator/chatgroup-operator/internal/registry"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendors"
)

// testVendors returns the registered vendors with their clients replaced by
// conn: the controller's tests run every vendor's registration (settings,
// desired group, status extras) against a fake vendor.
func testVendors(conn vendors.Connector) vendors.Registry {
	regs := registry.Vendors()
	for i := range regs {
		regs[i].Connector = conn
	}
	return regs
}
