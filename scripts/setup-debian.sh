#!/usr/bin/env bash
# Installs what qemupack needs on Debian 12 / Ubuntu: the mingw cross
# toolchain, meson/ninja, wine (to run what we build), the firmware packages
# the bundle copies, and the tools the guest tests use. Enables deb-src so
# the offline path (`apt-get source`) works. Run as root.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "setup-debian.sh: run as root (sudo $0)" >&2
  exit 1
fi
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && sed -i 's/^Types: deb$/Types: deb deb-src/' "$f"
done
if [ -f /etc/apt/sources.list ] && grep -q '^deb ' /etc/apt/sources.list && ! grep -q '^deb-src ' /etc/apt/sources.list; then
  sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >> /etc/apt/sources.list
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
  gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 binutils-mingw-w64-x86-64 libz-mingw-w64-dev \
  meson ninja-build pkg-config bison flex make python3 gettext autoconf automake libtool \
  dpkg-dev xz-utils bzip2 patch ca-certificates \
  wine wine64 seabios ipxe-qemu qemu-system-data \
  qemu-system-x86 qemu-utils debootstrap openssh-client \
  nsis osslsigncode shellcheck genisoimage
