//go:build mage

// qemupack builds a current QEMU for Windows and bundles it into a portable
// archive. Each target is a few lines over the packages in internal/.
package main

import (
	"fmt"
	"os"
	"time"

	"qemupack/internal/config"
)

// Default target when `mage` runs with none.
var Default = Bundle

// settings reads the environment once per target.
func settings() (config.Config, error) {
	return config.FromOS()
}

// done prints the one summary line every target ends with.
func done(what string, start time.Time) {
	fmt.Fprintf(os.Stdout, "%s (%s)\n", what, time.Since(start).Round(100*time.Millisecond))
}

// Bundle builds QEMU for Windows and writes dist/qemu-<version>-win64.zip. Reads QEMU_VERSION, QEMU_TARGETS, QEMUPACK_DEPS, JOBS.
func Bundle() error {
	return fmt.Errorf("bundle: not yet wired")
}
