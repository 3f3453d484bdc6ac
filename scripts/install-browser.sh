#!/usr/bin/env bash
# Install Debian's Chromium for the web app's end-to-end tests (Playwright drives /usr/bin/chromium; it never
# downloads a browser of its own). Does nothing when Chromium is already there.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
PKGS="chromium fonts-dejavu-core"
echo "installing Debian's chromium for the browser tests"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y --no-install-recommends $PKGS >/dev/null 2>&1 \
  || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y --no-install-recommends $PKGS >/dev/null; } \
  || { echo "error: could not install chromium (apt-get install chromium)" >&2; exit 1; }
