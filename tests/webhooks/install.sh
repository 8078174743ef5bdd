#!/usr/bin/env bash
# Installs the Standard Webhooks reference library (the npm package
# `standardwebhooks`, pinned below) that tests/webhooks/receiver.js
# verifies every webhook with, into SOURCE_DIR/.ombud/node-webhooks, once;
# again only when the pin changes. scripts/test runs it before the suite
# and passes the directory on as OMBUD_TEST_WEBHOOK_NODE_MODULES.
#
# Usage: bash tests/webhooks/install.sh [SOURCE_DIR]   (prints the node_modules path)
set -euo pipefail

STANDARDWEBHOOKS_VERSION=1.0.0

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "${1:-"$script_dir/../.."}" && pwd)
dir="$src/.ombud/node-webhooks"
pkg="$dir/node_modules/standardwebhooks/package.json"

for tool in node npm; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "install.sh: '$tool' is not installed; the webhook tests need Node.js with npm" >&2
        exit 1
    }
done

installed() {
    [ -f "$pkg" ] &&
        [ "$(node -e 'process.stdout.write(require(process.argv[1]).version)' "$pkg" 2>/dev/null)" = \
            "$STANDARDWEBHOOKS_VERSION" ]
}

install() {
    local log
    log=$(mktemp)
    mkdir -p "$dir"
    if ! npm install --prefix "$dir" --no-audit --no-fund --no-update-notifier \
        "standardwebhooks@$STANDARDWEBHOOKS_VERSION" </dev/null >"$log" 2>&1 || ! installed; then
        echo "install.sh: npm install of standardwebhooks@$STANDARDWEBHOOKS_VERSION failed:" >&2
        cat "$log" >&2
        rm -f "$log"
        exit 1
    fi
    rm -f "$log"
}

if ! installed; then
    mkdir -p "$src/.ombud"
    exec 9>"$src/.ombud/node-webhooks.lock"
    flock 9
    installed || install
    flock -u 9
fi
echo "$dir/node_modules"
