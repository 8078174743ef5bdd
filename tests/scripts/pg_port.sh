#!/usr/bin/env bash
# scripts/pg picks a port that nothing listens on, but a port can still be
# taken when PostgreSQL binds it (another program got there in between, or
# holds it bound without listening, which the connect check cannot see).
# The start must then move to the next port instead of failing. This holds
# the cluster's stored port bound, without listening, and starts it.
set -euo pipefail
root=${1:?project root}
export OMBUD_PG_DIR="$root/.ombud/pg-porttest"
pg="$root/scripts/pg"
holder=""
cleanup() {
    [ -n "$holder" ] && kill "$holder" 2>/dev/null || true
    "$pg" stop >/dev/null 2>&1 || true
    rm -rf -- "$OMBUD_PG_DIR"
}
trap cleanup EXIT
fail() { printf 'pg_port: %s\n' "$*" >&2; exit 1; }

"$pg" ensure >/dev/null
first=$("$pg" port)
"$pg" stop >/dev/null

# Bound, not listening, no SO_REUSEADDR: PostgreSQL's bind gets EADDRINUSE.
perl -MSocket -e '
    socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
    bind($s, sockaddr_in($ARGV[0], inet_aton("127.0.0.1"))) or die "bind: $!";
    open(my $r, ">", $ARGV[1]) or die; close $r;
    sleep 120;' "$first" "$OMBUD_PG_DIR/held" &
holder=$!
for _ in $(seq 50); do [ -e "$OMBUD_PG_DIR/held" ] && break; sleep 0.1; done
[ -e "$OMBUD_PG_DIR/held" ] || fail "could not hold port $first"

out=$("$pg" start 2>&1) || fail "start failed with $first held: $out"
second=$("$pg" port)
[ "$second" != "$first" ] || fail "still on the held port $first"
case $out in *"port $first was taken"*) ;; *) fail "no word of the retry: $out" ;; esac
"$pg" status | grep -q running || fail "not running after the retry"
low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)
[ "$second" -lt "$low" ] || fail "port $second lies in the ephemeral range (from $low)"
printf 'pg_port: %s held, started on %s\n' "$first" "$second"
