#!/usr/bin/env bash
# Installs the lifeline edge agent on Raspberry Pi OS (or any Debian with systemd) as a service.
# Run as root on the Pi, from a copy of the repo's deploy/ folder, with the release tarballs
# made by deploy/make-release.sh (see docs/operations.md):
#
#   sudo deploy/pi/install.sh [OPTIONS] lifeline-shared-VERSION.tgz lifeline-edge-agent-VERSION.tgz
#
# Safe to run again, to upgrade to new tarballs or to finish a run that failed. An existing
# /etc/lifeline/agent.yaml is kept; without one, the values below are asked for on a terminal,
# or taken from these flags (all of them needed when there is no terminal, e.g. unattended):
#
#   --relay-host HOST         the relay's name or address
#   --relay-port PORT         the relay's port (default 443)
#   --fingerprint SHA256:...  the relay's host key (lifeline-relay fingerprint --config relay.yaml)
#   --device ID               this device's id, as in the relay's devices[].id
#   --console PATH            serial device (default: the first /dev/serial/by-id/ entry)
#   --baud-rate N             console speed (default 9600)
#   --dry-run                 print what would be done and change nothing (needs no root)
#   -h, --help                this text
#
# DESTDIR=/some/dir puts every file below that folder instead of / (only with --dry-run: the
# service itself always uses /etc/lifeline and /var/lib/lifeline).
set -euo pipefail

readonly USER_NAME=lifeline
readonly RUNTIME_CONFIG=/etc/lifeline/agent.yaml
readonly RUNTIME_KEY=/var/lib/lifeline/agent_ed25519
readonly RUNTIME_BIN=/opt/lifeline/node_modules/.bin/lifeline-agent
readonly MIN_NODE=20
DESTDIR=${DESTDIR:-}
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
unit_source="$script_dir/../systemd/lifeline-agent.service"

dry_run=false
relay_host="" relay_port="" fingerprint="" device="" console_path="" baud_rate=""
tarballs=()

say() { printf '==> %s\n' "$*"; }
warn() { printf 'install.sh: warning: %s\n' "$*" >&2; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit "${2:-1}"; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

# Runs a command, or in a dry run prints it. Every change to the system goes through here or write_file.
run() {
  if $dry_run; then
    printf '+ %s\n' "$(printf '%q ' "$@" | sed 's/ $//')"
  else
    "$@"
  fi
}

# write_file PATH MODE OWNER GROUP CONTENT: writes atomically with the given mode and owner.
write_file() {
  local path=$1 mode=$2 owner=$3 group=$4 content=$5
  if $dry_run; then
    printf '+ write %s (mode %s, %s:%s):\n' "$path" "$mode" "$owner" "$group"
    printf '%s\n' "$content" | sed 's/^/    /'
    return
  fi
  local tmp
  tmp=$(mktemp "$(dirname "$path")/.install.XXXXXX")
  printf '%s\n' "$content" >"$tmp"
  chown "$owner:$group" "$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$path"
}

parse_args() {
  while [ "$#" -gt 0 ]; do
    local arg=$1 value=""
    case $arg in
      --*=*) value=${arg#*=}; arg=${arg%%=*} ;;
      --relay-host | --relay-port | --fingerprint | --device | --console | --baud-rate)
        [ "$#" -ge 2 ] || die "$arg needs a value" 2
        value=$2
        shift ;;
    esac
    case $arg in
      --relay-host) relay_host=$value ;;
      --relay-port) relay_port=$value ;;
      --fingerprint) fingerprint=$value ;;
      --device) device=$value ;;
      --console) console_path=$value ;;
      --baud-rate) baud_rate=$value ;;
      --dry-run) dry_run=true ;;
      -h | --help) usage; exit 0 ;;
      -*) die "unknown option $arg (see --help)" 2 ;;
      *) tarballs+=("$arg") ;;
    esac
    shift
  done
}

check_tarballs() {
  [ "${#tarballs[@]}" -gt 0 ] || die "give the release tarballs to install (see --help)" 2
  local t have_agent=false have_shared=false
  for t in "${tarballs[@]}"; do
    [ -f "$t" ] || die "no such file: $t" 2
    case $(basename "$t") in
      lifeline-edge-agent-*.tgz) have_agent=true ;;
      lifeline-shared-*.tgz) have_shared=true ;;
      *.tgz) ;;
      *) die "not an npm pack tarball (.tgz): $t" 2 ;;
    esac
  done
  $have_agent || die "no lifeline-edge-agent-*.tgz among the tarballs (make them with deploy/make-release.sh)" 2
  $have_shared || die "no lifeline-shared-*.tgz among the tarballs: the agent needs it (make them with deploy/make-release.sh)" 2
}

# ask VAR PROMPT [DEFAULT]: on a terminal, asks for a value that no flag gave.
ask() {
  local var=$1 prompt=$2 default=${3:-} answer
  [ -z "${!var}" ] || return 0
  if [ -t 0 ]; then
    read -r -p "$prompt${default:+ [$default]}: " answer
    printf -v "$var" '%s' "${answer:-$default}"
  else
    printf -v "$var" '%s' "$default"
  fi
}

gather_config_values() {
  local detected=/dev/ttyUSB0 first
  for first in /dev/serial/by-id/*; do
    [ -e "$first" ] && detected=$first
    break
  done
  ask relay_host 'Relay host name or address'
  ask relay_port 'Relay port' 443
  ask fingerprint 'Relay host key fingerprint (SHA256:..., from lifeline-relay fingerprint)'
  ask device 'Device id (as in the relay'"'"'s devices[].id)'
  ask console_path 'Serial console device' "$detected"
  ask baud_rate 'Console baud rate' 9600

  local missing=()
  [ -n "$relay_host" ] || missing+=(--relay-host)
  [ -n "$fingerprint" ] || missing+=(--fingerprint)
  [ -n "$device" ] || missing+=(--device)
  [ "${#missing[@]}" -eq 0 ] || die "no $RUNTIME_CONFIG yet and no terminal to ask on: give ${missing[*]}" 2

  [[ $relay_host =~ ^[A-Za-z0-9._:-]+$ ]] || die "relay host \"$relay_host\" is not a host name or address" 2
  if ! [[ $relay_port =~ ^[0-9]{1,5}$ ]] || [ "$relay_port" -lt 1 ] || [ "$relay_port" -gt 65535 ]; then
    die "relay port \"$relay_port\" is not 1 to 65535" 2
  fi
  [[ $fingerprint =~ ^SHA256:[A-Za-z0-9+/]{43}$ ]] || die "fingerprint \"$fingerprint\" is not SHA256: and 43 characters, as lifeline-relay fingerprint prints it" 2
  [[ $device =~ ^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$ ]] || die "device id \"$device\" may have letters, digits and . _ @ - only (64 at most)" 2
  [[ $console_path =~ ^/[^\"\\[:cntrl:]]*$ ]] || die "console \"$console_path\" is not an absolute device path" 2
  [[ $baud_rate =~ ^[1-9][0-9]*$ ]] || die "baud rate \"$baud_rate\" is not a positive number" 2
}

agent_yaml() {
  cat <<EOF
# lifeline edge agent, written by deploy/pi/install.sh. Every key: docs/config.md
relay: { host: "$relay_host", port: $relay_port, hostKey: "$fingerprint" }
device: "$device"
keyFile: $RUNTIME_KEY
# Prefer a /dev/serial/by-id/ path: /dev/ttyUSB0 can become ttyUSB1 after a reboot.
console: { type: serial, path: "$console_path", baudRate: $baud_rate }
EOF
}

# The install folder's own package.json: allowScripts lets npm 11+ build the native modules
# (older npm ignores the field). Rewritten each run so the tarballs given now replace earlier ones.
opt_package_json() {
  cat <<'EOF'
{
  "name": "lifeline-install",
  "private": true,
  "description": "The lifeline edge agent as installed by deploy/pi/install.sh.",
  "allowScripts": { "@serialport/bindings-cpp": true, "epoll": true, "ssh2": true, "cpu-features": true }
}
EOF
}

node_major() {
  command -v node >/dev/null 2>&1 || { echo 0; return; }
  node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

ensure_packages() {
  local p missing=()
  for p in "$@"; do installed "$p" || missing+=("$p"); done
  [ "${#missing[@]}" -eq 0 ] && { say "packages present: $*"; return; }
  run apt-get update
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

ensure_node() {
  local have candidate
  have=$(node_major)
  if [ "$have" -ge "$MIN_NODE" ]; then
    say "Node.js $(node --version) found"
  else
    candidate=$(apt-cache policy nodejs 2>/dev/null | awk '/Candidate:/ { print $2 }')
    candidate=${candidate#*:}
    if [[ ${candidate%%.*} =~ ^[0-9]+$ ]] && [ "${candidate%%.*}" -ge "$MIN_NODE" ]; then
      ensure_packages nodejs
    else
      die "Node.js $MIN_NODE or newer is needed (found: ${have/#0/none}; Debian offers: ${candidate:-nothing}).
  Install it, then run this again. On a Pi 2/3/4/5 (ARMv7, ARM64), from NodeSource:
    curl -fsSL https://deb.nodesource.com/setup_20.x | bash - && apt-get install -y nodejs
  On a Pi Zero or Pi 1 (ARMv6), use an armv6l build from https://unofficial-builds.nodejs.org/"
    fi
  fi
  command -v npm >/dev/null 2>&1 || ensure_packages npm
  # onoff's epoll (status LED) is compiled on install; serialport brings prebuilt binaries.
  ensure_packages make g++ python3
}

ensure_user() {
  if getent group gpio >/dev/null; then :; else
    warn "no gpio group (not a Raspberry Pi?): creating one, as the service asks for it"
    run groupadd --system gpio
  fi
  if id -u "$USER_NAME" >/dev/null 2>&1; then
    say "user $USER_NAME exists"
  else
    run useradd --system --user-group --home-dir /var/lib/lifeline --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
  fi
  local group
  for group in dialout gpio; do run usermod --append --groups "$group" "$USER_NAME"; done
}

ensure_dirs() {
  run install -d -m 0750 -o root -g "$USER_NAME" "$DESTDIR/etc/lifeline"
  run install -d -m 0700 -o "$USER_NAME" -g "$USER_NAME" "$DESTDIR/var/lib/lifeline"
  run install -d -m 0755 -o root -g root "$DESTDIR/opt/lifeline" "$DESTDIR/opt/lifeline/releases"
}

install_agent() {
  local t names=()
  for t in "${tarballs[@]}"; do
    run install -m 0644 -o root -g root "$t" "$DESTDIR/opt/lifeline/releases/"
    names+=("./releases/$(basename "$t")")
  done
  write_file "$DESTDIR/opt/lifeline/package.json" 0644 root root "$(opt_package_json)"
  run npm install --prefix "$DESTDIR/opt/lifeline" --omit=dev --no-audit --no-fund --no-update-notifier "${names[@]}"
  run install -d -m 0755 "$DESTDIR/usr/local/bin"
  run ln -sfn "$RUNTIME_BIN" "$DESTDIR/usr/local/bin/lifeline-agent"
}

install_config() {
  local config="$DESTDIR$RUNTIME_CONFIG"
  if [ -e "$config" ]; then
    say "keeping the existing $config"
  else
    write_file "$config" 0640 root "$USER_NAME" "$(agent_yaml)"
  fi
}

# Prints the agent's public key for enrolment. Run as the service user, so a key it creates is its own.
show_public_key() {
  local key id
  if $dry_run; then
    run runuser -u "$USER_NAME" -- "$RUNTIME_BIN" pubkey --config "$RUNTIME_CONFIG"
    return
  fi
  if ! key=$(runuser -u "$USER_NAME" -- "$RUNTIME_BIN" pubkey --config "$RUNTIME_CONFIG"); then
    die "lifeline-agent could not use $RUNTIME_CONFIG (see above): fix it and run this again"
  fi
  id=$(sed -n 's/^device: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' "$RUNTIME_CONFIG")
  say "the agent's public key:"
  printf '\n    %s\n\n' "$key"
  say "enrol it on the relay: add to relay.yaml under devices:, then restart the relay"
  printf '\n  - id: %s\n    agentKey: "%s"\n\n' "${id:-<device id>}" "$key"
}

start_service() {
  [ -f "$unit_source" ] || die "no $unit_source: copy the whole deploy/ folder, not just install.sh"
  run install -D -m 0644 -o root -g root "$unit_source" "$DESTDIR/etc/systemd/system/lifeline-agent.service"
  run systemctl daemon-reload
  run systemctl enable lifeline-agent.service
  # restart, not start: after an upgrade the new version must take over.
  run systemctl restart lifeline-agent.service
  $dry_run || say "lifeline-agent is running; follow it with: journalctl -u lifeline-agent -f"
}

main() {
  parse_args "$@"
  $dry_run && say "dry run: nothing is changed"
  if ! $dry_run; then
    [ "$(id -u)" -eq 0 ] || die "run this as root (sudo $0 ...)"
    [ -z "$DESTDIR" ] || die "DESTDIR is only for --dry-run"
  fi
  check_tarballs
  # Ask everything before changing anything, so a typo does not leave half an install.
  [ -e "$DESTDIR$RUNTIME_CONFIG" ] || gather_config_values

  ensure_node
  ensure_user
  ensure_dirs
  install_agent
  install_config
  show_public_key
  start_service
}

main "$@"
