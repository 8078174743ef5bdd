#!/usr/bin/env bash
# Lints openapi.yaml with Redocly CLI against redocly.yaml.
#
# Usage: bash tests/lint/openapi.sh [SOURCE_DIR]
#   SOURCE_DIR defaults to the repository holding this script.
#
# The CLI is installed once, from npm, into SOURCE_DIR/.ombud/node and
# reused after that; it is installed again only when the pinned version
# below changes. Any problem fails the check, warnings included: Redocly
# exits 0 on warnings, so the script reads the problem totals from the
# JSON report and fails unless both errors and warnings are zero. On
# success it prints one line; on failure, the full lint report.
set -euo pipefail

# Major.minor of @redocly/cli known to work here. Later 2.x releases may
# require Node.js 22, so move this only together with a check that lint
# still runs on the Node.js the machines have.
REDOCLY_VERSION=2.77

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${1:-"$script_dir/../.."}
if ! src=$(cd "$src" 2>/dev/null && pwd); then
    echo "openapi.sh: no such directory: ${1:-}" >&2
    exit 1
fi

for f in openapi.yaml redocly.yaml; do
    if [ ! -f "$src/$f" ]; then
        echo "openapi.sh: $src/$f is missing" >&2
        exit 1
    fi
done

for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "openapi.sh: '$tool' is not installed; it is needed to lint openapi.yaml" >&2
        echo "openapi.sh: Node.js 20.19+ or 22.12+ with npm is needed for @redocly/cli@$REDOCLY_VERSION" >&2
        exit 1
    fi
done

# The Node.js versions @redocly/cli 2.x supports.
if ! node -e '
    const [a, b] = process.versions.node.split(".").map(Number);
    process.exit((a === 20 && b >= 19) || (a === 22 && b >= 12) || a > 22 ? 0 : 1);
' 2>/dev/null; then
    echo "openapi.sh: Node.js $(node --version 2>/dev/null) is too old for @redocly/cli@$REDOCLY_VERSION;" \
        "it needs 20.19+ or 22.12+" >&2
    exit 1
fi

dir="$src/.ombud/node"
bin="$dir/node_modules/.bin/redocly"
pkg="$dir/node_modules/@redocly/cli/package.json"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Keep the CLI from phoning home or printing update notices.
export REDOCLY_TELEMETRY=off
export REDOCLY_SUPPRESS_UPDATE_NOTICE=true
export NO_COLOR=1
export FORCE_COLOR=0

installed_version() {
    [ -x "$bin" ] && [ -f "$pkg" ] || return 1
    node -e 'process.stdout.write(require(process.argv[1]).version)' "$pkg" 2>/dev/null
}

is_pinned() {
    local v
    v=$(installed_version) || return 1
    case "$v" in
        "$REDOCLY_VERSION".*) return 0 ;;
        *) return 1 ;;
    esac
}

install_cli() {
    mkdir -p "$dir"
    if ! npm install --prefix "$dir" --no-audit --no-fund --no-update-notifier \
        "@redocly/cli@$REDOCLY_VERSION" </dev/null >"$tmp/npm.log" 2>&1; then
        echo "openapi.sh: npm install of @redocly/cli@$REDOCLY_VERSION failed:" >&2
        cat "$tmp/npm.log" >&2
        exit 1
    fi
    if ! is_pinned; then
        echo "openapi.sh: @redocly/cli@$REDOCLY_VERSION is not usable after install:" >&2
        cat "$tmp/npm.log" >&2
        exit 1
    fi
}

if ! is_pinned; then
    mkdir -p "$src/.ombud"
    # Serialise installs when several runs share the source tree.
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$src/.ombud/node.lock"
        flock 9
        is_pinned || install_cli
        flock -u 9
        exec 9>&-
    else
        install_cli
    fi
fi

cd "$src"

# Drop the boxed Node.js deprecation banner the CLI prints on Node 20.
strip_banner() { grep -v '[║╔╚]' || true; }

rc=0
"$bin" lint openapi.yaml --config redocly.yaml --lint-config=error \
    --format=json </dev/null >"$tmp/lint.json" 2>"$tmp/lint.err" || rc=$?

problems=$(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const t = r.totals || {};
    if (typeof t.errors !== "number" || typeof t.warnings !== "number")
        throw new Error("no totals in the lint report");
    process.stdout.write(String(t.errors + t.warnings));
' "$tmp/lint.json" 2>/dev/null) || problems=unknown

if [ "$rc" -eq 0 ] && [ "$problems" = 0 ]; then
    echo "openapi.yaml: lint clean"
    exit 0
fi

# Failed: show the report in readable form.
echo "openapi.yaml: lint failed (exit $rc, problems: $problems)" >&2
"$bin" lint openapi.yaml --config redocly.yaml --lint-config=error \
    --format=stylish </dev/null 2>&1 | strip_banner >&2 || true
exit 1
