#!/bin/bash
# Lay out QEMU release trees from Debian's source packages, for
# `QEMUPACK_CATALOG_SRC=<dir> go run mage.go catalog:refresh` on a machine
# that reaches Debian's archive but not download.qemu.org.
#
#   scripts/catalog-debian-trees.sh DIR
#
# DIR gets Debian's orig tarballs (parsed as they are) and one folder per
# 7.2 point release: the 7.2 orig tree's build files plus the upstream
# stable diffs (v7.2.N.diff) Debian's bookworm package carries, applied in
# order. Each folder says where it came from in .qemupack-source.
set -euo pipefail
out=${1:?usage: $0 DIR}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Orig tarballs by suite; a version the archive no longer serves is reported and skipped.
origs="qemu_5.2+dfsg.orig.tar.xz qemu_7.2+dfsg.orig.tar.xz qemu_10.0.2+ds.orig.tar.xz
qemu_10.0.13+ds.orig.tar.xz qemu_10.2.2+ds.orig.tar.xz qemu_11.1.2+ds.orig.tar.xz qemu_11.1.3+ds.orig.tar.xz"
for f in $origs; do
  if [ -s "$out/$f" ]; then continue; fi
  echo "downloading $f"
  curl -fsS -o "$work/$f" "$mirror/pool/main/q/qemu/$f" && mv "$work/$f" "$out/$f" || echo "  not served by $mirror: skipped"
done

deb=qemu_7.2+dfsg-7+deb12u18.debian.tar.xz
echo "downloading $deb"
curl -fsS -o "$work/$deb" "$mirror/pool/main/q/qemu/$deb"
mkdir -p "$work/deb" "$work/tree/scripts"
tar -xJf "$work/$deb" -C "$work/deb"
files="VERSION configure meson.build .gitmodules scripts/make-release"
for f in $files; do
  tar -xJf "$out/qemu_7.2+dfsg.orig.tar.xz" -C "$work/tree" --strip-components=1 "qemu-7.2.0/$f"
done
tar -tJf "$out/qemu_7.2+dfsg.orig.tar.xz" | sed -n 's|^qemu-7.2.0/\(subprojects/[^/]*\)/\{0,1\}$|\1|p' |
  while read -r p; do mkdir -p "$work/tree/$p"; done

# Keep only the sections of a git diff that touch the files above.
keep() {
  awk -v want=" $files " '
    /^diff --git / { keep = index(want, " " substr($4, 3) " ") > 0 }
    keep' "$1"
}
n=1
while [ -f "$work/deb/debian/patches/v7.2.$n.diff" ]; do
  keep "$work/deb/debian/patches/v7.2.$n.diff" > "$work/v.diff"
  (cd "$work/tree" && patch -s -p1 < "$work/v.diff")
  v=$(cat "$work/tree/VERSION")
  [ "$v" = "7.2.$n" ] || { echo "after v7.2.$n.diff VERSION says $v" >&2; exit 1; }
  rm -rf "$out/qemu-$v"
  cp -a "$work/tree" "$out/qemu-$v"
  echo "Debian qemu_7.2+dfsg.orig.tar.xz (upstream 7.2.0 less non-free parts) + upstream stable diffs v7.2.1..v7.2.$n from Debian's qemu 1:7.2+dfsg-7+deb12u18 (debian/patches)" > "$out/qemu-$v/.qemupack-source"
  n=$((n + 1))
done
echo "release trees and tarballs in $out: QEMUPACK_CATALOG_SRC=$out go run mage.go catalog:refresh"
