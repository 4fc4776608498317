#!/usr/bin/env bash
# Builds the Debian package of hqrooms (docs/package.md):
#   scripts/package.sh [OUTDIR]      (default: build/package)
# from the files of this checkout (tracked, and new ones git does not
# ignore), in a scratch copy, with dpkg-buildpackage.  Needs the packages
# scripts/setup.sh installs (debhelper among them).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-build/package}")
version=$(sed -n '1s/^hqrooms (\([^)]*\)).*/\1/p' debian/changelog)
work=$(mktemp -d "${TMPDIR:-/tmp}/hqrooms-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
src="$work/hqrooms-${version%-*}"
mkdir -p "$src" "$out"
git ls-files -z --cached --others --exclude-standard \
  | while IFS= read -r -d '' f; do
      [ -e "$f" ] || continue  # deleted in the working tree
      mkdir -p "$src/$(dirname "$f")"
      cp -a "$f" "$src/$f"
    done
(cd "$src" && dpkg-buildpackage -b -us -uc -j"$(nproc)" >"$work/build.log" 2>&1) || {
  tail -n 60 "$work/build.log" >&2
  echo "package: dpkg-buildpackage failed (log above)" >&2
  exit 1
}
cp "$work"/hqrooms_"$version"_*.deb "$out/"
ls "$out"/hqrooms_"$version"_*.deb
