#!/usr/bin/env bash
# Installs the Debian 12 packages hqrooms needs to build, run and test, when
# any is missing.  A no-op (no apt call at all) when everything is there
# and apt has its package lists.
# Run as root, or with sudo available.  The `setup` test
# (scripts/gst-deps.py check) fails when the code uses a GStreamer element,
# a program or a Python module that none of these packages provides.
set -euo pipefail

packages=(
  build-essential meson ninja-build pkg-config git python3 clang-format
  libglib2.0-dev libjson-glib-dev libsoup-3.0-dev libssl-dev libsqlite3-dev
  glib-networking
  libnice-dev libsrtp2-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools
  libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-nice
  gstreamer1.0-plugins-base-apps gstreamer1.0-x
  espeak-ng sox ffmpeg python3-twilio python3-cryptography
  prometheus coturn janus iproute2
  debhelper dpkg-dev lintian systemd
  chromium
  clang libclang-rt-14-dev
  curl ca-certificates
)

# --list: the packages, one a line (the `setup` test checks that they
# provide every element, program and module the code uses).
if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${packages[@]}" nodejs npm
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
# Node.js may come from another packager (with npm inside): only ask Debian
# for it when the commands are missing.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
# The `setup` test asks apt-cache for these packages' dependencies, which
# needs the package lists: a fresh machine (a container) may have none.
have_lists=yes
compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || have_lists=no
[ ${#missing[@]} -eq 0 ] && [ $have_lists = yes ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
[ ${#missing[@]} -eq 0 ] && exit 0
echo "setup: installing ${missing[*]}" >&2
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# prometheus is here for its promtool (suite metrics checks /metrics with
# it); Debian starts a Prometheus server on port 9090 when it installs the
# package, which this machine did not ask for.
if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null \
  && [ -d /run/systemd/system ]; then
  $sudo systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
# coturn is here for the turn suite, which starts its own on 127.0.0.1;
# Debian's package enables a TURN server on port 3478 as well.
if [[ " ${missing[*]} " == *" coturn "* ]] && command -v systemctl >/dev/null \
  && [ -d /run/systemd/system ]; then
  $sudo systemctl disable --now coturn >/dev/null 2>&1 || true
fi
# janus is here for bench-sfu --janus, which starts its own in a network
# namespace; Debian's package enables a Janus gateway as well.
if [[ " ${missing[*]} " == *" janus "* ]] && command -v systemctl >/dev/null \
  && [ -d /run/systemd/system ]; then
  $sudo systemctl disable --now janus >/dev/null 2>&1 || true
fi
