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
  libgmime-3.0-dev libgumbo-dev libesmtp-dev
  libspf2-dev libopendkim-dev libopendmarc-dev opendkim-tools
  libcurl4-openssl-dev libyaml-dev libpcre2-dev libmaxminddb-dev uap-core
  # real components the tests and benchmarks run on loopback
  nginx wrk postgresql postfix dovecot-imapd dovecot-sieve unbound dnsmasq-base
  chromium libsisimai-perl
  rspamd  # rspamadm configtest loads `homing rules --format rspamd`
  # OpenAPI response validation (tests/api_validate.py), TLS tests (openssl)
  python3-jsonschema python3-yaml openssl
  # packaging and install checks: the .deb build and lintian (integration/package),
  # man pages rendered with man, completion loaded in bash and zsh, the unit
  # rated by systemd-analyze (integration/unit)
  debhelper lintian fakeroot ccache man-db groff-base zsh bash-completion systemd
  # the ARC oracle of homing trace's tests (dkimpy: arc_sign, arc_verify)
  python3-dkim python3-authres
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

# Geolocation data (docs/configuration.md, [geo]): ip-location-db's CC0 country
# database and its ASN ranges (CC BY 4.0) from npm, then the ranges converted into
# the compact file homing maps. The converter is built here with cc from
# lib/reader/asn.c alone, since setup runs before meson. Only what is missing or
# older than its source is redone, so a second run does no network traffic.
root="$(cd "$(dirname "$0")/.." && pwd)"
# VAR as make passes it: relative to the clone, or absolute (make run VAR=/srv/homing).
case "${VAR:-var}" in
  /*) geo_var="$VAR" ;;
  *) geo_var="$root/${VAR:-var}" ;;
esac
ipl="$geo_var/npm/node_modules/@ip-location-db"
if [ ! -f "$ipl/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb" ] ||
   [ ! -f "$ipl/asn/asn-ipv4.csv" ] || [ ! -f "$ipl/asn/asn-ipv6.csv" ]; then
  echo "setup: installing ip-location-db country and ASN data into ${VAR:-var}/npm"
  mkdir -p "$geo_var/npm"
  npm install --prefix "$geo_var/npm" --no-audit --no-fund --loglevel=error \
    @ip-location-db/geo-whois-asn-country-mmdb @ip-location-db/asn >/dev/null
fi
asn_db="$geo_var/geo/asn.hmasn"
if [ ! -f "$asn_db" ] || [ "$ipl/asn/asn-ipv4.csv" -nt "$asn_db" ] ||
   [ "$ipl/asn/asn-ipv6.csv" -nt "$asn_db" ] || [ "$root/lib/reader/asn.c" -nt "$asn_db" ]; then
  mkdir -p "$geo_var/geo"
  cc -std=gnu11 -O2 -D_GNU_SOURCE -I"$root/include" -o "$geo_var/geo/homing-geo-import" \
    "$root/lib/reader/geo_import_main.c" "$root/lib/reader/asn.c"
  "$geo_var/geo/homing-geo-import" "$asn_db" "$ipl/asn/asn-ipv4.csv" "$ipl/asn/asn-ipv6.csv"
fi

# The daemon drops to this user after binding its ports.
if [ "$(id -u)" = 0 ] && ! id homing >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin homing
fi
exit 0
