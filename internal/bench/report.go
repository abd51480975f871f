package bench

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/vendorsim"
)

// floor is the least time limit calls per second per API allow for the calls
// that succeeded, and the API that sets it: the vendor counts each API
// separately, so the busiest one bounds the run.
func floor(calls []vendorsim.Call, limit float64) (time.Duration, string) {
	ok := map[string]int{}
	for _, c := range calls {
		if c.Outcome == "ok" {
			ok[c.Op]++
		}
	}
	var worst string
	for _, op := range slices.Sorted(maps.Keys(ok)) {
		if worst == "" || ok[op] > ok[worst] {
			worst = op
		}
	}
	if worst == "" {
		return 0, ""
	}
	return time.Duration(float64(ok[worst]) / limit * float64(time.Second)), worst
}

// trueFloor is the least time limit calls per second per API allow for the
// fewest calls the vendor's documented batch sizes allow (perAPI), and the API
// that sets it.
func trueFloor(perAPI map[string]int, limit float64) (time.Duration, string) {
	var worst string
	for _, op := range slices.Sorted(maps.Keys(perAPI)) {
		if worst == "" || perAPI[op] > perAPI[worst] {
			worst = op
		}
	}
	if worst == "" {
		return 0, ""
	}
	return time.Duration(float64(perAPI[worst]) / limit * float64(time.Second)), worst
}

// countOutcome counts the calls with outcome.
func countOutcome(calls []vendorsim.Call, outcome string) int {
	n := 0
	for _, c := range calls {
		if c.Outcome == outcome {
			n++
		}
	}
	return n
}

// percentile returns the p-th percentile of ds (nearest rank).
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sorted := slices.Sorted(slices.Values(ds))
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 · n)
	return sorted[max(rank, 1)-1]
}

// Machine describes where the benchmark ran.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpuModel"`
	MemoryGiB int    `json:"memoryGiB"`
	Go        string `json:"go"`
	Date      string `json:"date"`
}

// Diff is the member diff's cost from go test -bench.
type Diff struct {
	Name        string  `json:"name"`
	NsPerOp     float64 `json:"nsPerOp"`
	AllocsPerOp int     `json:"allocsPerOp"`
	BytesPerOp  int     `json:"bytesPerOp"`
}

// Report is one make bench run.
type Report struct {
	Machine Machine  `json:"machine"`
	N       int      `json:"n"`
	M       int      `json:"m"`
	Results []Result `json:"results"`
	// People are the BENCH_PEOPLE runs' figures.
	People []PeopleResult `json:"people,omitempty"`
	Diff   []Diff         `json:"diff"`
}

// MergeEarlier returns r with the results of earlier (a run with the same N
// and M) for vendors r did not measure, in vendor order.
func (r Report) MergeEarlier(earlier Report) Report {
	byVendor := map[v1alpha1.Vendor]Result{}
	for _, x := range earlier.Results {
		byVendor[x.Vendor] = x
	}
	for _, x := range r.Results {
		byVendor[x.Vendor] = x
	}
	r.Results = slices.SortedFunc(maps.Values(byVendor), func(a, b Result) int { return strings.Compare(string(a.Vendor), string(b.Vendor)) })
	people := map[v1alpha1.Vendor]PeopleResult{}
	for _, x := range earlier.People {
		people[x.Vendor] = x
	}
	for _, x := range r.People {
		people[x.Vendor] = x
	}
	r.People = slices.SortedFunc(maps.Values(people), func(a, b PeopleResult) int { return strings.Compare(string(a.Vendor), string(b.Vendor)) })
	if len(r.Diff) == 0 {
		r.Diff = earlier.Diff
	}
	return r
}

// Markdown renders the report as tables.
func (r Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "N=%d ChatGroups of M=%d members; %d CPUs (%s), %d GiB, %s.\n\n",
		r.N, r.M, r.Machine.CPUs, r.Machine.CPUModel, r.Machine.MemoryGiB, r.Machine.Go)
	b.WriteString("| Vendor | M | Workers | All Ready | Floor (busiest API) | Ratio | Create w/r per group | Change w/r | No-op resync w/r | Throttled | Peak RSS | RSS | Heap in use | Edit→Ready p50 / p95 | Full resync | Measured |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, x := range r.Results {
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s (%s) | %.2f | %s | %s | %s | %d | %s | %s | %s | %s / %s | %s | %s |\n",
			x.Vendor, x.M, x.Workers, secs(x.Wall), secs(x.Floor), x.FloorAPI, x.Ratio,
			calls(x.Create), calls(x.Change), calls(x.Noop), x.Throttled,
			mib(x.PeakRSS), mib(x.RSS), mib(x.HeapInuse), secs(x.EditP50), secs(x.EditP95), secs(x.Resync), x.Machine.Date)
	}
	b.WriteString("\n| Vendor | True floor, convergence (busiest API) | All Ready / true floor | API-server writes per create | Drift sweep w/r per group | Sweep time | Sweep true floor (busiest API) | Sweep / true floor |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, x := range r.Results {
		if x.TrueFloor == 0 {
			fmt.Fprintf(&b, "| %s | not measured | | | | | | |\n", x.Vendor)
			continue
		}
		fmt.Fprintf(&b, "| %s | %s (%s) | %.2f | %.2f | %s | %s | %s (%s) | %.2f |\n",
			x.Vendor, secs(x.TrueFloor), x.TrueFloorAPI, x.TrueRatio, x.WritesPerCreate,
			calls(x.Sweep), secs(x.SweepTime), secs(x.SweepFloor), x.SweepFloorAPI, x.SweepRatio)
	}
	if len(r.People) > 0 {
		b.WriteString("\nPeople (`BENCH_PEOPLE=1`): N selector-based groups over N ChatUsers; one ChatUser in every group is deleted.\n\n")
		b.WriteString("| Vendor | ChatUsers | Members per group | Workers | All Ready | Peak RSS | RSS | Heap in use | Offboarding | Floor (busiest write API) | Ratio | Offboarding w/r per group | Throttled | Measured |\n")
		b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, x := range r.People {
			off, fl, ratio, cs := secs(x.Offboard), fmt.Sprintf("%s (%s)", secs(x.Floor), x.FloorAPI), fmt.Sprintf("%.2f", x.Ratio), calls(x.Calls)
			if x.Floor == 0 {
				off, fl, ratio, cs = "not measured (members join by invitation)", "", "", ""
			}
			fmt.Fprintf(&b, "| %s | %d | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %d | %s |\n",
				x.Vendor, x.Users, x.M, x.Workers, secs(x.Wall), mib(x.PeakRSS), mib(x.RSS), mib(x.HeapInuse),
				off, fl, ratio, cs, x.Throttled, x.Machine.Date)
		}
	}
	if len(r.Diff) > 0 {
		b.WriteString("\n| Member diff | ns/op | allocs/op | B/op |\n|---|---|---|---|\n")
		for _, d := range r.Diff {
			fmt.Fprintf(&b, "| %s | %.0f (%.2f ms) | %d | %d |\n", d.Name, d.NsPerOp, d.NsPerOp/1e6, d.AllocsPerOp, d.BytesPerOp)
		}
	}
	return b.String()
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func calls(c Calls) string { return fmt.Sprintf("%.2f / %.2f", c.Writes, c.Reads) }
