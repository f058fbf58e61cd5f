#!/usr/bin/env bash
# Installs the lifeline edge agent on Raspberry Pi OS (or any Debian with systemd) from its Debian
# package, writes /etc/lifeline/agent.yaml, checks the relay's host key and starts the service.
# Needs the package and the distribution's own archive (for nodejs), nothing else:
#
#   sudo deploy/pi/install.sh [OPTIONS] lifeline-agent_VERSION_all.deb
#
# Safe to run again, to upgrade to a new package or to finish a run that failed. An existing
# /etc/lifeline/agent.yaml is kept; without one, the values below are asked for on a terminal,
# or taken from these flags (all of them needed when there is no terminal, e.g. unattended):
#
#   --relay-host HOST         the relay's name or address
#   --relay-port PORT         the relay's port (default 443)
#   --fingerprint SHA256:...  the relay's host key (lifeline-relay fingerprint --config relay.yaml);
#                             checked against the relay when it can be reached
#   --device ID               this device's id, as in the relay's devices[].id
#   --console PATH            serial device (default: the one /dev/serial/by-id/ entry)
#   --baud-rate N             console speed (default 9600)
#   --led-gpio PIN            status LED on this BCM GPIO pin (default: the board's ACT LED)
#   --dry-run                 print what would be done and change nothing (needs no root)
#   -h, --help                this text
#
# DESTDIR=/some/dir puts every file below that folder instead of / (only with --dry-run: the
# service itself always uses /etc/lifeline and /var/lib/lifeline).
set -euo pipefail

readonly USER_NAME=lifeline
readonly RUNTIME_CONFIG=/etc/lifeline/agent.yaml
readonly AGENT=/usr/bin/lifeline-agent
# The package's Depends; Debian 13 (trixie) and Raspberry Pi OS based on it have it.
readonly MIN_NODEJS=20.19
DESTDIR=${DESTDIR:-}
BY_ID=${LIFELINE_SERIAL_BY_ID:-/dev/serial/by-id}
LEDS=${LIFELINE_SYS_LEDS:-/sys/class/leds}

dry_run=false
leftover=""
trap '[ -z "$leftover" ] || rm -f "$leftover"' EXIT
relay_host="" relay_port="" fingerprint="" device="" console_path="" baud_rate="" led_gpio="" deb=""

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
      --relay-host | --relay-port | --fingerprint | --device | --console | --baud-rate | --led-gpio)
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
      --led-gpio) led_gpio=$value ;;
      --dry-run) dry_run=true ;;
      -h | --help) usage; exit 0 ;;
      -*) die "unknown option $arg (see --help)" 2 ;;
      *) [ -z "$deb" ] || die "one package only: $deb and $arg" 2; deb=$arg ;;
    esac
    shift
  done
}

check_package() {
  [ -n "$deb" ] || die "give the lifeline-agent package to install (lifeline-agent_VERSION_all.deb, see --help)" 2
  [ -f "$deb" ] || die "no such file: $deb" 2
  case $(basename "$deb") in
    lifeline-agent_*_all.deb) ;;
    *.tgz) die "$deb is a release tarball of an older lifeline: this installer takes lifeline-agent_VERSION_all.deb (deploy/make-release.sh)" 2 ;;
    *) die "not the lifeline-agent package (lifeline-agent_VERSION_all.deb): $deb" 2 ;;
  esac
  # apt-get treats only a path with a slash as a file.
  deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
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

# The serial device by its stable /dev/serial/by-id/ name: /dev/ttyUSB0 can become ttyUSB1 after a
# reboot. A /dev/ttyUSB* given is swapped for the by-id name pointing at it; with none given, the
# only adapter plugged in is taken, and with several a person must choose.
choose_console() {
  local links=() link
  for link in "$BY_ID"/*; do [ -e "$link" ] && links+=("$link"); done
  if [ -n "$console_path" ]; then
    for link in "${links[@]}"; do
      if [ "$(readlink -f "$link")" = "$(readlink -f "$console_path")" ] && [ "$link" != "$console_path" ]; then
        say "using $link, the stable name of $console_path"
        console_path=$link
        return
      fi
    done
    return
  fi
  case ${#links[@]} in
    0) warn "no serial adapter in $BY_ID: plug it in, or give --console; using /dev/ttyUSB0 for now"
       ask console_path 'Serial console device' /dev/ttyUSB0 ;;
    1) console_path=${links[0]}; say "serial console: $console_path" ;;
    *) [ -t 0 ] || die "several serial adapters in $BY_ID: give --console with one of: ${links[*]}" 2
       printf '  %s\n' "${links[@]}"
       ask console_path 'Serial console device (one of the above)' "${links[0]}" ;;
  esac
}

gather_config_values() {
  ask relay_host 'Relay host name or address'
  ask relay_port 'Relay port' 443
  ask fingerprint 'Relay host key fingerprint (SHA256:..., from lifeline-relay fingerprint)'
  ask device 'Device id (as in the relay'"'"'s devices[].id)'
  choose_console
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
  if [ -n "$led_gpio" ] && ! { [[ $led_gpio =~ ^[0-9]{1,2}$ ]] && [ "$led_gpio" -le 53 ]; }; then
    die "--led-gpio \"$led_gpio\" is not a BCM GPIO number (0 to 53)" 2
  fi
}

# The status LED line of agent.yaml: a GPIO pin when given, else the board's ACT LED (led0 on
# Raspberry Pi OS Bullseye and older). The package's udev rule lets group gpio drive either.
led_config() {
  if [ -n "$led_gpio" ]; then
    printf '{ type: gpio, pin: %s }' "$led_gpio"
  elif [ ! -e "$LEDS/ACT" ] && [ -e "$LEDS/led0" ]; then
    printf '{ type: sysfs-led, name: led0 }'
  else
    [ -e "$LEDS/ACT" ] || warn "no ACT LED in $LEDS (not a Raspberry Pi?): the agent will log its LED pattern instead"
    printf '{ type: sysfs-led, name: ACT }'
  fi
}

agent_yaml() {
  cat <<EOF
# lifeline edge agent, written by deploy/pi/install.sh. Every key: /usr/share/doc/lifeline-agent/config.md
relay: { host: "$relay_host", port: $relay_port, hostKey: "$fingerprint" }
device: "$device"
# The agent's key is /var/lib/lifeline/agent_ed25519 (stateDir and keyFile defaults).
# A /dev/serial/by-id/ path: /dev/ttyUSB0 can become ttyUSB1 after a reboot.
console: { type: serial, path: "$console_path", baudRate: $baud_rate }
# The field card: /usr/share/doc/lifeline-agent/status-led.md
status:
  led: $(led_config)
EOF
}

# Compares dotted versions: true when $1 >= $2.
version_at_least() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

# apt would refuse the package without a new enough nodejs; say so plainly, before any change.
check_nodejs_offered() {
  local candidate
  candidate=$(apt-cache policy nodejs 2>/dev/null | awk '/Candidate:/ { print $2 }')
  candidate=${candidate#*:}
  if [ -z "$candidate" ] || [ "$candidate" = "(none)" ]; then
    warn "apt knows no nodejs package yet; apt-get update may find it"
  elif ! version_at_least "${candidate%%[-~+]*}" "$MIN_NODEJS"; then
    local problem="this system's archive offers nodejs $candidate; lifeline-agent needs $MIN_NODEJS or newer: Debian 13 (trixie), or Raspberry Pi OS based on it"
    $dry_run || die "$problem"
    warn "$problem (a real run stops here)"
  fi
}

install_package() {
  run apt-get update
  # From the distribution's archive only: apt takes nodejs (and nothing from npm) for the package.
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y "$deb"
}

# Checks the fingerprint against the relay with the agent's own host-key check, before the config
# is written: a mismatch stops the install, showing both; an unreachable relay is only a warning.
check_relay_key() {
  local config=$1 rc=0
  if $dry_run; then
    run "$AGENT" check-relay --config "$config"
    return
  fi
  "$AGENT" check-relay --config "$config" || rc=$?
  case $rc in
    0) ;;
    69) warn "cannot reach the relay now to check its host key (see above); the agent will keep trying" ;;
    *) die "the relay's host key is not the one given: check --fingerprint (lifeline-relay fingerprint on the relay), then run this again" ;;
  esac
}

install_config() {
  local config="$DESTDIR$RUNTIME_CONFIG"
  if [ -e "$config" ]; then
    say "keeping the existing $config"
    check_relay_key "$RUNTIME_CONFIG"
    return
  fi
  # Written aside first: agent.yaml appears only once the relay's key checked out (or could not be checked).
  local candidate=$config
  if ! $dry_run; then
    candidate=$(mktemp /etc/lifeline/.agent.yaml.XXXXXX)
    leftover=$candidate
  fi
  write_file "$candidate" 0640 root "$USER_NAME" "$(agent_yaml)"
  check_relay_key "$candidate"
  if ! $dry_run; then
    mv -f "$candidate" "$config"
    leftover=""
  fi
}

# Prints the agent's public key for enrolment. Run as the service user, so the key is its own.
show_public_key() {
  local key id
  if $dry_run; then
    run runuser -u "$USER_NAME" -- "$AGENT" pubkey --generate --config "$RUNTIME_CONFIG"
    return
  fi
  key=$(runuser -u "$USER_NAME" -- "$AGENT" pubkey --generate --config "$RUNTIME_CONFIG") \
    || die "lifeline-agent could not use $RUNTIME_CONFIG (see above): fix it and run this again"
  say "the agent's public key:"
  printf '\n    %s\n\n' "$key"
  say "enrol it on the relay: add to relay.yaml under devices:, then restart the relay"
  id=${device:-$(sed -n 's/^device: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' "$RUNTIME_CONFIG")}
  printf '\n  - id: %s\n    agentKey: "%s"\n\n' "${id:-<device id>}" "$key"
}

start_service() {
  run systemctl enable lifeline-agent.service
  if ! $dry_run && [ ! -d /run/systemd/system ]; then
    # A chroot or an image being built: enabled, it starts on the first boot.
    warn "systemd is not running here: lifeline-agent is enabled and starts at the next boot"
    return
  fi
  # restart, not start: after an upgrade or a new config the new one must take over.
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
  check_package
  # Ask everything before changing anything, so a typo does not leave half an install.
  [ -e "$DESTDIR$RUNTIME_CONFIG" ] || gather_config_values
  check_nodejs_offered

  install_package
  install_config
  show_public_key
  start_service
}

main "$@"
