//go:build mage

// qemupack builds a current QEMU for Windows and bundles it into a portable
// archive. The targets are one line each; what they do is in
// internal/targets and the packages it calls, and the main job's steps are
// in internal/pipeline.
package main

import (
	"context"

	"github.com/magefile/mage/mg"

	"qemupack/internal/targets"
)

// Default target when `mage` runs with none.
var Default = Bundle

// Bundle runs the main job end to end: sets up the toolchain (as root on Debian/Ubuntu), picks the newest QEMU it can build and obtain, builds the mingw libraries and QEMU, writes dist/qemu-<version>-win64.zip with dist/SHA256SUMS, and smoke-tests the archive under wine. Reads CROSS_PREFIX, JOBS, PYTHON, QEMUPACK_CACHE, QEMUPACK_CACHE_KEEP, QEMUPACK_DEPS, QEMUPACK_DIST, QEMUPACK_MIRROR, QEMUPACK_OFFLINE, QEMUPACK_PROFILE, QEMUPACK_SETUP, QEMUPACK_SMOKE, QEMUPACK_SUITES, QEMUPACK_SYSROOT, QEMU_TARGETS, QEMU_VERSION, SOURCE_DATE_EPOCH.
func Bundle(ctx context.Context) error { return targets.Bundle(ctx) }

// Build cross-builds QEMU for Windows into a staging folder under the cache (the main job up to the build). Reads CROSS_PREFIX, JOBS, PYTHON, QEMUPACK_CACHE, QEMUPACK_CACHE_KEEP, QEMUPACK_DEPS, QEMUPACK_MIRROR, QEMUPACK_OFFLINE, QEMUPACK_PROFILE, QEMUPACK_SETUP, QEMUPACK_SUITES, QEMUPACK_SYSROOT, QEMU_TARGETS, QEMU_VERSION.
func Build(ctx context.Context) error { return targets.Build(ctx) }

// Deps builds (or finds cached) the mingw libraries the picked QEMU needs, from recipes/deps. Reads CROSS_PREFIX, JOBS, PYTHON, QEMUPACK_CACHE, QEMUPACK_CACHE_KEEP, QEMUPACK_DEPS, QEMUPACK_MIRROR, QEMUPACK_OFFLINE, QEMUPACK_PROFILE, QEMUPACK_SETUP, QEMUPACK_SUITES, QEMUPACK_SYSROOT, QEMU_TARGETS, QEMU_VERSION.
func Deps(ctx context.Context) error { return targets.Deps(ctx) }

// Archive writes dist/qemu-<version>-win64.zip (DLL closure, firmware, licences, README) and dist/SHA256SUMS, without the smoke test. Reads CROSS_PREFIX, JOBS, PYTHON, QEMUPACK_CACHE, QEMUPACK_CACHE_KEEP, QEMUPACK_DEPS, QEMUPACK_DIST, QEMUPACK_MIRROR, QEMUPACK_OFFLINE, QEMUPACK_PROFILE, QEMUPACK_SETUP, QEMUPACK_SUITES, QEMUPACK_SYSROOT, QEMU_TARGETS, QEMU_VERSION, SOURCE_DATE_EPOCH.
func Archive(ctx context.Context) error { return targets.Archive(ctx) }

// Smoke smoke-tests the archive the main job makes: unpacked into an empty folder, run under wine with a fresh prefix (natively on Windows): -version, -machine help, -L help, qemu-img --version, a TCG kernel boot. Reads CROSS_PREFIX, JOBS, PYTHON, QEMUPACK_CACHE, QEMUPACK_CACHE_KEEP, QEMUPACK_DEPS, QEMUPACK_DIST, QEMUPACK_MIRROR, QEMUPACK_OFFLINE, QEMUPACK_PROFILE, QEMUPACK_SETUP, QEMUPACK_SUITES, QEMUPACK_SYSROOT, QEMU_TARGETS, QEMU_VERSION, SOURCE_DATE_EPOCH.
func Smoke(ctx context.Context) error { return targets.Smoke(ctx) }

// SmokeFile runs the smoke checks on the given archive. Reads QEMUPACK_CACHE, QEMUPACK_OFFLINE.
func SmokeFile(ctx context.Context, archive string) error { return targets.SmokeFile(ctx, archive) }

// Release builds QEMU and writes the release files to dist/: the zip with its SBOM inside, the NSIS installer, <name>.spdx.json and SHA256SUMS, Authenticode-signed when a certificate is given. Reads CROSS_PREFIX, JOBS, PYTHON, QEMUPACK_CACHE, QEMUPACK_CACHE_KEEP, QEMUPACK_DEPS, QEMUPACK_DIST, QEMUPACK_MIRROR, QEMUPACK_OFFLINE, QEMUPACK_PROFILE, QEMUPACK_SETUP, QEMUPACK_SIGN_CERT, QEMUPACK_SIGN_KEY, QEMUPACK_SIGN_PASSWORD, QEMUPACK_SIGN_PFX, QEMUPACK_SIGN_TIMESTAMP_URL, QEMUPACK_SUITES, QEMUPACK_SYSROOT, QEMU_TARGETS, QEMU_VERSION, SOURCE_DATE_EPOCH.
func Release(ctx context.Context) error { return targets.Release(ctx) }

// Installer writes dist/qemu-<version>-win64-setup.exe (NSIS) with its SBOM, signed when a certificate is given. Reads CROSS_PREFIX, JOBS, PYTHON, QEMUPACK_CACHE, QEMUPACK_CACHE_KEEP, QEMUPACK_DEPS, QEMUPACK_DIST, QEMUPACK_MIRROR, QEMUPACK_OFFLINE, QEMUPACK_PROFILE, QEMUPACK_SETUP, QEMUPACK_SIGN_CERT, QEMUPACK_SIGN_KEY, QEMUPACK_SIGN_PASSWORD, QEMUPACK_SIGN_PFX, QEMUPACK_SIGN_TIMESTAMP_URL, QEMUPACK_SUITES, QEMUPACK_SYSROOT, QEMU_TARGETS, QEMU_VERSION, SOURCE_DATE_EPOCH.
func Installer(ctx context.Context) error { return targets.Installer(ctx) }

// Check reports the build toolchain: every missing tool or too-old library at once, each with the command that installs it; fails when no QEMU release can be built. Reads CROSS_PREFIX, JOBS, PYTHON, QEMUPACK_CACHE, QEMUPACK_CACHE_KEEP, QEMUPACK_DEPS, QEMUPACK_FORMAT, QEMUPACK_MIRROR, QEMUPACK_OFFLINE, QEMUPACK_PROFILE, QEMUPACK_SUITES, QEMUPACK_SYSROOT, QEMU_TARGETS, QEMU_VERSION.
func Check(ctx context.Context) error { return targets.Check(ctx) }

// Pick shows every QEMU release with whether this host can build it and obtain its source, and picks the newest that fits; last line "picked: qemu X.Y.Z". Reads CROSS_PREFIX, JOBS, PYTHON, QEMUPACK_CACHE, QEMUPACK_CACHE_KEEP, QEMUPACK_DEPS, QEMUPACK_FORMAT, QEMUPACK_MIRROR, QEMUPACK_OFFLINE, QEMUPACK_PROFILE, QEMUPACK_SUITES, QEMUPACK_SYSROOT, QEMU_TARGETS, QEMU_VERSION.
func Pick(ctx context.Context) error { return targets.Pick(ctx) }

// Catalog prints the QEMU release catalog: what each release requires of the toolchain and what verifies its upstream tarball. Reads QEMUPACK_FORMAT.
func Catalog() error { return targets.Catalog() }

// Test runs the whole test suite: installs the tools the tests use (as root on Debian/Ubuntu; elsewhere stops with the command), gathers the real source tarballs some tests build (once, into the cache), then go vet and go test ./... . Reads CROSS_PREFIX, PYTHON, QEMUPACK_CACHE, QEMUPACK_MIRROR, QEMUPACK_OFFLINE, QEMUPACK_SETUP, QEMUPACK_SUITES, QEMUPACK_SYSROOT, QEMUPACK_TEST_MIRROR.
func Test(ctx context.Context) error { return targets.Test(ctx) }

// Freshroot proves the README's commands on a fresh Debian 12 machine: each runs as root in its own debootstrap root with only Go, the CA bundle and a clone of HEAD added; prints each one's time, keeps its log, fails when one fails or /etc changed beyond installing packages. Reads QEMUPACK_CACHE, QEMUPACK_FRESH_COMMAND, QEMUPACK_FRESH_KEEP, QEMUPACK_SETUP.
func Freshroot(ctx context.Context) error { return targets.Freshroot(ctx) }

// Matrix prints, as one line of JSON for a CI job, the QEMU releases to build: the release QEMUPACK_TAG names, else the newest patch release of each of the QEMUPACK_MATRIX_SERIES newest series this toolchain can build. Reads CROSS_PREFIX, JOBS, PYTHON, QEMUPACK_CACHE, QEMUPACK_CACHE_KEEP, QEMUPACK_DEPS, QEMUPACK_MATRIX_SERIES, QEMUPACK_MIRROR, QEMUPACK_OFFLINE, QEMUPACK_PROFILE, QEMUPACK_SUITES, QEMUPACK_SYSROOT, QEMUPACK_TAG, QEMU_TARGETS, QEMU_VERSION.
func Matrix(ctx context.Context) error { return targets.Matrix(ctx) }

// ReleaseSums writes SHA256SUMS over every file in the dist folder (a release job runs it over the files all its matrix jobs made). Reads QEMUPACK_DIST.
func ReleaseSums() error { return targets.ReleaseSums() }

// Reprocheck builds the same inputs in two checkout copies with different paths and compares their dist/ files byte for byte, printing the first differing archive entry and any build path leaked into it. Reads JOBS, QEMUPACK_CACHE, QEMUPACK_REPRO_SECOND, QEMUPACK_REPRO_SHARE_DEPS, QEMUPACK_REPRO_TARGET, SOURCE_DATE_EPOCH.
func Reprocheck(ctx context.Context) error { return targets.Reprocheck(ctx) }

// Bench prints, as ratios measured in one run, the DLL closure against an objdump walk, a no-op bundle against mage -l, the archive stripped against unstripped, and (QEMUPACK_BENCH=cold, about an hour) the cold main job against a plain build script generated from the same recipes. Reads CROSS_PREFIX, JOBS, PYTHON, QEMUPACK_BENCH, QEMUPACK_CACHE, QEMUPACK_CACHE_KEEP, QEMUPACK_DEPS, QEMUPACK_DIST, QEMUPACK_MIRROR, QEMUPACK_OFFLINE, QEMUPACK_PROFILE, QEMUPACK_SUITES, QEMUPACK_SYSROOT, QEMU_TARGETS, QEMU_VERSION, SOURCE_DATE_EPOCH.
func Bench(ctx context.Context) error { return targets.Bench(ctx) }

// CATALOG holds catalog maintenance. (Its Go name differs from the Catalog
// target only in case: mage lowercases both, so `catalog` is the table and
// `catalog:refresh` the refresh.)
type CATALOG mg.Namespace

// Vm runs cloud images: a NoCloud seed with your SSH key, host keys pinned.
type Vm mg.Namespace

// Refresh rewrites recipes/qemu-releases.json from QEMU release trees or tarballs. Reads QEMUPACK_CACHE, QEMUPACK_CATALOG_SRC, QEMUPACK_OFFLINE.
func (CATALOG) Refresh(ctx context.Context) error { return targets.CatalogRefresh(ctx) }

// Up boots a cloud image with your SSH key injected and its host keys pinned. Reads QEMUPACK_CACHE, QEMUPACK_VM_ACCEL, QEMUPACK_VM_APPEND, QEMUPACK_VM_CPUS, QEMUPACK_VM_IMAGE, QEMUPACK_VM_INITRD, QEMUPACK_VM_KERNEL, QEMUPACK_VM_MAKESTEP, QEMUPACK_VM_MEM, QEMUPACK_VM_NAME, QEMUPACK_VM_PUBKEY, QEMUPACK_VM_QEMU, QEMUPACK_VM_QEMU_IMG, QEMUPACK_VM_RESTRICT, QEMUPACK_VM_SEED, QEMUPACK_VM_TIMEOUT.
func (Vm) Up(ctx context.Context) error { return targets.VMUp(ctx) }

// Ssh opens a shell in the VM (or runs QEMUPACK_VM_CMD), trusting only the host keys pinned at vm:up. Reads QEMUPACK_CACHE, QEMUPACK_VM_CMD, QEMUPACK_VM_NAME.
func (Vm) Ssh() error { return targets.VMSsh() }

// Down shuts the VM down (ACPI power button via QMP, killed after a timeout) and removes its overlay. Reads QEMUPACK_CACHE, QEMUPACK_VM_DOWN_TIMEOUT, QEMUPACK_VM_NAME.
func (Vm) Down(ctx context.Context) error { return targets.VMDown(ctx) }

// Status shows whether the VM runs, its ports, pinned host keys and logs. Reads QEMUPACK_CACHE, QEMUPACK_VM_NAME.
func (Vm) Status(ctx context.Context) error { return targets.VMStatus(ctx) }

// Image builds the small Debian test image (debootstrap + cloud-init + openssh + kernel) into the cache; needs root and Debian's archive. Reads QEMUPACK_CACHE.
func (Vm) Image(ctx context.Context) error { return targets.VMImage(ctx) }

// E2e proves the guest runner end to end: builds the Debian image, boots it under restrict=on with the seed over HTTP and then from a cidata ISO, checks key injection, host-key pinning and ssh. Reads QEMUPACK_CACHE, QEMUPACK_VM_ACCEL, QEMUPACK_VM_QEMU.
func (Vm) E2e(ctx context.Context) error { return targets.VME2e(ctx) }
