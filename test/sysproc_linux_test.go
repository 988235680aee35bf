//go:build linux

package test

import (
	"os/exec"
	"syscall"
)

// killWithParent makes the kernel kill the child if the test process dies
// first (a panic or a -timeout), so that no server outlives the suite.
func killWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
