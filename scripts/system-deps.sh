#!/usr/bin/env bash
# Runs before `npm test` (npm's pretest): the two Debian packages the tests need beyond npm — Debian's Chromium
# (the market page is tested in a real headless browser; no browser download) and python3-cryptography (Ed25519
# for the Python SDK). Installs them when missing and running as root; otherwise says what to install and fails.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
/usr/bin/python3 -c "import cryptography" 2>/dev/null || missing+=(python3-cryptography)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "the tests need Debian packages: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages for the tests: ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
