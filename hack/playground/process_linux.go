package main

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"unsafe"
)

// The playground's children must not outlive it, however it ends. The manager,
// kube-apiserver and etcd run in process groups of their own, so a Ctrl-C
// reaches only the playground, which stops them in order; if the playground is
// killed instead, the kernel kills them (PR_SET_PDEATHSIG, asked for by each
// child). envtest starts kube-apiserver and etcd itself, so the playground has
// envtest start them through its own binary (wrapControlPlane), which asks for
// the signal and then becomes the real binary (execControlPlane).

// k8sDirEnv names the directory with the real kube-apiserver and etcd.
const k8sDirEnv = "CHATGROUP_PLAYGROUND_K8S_DIR"

// controlPlane maps the binaries envtest starts to the variables that
// override their paths.
var controlPlane = map[string]string{"kube-apiserver": "TEST_ASSET_KUBE_APISERVER", "etcd": "TEST_ASSET_ETCD"}

// wrapControlPlane links kube-apiserver and etcd in dir to this binary and
// points envtest at the links.
func wrapControlPlane(dir string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	k8s, err := filepath.Abs(filepath.Join("bin", "k8s"))
	if err != nil {
		return err
	}
	for name, env := range controlPlane {
		link := filepath.Join(dir, name)
		if err := os.Symlink(self, link); err != nil {
			return err
		}
		if err := os.Setenv(env, link); err != nil {
			return err
		}
	}
	return os.Setenv(k8sDirEnv, k8s)
}

// execControlPlane reports false unless envtest started this binary as
// kube-apiserver or etcd. Then it asks for SIGKILL when the playground exits
// and execs the real binary; it returns only if that fails.
func execControlPlane() (bool, error) {
	name := filepath.Base(os.Args[0])
	dir := os.Getenv(k8sDirEnv)
	if _, ok := controlPlane[name]; !ok || dir == "" {
		return false, nil
	}
	if err := dieWithParent(syscall.SIGKILL); err != nil {
		return true, err
	}
	binary := filepath.Join(dir, name)
	return true, syscall.Exec(binary, append([]string{binary}, os.Args[1:]...), os.Environ())
}

// dieWithParent asks the kernel to send sig to this process when its parent
// exits; an exec keeps the request.
func dieWithParent(sig syscall.Signal) error {
	parent := os.Getppid()
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(sig), 0); errno != 0 {
		return errno
	}
	if os.Getppid() != parent { // it exited before the request
		return errors.New("the parent process has exited")
	}
	return nil
}

// watchStdout calls stop once standard output is closed: the reading end of
// its pipe gone (POLLERR) or its terminal hung up (POLLHUP). A file or
// /dev/null never reports either.
func watchStdout(stop func()) {
	const pollErr, pollHup = 0x8, 0x10
	fds := []struct {
		fd              int32
		events, revents int16
	}{{fd: 1}}
	go func() {
		for {
			n, _, errno := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), 1, 0, 0, 0, 0)
			switch {
			case errno == syscall.EINTR:
				continue
			case errno != 0:
				return
			case n > 0 && fds[0].revents&(pollErr|pollHup) != 0:
				stop()
				return
			}
		}
	}()
}
