#!/bin/bash
# Lay out QEMU release trees from a git clone of QEMU (or of a fork that
# keeps its history), for
#   QEMUPACK_CATALOG_SRC=<dir> go run mage.go catalog:refresh
#
#   scripts/catalog-git-trees.sh GITDIR OUTDIR [NOTE]
#
# A release is a tag vX.Y.Z, or (in a fork without tags) a commit titled
# "Update version for ... release" whose VERSION reads X.Y.Z; candidates
# (X.Y.9N) are left out. Each tree holds every path by name (empty files)
# and the real text of the files the catalog parser reads; .qemupack-source
# says which repository and commit it came from.
set -euo pipefail
git_dir=${1:?usage: $0 GITDIR OUTDIR [NOTE]}
out=${2:?usage: $0 GITDIR OUTDIR [NOTE]}
note=${3:-$(git -C "$git_dir" config --get remote.origin.url || echo "$git_dir")}
mkdir -p "$out"

releases() {
  git -C "$git_dir" tag -l 'v[0-9]*' | grep -E '^v([5-9]|[1-9][0-9])\.[0-9]+\.[0-9]+$' |
    while read -r tag; do echo "$(git -C "$git_dir" rev-parse "$tag^{commit}") $tag"; done || true
  git -C "$git_dir" log --all --format='%H %s' -- VERSION | grep -iE 'update version for .*release|update version for v' |
    while read -r h _; do echo "$h -"; done || true
}

releases | while read -r commit tag; do
  v=$(git -C "$git_dir" show "$commit:VERSION" 2>/dev/null | tr -d '[:space:]') || continue
  echo "$v" | grep -qE '^([5-9]|[1-9][0-9])\.[0-9]+\.([0-9]|[1-8][0-9])$' || continue
  dest="$out/qemu-$v"
  [ -e "$dest" ] && continue
  mkdir -p "$dest"
  git -C "$git_dir" ls-tree -r --name-only "$commit" > "$dest.names"
  (cd "$dest" && sed -n 's|/[^/]*$||p' "$dest.names" | sort -u | xargs -r -d '\n' mkdir -p &&
    xargs -r -d '\n' touch < "$dest.names")
  rm -f "$dest.names"
  for f in VERSION configure meson.build pythondeps.toml .gitmodules scripts/make-release; do
    if git -C "$git_dir" cat-file -e "$commit:$f" 2>/dev/null; then
      git -C "$git_dir" show "$commit:$f" > "$dest/$f"
    fi
  done
  echo "$note@$commit${tag:+ ($tag)}" | sed 's/ (-)$//' > "$dest/.qemupack-source"
  echo "qemu-$v <- $commit"
done
