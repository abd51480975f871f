package vendors

import "k8s.io/utils/clock"

// Test hooks for package vendors_test, which cannot import vendors internals
// because the fake package imports vendors.

// CallsTotal is the calls counter, for testutil.ToFloat64.
var CallsTotal = callsTotal

// SetInstrumentClock replaces the clock of a client returned by Instrument.
func SetInstrumentClock(c GroupClient, clk clock.PassiveClock) {
	c.(*instrumented).clock = clk
}

// NewFakeClock returns the settable clock the limiter tests use.
var NewFakeClock = newFakeClock
