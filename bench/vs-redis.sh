#!/usr/bin/env bash
# bench/vs-redis.sh [WARPD] - redis-benchmark against warpd and redis-server,
# in the same run, with the same flags, and the ratio of each row.
#
#   -c 50 -r 100000 -d 100, once without pipelining (-n $N1) and once
#   with -P 16 (-n $N16), on SET, GET and MSET (10 keys), as
#   redis-benchmark runs them.
#
# Both servers start here on free loopback ports, in a temporary directory,
# and are stopped at the end (also on error or Ctrl-C). Durability is like
# for like: warpd with its WAL at fsync=everysec (its default), Redis with
# appendonly yes / appendfsync everysec and no RDB saves. DURABLE=no runs
# both in memory instead (warpd --dir :memory:, Redis without AOF).
#
# Environment: N1 and N16 (requests per run without and with pipelining,
# default 200000 and 1000000: a run lasts a second or more, so that
# connecting and warming up do not weigh on it; N sets both), REPEAT (runs per
# test, alternating the two servers; a row is their median; default 3),
# THREADS (warpd's event loops; default: warpd's own, the number of CPUs),
# DURABLE (yes|no), REDIS_SERVER, REDIS_BENCHMARK (the binaries). Needs
# redis-server and redis-tools (scripts/deps.sh bench installs them).
#
# Output: the redis-benchmark CSV of each run, then a table of the median
# requests/s with the ratio warpd / Redis per row. The issue's targets: >= 1.0x on
# every row, >= 1.3x on the pipelined rows. Then QGET of a user with 3
# partners against 4 GETs of the same keys, in keys/s (below; N_USERS
# users, default 100000).
set -euo pipefail
cd "$(dirname "$0")/.."

WARPD=${1:-build/bin/warpd}
N1=${N1:-${N:-200000}}
N16=${N16:-${N:-1000000}}
REPEAT=${REPEAT:-3}
DURABLE=${DURABLE:-yes}
REDIS_SERVER=${REDIS_SERVER:-redis-server}
REDIS_BENCHMARK=${REDIS_BENCHMARK:-redis-benchmark}

for bin in "$WARPD" "$REDIS_SERVER" "$REDIS_BENCHMARK" redis-cli; do
    if ! command -v "$bin" >/dev/null 2>&1; then
        echo "vs-redis.sh: $bin not found (make; scripts/deps.sh bench)" >&2
        exit 1
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vs-redis.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_ping() {
    for _ in $(seq 1 200); do
        if [ "$(redis-cli -p "$1" PING 2>/dev/null)" = PONG ]; then
            return 0
        fi
        sleep 0.05
    done
    echo "vs-redis.sh: server on port $1 did not answer" >&2
    return 1
}

rport=$(free_port)
wport=$(free_port)
mkdir -p "$tmp/redis"
if [ "$DURABLE" = yes ]; then
    redis_args=(--appendonly yes --appendfsync everysec)
    warpd_dir=$tmp/warpd
else
    redis_args=(--appendonly no)
    warpd_dir=:memory:
fi
"$REDIS_SERVER" --port "$rport" --bind 127.0.0.1 --save "" --dir "$tmp/redis" \
    --daemonize no --logfile "$tmp/redis.log" "${redis_args[@]}" &
pids+=($!)
warpd_args=(--port "$wport" --dir "$warpd_dir" --logfile "$tmp/warpd.log")
[ -n "${THREADS:-}" ] && warpd_args+=(--threads "$THREADS")
"$WARPD" "${warpd_args[@]}" &
pids+=($!)
wait_ping "$rport"
wait_ping "$wport"

# requests P: the -n of a run at pipeline depth P
requests() {
    if [ "$1" = 16 ]; then echo "$N16"; else echo "$N1"; fi
}

# bench FILE N ARGS...: one redis-benchmark run (-c 50, -n N); its
# requests/s is appended to FILE, its CSV goes to stderr.
bench() {
    local file=$1 n=$2 out
    shift 2
    out=$("$REDIS_BENCHMARK" -h 127.0.0.1 -c 50 -n "$n" --csv "$@" 2>/dev/null)
    echo "$out" >&2
    echo "$out" | awk -F'","' '!/^"test"/ { gsub(/"/, "", $2); print $2 }' \
        >>"$file"
}

# median FILE: the median of the numbers in FILE (0 if none).
median() {
    sort -g "$1" 2>/dev/null |
        awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }'
}

# Each test runs REPEAT times, alternating Redis and warpd, so that both
# see the same machine (other load comes and goes); a row is the median.
for p in 1 16; do
    n=$(requests "$p")
    for t in set get mset; do
        for _ in $(seq 1 "$REPEAT"); do
            echo "# redis $t -P $p" >&2
            bench "$tmp/redis.$t.$p" "$n" -p "$rport" -r 100000 -d 100 -P "$p" -t "$t"
            echo "# warpd $t -P $p" >&2
            bench "$tmp/warpd.$t.$p" "$n" -p "$wport" -r 100000 -d 100 -P "$p" -t "$t"
        done
    done
done

echo
echo "redis-benchmark -c 50 -r 100000 -d 100 -n $N1 (-P 1), $N16 (-P 16);" \
    "durable=$DURABLE;" \
    "$(nproc) CPUs; $("$REDIS_SERVER" --version | awk '{print $3}');" \
    "medians of $REPEAT alternated runs; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-22s %14s %14s %8s %8s\n' test redis/s warpd/s ratio target
for p in 1 16; do
    for t in set get mset; do
        r=$(median "$tmp/redis.$t.$p")
        w=$(median "$tmp/warpd.$t.$p")
        name=$(echo "$t" | tr a-z A-Z)
        [ "$t" = mset ] && name="MSET (10 keys)"
        target=1.0
        [ "$p" = 16 ] && target=1.3
        awk -v t="$name -P $p" -v r="${r:-0}" -v w="${w:-0}" -v g="$target" \
            'BEGIN { ratio = 0; if (r > 0) ratio = w / r;
                     note = ""; if (ratio < g) note = "  (below)";
                     printf "%-22s %14.0f %14.0f %7.2fx %7.1fx%s\n", t, r, w,
                            ratio, g, note }'
    done
done
# QGET against GETs. R users, each with 3 partners by warpd's default
# entanglement rules (user:* -> profile:*, settings:*, sessions:*): the
# keys user:ID, profile:ID, settings:ID, sessions:ID with ID as
# redis-benchmark writes __rand_int__ (12 digits), 100-byte values, loaded
# into both servers with redis-cli --pipe (one MSET per user). Then, at -c 50
# and each -P:
#   warpd  QGET user:__rand_int__   one request returns 4 keys
#   warpd  GET  user:__rand_int__   one request returns 1 key
#   Redis  GET  user:__rand_int__   the same, on the same keys
# Counted in keys/s: QGET requests/s x 4, GET requests/s x 1 (a client that
# wants a user and its partners sends one QGET, or four GETs). GET is timed
# on the user keys only; the four families are alike (same count, lengths
# within 4 bytes, same values), so a GET of profile:ID costs the same.
load_users() { # PORT
    awk -v n="$N_USERS" 'BEGIN {
        v = sprintf("%100s", ""); gsub(/ /, "v", v);
        split("user profile settings sessions", fam, " ");
        for (i = 0; i < n; i++) {
            printf "*9\r\n$4\r\nMSET\r\n";
            for (f = 1; f <= 4; f++) {
                k = sprintf("%s:%012d", fam[f], i);
                printf "$%d\r\n%s\r\n$100\r\n%s\r\n", length(k), k, v;
            }
        }
    }' | redis-cli -p "$1" --pipe >/dev/null
}

N_USERS=${N_USERS:-100000}
load_users "$rport"
load_users "$wport"
probe=$(redis-cli -p "$wport" QGET user:000000000042 | grep -c vvvv || true)
if [ "$probe" != 4 ]; then
    echo "vs-redis.sh: QGET user:000000000042 did not return 4 values" >&2
    exit 1
fi

# qrun NAME PORT PIPELINE COMMAND...: one run of a custom command
qrun() {
    local name=$1 port=$2 p=$3
    shift 3
    echo "# $name -P $p: $*" >&2
    bench "$tmp/q.$name.$p" "$(requests "$p")" -p "$port" -r "$N_USERS" -P "$p" "$@"
}

echo
echo "QGET of a user with 3 partners against 4 GETs of the same keys" \
    "($N_USERS users, 4 keys each; keys/s = QGET req/s x 4, GET req/s x 1)"
printf '%-10s %14s %14s %14s %12s %12s\n' pipeline "warpd QGET k/s" \
    "warpd GET k/s" "redis GET k/s" "vs warpd" "vs redis"
for p in 1 16; do
    for _ in $(seq 1 "$REPEAT"); do
        qrun warpd-qget "$wport" "$p" QGET user:__rand_int__
        qrun warpd-get "$wport" "$p" GET user:__rand_int__
        qrun redis-get "$rport" "$p" GET user:__rand_int__
    done
    q=$(median "$tmp/q.warpd-qget.$p")
    wg=$(median "$tmp/q.warpd-get.$p")
    rg=$(median "$tmp/q.redis-get.$p")
    awk -v p="-P $p" -v q="$q" -v wg="$wg" -v rg="$rg" 'BEGIN {
        qk = 4 * q; a = wg > 0 ? qk / wg : 0; b = rg > 0 ? qk / rg : 0;
        printf "%-10s %14.0f %14.0f %14.0f %11.2fx %11.2fx\n", p, qk, wg, rg,
               a, b }'
done
