//go:build !linux

package playground

import "syscall"

// managerProcAttr puts the manager in a process group of its own, so that a
// Ctrl-C reaches only the process that started it, which stops it in order.
func managerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
