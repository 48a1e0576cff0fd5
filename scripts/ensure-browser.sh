#!/usr/bin/env bash
# Browser tests need Debian's Chromium and a CJK font (Korean text); the two-process test needs
# redis-server. Install them when missing and we are root; otherwise say exactly what to install
# and fail (never skip the tests).
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
if ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then missing+=(fonts-noto-cjk); fi
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ]; then
    echo "Installing ${missing[*]} (Debian packages for the browser and two-process tests)…"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
else
    echo "The browser tests need these Debian packages: ${missing[*]}" >&2
    echo "Install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
