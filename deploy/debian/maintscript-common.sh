# shellcheck shell=sh
# Shared by the lifeline packages' maintainer scripts: deploy/make-release.sh puts this file in
# place of the #LIFELINE_COMMON# line of each script (as debhelper does with #DEBHELPER#), so the
# installed scripts need nothing from outside the package.

# The system user both programs run as; its home is the state folder.
lifeline_ensure_user() {
  if ! getent group lifeline >/dev/null; then
    groupadd --system lifeline
  fi
  if ! getent passwd lifeline >/dev/null; then
    useradd --system --gid lifeline --home-dir /var/lib/lifeline --no-create-home \
      --shell /usr/sbin/nologin --comment "lifeline console relay" lifeline
  fi
}

# /etc/lifeline root:lifeline 0750 (configs hold password hashes), /var/lib/lifeline lifeline 0700
# (keys, recordings). Modes are set on every configure: an upgrade repairs a loosened folder.
lifeline_ensure_dirs() {
  install -d -m 0750 -o root -g lifeline /etc/lifeline
  install -d -m 0700 -o lifeline -g lifeline /var/lib/lifeline
}

# True when systemd is the running init (not in a chroot, a container build or under sysvinit).
lifeline_systemd_running() {
  [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1
}

# lifeline_unit_disable UNIT: removes the enablement links, with or without a running systemd.
lifeline_unit_disable() {
  if command -v deb-systemd-helper >/dev/null 2>&1; then
    deb-systemd-helper purge "$1" >/dev/null 2>&1 || true
  fi
  if command -v systemctl >/dev/null 2>&1; then
    systemctl --quiet disable "$1" >/dev/null 2>&1 || true
  fi
}
