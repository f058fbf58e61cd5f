#!/usr/bin/env bash
# Builds release tarballs (`npm pack` output) of lifeline's packages, for deploy/pi/install.sh and
# for installing the relay without a container.
#
#   deploy/make-release.sh OUTDIR [PACKAGE...]     PACKAGE: shared, edge-agent, relay (default: all)
#
# Run from a checkout after `npm ci`. Plain `npm pack -w packages/X` would leave out dist/ (the
# root .gitignore lists it and the packages have no "files" list), so each package is staged as
# package.json + bin/ + dist/ and packed from there.
set -euo pipefail

usage() {
  sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
}

if [ "$#" -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  usage
  [ "$#" -ge 1 ] && exit 0
  exit 2
fi

out=$1
shift
packages=("$@")
[ "${#packages[@]}" -gt 0 ] || packages=(shared edge-agent relay)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)

projects=()
for p in "${packages[@]}"; do
  [ -f "$root/packages/$p/package.json" ] || { echo "make-release: no package \"$p\" in $root/packages" >&2; exit 2; }
  projects+=("packages/$p")
done
# Build just these projects (and what they reference), so one package's build does not wait on another's.
(cd "$root" && npx tsc -b "${projects[@]}")

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
for p in "${packages[@]}"; do
  src="$root/packages/$p"
  dst="$stage/$p"
  mkdir -p "$dst"
  cp "$src/package.json" "$dst/"
  [ -d "$src/bin" ] && cp -R "$src/bin" "$dst/"
  cp -R "$src/dist" "$dst/"
  # Tests and contract suites are not built into dist, but an old build may have left some behind.
  find "$dst/dist" \( -name '*.test.*' -o -name '*.contract.*' \) -delete
  (cd "$dst" && npm pack --ignore-scripts --loglevel=warn --pack-destination "$out" >/dev/null)
done
ls -1 "$out"/*.tgz
