//go:build !windows

package run

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the program in its own process group and makes
// cancellation kill the whole group, so the compilers make/ninja started
// stop too.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	dieWithParent(cmd.SysProcAttr)
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
