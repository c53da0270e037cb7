#!/usr/bin/env bash
# A convenience, not a step: neither `go run mage.go bundle` nor `go run
# mage.go test` needs it. Run as root on Debian/Ubuntu, those commands
# install what they lack themselves. This script is for running them as a
# normal user (a CI runner with sudo, a desk machine): it installs at once
# everything qemupack's jobs use here, the build toolchain, wine for the
# smoke test, nsis and osslsigncode for the release files, and the test
# suite's tools. The list is theirs (internal/host, shown by `go run
# mage.go check`); `go run ./cmd/hostneeds` prints what this machine lacks.
# Nothing under /etc changes beyond what installing the packages does.
#
#   bash scripts/setup-debian.sh                      # everything
#   bash scripts/setup-debian.sh smoke,release,sign   # the toolchain and these jobs' needs
#   bash scripts/setup-debian.sh ""                   # the toolchain alone
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v go >/dev/null; then
  echo "setup-debian.sh: Go is not on PATH (under sudo, keep it: sudo env PATH=\"\$PATH\" bash $0)" >&2
  exit 1
fi
args=()
if [ $# -gt 0 ]; then
  args=(-jobs "$1")
fi
pkgs=$(go run ./cmd/hostneeds "${args[@]}")
if [ -z "$pkgs" ]; then
  echo "setup-debian.sh: nothing to install"
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  sudo=sudo
fi
echo "setup-debian.sh: installing $pkgs"
# shellcheck disable=SC2086 # one word per package
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $pkgs ||
  { $sudo apt-get update -q && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $pkgs; }
