#!/usr/bin/env bash
# Enforces the layering of STYLE.md: includes go down only.
#   microhttpd.h  only in src/http
#   libpq-fe.h    only in src/db
#   jansson.h     only in src/http, src/repr, src/db (jsonb), src/log.c, src/main.c
#   src/domain    libc (and GLib for time zones) only: no ombud http/db/repr headers
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"
bad=0
check() { # pattern, allowed-path-regex, what
  local hits
  hits=$(grep -rlE "#include <$1>" src include 2>/dev/null | grep -vE "$2" || true)
  if [ -n "$hits" ]; then
    printf '%s may not be included here:\n%s\n' "$3" "$hits" >&2
    bad=1
  fi
}
check 'microhttpd\.h' '^src/http/' 'microhttpd.h'
check 'libpq-fe\.h' '^src/db/' 'libpq-fe.h'
check 'jansson\.h' '^(src/http/|src/repr/|src/db/|src/log\.c|src/main\.c|include/ombud/(http|repr|json_spec)\.h)' 'jansson.h'
hits=$(grep -rlE '#include "ombud/(http|repr|db|json_spec|metrics)\.h"|#include <(jansson|microhttpd|libpq-fe|curl/curl)\.h>' src/domain 2>/dev/null || true)
if [ -n "$hits" ]; then
  printf 'src/domain must stay pure (no http, repr, db, jansson, libpq):\n%s\n' "$hits" >&2
  bad=1
fi
hits=$(grep -rlE '#include "ombud/http\.h"' src/repr src/db src/domain src/worker src/service 2>/dev/null || true)
if [ -n "$hits" ]; then
  printf 'only src/http (and the top level) may include ombud/http.h:\n%s\n' "$hits" >&2
  bad=1
fi
[ "$bad" -eq 0 ] && echo "includes: layering holds"
exit "$bad"
