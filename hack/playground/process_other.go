//go:build !linux

package main

import "syscall"

// Elsewhere than Linux there is no parent-death signal, and a closed stdout is
// noticed only at Ctrl-C: Ctrl-C and SIGTERM still stop everything in order,
// but a killed playground leaves its children running.

func wrapControlPlane(string) error { return nil }

func execControlPlane() (bool, error) { return false, nil }

func dieWithParent(syscall.Signal) error { return nil }

func watchStdout(func()) {}
