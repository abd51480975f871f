// Command bench is `make bench`: it runs the manager binary (bin/manager) against
// a local control plane and the vendor simulators with their documented rate
// limits, prints the figures, and writes them to docs/benchmarks.md (a section
// per N and M) and docs/benchmarks/n<N>-m<M>.json.
//
// Environment: BENCH_N (1000), BENCH_M (100), BENCH_VENDORS (comma-separated
// vendor names; every vendor with a simulator by default; "none" measures only
// the member diff),
// BENCH_SAMPLE (groups changed and resynced for the per-group counts, 100),
// BENCH_MANAGER (the manager binary, bin/manager),
// BENCH_PEOPLE (1: instead of the phases above, N selector-based groups over
// N ChatUsers, memory, and the offboarding of one person in every group),
// BENCH_EDITS (50), BENCH_WORKERS (4), BENCH_TIMEOUT (per phase, 2h), and
// BENCH_CPUPROFILE (a file for this process's CPU profile: its simulators and
// watch are on the same CPUs as the manager).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/chatgroup-operator/chatgroup-operator/api/v1alpha1"
	"github.com/chatgroup-operator/chatgroup-operator/internal/bench"
	"github.com/chatgroup-operator/chatgroup-operator/internal/testenv"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg := bench.Config{
		N: envInt("BENCH_N", 1000), M: envInt("BENCH_M", 100), Sample: envInt("BENCH_SAMPLE", 100),
		Edits: envInt("BENCH_EDITS", 50), Workers: envInt("BENCH_WORKERS", 4),
		Manager: envString("BENCH_MANAGER", "bin/manager"), WorkDir: "bin/bench", Timeout: envDuration("BENCH_TIMEOUT", 2*time.Hour),
		Logf: func(format string, args ...any) {
			fmt.Printf("%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
		},
	}
	if err := os.MkdirAll(cfg.WorkDir, 0o755); err != nil {
		return err
	}
	if path := os.Getenv("BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	env, err := startControlPlane(cfg.WorkDir)
	if err != nil {
		return err
	}
	defer env.stop()

	cfg.Machine = machine()
	report := bench.Report{Machine: cfg.Machine, N: cfg.N, M: cfg.M}
	people := os.Getenv("BENCH_PEOPLE") == "1"
	for _, v := range benchVendors() {
		if people {
			res, err := bench.RunPeople(ctx, cfg, env.Env, v)
			if err != nil {
				return fmt.Errorf("%s: %w", v, err)
			}
			report.People = append(report.People, res)
			continue
		}
		res, err := bench.Run(ctx, cfg, env.Env, v)
		if err != nil {
			return fmt.Errorf("%s: %w", v, err)
		}
		report.Results = append(report.Results, res)
	}
	if !people { // a people run keeps the last member diff figures
		cfg.Logf("measuring the member diff (go test -bench)")
		if report.Diff, err = diffCost(); err != nil {
			return err
		}
	}
	fmt.Println()
	fmt.Println(report.Markdown())
	return write(report)
}

// benchVendors are the vendors BENCH_VENDORS names, by default every vendor
// with a simulator; "none" is none (only the member diff is measured).
func benchVendors() []v1alpha1.Vendor {
	list := os.Getenv("BENCH_VENDORS")
	if list == "" {
		return bench.Vendors()
	}
	var out []v1alpha1.Vendor
	for _, v := range strings.Split(list, ",") {
		if v = strings.TrimSpace(v); v == "none" {
			return nil
		}
		out = append(out, v1alpha1.Vendor(v))
	}
	return out
}

// controlPlane is envtest plus a kubeconfig file for the manager.
type controlPlane struct {
	bench.Env
	stop func()
}

func startControlPlane(dir string) (*controlPlane, error) {
	e, err := testenv.Start(nil)
	if err != nil {
		return nil, err
	}
	// One file per process: two make bench runs (for example one vendor each)
	// may share the work directory, each with its own control plane.
	path, err := filepath.Abs(filepath.Join(dir, fmt.Sprintf("kubeconfig-%d", os.Getpid())))
	if err == nil {
		err = writeKubeconfig(e, path)
	}
	if err != nil {
		e.Stop()
		return nil, err
	}
	stop := func() {
		e.Stop()
		_ = os.Remove(path)
	}
	return &controlPlane{Env: bench.Env{Config: e.Config, Kubeconfig: path, Scheme: e.Scheme}, stop: stop}, nil
}

func writeKubeconfig(e *testenv.Env, path string) error {
	c := e.Config
	kc := clientcmdapi.NewConfig()
	kc.Clusters["bench"] = &clientcmdapi.Cluster{Server: c.Host, CertificateAuthorityData: c.CAData}
	kc.AuthInfos["bench"] = &clientcmdapi.AuthInfo{ClientCertificateData: c.CertData, ClientKeyData: c.KeyData}
	kc.Contexts["bench"] = &clientcmdapi.Context{Cluster: "bench", AuthInfo: "bench"}
	kc.CurrentContext = "bench"
	return clientcmd.WriteToFile(*kc, path)
}

// benchLine matches a go test -bench result with -benchmem.
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+\d+\s+([\d.]+) ns/op\s+(\d+) B/op\s+(\d+) allocs/op`)

// diffCost runs the member diff benchmarks.
func diffCost() ([]bench.Diff, error) {
	out, err := exec.Command("go", "test", "./internal/vendors", "-run", "^$", "-bench", "^BenchmarkMemberChanges", "-benchmem", "-count", "1").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go test -bench: %w\n%s", err, out)
	}
	var diffs []bench.Diff
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		ns, _ := strconv.ParseFloat(m[3], 64)
		bytes, _ := strconv.Atoi(m[4])
		allocs, _ := strconv.Atoi(m[5])
		diffs = append(diffs, bench.Diff{Name: m[1], NsPerOp: ns, BytesPerOp: bytes, AllocsPerOp: allocs})
	}
	if len(diffs) == 0 {
		return nil, errors.New("no benchmark results in go test output")
	}
	return diffs, nil
}

// write saves the JSON and replaces (or appends) this N and M's section of
// docs/benchmarks.md. Vendors measured by an earlier run with the same N and M
// (BENCH_VENDORS picks some) keep their results.
func write(r bench.Report) error {
	path := fmt.Sprintf("docs/benchmarks/n%d-m%d.json", r.N, r.M)
	if data, err := os.ReadFile(path); err == nil {
		var earlier bench.Report
		if err := json.Unmarshal(data, &earlier); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		r = r.MergeEarlier(earlier)
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll("docs/benchmarks", 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return writeSection(r.N, r.M, r.Markdown())
}

// writeSection replaces (or appends) N and M's section of docs/benchmarks.md.
func writeSection(n, m int, md string) error {
	const path = "docs/benchmarks.md"
	doc, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	begin := fmt.Sprintf("<!-- bench N=%d M=%d -->", n, m)
	end := fmt.Sprintf("<!-- /bench N=%d M=%d -->", n, m)
	section := begin + "\n" + md + end
	text := string(doc)
	if i, j := strings.Index(text, begin), strings.Index(text, end); i >= 0 && j > i {
		text = text[:i] + section + text[j+len(end):]
	} else {
		text = strings.TrimRight(text, "\n") + "\n\n" + section + "\n"
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

// machine describes this computer.
func machine() bench.Machine {
	m := bench.Machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), Date: time.Now().UTC().Format("2006-01-02")}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		if _, err := fmt.Sscanf(string(data), "MemTotal: %d kB", &kb); err == nil {
			m.MemoryGiB = (kb + 1<<19) >> 20
		}
	}
	return m
}

func envString(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func envInt(key string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(key)); err == nil && n > 0 {
		return n
	}
	return def
}

func envDuration(key string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(key)); err == nil && d > 0 {
		return d
	}
	return def
}
