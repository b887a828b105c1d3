#!/usr/bin/env bash
# Installs bubblewrap, the sandbox of the evaluation workers, from Debian's packages.
set -euo pipefail
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q bubblewrap >/dev/null 2>&1 || {
    $sudo apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q bubblewrap >/dev/null
}
