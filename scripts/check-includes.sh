#!/usr/bin/env bash
# Enforces the layering of STYLE.md: includes go down only.
#
# Every file under src/ and include/ombud/ belongs to a layer (by its
# directory, or for include/ombud/*.h by the table below), and so does
# every header it includes. A layer may include only the layers below:
#
#   top     src/*.c (main, config, log, metrics, keys, test_clock): anything
#   http    src/http, ombud/{http,router,json_spec}.h:
#           outbound, service, repr, domain, db, support, and ombud/sla_worker.h (health)
#   outbound src/outbound, ombud/outbound.h (webhooks: URL rules, the sender
#           thread): service, repr, domain, db, support
#   worker  src/worker, ombud/sla_worker.h: service, repr, domain, db, support
#   service src/service, ombud/service/: repr, domain, db, support
#   repr    src/repr, ombud/repr.h: domain only (never a db header)
#   db      src/db, ombud/db/, ombud/migrate.h: domain, support
#   support ombud/{config,log,metrics,keys,test_clock}.h: domain, support
#   domain  src/domain and the record headers: domain and ombud/test_clock.h;
#           system headers from the C library, pthread.h and glib.h only
#
# and, by file:
#   src/http/*.h and microhttpd.h  only in src/http
#   src/db/internal.h and libpq-fe.h  only in src/db
#   jansson.h  only in http, repr, db (jsonb), src/log.c, src/main.c
#   glib.h     only in domain (time zones)
#   curl       only in src/outbound (the webhook sender; the tests' client too)
#
# A header in include/ombud/ that the table does not name is an error, so
# a new module has to be placed in a layer here. Exits 1 on any violation,
# printing one line per offending include.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"

declare -A header_layer=(
    [http.h]=http [router.h]=http [json_spec.h]=http
    [sla_worker.h]=worker
    [outbound.h]=outbound
    [repr.h]=repr
    [migrate.h]=db
    [config.h]=support [log.h]=support [metrics.h]=support [keys.h]=support
    [test_clock.h]=support
    [alert.h]=domain [api_key.h]=domain [business_time.h]=domain [calendar.h]=domain
    [change.h]=domain [complaint.h]=domain [cursor.h]=domain [err.h]=domain [lifecycle.h]=domain
    [money.h]=domain
    [role.h]=domain [rule.h]=domain [search.h]=domain [sla.h]=domain [team.h]=domain [text.h]=domain
    [timefmt.h]=domain [rate.h]=domain
    [tz.h]=domain [webhook.h]=domain
)

# Which layers each layer may include (its own always).
declare -A allowed=(
    [top]="top http outbound worker service repr db support domain"
    [http]="outbound service repr db support domain"
    [outbound]="service repr db support domain"
    [worker]="service repr db support domain"
    [service]="repr db support domain"
    [repr]="domain"
    [db]="support domain"
    [support]="support domain"
    [domain]=""
)

# C11 headers plus POSIX threads: what domain code may use besides GLib.
domain_sys=" assert.h ctype.h errno.h float.h inttypes.h limits.h locale.h math.h stdarg.h stdatomic.h
 stdbool.h stddef.h stdint.h stdio.h stdlib.h string.h time.h wctype.h pthread.h glib.h "

bad=0
fail() { # file line message
    printf '%s:%s: %s\n' "$1" "$2" "$3" >&2
    bad=1
}

# Whether a file of layer $1 may include target $3 of layer $2.
may_include() {
    [ "$1" = "$2" ] && return 0
    [[ " ${allowed[$1]} " == *" $2 "* ]] && return 0
    # The two single headers a layer may take from a higher one: the
    # readiness probe reports the worker's status, and domain/timefmt.c
    # reads the clock the tests can set.
    [ "$1" = http ] && [ "$3" = ombud/sla_worker.h ] && return 0
    [ "$1" = domain ] && [ "$3" = ombud/test_clock.h ] && return 0
    return 1
}

# The layer of an include target ("ombud/x.h", "db/internal.h"), or "" when unknown.
layer_of_header() {
    case "$1" in
    ombud/db/*.h) echo db ;;
    ombud/service/*.h) echo service ;;
    ombud/*/*) echo "" ;;
    ombud/*.h) echo "${header_layer[${1#ombud/}]:-}" ;;
    db/*.h) echo db ;;
    http/*.h) echo http ;;
    *) echo "" ;;
    esac
}

layer_of_file() {
    case "$1" in
    src/domain/*) echo domain ;;
    src/db/*) echo db ;;
    src/repr/*) echo repr ;;
    src/service/*) echo service ;;
    src/worker/*) echo worker ;;
    src/outbound/*) echo outbound ;;
    src/http/*) echo http ;;
    src/*/*) echo "" ;;
    src/*) echo top ;;
    include/*) layer_of_header "${1#include/}" ;;
    esac
}

while IFS= read -r file; do
    layer=$(layer_of_file "$file")
    if [ -z "$layer" ]; then
        fail "$file" 1 "not in any layer: place it in scripts/check-includes.sh"
        continue
    fi
    while IFS=: read -r line text; do
        if [[ $text =~ \#include[[:space:]]*\"([^\"]+)\" ]]; then
            target=${BASH_REMATCH[1]}
            tl=$(layer_of_header "$target")
            if [ -z "$tl" ]; then
                fail "$file" "$line" "\"$target\" is in no layer: place it in scripts/check-includes.sh"
            elif [[ $target == http/* && $file != src/http/* ]]; then
                fail "$file" "$line" "\"$target\" is private to src/http"
            elif [[ $target == db/* && $file != src/db/* ]]; then
                fail "$file" "$line" "\"$target\" is private to src/db"
            elif ! may_include "$layer" "$tl" "$target"; then
                fail "$file" "$line" "$layer may not include $tl (\"$target\"): includes go down only"
            fi
        elif [[ $text =~ \#include[[:space:]]*\<([^\>]+)\> ]]; then
            target=${BASH_REMATCH[1]}
            case "$target" in
            microhttpd.h)
                [ "$layer" = http ] || fail "$file" "$line" "<microhttpd.h> only in src/http" ;;
            libpq-fe.h)
                [[ $file == src/db/* ]] || fail "$file" "$line" "<libpq-fe.h> only in src/db" ;;
            jansson.h)
                case "$layer:$file" in
                http:* | repr:* | db:* | top:src/log.c | top:src/main.c) ;;
                *) fail "$file" "$line" "<jansson.h> only in http, repr, db, src/log.c, src/main.c" ;;
                esac ;;
            glib.h)
                [ "$layer" = domain ] || fail "$file" "$line" "<glib.h> only in src/domain" ;;
            curl/*)
                [ "$layer" = outbound ] || fail "$file" "$line" "<$target> only in src/outbound" ;;
            esac
            if [ "$layer" = domain ] && [[ $domain_sys != *" $target "* ]]; then
                fail "$file" "$line" "domain is pure: <$target> is not libc, pthread or GLib"
            fi
        fi
    done < <(grep -nE '^[[:space:]]*#[[:space:]]*include' "$file" || true)
done < <(find src include -type f \( -name '*.c' -o -name '*.h' \) | sort)

if [ "$bad" -ne 0 ]; then
    echo "includes: layering broken (see scripts/check-includes.sh for the rules)" >&2
    exit 1
fi
echo "includes: layering holds"
