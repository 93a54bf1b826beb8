#!/usr/bin/env bash
# What the tests need from the system, installed explicitly and once (the README's test command
# runs this before pytest; running it again installs nothing):
#   Debian packages  chromium (browser tests), poppler-utils and qpdf (letter and batch PDFs),
#                    postgresql (ledger and Prefect on PostgreSQL), npm (only to fetch axe-core)
#   npm              axe-core@4, into ${HUNDRED_TEST_CACHE:-~/.cache/hundred-tests}/axe-core,
#                    where tests/browser.py reads it
# apt-get needs root; without it the script says what is missing and exits 1. No test installs
# anything: a missing component fails its test, naming this script.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

missing=()
have chromium || have chromium-browser || [ -n "${CHROMIUM:-}" ] || missing+=(chromium)
for tool in pdftotext pdffonts pdfinfo pdftoppm; do
  have "$tool" || { missing+=(poppler-utils); break; }
done
have qpdf || missing+=(qpdf)
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! { have initdb && have pg_ctl; }; then
  missing+=(postgresql)
fi
have npm || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] || ! have apt-get; then
    echo "the tests need: ${missing[*]}; install them as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "installing ${missing[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  # a fresh machine may have no package lists yet: update only when the install cannot find them
  apt-get install -y -q "${missing[@]}" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
fi

axe="${HUNDRED_TEST_CACHE:-$HOME/.cache/hundred-tests}/axe-core"
if [ ! -f "$axe/node_modules/axe-core/axe.min.js" ]; then
  echo "installing axe-core@4 into $axe (npm)"
  mkdir -p "$axe"
  npm install --prefix "$axe" --no-audit --no-fund --loglevel=error axe-core@4 >/dev/null
fi

echo "test system ready: chromium, poppler-utils, qpdf, postgresql, axe-core"
