//go:build !linux

package smoke

import "os/exec"

// setDisplayProcAttr: only Linux has a parent-death signal.
func setDisplayProcAttr(cmd *exec.Cmd) {}
