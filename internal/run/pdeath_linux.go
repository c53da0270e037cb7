package run

import "syscall"

// dieWithParent asks the kernel to send SIGTERM to the program when this
// process ends. Cancelling the context kills the process group, but mage
// (on Ctrl-C or -t) exits as soon as the context is done, often before
// that kill has run; without this, ninja and its compilers would go on.
// ninja passes SIGTERM on to its jobs.
func dieWithParent(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGTERM }
