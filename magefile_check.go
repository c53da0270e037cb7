//go:build mage

package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"qemupack/internal/host"
	"qemupack/internal/pick"
)

// Check reports the build toolchain: every missing tool or too-old library at once, each with the command that installs it; fails when no QEMU release can be built. Reads CROSS_PREFIX, PYTHON, QEMUPACK_SYSROOT, QEMUPACK_DEPS, QEMU_VERSION, QEMUPACK_OFFLINE, QEMUPACK_MIRROR, QEMUPACK_FORMAT (text or json).
func Check(ctx context.Context) error {
	start := time.Now()
	cfg, err := settings()
	if err != nil {
		return err
	}
	rep, err := host.Probe(ctx, cfg, host.Options{})
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	res, perr := pick.FromReport(ctx, cfg, pick.Options{}, rep)
	if cfg.JSON {
		out, err := pick.CheckJSON(rep, res)
		if err != nil {
			return err
		}
		fmt.Println(string(out))
	} else {
		pick.WriteCheck(os.Stdout, rep, res, perr)
	}
	if perr != nil {
		return fmt.Errorf("check: this toolchain can build no QEMU release that fits: %w", perr)
	}
	summary := fmt.Sprintf("check: %s host, %d missing, qemu %s buildable", rep.Family, len(rep.Missing), res.Picked.Version)
	if cfg.JSON {
		fmt.Fprintf(os.Stderr, "%s (%s)\n", summary, time.Since(start).Round(100*time.Millisecond))
		return nil
	}
	done(summary, start)
	return nil
}

// Pick shows every QEMU release with whether this host can build it and obtain its source, and picks the newest that fits; last line "picked: qemu X.Y.Z". Reads QEMU_VERSION (e.g. '>= 6.0, < 7'), QEMUPACK_DEPS (auto, host, recipes), QEMUPACK_OFFLINE, QEMUPACK_MIRROR, QEMUPACK_SYSROOT, CROSS_PREFIX, PYTHON, QEMUPACK_FORMAT (text or json).
func Pick(ctx context.Context) error {
	start := time.Now()
	cfg, err := settings()
	if err != nil {
		return err
	}
	res, perr := pick.Run(ctx, cfg)
	if cfg.JSON {
		if res.Releases != nil || perr == nil {
			out, err := res.JSON()
			if err != nil {
				return err
			}
			fmt.Println(string(out))
		}
		fmt.Fprintf(os.Stderr, "pick: %d releases judged (%s)\n", len(res.Releases), time.Since(start).Round(100*time.Millisecond))
		return perr
	}
	if res.Releases != nil {
		res.WriteTable(os.Stdout)
	}
	if perr != nil {
		return perr
	}
	fmt.Printf("pick: %d releases judged, source %s (%s)\n", len(res.Releases), res.Source, time.Since(start).Round(100*time.Millisecond))
	fmt.Printf("picked: qemu %s\n", res.Picked.Version)
	return nil
}
