//go:build linux

package smoke

import (
	"os/exec"
	"syscall"
)

// setDisplayProcAttr: the X server dies with this process, even when it
// is killed before it could stop the server.
func setDisplayProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
