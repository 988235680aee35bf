//go:build !linux

package test

import "os/exec"

// killWithParent does nothing where the kernel cannot kill a child with its
// parent; the tests' cleanups stop every process they start.
func killWithParent(*exec.Cmd) {}
