//go:build windows

package guest

import (
	"os"
	"os/exec"
	"syscall"
)

// detach makes QEMU outlive the program that started it (mage vm:up ends
// while the guest keeps running).
func detach(cmd *exec.Cmd) {
	const createNewProcessGroup, detachedProcess = 0x00000200, 0x00000008
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: createNewProcessGroup | detachedProcess}
}

// alive tells whether pid is still running. Windows has no cheap way to
// read another process's command line here, so the tag is not checked.
func alive(pid int, tag string) bool {
	if pid <= 0 {
		return false
	}
	const processQueryLimitedInformation, stillActive = 0x1000, 259
	h, err := syscall.OpenProcess(processQueryLimitedInformation, false, uint32(pid))
	if err != nil {
		return false
	}
	defer syscall.CloseHandle(h)
	var code uint32
	if err := syscall.GetExitCodeProcess(h, &code); err != nil {
		return false
	}
	return code == stillActive
}

func kill(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
