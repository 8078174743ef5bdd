#!/usr/bin/env bash
#
# bench/streams.sh: do open GET /v1/stream connections slow ordinary
# requests down? A measurement, not a test.
#
# Builds the release binary, starts a throwaway PostgreSQL and `ombud
# serve` pinned to SERVER_CPU (bench/common.sh), seeds SEED_N complaints,
# then runs wrk on GET /v1/complaints/{id} (CONNS connections, DURATION
# seconds, on LOADGEN_CPU) twice: with no stream open, and with STREAMS
# streams open, held by one client process on LOADGEN_CPU that reads and
# drops what they send (the server's keep-alive comments, KEEPALIVE_MS).
# /metrics must count them all before the second run. Prints both req/s,
# their ratio and one machine-readable line:
#
#   STREAMS {"streams":1000,"conns":16,"rps_0":...,"rps_n":...,"ratio":...,"p99_ms_0":...,"p99_ms_n":...}
#
#   bench/streams.sh                     # ~1 min
#   STREAMS=2000 DURATION=30 bench/streams.sh
#
# Environment (defaults in brackets): STREAMS [1000], CONNS [16],
# DURATION [10], WARMUP [3], SEED_N [10000], KEEPALIVE_MS [15000],
# SERVER_CPU [0], LOADGEN_CPU [1], OMBUD_* for the server (src/config.c;
# OMBUD_CONN_LIMIT defaults to STREAMS + 1024 here). Raw output stays in
# RESULTS_DIR [.ombud/bench-streams/<UTC time>]. Needs wrk and python3.
set -euo pipefail
umask 022
SEED_N=${SEED_N:-10000}
# shellcheck source=bench/common.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
cd "$OMBUD_ROOT"

STREAMS=${STREAMS:-1000}
CONNS=${CONNS:-16}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
KEEPALIVE_MS=${KEEPALIVE_MS:-15000}
RESULTS_DIR=${RESULTS_DIR:-$OMBUD_STATE/bench-streams/$(date -u +%Y%m%dT%H%M%SZ)}
export OMBUD_CONN_LIMIT=${OMBUD_CONN_LIMIT:-$((STREAMS + 1024))}
export OMBUD_STREAM_KEEPALIVE_MS=$KEEPALIVE_MS

command -v python3 >/dev/null || ombud_die "python3 is missing"
command -v wrk >/dev/null || {
    ombud_is_root || ombud_die "wrk is missing: apt-get install -y wrk"
    ombud_install_packages wrk
}
# One descriptor per stream on both sides.
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((STREAMS + 256)) ] || ombud_die "ulimit -n $(ulimit -n) is too low for $STREAMS streams"

mkdir -p -- "$RESULTS_DIR"
bench_init
bench_build
bench_pg_start
bench_seed
bench_server_start "$RESULTS_DIR/server.log"
bench_smoke

CLIENT_PID=""
stop_client() {
    [ -n "$CLIENT_PID" ] || return 0
    kill -TERM "$CLIENT_PID" 2>/dev/null || true
    wait "$CLIENT_PID" 2>/dev/null || true
    CLIENT_PID=""
}
trap 'rc=$?; stop_client; (exit "$rc"); bench_cleanup' EXIT

open_streams() { curl -fsS "$BENCH_URL/metrics" | awk '$1 == "ombud_streams_open" {print $2}'; }

# wrk on one complaint; prints "req/s p99_ms".
run_wrk() {
    local name=$1 out="$RESULTS_DIR/wrk-$1.txt" id=$((SEED_N / 2))
    taskset -c "$LOADGEN_CPU" wrk -t1 -c"$CONNS" -d"${WARMUP}s" \
        -H "Authorization: Bearer $BENCH_KEY" "$BENCH_URL/v1/complaints/$id" >/dev/null
    taskset -c "$LOADGEN_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency \
        -H "Authorization: Bearer $BENCH_KEY" "$BENCH_URL/v1/complaints/$id" >"$out"
    bench_log "$name: $(grep -E 'Requests/sec|Non-2xx' "$out" | tr -s ' ' | tr '\n' ' ')"
    ! grep -q 'Non-2xx' "$out" || ombud_die "$name: wrk saw errors (see $out)"
    local rps p99
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p99=$(awk '$1 == "99%" {v = $2; if (v ~ /us$/) {sub(/us$/, "", v); v /= 1000}
          else if (v ~ /ms$/) sub(/ms$/, "", v); else if (v ~ /s$/) {sub(/s$/, "", v); v *= 1000}
          print v}' "$out")
    printf '%s %s\n' "$rps" "$p99"
}

bench_log "wrk with no stream open"
read -r rps0 p990 < <(run_wrk none)

bench_log "opening $STREAMS streams"
taskset -c "$LOADGEN_CPU" python3 - "$BENCH_URL" "$BENCH_KEY" "$STREAMS" \
    >"$RESULTS_DIR/streams-client.log" 2>&1 <<'PY' &
# Holds N streams open, reading and dropping what comes; counts bytes.
import selectors, signal, socket, sys
from urllib.parse import urlparse
u = urlparse(sys.argv[1]); key = sys.argv[2]; n = int(sys.argv[3])
sel = selectors.DefaultSelector(); got = 0; ended = 0
req = (f"GET /v1/stream HTTP/1.0\r\nHost: {u.hostname}\r\n"
       f"Authorization: Bearer {key}\r\n\r\n").encode()
for _ in range(n):
    s = socket.create_connection((u.hostname, u.port))
    s.sendall(req); s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
def done(*_):
    print(f"streams: {n} opened, {ended} ended by the server, {got} bytes read", flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, done)
print(f"streams: {n} open", flush=True)
while True:
    for k, _ in sel.select():
        try:
            d = k.fileobj.recv(65536)
        except OSError:
            d = b""
        if not d:
            sel.unregister(k.fileobj); k.fileobj.close(); ended += 1
        got += len(d)
PY
CLIENT_PID=$!
for _ in $(seq 300); do
    [ "$(open_streams)" = "$STREAMS" ] && break
    kill -0 "$CLIENT_PID" 2>/dev/null || { cat "$RESULTS_DIR/streams-client.log" >&2; ombud_die "the stream client exited"; }
    sleep 0.1
done
[ "$(open_streams)" = "$STREAMS" ] || ombud_die "the server counts $(open_streams) open streams, not $STREAMS"
bench_log "the server counts $STREAMS open streams; pool in use: $(curl -fsS "$BENCH_URL/metrics" | awk '$1 == "ombud_db_pool_in_use" {print $2}')"

bench_log "wrk with $STREAMS streams open"
read -r rpsn p99n < <(run_wrk streams)
[ "$(open_streams)" = "$STREAMS" ] || ombud_die "streams were lost during the run: $(open_streams) open"
stop_client
cat "$RESULTS_DIR/streams-client.log" >&2

ratio=$(awk -v a="$rps0" -v b="$rpsn" 'BEGIN {printf "%.3f", b / a}')
printf '\nGET /v1/complaints/{id}, %s connections, %s s, server on core %s, load on core %s\n' \
    "$CONNS" "$DURATION" "$SERVER_CPU" "$LOADGEN_CPU"
printf '  %5s streams open: %10.1f req/s  p99 %s ms\n' 0 "$rps0" "$p990" "$STREAMS" "$rpsn" "$p99n"
printf '  ratio: %s\n' "$ratio"
printf 'STREAMS {"streams":%s,"conns":%s,"rps_0":%s,"rps_n":%s,"ratio":%s,"p99_ms_0":%s,"p99_ms_n":%s}\n' \
    "$STREAMS" "$CONNS" "$rps0" "$rpsn" "$ratio" "$p990" "$p99n"
