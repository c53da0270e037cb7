//go:build windows

package run

import "os/exec"

// setProcessGroup: on Windows the default cancel (TerminateProcess) is used;
// Cygwin's bash passes the termination on to its children.
func setProcessGroup(cmd *exec.Cmd) {}
