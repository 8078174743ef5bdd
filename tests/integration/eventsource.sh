#!/usr/bin/env bash
# Runs eventsource.mjs (GET /v1/stream read by the `eventsource` npm
# package) against a running server: test_stream.c calls it with the
# server's base URL and an agent key.
#
# Usage: bash tests/integration/eventsource.sh BASE_URL AGENT_KEY
#
# The package is installed once, from npm, into .ombud/node-eventsource
# of the source tree (as tests/lint/openapi.sh installs its CLI), and again
# only when the pinned version below changes.
set -euo pipefail

# Major.minor of eventsource known to work here (Node.js 18+).
EVENTSOURCE_VERSION=3.0

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$script_dir/../.." && pwd)
[ $# -eq 2 ] || { echo "usage: eventsource.sh BASE_URL AGENT_KEY" >&2; exit 2; }

for tool in node npm; do
    command -v "$tool" >/dev/null 2>&1 ||
        { echo "eventsource.sh: '$tool' is not installed; it is needed for the stream test" >&2; exit 1; }
done

dir="$src/.ombud/node-eventsource"
pkg="$dir/node_modules/eventsource/package.json"

is_pinned() {
    local v
    [ -f "$pkg" ] || return 1
    v=$(node -e 'process.stdout.write(require(process.argv[1]).version)' "$pkg" 2>/dev/null) || return 1
    case "$v" in "$EVENTSOURCE_VERSION".*) return 0 ;; *) return 1 ;; esac
}

install() {
    local log
    log=$(mktemp)
    mkdir -p "$dir"
    if ! npm install --prefix "$dir" --no-audit --no-fund --no-update-notifier \
        "eventsource@~$EVENTSOURCE_VERSION.0" </dev/null >"$log" 2>&1 || ! is_pinned; then
        echo "eventsource.sh: npm install of eventsource@$EVENTSOURCE_VERSION failed:" >&2
        cat "$log" >&2
        rm -f "$log"
        exit 1
    fi
    rm -f "$log"
}

if ! is_pinned; then
    mkdir -p "$src/.ombud"
    # Serialise installs when several runs share the source tree.
    exec 9>"$src/.ombud/node-eventsource.lock"
    flock 9
    is_pinned || install
    flock -u 9
    exec 9>&-
fi

ES_PREFIX="$dir" exec node "$script_dir/eventsource.mjs" "$1" "$2"
