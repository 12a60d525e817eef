#!/usr/bin/env bash
# Installs everything homing needs on Debian 12, by package name, and only what is
# missing: build tools, libraries, and the real servers the tests run on loopback.
# Safe to run again; a second run with nothing missing does no network traffic.
set -euo pipefail

PKGS=(
  # build and test tools
  build-essential meson ninja-build pkg-config clang-14 libclang-rt-14-dev
  libfuzzer-14-dev clang-format git curl ca-certificates python3
  # libraries (DESIGN.md "Dependencies")
  libh2o-evloop-dev libssl-dev zlib1g-dev libuv1-dev
  libsqlite3-dev sqlite3 libpq-dev
  libsodium-dev libjansson-dev libinih-dev libcmocka-dev
  libgmime-3.0-dev libgumbo-dev libesmtp-dev libmilter-dev
  libspf2-dev libopendkim-dev libopendmarc-dev opendkim-tools
  libcurl4-openssl-dev libyaml-dev libpcre2-dev libmaxminddb-dev uap-core
  # real components the tests and benchmarks run on loopback
  nginx wrk postgresql postfix dovecot-imapd dovecot-sieve unbound dnsmasq-base
  chromium libsisimai-perl
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing packages (${missing[*]}); run as root to install them" >&2
    exit 1
  fi
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Postfix asks how to configure itself; the tests give it its own config dir.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  # Packaged servers must not start system-wide: the tests start their own on loopback.
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
fi

# The daemon drops to this user after binding its ports.
if [ "$(id -u)" = 0 ] && ! id homing >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin homing
fi
exit 0
