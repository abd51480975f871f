package bench

import (
	"fmt"
	"os"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

func TestFloor(t *testing.T) {
	calls := func(op, outcome string, n int) []vendorsim.Call {
		out := make([]vendorsim.Call, n)
		for i := range out {
			out[i] = vendorsim.Call{Op: op, Outcome: outcome}
		}
		return out
	}
	tests := []struct {
		name    string
		calls   []vendorsim.Call
		want    time.Duration
		wantAPI string
	}{
		{name: "no calls", want: 0},
		{name: "the busiest API sets it", calls: append(calls("group/create", "ok", 100), calls("group/update", "ok", 200)...),
			want: 10 * time.Second, wantAPI: "group/update"},
		{name: "only successful calls count", calls: append(calls("chat/get", "ok", 40), calls("chat/get", "throttled", 400)...),
			want: 2 * time.Second, wantAPI: "chat/get"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got, api := floor(tt.calls, 20)
			g.Expect(got).To(Equal(tt.want))
			g.Expect(api).To(Equal(tt.wantAPI))
		})
	}
}

func TestPercentile(t *testing.T) {
	g := NewWithT(t)
	ds := make([]time.Duration, 0, 100)
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	g.Expect(percentile(ds, 50)).To(Equal(50 * time.Millisecond))
	g.Expect(percentile(ds, 95)).To(Equal(95 * time.Millisecond))
	g.Expect(percentile(ds[:1], 95)).To(Equal(100 * time.Millisecond))
	g.Expect(percentile(nil, 95)).To(BeZero())
	g.Expect(percentile([]time.Duration{3, 1, 2}, 50)).To(Equal(time.Duration(2)), "nearest rank, input order does not matter")
}

func TestReport_MergeEarlier(t *testing.T) {
	g := NewWithT(t)
	// Vendors sort by name: Alpha is measured again, Beta only earlier.
	const measured, kept = v1alpha1.Vendor("Alpha"), v1alpha1.Vendor("Beta")
	earlier := Report{N: 10, M: 5, Results: []Result{
		{Vendor: kept, Wall: time.Second},
		{Vendor: measured, Wall: time.Second},
	}, Diff: []Diff{{Name: "BenchmarkMemberChanges10k"}}}
	now := Report{N: 10, M: 5, Results: []Result{{Vendor: measured, Wall: 2 * time.Second}}}

	got := now.MergeEarlier(earlier)
	g.Expect(got.Results).To(Equal([]Result{
		{Vendor: measured, Wall: 2 * time.Second}, // this run's figure wins
		{Vendor: kept, Wall: time.Second},         // kept from the earlier run
	}))
	g.Expect(got.Diff).To(Equal(earlier.Diff), "a run without diff figures keeps the earlier ones")
	g.Expect(got.Markdown()).To(ContainSubstring("| Alpha | 0 | 0 | 2.0 s |"))
}

func TestDeployedMemoryLimit(t *testing.T) {
	g := NewWithT(t)
	manifest, err := os.ReadFile("../../config/manager/manager.yaml")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(manifest)).To(ContainSubstring(fmt.Sprintf("limits: {memory: %dMi}", DeployedMemoryLimit>>20)),
		"the benchmark runs the manager with the Deployment's memory limit")
}

func TestTrueFloor(t *testing.T) {
	g := NewWithT(t)
	d, api := trueFloor(map[string]int{"create": 1000, "update": 2000, "list": 50}, 20)
	g.Expect(api).To(Equal("update"))
	g.Expect(d).To(Equal(100 * time.Second))
	d, api = trueFloor(nil, 20)
	g.Expect(d).To(BeZero())
	g.Expect(api).To(BeEmpty())
}
