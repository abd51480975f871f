package playground

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// ManagerOptions say how to run the manager binary.
type ManagerOptions struct {
	// Binary is the manager executable (bin/manager).
	Binary string
	// Kubeconfig reaches the API server.
	Kubeconfig string
	// LogPath receives the manager's stdout and stderr (appended to, so a
	// restarted manager's log follows the first one's).
	LogPath string
	// Args are further flags, e.g. --retry-interval.
	Args []string
}

// Manager is a running manager process.
type Manager struct {
	// Args are the flags it runs with.
	Args []string
	// MetricsURL serves the Prometheus metrics.
	MetricsURL string

	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// StartManager runs the manager with its metrics and health probes on free
// loopback ports and returns once it reports ready (/readyz), or an error with
// the end of its log if it exits or does not get ready within a minute.
func StartManager(o ManagerOptions) (*Manager, error) {
	metrics, probes := FreeAddr(), FreeAddr()
	if metrics == "" || probes == "" {
		return nil, errors.New("no free loopback port for the manager's metrics and probes")
	}
	log, err := os.OpenFile(o.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	args := append([]string{
		"--kubeconfig=" + o.Kubeconfig,
		"--metrics-bind-address=" + metrics,
		"--health-probe-bind-address=" + probes,
	}, o.Args...)
	cmd := exec.Command(o.Binary, args...)
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group: Ctrl-C in the terminal reaches the playground, which
	// then stops the manager in order, after the groups it is watching.
	cmd.SysProcAttr = managerProcAttr() // and on Linux, killed if the playground dies
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("start %s: %w", o.Binary, err)
	}
	m := &Manager{Args: args, MetricsURL: "http://" + metrics + "/metrics", cmd: cmd, done: make(chan struct{})}
	go func() {
		m.err = cmd.Wait()
		_ = log.Close()
		close(m.done)
	}()
	if err := m.waitReady("http://"+probes+"/readyz", time.Minute); err != nil {
		_ = m.Kill()
		return nil, fmt.Errorf("%w\n%s", err, Tail(o.LogPath, 20))
	}
	return m, nil
}

// probeClient reads the manager's probes; they answer at once or not at all.
var probeClient = &http.Client{Timeout: time.Second}

// waitReady polls the readiness probe until it answers 200.
func (m *Manager) waitReady(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-m.done:
			return fmt.Errorf("the manager exited: %v", m.err)
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := probeClient.Get(url)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("the manager did not get ready within %s", timeout)
}

// Done is closed when the process has exited.
func (m *Manager) Done() <-chan struct{} { return m.done }

// Err is the process's exit error, once Done is closed.
func (m *Manager) Err() error { return m.err }

// Stop asks the manager to shut down (SIGTERM) and kills it if it has not
// exited after timeout.
func (m *Manager) Stop(timeout time.Duration) {
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(timeout):
		_ = m.Kill()
	}
}

// Kill ends the manager at once (SIGKILL), as a crash or an evicted pod would,
// and waits for it to be gone.
func (m *Manager) Kill() error {
	err := m.cmd.Process.Kill()
	<-m.done
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr() string {
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return ""
	}
	defer l.Close()
	return l.Addr().String()
}

// Tail returns the last n lines of the file at path.
func Tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
