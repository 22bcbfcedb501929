#!/bin/bash
# run.sh BASE_URL ADMIN_TOKEN SCREENSHOT_PATH - the dashboard's real-browser test.
#
# Installs what is missing (Debian's chromium; node and npm; playwright-core in
# tests/browser/node_modules, from package-lock.json), then runs dashboard.mjs against a running
# hijackd (or tests/browser/mockapi.py) at BASE_URL, which must have at least one locked account
# and a decision (without one, "a decision's evidence expands" is skipped). dashboard.mjs prints a
# TAP plan, one line per check (a check not reached after a failure is "not ok" too).
# CHROMIUM=/path overrides /usr/bin/chromium. Exit status 0 only if every check passed.
set -eu
if [ $# -ne 3 ]; then
    echo "usage: $0 BASE_URL ADMIN_TOKEN SCREENSHOT_PATH" >&2
    exit 2
fi
BASE_URL=$1 TOKEN=$2 SHOT=$3
case $SHOT in /*) ;; *) SHOT=$PWD/$SHOT ;; esac
mkdir -p "$(dirname "$SHOT")"
cd "$(dirname "$0")"

apt_install() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "run.sh: $* missing; install it (as root: apt-get install $*)" >&2
        exit 2
    fi
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"
}

if [ -z "${CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then
    apt_install chromium
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install nodejs npm
fi
if [ ! -f node_modules/playwright-core/package.json ]; then
    if [ -f package-lock.json ]; then
        npm ci --no-audit --no-fund
    else
        npm install --no-audit --no-fund
    fi
fi
exec node dashboard.mjs "$BASE_URL" "$TOKEN" "$SHOT"
