#!/usr/bin/env bash
# Installs Chromium from Debian's packages for the web UI's browser tests (Playwright drives
# /usr/bin/chromium; it downloads no browser of its own).
set -euo pipefail
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium >/dev/null 2>&1 || {
    $sudo apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium >/dev/null
}
