#!/bin/bash
# test-cli.sh - black-box tests of the `warp` command: dump, load, check and
# bench's argument checks, driven through the real binary.
#
# usage: test-cli.sh WARP [GROUP...]
#   WARP   the warp binary
#   GROUP  roundtrip, check, load-errors, bench-usage, bench-physics or
#          bench-engines; all when omitted
#          (tests/cli.cmake registers one ctest test per group)
#
# Each test is named after the behaviour it pins. The script makes its own
# temporary directory and removes it on exit.
set -euo pipefail

if [ $# -lt 1 ]; then
    echo "usage: $0 WARP [GROUP...]" >&2
    exit 2
fi
WARP=$1
shift
GROUPS_TO_RUN=("$@")
[ ${#GROUPS_TO_RUN[@]} -gt 0 ] || GROUPS_TO_RUN=(roundtrip check load-errors bench-usage bench-physics bench-engines)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/warp-cli-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'echo "FAIL: ${current:-setup}: unexpected error at line $LINENO" >&2' ERR

export LC_ALL=C
failures=0
current=""

begin() {
    current=$1
    echo "--- $current"
}

fail() {
    echo "FAIL: $current: $*" >&2
    failures=$((failures + 1))
}

# expect_status WANT CMD...: run CMD (stdout and stderr to $TMP/out, $TMP/err)
# and check its exit status.
expect_status() {
    local want=$1 got=0
    shift
    "$@" >"$TMP/out" 2>"$TMP/err" || got=$?
    if [ "$got" -ne "$want" ]; then
        fail "exit status $got, expected $want: $*"
        sed 's/^/    stderr: /' "$TMP/err" >&2
        return 1
    fi
}

# expect_stderr PATTERN: the last command's stderr matches PATTERN (grep -E).
expect_stderr() {
    grep -Eq -- "$1" "$TMP/err" || {
        fail "stderr does not match '$1'"
        sed 's/^/    stderr: /' "$TMP/err" >&2
    }
}

# flip_byte FILE OFFSET: invert every bit of the byte at OFFSET.
flip_byte() {
    local file=$1 off=$2 b
    b=$(od -An -tu1 -j "$off" -N1 "$file" | tr -d ' ')
    printf "\\x$(printf %02x $((b ^ 0xff)))" |
        dd of="$file" bs=1 seek="$off" conv=notrunc status=none
}

# The canonical dump escaping of the bytes given as hex pairs on stdin
# ("00 41 ff ..."), one string per input line, quoted.
canonical_strings() {
    awk 'BEGIN {
        for (i = 0; i < 256; i++) {
            h = sprintf("%02x", i)
            if (i == 34) e = "\\\""
            else if (i == 92) e = "\\\\"
            else if (i == 10) e = "\\n"
            else if (i == 13) e = "\\r"
            else if (i == 9) e = "\\t"
            else if (i >= 32 && i <= 126) e = sprintf("%c", i)
            else e = "\\x" h
            enc[h] = e
        }
    }
    {
        s = "\""
        for (i = 1; i <= NF; i++)
            s = s enc[$i]
        print s "\""
    }'
}

# A dump in canonical form: edge cases by hand, every byte value, and
# random binary pairs; some with hints.
make_dump() {
    local all_bytes
    all_bytes=$(for i in $(seq 0 255); do printf '%02x ' "$i"; done | canonical_strings)
    {
        echo '# warp dump v1'
        echo '"" ""'
        echo '"empty value" ""'
        echo '"\x00" "\x00\x00"'
        echo '"nul\x00in\x00the\x00middle" "new\nline\r\n"'
        echo '"quote\"back\\slash" "tab\there"'
        echo '"high\x80\xfe\xff" "\x7f\x01\x1f"'
        echo '"hot" "h" access=hot'
        echo '"cold and low" "c" access=cold priority=low'
        echo '"critical" "c" priority=critical'
        echo "\"all bytes as key\" $all_bytes"
        echo "$all_bytes \"all bytes as value\""
        # 300 random pairs: keys of 8..39 bytes, values of 0..299 bytes
        head -c 60000 /dev/urandom | od -An -v -tx1 | tr -s ' \n' '  ' |
            awk -v seed=42 '{
                n = split($0, b, " "); srand(seed); p = 1
                for (k = 0; k < 300 && p < n; k++) {
                    kl = 8 + int(rand() * 32); vl = int(rand() * 300)
                    key = ""; val = ""
                    for (i = 0; i < kl && p <= n; i++) key = key " " b[p++]
                    for (i = 0; i < vl && p <= n; i++) val = val " " b[p++]
                    print key; print (val == "" ? "" : val)
                }
            }' | canonical_strings | paste -d ' ' - -
    } >"$TMP/pairs.tmp"
    local n
    n=$(($(wc -l <"$TMP/pairs.tmp") - 1))
    cat "$TMP/pairs.tmp"
    echo "# end $n"
}

# The pair lines of a dump, sorted.
pairs_sorted() {
    { grep -v '^#' "$1" || true; } | sort
}

group_roundtrip() {
    begin "load of a dump with binary keys and values succeeds"
    make_dump >"$TMP/a.dump"
    expect_status 0 "$WARP" load "$TMP/s1" <"$TMP/a.dump" || return 0

    begin "dump gives back every pair byte for byte, hints included"
    expect_status 0 "$WARP" dump "$TMP/s1" || return 0
    mv "$TMP/out" "$TMP/b.dump"
    pairs_sorted "$TMP/a.dump" >"$TMP/a.sorted"
    pairs_sorted "$TMP/b.dump" >"$TMP/b.sorted"
    cmp "$TMP/a.sorted" "$TMP/b.sorted" || fail "pairs differ after load+dump"
    head -n1 "$TMP/b.dump" | grep -qx '# warp dump v1' || fail "no header line"
    tail -n1 "$TMP/b.dump" | grep -qx "# end $(wc -l <"$TMP/a.sorted")" ||
        fail "wrong end line: $(tail -n1 "$TMP/b.dump")"

    begin "dump of a store loaded from a dump is identical to that dump"
    expect_status 0 "$WARP" load "$TMP/s2" <"$TMP/b.dump" || return 0
    expect_status 0 "$WARP" dump "$TMP/s2" || return 0
    cmp "$TMP/b.dump" "$TMP/out" || fail "second round trip differs"

    begin "dump of a missing directory fails and creates nothing"
    expect_status 1 "$WARP" dump "$TMP/nothing-here" || true
    [ ! -e "$TMP/nothing-here" ] || fail "dump created the directory"

    begin "load refuses a directory that is neither empty nor a store"
    mkdir "$TMP/other"
    echo hello >"$TMP/other/file"
    expect_status 1 "$WARP" load "$TMP/other" <"$TMP/a.dump" || true
}

group_check() {
    begin "check of a clean store exits 0"
    make_dump >"$TMP/a.dump"
    expect_status 0 "$WARP" load "$TMP/clean" <"$TMP/a.dump" || return 0
    expect_status 0 "$WARP" check "$TMP/clean" || return 0
    grep -q 'status: clean' "$TMP/out" || fail "no 'status: clean' in output"

    # One shard, so one WAL segment holds every record: 2000 puts of an
    # 8-byte key and a 100-byte value, each record align8(28+8+100) = 136
    # bytes after the 64-byte segment header.
    begin "check finds a flipped byte in the middle of a WAL segment"
    {
        echo '# warp dump v1'
        value=$(printf 'x%.0s' $(seq 100))
        for i in $(seq 0 1999); do printf '"key%05d" "%s"\n' "$i" "$value"; done
        echo '# end 2000'
    } >"$TMP/w.dump"
    expect_status 0 "$WARP" load "$TMP/wal" --opt shards=1 <"$TMP/w.dump" || return 0
    seg=$(ls "$TMP"/wal/wal/*.wal)
    [ "$(echo "$seg" | wc -l)" -eq 1 ] || fail "expected one WAL segment: $seg"
    off=$((64 + 136 * 1000 + 40)) # inside record 1000's value
    [ "$(od -An -c -j $off -N1 "$seg" | tr -d ' ')" = x ] ||
        fail "offset $off is not inside a value"
    flip_byte "$seg" $off
    expect_status 1 "$WARP" check "$TMP/wal" || true
    grep -q 'status: DAMAGED' "$TMP/out" || fail "no 'status: DAMAGED'"
    grep -q 'first error' "$TMP/out" || fail "no first error reported"

    begin "a store with a damaged WAL record before valid ones refuses to dump"
    expect_status 1 "$WARP" dump "$TMP/wal" || true

    begin "check finds a flipped byte in the middle of a snapshot"
    expect_status 0 "$WARP" bench --workload checkpoint --keys 2000 \
        --seconds 0.2 --dir "$TMP/snap" --keep || return 0
    snap=$(ls "$TMP"/snap/snapshots/*.snap | head -n1)
    [ -n "$snap" ] || { fail "the checkpoint left no snapshot"; return 0; }
    expect_status 0 "$WARP" check "$TMP/snap" || return 0
    flip_byte "$snap" $(($(stat -c %s "$snap") / 2))
    expect_status 1 "$WARP" check "$TMP/snap" || true
    grep -q 'status: DAMAGED' "$TMP/out" || fail "no 'status: DAMAGED'"

    begin "check without a directory is a usage error"
    expect_status 2 "$WARP" check || true
    begin "check of a directory that holds no store fails"
    mkdir -p "$TMP/empty"
    expect_status 1 "$WARP" check "$TMP/empty" || true
}

# load_rejects LINE INPUT: load of INPUT (printf format) fails naming LINE.
load_rejects() {
    local line=$1 input=$2 dir
    dir=$(mktemp -d "$TMP/bad.XXXXXX")
    # shellcheck disable=SC2059
    printf "$input" >"$TMP/bad.dump"
    expect_status 1 "$WARP" load "$dir/s" <"$TMP/bad.dump" || return 0
    expect_stderr "line $line:"
}

group_load_errors() {
    begin "load rejects a missing header"
    load_rejects 1 '"a" "b"\n# end 1\n'
    begin "load rejects empty input"
    load_rejects 1 ''
    begin "load rejects an unknown escape"
    load_rejects 3 '# warp dump v1\n"a" "b"\n"a" "\\q"\n# end 2\n'
    begin "load rejects a short \\x escape"
    load_rejects 2 '# warp dump v1\n"a\\x4" "b"\n# end 1\n'
    begin "load rejects a raw control byte inside a string"
    load_rejects 2 '# warp dump v1\n"a\001" "b"\n# end 1\n'
    begin "load rejects an unterminated string"
    load_rejects 2 '# warp dump v1\n"a" "b\n# end 1\n'
    begin "load rejects a missing value"
    load_rejects 2 '# warp dump v1\n"a"\n# end 1\n'
    begin "load rejects trailing garbage after the value"
    load_rejects 2 '# warp dump v1\n"a" "b" x\n# end 1\n'
    begin "load rejects an unknown hint"
    load_rejects 2 '# warp dump v1\n"a" "b" access=lukewarm\n# end 1\n'
    begin "load rejects a repeated hint"
    load_rejects 2 '# warp dump v1\n"a" "b" priority=low priority=low\n# end 1\n'
    begin "load rejects a dump without its end line (truncated)"
    load_rejects 3 '# warp dump v1\n"a" "b"\n'
    begin "load rejects an end line with the wrong count"
    load_rejects 3 '# warp dump v1\n"a" "b"\n# end 2\n'
    begin "load rejects a last line without a newline"
    load_rejects 3 '# warp dump v1\n"a" "b"\n# end 1'
    begin "load rejects text after the end line"
    load_rejects 4 '# warp dump v1\n"a" "b"\n# end 1\n"c" "d"\n'

    begin "load reports how many pairs it loaded before the bad line"
    dir=$(mktemp -d "$TMP/bad.XXXXXX")
    printf '# warp dump v1\n"a" "1"\n"b" "2"\n"c" "\\q"\n# end 3\n' >"$TMP/bad.dump"
    expect_status 1 "$WARP" load "$dir/s" <"$TMP/bad.dump" || true
    expect_stderr "line 4:"
    expect_stderr "2 pairs loaded"
    expect_status 0 "$WARP" dump "$dir/s" || return 0
    [ "$(grep -vc '^#' "$TMP/out")" -eq 2 ] ||
        fail "the store should hold exactly the 2 pairs before the bad line"

    begin "load reports a key over max_key_size with its line"
    dir=$(mktemp -d "$TMP/bad.XXXXXX")
    printf '# warp dump v1\n"a" "1"\n"much too long" "2"\n# end 2\n' >"$TMP/bad.dump"
    expect_status 1 "$WARP" load "$dir/s" --opt max_key_size=4 <"$TMP/bad.dump" || true
    expect_stderr "line 3:"
    expect_stderr "1 pair loaded"

    begin "load with an unknown option is a usage error"
    expect_status 2 "$WARP" load "$TMP/x" --opt no_such_option=1 </dev/null || true
}

group_bench_usage() {
    local d="$TMP/bench-dir"
    begin "bench --fsync without --dir is a usage error"
    expect_status 2 "$WARP" bench --fsync always || true
    begin "bench --fsync with an unknown mode is a usage error"
    expect_status 2 "$WARP" bench --fsync sometimes --dir "$d" || true
    begin "bench --workload recover without --dir is a usage error"
    expect_status 2 "$WARP" bench --workload recover || true
    begin "bench --workload checkpoint without --dir is a usage error"
    expect_status 2 "$WARP" bench --workload checkpoint || true
    begin "bench recover in a list is a usage error"
    expect_status 2 "$WARP" bench --workload put,recover --dir "$d" || true
    begin "bench --compare-memory without --dir is a usage error"
    expect_status 2 "$WARP" bench --compare-memory || true
    begin "bench --compare-memory with recover is a usage error"
    expect_status 2 "$WARP" bench --workload recover --dir "$d" --compare-memory || true
    begin "bench --compare-memory takes no value"
    expect_status 2 "$WARP" bench --compare-memory=yes --dir "$d" || true
    begin "bench --dir on a non-empty directory is a usage error"
    mkdir -p "$d"
    echo precious >"$d/file"
    expect_status 2 "$WARP" bench --dir "$d" --keys 10 --seconds 0.1 || true
    [ "$(cat "$d/file")" = precious ] || fail "bench touched a file it did not write"
    begin "bench with an unknown workload, flag or thread count is a usage error"
    expect_status 2 "$WARP" bench --workload nosuch || true
    expect_status 2 "$WARP" bench --no-such-flag || true
    expect_status 2 "$WARP" bench --threads 0 || true
    expect_status 2 "$WARP" bench --keys 0 || true

    begin "bench with a bad physics mode, repeat count or distribution is a usage error"
    expect_status 2 "$WARP" bench --physics warp9 || true
    expect_stderr "--physics"
    expect_status 2 "$WARP" bench --physics off,off || true
    expect_status 2 "$WARP" bench --repeat 0 || true
    expect_status 2 "$WARP" bench --dist pareto || true
    expect_status 2 "$WARP" bench --dist zipf --zipf-s 0 || true
    begin "bench rebalance runs alone, in memory, with one mode and thread count"
    expect_status 2 "$WARP" bench --workload rebalance,simple || true
    expect_status 2 "$WARP" bench --workload rebalance --physics off,full || true
    expect_status 2 "$WARP" bench --workload rebalance --threads 1,2 || true
    expect_status 2 "$WARP" bench --workload rebalance --dir "$d" || true

    begin "bench --dir removes what it wrote and the directory it created"
    expect_status 0 "$WARP" bench --workload put --keys 1000 --seconds 0.1 \
        --dir "$TMP/fresh" --fsync never || return 0
    [ ! -e "$TMP/fresh" ] || fail "bench left $TMP/fresh behind"
}

# expect_out PATTERN: the last command's stdout matches PATTERN (grep -E).
expect_out() {
    grep -Eq -- "$1" "$TMP/out" || {
        fail "stdout does not match '$1'"
        sed 's/^/    stdout: /' "$TMP/out" >&2
    }
}

# expect_json FILE PATTERN: FILE matches PATTERN (grep -E).
expect_json() {
    grep -Eq -- "$2" "$1" || fail "$1 does not match '$2'"
}

group_bench_physics() {
    local j="$TMP/physics.json"
    begin "bench --physics off,full runs mixed once per mode with its ratio to off"
    expect_status 0 "$WARP" bench --physics off,full --workload mixed \
        --keys 2000 --seconds 1 --json "$j" || return 0
    expect_out '^workload .* physics .* vs off '
    expect_out '^mixed +none +1 off +1 .* 1\.000 '
    expect_out '^mixed +none +1 full +1 .* [0-9]+\.[0-9]{3} '
    expect_out '^summary: median of 1 run per mode'
    expect_json "$j" '"workload":"mixed"[^}]*"mode":"off"[^}]*"layout":"related"'
    expect_json "$j" '"mode":"full"[^}]*"vs_off":[0-9]'
    expect_json "$j" '"summary":\[\{"workload":"mixed","threads":1,"mode":"off"'

    begin "bench --repeat interleaves the modes and reports each mode's median"
    expect_status 0 "$WARP" bench --physics full,off --workload simple \
        --dist zipf --keys 2000 --seconds 0.2 --repeat 2 || return 0
    [ "$(grep -Ec '^simple +none +1 (off|full) +[12] ' "$TMP/out")" -eq 4 ] ||
        fail "expected 4 simple rows (2 modes x 2 runs)"
    expect_out '^summary: median of 2 runs per mode'
    expect_out '^simple +1 full +[0-9.]+[kM]? +[0-9]+\.[0-9]{3} '

    begin "bench rebalance reports the busiest shard before and after, and the best"
    j="$TMP/rebalance.json"
    expect_status 0 "$WARP" bench --workload rebalance --keys 2000 \
        --seconds 1 --json "$j" || return 0
    expect_out 'physics full, zipf keys'
    expect_out '^ +1 +[0-9.]+[kM]? +[0-9.]+[kM]? +0\.[0-9]{4} +0\.[0-9]{4} +0\.[0-9]{4} '
    expect_out 'busiest shard after / best achievable: [0-9.]+ .*target <= 1\.25'
    expect_json "$j" '"phase":"before".*"phase":"after"'
    for f in busiest_share_before busiest_share_after best_share after_vs_best \
        slots_moved keys_moved micros ops_entropy_before ops_entropy_after; do
        expect_json "$j" "\"rebalance\":\\[\\{.*\"$f\":[0-9]"
        expect_json "$j" "\"rebalance_summary\":\\{.*\"$f\":[0-9]"
    done
}

# check_engine_json FILE ENGINES WORKLOADS: every (engine, workload) has a
# row with ops > 0 and its dataset, calls and latency fields; complex rows
# keep upstream's mix (15 gets and 2 puts per quantum get); every load and
# summary cell is there. Prints what is wrong; silent when all is sane.
check_engine_json() {
    /usr/bin/python3 - "$@" <<'PYEOF'
import json, sys
path, engines, workloads = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
d = json.load(open(path))
rows = d["results"]
for e in engines:
    for w in workloads:
        mine = [r for r in rows if r["engine"] == e and r["workload"] == w]
        if not mine:
            print(f"no row for {e} {w}")
        for r in mine:
            for f in ("threads", "physics", "fsync", "ops", "seconds",
                      "ops_per_sec", "worker_cores", "p50_us", "p99_us",
                      "dataset", "calls"):
                if f not in r:
                    print(f"{e} {w}: no field {f}")
            if r["ops"] <= 0 or r["ops_per_sec"] <= 0:
                print(f"{e} {w}: ops {r['ops']}")
            c = r["calls"]
            if sum(c.values()) != r["ops"]:
                print(f"{e} {w}: calls {c} do not add up to ops {r['ops']}")
            want = {"simple": "flat", "mixed": "related", "complex": "large"}[w]
            if r["dataset"]["name"] != want:
                print(f"{e} {w}: dataset {r['dataset']}")
            if w == "complex":
                q = c["quantum_get"]
                if q == 0 or not (14 <= c["get"] / q <= 16 and 1.8 <= c["put"] / q <= 2.2):
                    print(f"{e} complex: calls {c} are not 750/100/50 per 900")
            if (e == "warp") != (r["physics"] != "none"):
                print(f"{e} {w}: physics {r['physics']}")
            fd = r.get("facts_dropped", "absent")
            if (e == "warp") != (isinstance(fd, int) and fd >= 0) or \
                    (e != "warp" and fd is not None):
                print(f"{e} {w}: facts_dropped {fd}")
        if not [l for l in d["loads"] if l["engine"] == e and l["workload"] == w and l["puts"] > 0]:
            print(f"no load for {e} {w}")
        if not [s for s in d["summary"] if s["engine"] == e and s["workload"] == w and s["ops_per_sec"] > 0]:
            print(f"no summary for {e} {w}")
for r in rows:
    if r["engine"] not in engines or r["workload"] not in workloads:
        print(f"unexpected row {r['engine']} {r['workload']}")
PYEOF
}

group_bench_engines() {
    local j="$TMP/large.json" d="$TMP/engine-dir" engines
    begin "bench --workload large runs upstream's mix, one op per engine call"
    expect_status 0 "$WARP" bench --workload large --target-gb 0.0004 \
        --seconds 0.2 --warmup 0.05 --threads 1,2 --json "$j" || return 0
    expect_out '^complex: --target-gb 0.0004: N = 40, Q = 10 ids, 120 entries, 120 distinct keys'
    expect_out '^load complex warp +120 puts in .* puts/s \(one put per call\)'
    expect_out '^complex +warp +full +1 +1 +[1-9][0-9]* '
    expect_out '^complex +warp +full +2 +1 +[1-9][0-9]* '
    [ -z "$(check_engine_json "$j" warp complex)" ] ||
        fail "$(check_engine_json "$j" warp complex)"

    begin "bench --engine runs every built adapter on every workload"
    expect_status 0 "$WARP" bench --engine warp --help || return 0
    engines=$(sed -n 's/^Engines built into this binary: //p' "$TMP/out" | tr ' ' ,)
    [ -n "$engines" ] || fail "--help names no built engine"
    echo "    engines built: $engines"
    local plot=()
    command -v gnuplot >/dev/null && plot=(--plot "$TMP/engines.png")
    j="$TMP/engines.json"
    expect_status 0 "$WARP" bench --engine "$engines" --keys 2000 \
        --target-gb 0.0004 --seconds 0.1 --warmup 0 --dir "$d" \
        --json "$j" "${plot[@]}" || return 0
    [ -z "$(check_engine_json "$j" "$engines" simple,mixed,complex)" ] ||
        fail "$(check_engine_json "$j" "$engines" simple,mixed,complex)"
    [ ! -e "$d" ] || fail "bench left $d behind"
    if [ ${#plot[@]} -gt 0 ]; then
        [ "$(od -An -c -N4 "$TMP/engines.png" | tr -d ' ')" = '211PNG' ] ||
            fail "--plot did not write a PNG"
        grep -q "seed measured, 1 process: 1,038" "$TMP/engines.gp" ||
            fail "the plot has no seed reference line"
    fi

    begin "bench --engine usage errors exit 2"
    expect_status 2 "$WARP" bench --engine lmdb --keys 100 || true
    expect_stderr "lmdb"
    expect_status 2 "$WARP" bench --engine nosuch || true
    expect_status 2 "$WARP" bench --engine warp --workload batch || true
    expect_status 2 "$WARP" bench --engine warp,warp || true
    expect_status 2 "$WARP" bench --workload complex --target-gb 0 || true
}

for g in "${GROUPS_TO_RUN[@]}"; do
    case $g in
    roundtrip) group_roundtrip ;;
    check) group_check ;;
    load-errors) group_load_errors ;;
    bench-usage) group_bench_usage ;;
    bench-physics) group_bench_physics ;;
    bench-engines) group_bench_engines ;;
    *)
        echo "unknown group '$g'" >&2
        exit 2
        ;;
    esac
done

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)" >&2
    exit 1
fi
echo "all passed"
