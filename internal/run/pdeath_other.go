//go:build !linux && !windows

package run

import "syscall"

// dieWithParent: only Linux has a parent-death signal; elsewhere the
// process-group kill on cancel is all there is.
func dieWithParent(a *syscall.SysProcAttr) {}
