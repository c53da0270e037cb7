// Command hostneeds prints the packages this machine lacks for qemupack's
// jobs, from the one list `bundle`, `test` and `check` use
// (internal/host): the build toolchain, and the needs of the jobs named.
//
//	go run ./cmd/hostneeds                    # toolchain, smoke, release, signing, tests
//	go run ./cmd/hostneeds -jobs smoke        # what bundle would install
//
// It prints the package names on one line (nothing when nothing is
// missing), for scripts/setup-debian.sh, which installs them for users
// who run qemupack as themselves rather than as root.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"qemupack/internal/config"
	"qemupack/internal/host"
)

func main() {
	jobs := flag.String("jobs", "smoke,release,sign,test", "the jobs beyond the build, comma-separated: "+jobNames())
	flag.Parse()
	var want []host.Job
	for _, j := range strings.Split(*jobs, ",") {
		if j = strings.TrimSpace(j); j == "" {
			continue
		}
		if !known(host.Job(j)) {
			fmt.Fprintf(os.Stderr, "hostneeds: no job %q (jobs: %s)\n", j, jobNames())
			os.Exit(2)
		}
		want = append(want, host.Job(j))
	}
	cfg, err := config.FromOS()
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostneeds:", err)
		os.Exit(1)
	}
	rep, err := host.Probe(context.Background(), cfg, host.Options{Jobs: want})
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostneeds:", err)
		os.Exit(1)
	}
	for _, m := range rep.Missing {
		if m.Package == "" {
			fmt.Fprintf(os.Stderr, "hostneeds: %s is missing and no package for it is known on this host (%s)\n", m.What, rep.Distro)
		}
	}
	fmt.Println(strings.Join(rep.MissingPackages(), " "))
}

func known(j host.Job) bool {
	for _, k := range host.Jobs {
		if k == j {
			return true
		}
	}
	return false
}

func jobNames() string {
	var s []string
	for _, j := range host.Jobs {
		s = append(s, string(j))
	}
	return strings.Join(s, ", ")
}
