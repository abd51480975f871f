//go:build e2e && linux

package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestStop runs the playground as a user would ('make playground', often
// '| tee playground.log') and ends it in each way its terminal can, then
// checks that kube-apiserver, etcd and the manager are gone and, unless the
// playground was killed outright, that it removed its kubeconfig. It runs with
// 'make test-playground' (part of make test), which builds bin/manager and
// bin/k8s first.
func TestStop(t *testing.T) {
	root := fakeRoot(t)
	binary := filepath.Join(t.TempDir(), "playground")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	kubeconfigPath := filepath.Join(root, kubeconfig)

	tests := []struct {
		name string
		// start starts the playground with its output going to out and
		// returns its PID and a function that ends it.
		start func(t *testing.T, out *lines) (pid int, end func())
		// killed: the playground cannot clean up its files.
		killed bool
	}{
		{
			name: "Ctrl-C with tee in the pipeline: the pipe closes first",
			start: func(t *testing.T, out *lines) (int, func()) {
				// The terminal sends SIGINT to its foreground process group:
				// the playground and tee alike; tee is gone at once.
				r, w := pipe(t)
				pg := command(binary, root, w, &syscall.SysProcAttr{Setpgid: true})
				start(t, pg)
				tee := exec.Command("tee", filepath.Join(t.TempDir(), "playground.log"))
				tee.Stdin = r
				tee.Stdout = out.follow(t)
				tee.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: pg.Process.Pid}
				start(t, tee)
				closeAll(r, w, tee.Stdout.(*os.File))
				return pg.Process.Pid, func() {
					must(t, syscall.Kill(-pg.Process.Pid, syscall.SIGINT))
					_ = tee.Wait()
					expectExit(t, pg, 0)
				}
			},
		},
		{
			name: "SIGTERM",
			start: func(t *testing.T, out *lines) (int, func()) {
				w := out.follow(t)
				pg := command(binary, root, w, nil)
				start(t, pg)
				closeAll(w)
				return pg.Process.Pid, func() {
					must(t, pg.Process.Signal(syscall.SIGTERM))
					expectExit(t, pg, 0)
					out.wait(t, "==> Stopped.", 5*time.Second)
				}
			},
		},
		{
			name: "stdout closed",
			start: func(t *testing.T, out *lines) (int, func()) {
				r, w := pipe(t)
				pg := command(binary, root, w, nil)
				start(t, pg)
				closeAll(w)
				go out.readFrom(r)
				return pg.Process.Pid, func() {
					must(t, r.Close())
					expectExit(t, pg, 0)
				}
			},
		},
		{
			name: "its parent killed",
			start: func(t *testing.T, out *lines) (int, func()) {
				// A shell in between, as make runs it; the trailing ':' keeps
				// the shell from exec'ing the playground.
				w := out.follow(t)
				sh := command("sh", root, w, nil)
				sh.Args = []string{"sh", "-c", `"$0"; :`, binary}
				start(t, sh)
				closeAll(w)
				pid := childOf(t, sh.Process.Pid)
				return pid, func() {
					playground := procOf(t, pid)
					must(t, sh.Process.Kill())
					_ = sh.Wait()
					waitGone(t, []proc{playground}, time.Minute)
					out.wait(t, "==> Stopped.", 5*time.Second)
				}
			},
		},
		{
			name: "the playground killed",
			start: func(t *testing.T, out *lines) (int, func()) {
				w := out.follow(t)
				pg := command(binary, root, w, nil)
				start(t, pg)
				closeAll(w)
				return pg.Process.Pid, func() {
					must(t, pg.Process.Kill())
					_ = pg.Wait()
				}
			},
			killed: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_ = os.Remove(kubeconfigPath)
			out := &lines{}
			pid, end := tt.start(t, out)
			out.wait(t, "==> Started the operator", 2*time.Minute)

			children := descendants(pid)
			t.Cleanup(func() { // whatever the outcome, nothing of the test's stays
				for _, c := range children {
					if now, _, ok := readStat(c.pid); ok && now.start == c.start {
						_ = syscall.Kill(c.pid, syscall.SIGKILL)
					}
				}
			})
			var names []string
			for _, c := range children {
				names = append(names, c.name)
			}
			for _, want := range []string{"kube-apiserver", "etcd", "manager"} {
				if !strings.Contains(strings.Join(names, " "), want) {
					t.Fatalf("the playground's processes are %v, without %s", names, want)
				}
			}
			if _, err := os.Stat(kubeconfigPath); err != nil {
				t.Fatalf("the playground wrote no kubeconfig: %v", err)
			}

			end()
			waitGone(t, children, 30*time.Second)
			_, err := os.Stat(kubeconfigPath)
			if !tt.killed && !os.IsNotExist(err) {
				t.Errorf("%s is left behind (%v)", kubeconfig, err)
			}
			if t.Failed() {
				t.Logf("the playground printed:\n%s", out.String())
			}
		})
	}
}

// fakeRoot makes a directory that looks like the repository root to the
// playground (go.mod, bin/manager, bin/kubectl-chatgroup, bin/k8s, config), so the test's
// kubeconfig does not replace one of a playground running in the repository.
func fakeRoot(t *testing.T) string {
	t.Helper()
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	must(t, err)
	for _, f := range []string{managerBinary, pluginBinary, kubectlBinary} {
		if _, err := os.Stat(filepath.Join(repo, f)); err != nil {
			t.Fatalf("%s is missing: run 'make test-playground', which builds it", f)
		}
	}
	root := t.TempDir()
	must(t, os.Mkdir(filepath.Join(root, "bin"), 0o755))
	for _, f := range []string{"go.mod", "config", managerBinary, pluginBinary, "bin/k8s"} {
		must(t, os.Symlink(filepath.Join(repo, f), filepath.Join(root, f)))
	}
	return root
}

// command runs binary in dir with its output to stdout.
func command(binary, dir string, stdout *os.File, attr *syscall.SysProcAttr) *exec.Cmd {
	cmd := exec.Command(binary)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = stdout, stdout
	cmd.SysProcAttr = attr
	return cmd
}

func start(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	must(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
}

func pipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	must(t, err)
	return r, w
}

func closeAll(fs ...*os.File) {
	for _, f := range fs {
		_ = f.Close()
	}
}

// expectExit waits for cmd and expects its exit code.
func expectExit(t *testing.T, cmd *exec.Cmd, code int) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if got := cmd.ProcessState.ExitCode(); got != code {
			t.Errorf("the playground exited with %d (%v), want %d", got, err, code)
		}
	case <-time.After(time.Minute):
		t.Fatal("the playground did not exit within a minute")
	}
}

// proc is a process, told apart from a later one with the same PID by its
// start time.
type proc struct {
	pid   int
	name  string
	start string
}

// procOf reads a process's name, parent and start time from /proc.
func procOf(t *testing.T, pid int) proc {
	t.Helper()
	p, _, ok := readStat(pid)
	if !ok {
		t.Fatalf("process %d is gone", pid)
	}
	return p
}

// readStat parses /proc/<pid>/stat; ok is false for a process that is gone
// or a zombie (dead, waiting to be reaped).
func readStat(pid int) (p proc, ppid int, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return proc{}, 0, false
	}
	s := string(data)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return proc{}, 0, false
	}
	fields := strings.Fields(s[end+1:]) // state ppid ... starttime is the 20th
	if len(fields) < 20 || fields[0] == "Z" || fields[0] == "X" {
		return proc{}, 0, false
	}
	ppid, _ = strconv.Atoi(fields[1])
	return proc{pid: pid, name: s[open+1 : end], start: fields[19]}, ppid, true
}

// descendants lists the live processes below pid.
func descendants(pid int) []proc {
	entries, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	procs := map[int]proc{}
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ppid, ok := readStat(n); ok {
			parent[n], procs[n] = ppid, p
		}
	}
	var out []proc
	for n, p := range procs {
		for a := parent[n]; a > 1; a = parent[a] {
			if a == pid {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// childOf waits for pid's one child process and returns its PID.
func childOf(t *testing.T, pid int) int {
	t.Helper()
	for range 100 {
		for _, p := range descendants(pid) {
			if _, ppid, _ := readStat(p.pid); ppid == pid {
				return p.pid
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("process %d started no child", pid)
	return 0
}

// waitGone waits for every process to exit.
func waitGone(t *testing.T, procs []proc, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var left []string
		for _, p := range procs {
			if now, _, ok := readStat(p.pid); ok && now.start == p.start {
				left = append(left, fmt.Sprintf("%s (%d)", p.name, p.pid))
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, p := range procs {
				_ = syscall.Kill(p.pid, syscall.SIGKILL)
			}
			t.Fatalf("still running %s after the playground ended: %s", timeout, strings.Join(left, ", "))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// lines collects what the playground prints.
type lines struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// follow returns the writing end of a pipe whose output l collects; the
// caller closes it once the process writing to it has started.
func (l *lines) follow(t *testing.T) *os.File {
	t.Helper()
	r, w := pipe(t)
	go l.readFrom(r)
	return w
}

// readFrom copies r until it fails (closed by the test).
func (l *lines) readFrom(r io.Reader) {
	s := bufio.NewScanner(r)
	for s.Scan() {
		_, _ = l.Write(append(s.Bytes(), '\n'))
	}
}

// wait waits for a line starting with prefix.
func (l *lines) wait(t *testing.T, prefix string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !l.has(prefix) {
		if time.Now().After(deadline) {
			t.Fatalf("the playground did not print %q within %s:\n%s", prefix, timeout, l.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (l *lines) expect(t *testing.T, prefix string) {
	t.Helper()
	if !l.has(prefix) {
		t.Errorf("the playground did not print %q:\n%s", prefix, l.String())
	}
}

func (l *lines) has(prefix string) bool {
	for line := range strings.Lines(l.String()) {
		if strings.HasPrefix(line, prefix) {
			return true
		}
	}
	return false
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
