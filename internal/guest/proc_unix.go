//go:build !windows

package guest

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// detach makes QEMU outlive the program that started it (mage vm:up ends
// while the guest keeps running).
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
}

// alive tells whether pid is still a running QEMU for the VM named by tag.
// On Linux the command line is checked too, so a reused pid is not taken
// for our QEMU.
func alive(pid int, tag string) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); err == nil {
		return strings.Contains(string(b), tag)
	}
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
		// A zombie (state Z) has exited.
		if i := strings.LastIndexByte(string(b), ')'); i > 0 && len(b) > i+2 && b[i+2] == 'Z' {
			return false
		}
	}
	return true
}

func kill(pid int) error {
	return syscall.Kill(pid, syscall.SIGKILL)
}
