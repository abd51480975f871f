package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/chatgroup-operator/chatgroup-operator/internal/playground"
)

// DeployedMemoryLimit is config/manager's limits.memory, which the Deployment
// passes to the manager as MEMORY_LIMIT.
const DeployedMemoryLimit = 256 << 20

// manager is a running manager process (bin/manager).
type manager struct {
	cmd        *exec.Cmd
	metricsURL string
	done       chan struct{}
}

// startManager runs binary against kubeconfig for namespace ns, with its log
// appended to logPath, and returns once its readiness probe answers.
func startManager(binary, kubeconfig, ns, logPath string, workers int) (*manager, error) {
	metrics, probes, err := playground.FreeAddr(), playground.FreeAddr(), error(nil)
	if metrics == "" || probes == "" {
		return nil, errors.New("no free loopback port")
	}
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary,
		"--kubeconfig="+kubeconfig,
		"--watch-namespaces="+ns,
		"--metrics-bind-address="+metrics,
		"--health-probe-bind-address="+probes,
		"--max-concurrent-reconciles="+strconv.Itoa(workers),
	)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = append(os.Environ(), "HTTP_PROXY=", "HTTPS_PROXY=", "http_proxy=", "https_proxy=",
		"MEMORY_LIMIT="+strconv.Itoa(DeployedMemoryLimit)) // as config/manager runs it
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("start %s (run make build first): %w", binary, err)
	}
	m := &manager{cmd: cmd, metricsURL: "http://" + metrics + "/metrics", done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = log.Close()
		close(m.done)
	}()
	ok := waitUntil(context.Background(), time.Minute, func() bool {
		select {
		case <-m.done:
			return true
		default:
		}
		resp, err := http.Get("http://" + probes + "/readyz") //nolint:noctx // a loopback probe
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	select {
	case <-m.done:
		return nil, fmt.Errorf("the manager exited; see %s", logPath)
	default:
	}
	if !ok {
		m.stop()
		return nil, fmt.Errorf("the manager did not get ready; see %s", logPath)
	}
	return m, nil
}

// stop shuts the manager down (SIGTERM), killing it after 30s.
func (m *manager) stop() {
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(30 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.done
	}
}

// memory is what the kernel and the Go runtime say about the manager's memory.
type memory struct {
	// PeakRSS is the peak resident set size (VmHWM), RSS the current one (VmRSS).
	PeakRSS, RSS uint64
	// HeapInuse is go_memstats_heap_inuse_bytes from the metrics endpoint.
	HeapInuse uint64
}

// memory reads the manager's memory figures.
func (m *manager) memory() (memory, error) {
	var out memory
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", m.cmd.Process.Pid))
	if err != nil {
		return out, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, _ := strings.Cut(sc.Text(), ":")
		kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		switch key {
		case "VmHWM":
			out.PeakRSS = kb << 10
		case "VmRSS":
			out.RSS = kb << 10
		}
	}
	out.HeapInuse, err = m.metric("go_memstats_heap_inuse_bytes")
	return out, err
}

// metric reads one unlabelled gauge from the metrics endpoint.
func (m *manager) metric(name string) (uint64, error) {
	resp, err := http.Get(m.metricsURL) //nolint:noctx // a loopback scrape
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return uint64(f), err
		}
	}
	return 0, fmt.Errorf("no metric %s", name)
}
