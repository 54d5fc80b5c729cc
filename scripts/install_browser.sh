#!/usr/bin/env bash
# Installs the headless browser the explorer-page test drives (tests/test_explorer_page.py):
# Debian's chromium and chromium-driver. Does nothing when both are already on PATH, so it
# can run before every test run. Needs apt-get and root (or sudo); without them it says so
# and exits 0, and the browser test then skips with its reason.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

browser_present() {
    (have chromium || have chromium-browser || have google-chrome) && have chromedriver
}

if browser_present; then
    echo "install_browser: chromium and chromedriver are already installed"
    exit 0
fi

if ! have apt-get; then
    echo "install_browser: no apt-get here; install chromium and chromedriver by hand" >&2
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif have sudo && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    echo "install_browser: not root and no password-less sudo; cannot install chromium" >&2
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium chromium-driver

if browser_present; then
    echo "install_browser: installed $(chromium --version 2>/dev/null || true)"
else
    echo "install_browser: apt-get ran but chromium or chromedriver is still missing" >&2
    exit 1
fi
