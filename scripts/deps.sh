#!/usr/bin/env bash
# Installs what kefu's build and tests need on a Debian machine, only where missing.
#   scripts/deps.sh run    — building and running: cargo, Node.js + npm, the web app's npm packages, CJK fonts,
#                            espeak-ng + sox (the IVR's system prompts)
#   scripts/deps.sh test   — also Chromium (browser tests), a running PostgreSQL, the real SIP peers of the
#                            telephony tests: SIPp (sip-tester), baresip and iproute2 (`ip netns`), and
#                            poppler-utils + zbar-tools (reading printed PDFs back)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}

apt_updated=
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=; [ "$(id -u)" -ne 0 ] && sudo=sudo
  if [ -z "$apt_updated" ]; then $sudo apt-get update -qq; apt_updated=1; fi
  echo "deps: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

command -v cargo >/dev/null || { echo "deps: cargo is missing: install Rust (rustup) first" >&2; exit 1; }
command -v cc >/dev/null || apt_install build-essential
command -v pkg-config >/dev/null || apt_install pkg-config
command -v npm >/dev/null || apt_install nodejs npm
# Chinese fonts for printed PDFs (work orders): kefu-print loads them from /usr/share/fonts at run time
# and embeds the glyphs it uses.
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || apt_install fonts-noto-cjk
# The IVR's system prompts (menus, numbers, money, dates in Mandarin and English): `kefu serve` speaks the
# missing ones with espeak-ng and converts them with sox at start.
command -v espeak-ng >/dev/null || apt_install espeak-ng
command -v sox >/dev/null || apt_install sox

# The web app's packages, from the lock file; reinstalled when the lock file changes.
if [ ! -f web/node_modules/.package-lock.json ] || ! cmp -s web/package-lock.json web/node_modules/.kefu-lock; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
  cp web/package-lock.json web/node_modules/.kefu-lock
fi

if [ "$mode" = test ]; then
  [ -x /usr/bin/chromium ] || apt_install chromium
  command -v curl >/dev/null || apt_install curl
  # Real SIP peers for crates/telephony's tests. baresip-core is baresip without the recommended GUI/video
  # packages; it has the binary and the modules the tests load (g711, aufile, sndfile, ctrl_tcp, menu).
  command -v sipp >/dev/null || apt_install sip-tester
  command -v baresip >/dev/null || apt_install baresip-core
  # SoX: kefu-media's G.711 and prompt-conversion tests compare against it.
  command -v sox >/dev/null || apt_install sox
  command -v ip >/dev/null || apt_install iproute2
  # kefu-print's tests read its PDFs back (pdftotext, pdfinfo, pdffonts, pdftoppm) and scan the QR code and
  # barcode on the rasterized page (zbarimg).
  command -v pdftotext >/dev/null || apt_install poppler-utils
  command -v zbarimg >/dev/null || apt_install zbar-tools
  command -v psql >/dev/null || apt_install postgresql postgresql-client
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "deps: starting PostgreSQL"
    for v in $(ls /etc/postgresql 2>/dev/null); do
      pg_ctlcluster --skip-systemctl-redirect "$v" main start 2>/dev/null || true
    done
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  pg_isready -q -h 127.0.0.1 -p 5432 || { echo "deps: PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
  # The tests connect as postgres without a password (trust on loopback), as on kefu's CI machines.
  if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then
    echo "deps: allowing trust auth for postgres on loopback (test machines only)"
    hba=$(su postgres -c "psql -Atc 'show hba_file'")
    sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
    su postgres -c "psql -Atc 'select pg_reload_conf()'" >/dev/null
  fi
fi
