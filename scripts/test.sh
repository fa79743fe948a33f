#!/usr/bin/env bash
# scripts/test.sh [plain] [asan] [tsan] - build and test WarpEngine's trees.
#
#   plain  build/       RelWithDebInfo (-O2 -g -DNDEBUG)      every test
#   asan   build-asan/  WARP_SANITIZE=address (ASan+UBSan)    every test
#   tsan   build-tsan/  WARP_SANITIZE=thread (TSan)           label `concurrency`
#   fuzz   build-fuzz/  clang, ASan+UBSan, WARP_FUZZ=ON       label `fuzz`: each
#                       libFuzzer target of fuzz/ for 60 s, JOBS at a time
#
# With no argument it runs all four (this is `make test`). Every tree runs
# even when an earlier one failed; a tree fails when it does not build, when
# a test fails, or when it has no test to run. The last line sums the tests
# of every tree: "summary: N passed, N failed". Exit status 0 only if every
# tree passed. Run scripts/deps.sh test first (make test does).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

passed=0
failed=0
results=()
status=0

# run_tree NAME DIR "CTEST ARGS" CMAKE-ARGS...
run_tree() {
    local name=$1 dir=$2 ctest_args=$3
    shift 3
    local log="$dir/ctest.log" line total nfail

    echo "=== $name: $dir"
    if ! cmake -S . -B "$dir" "$@"; then
        results+=("$name: configure FAILED")
        status=1
        return
    fi
    if ! cmake --build "$dir" -j "$jobs"; then
        results+=("$name: build FAILED")
        status=1
        return
    fi
    # shellcheck disable=SC2086 # ctest_args is a list of words
    ctest --test-dir "$dir" --output-on-failure --no-tests=error \
        --timeout 600 $ctest_args 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]}

    # "100% tests passed, 0 tests failed out of 12"
    line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
    if [[ -n $line ]]; then
        nfail=$(sed -E 's/.* ([0-9]+) tests? failed out of.*/\1/' <<<"$line")
        total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
        passed=$((passed + total - nfail))
        failed=$((failed + nfail))
    fi
    if ((rc != 0)); then
        results+=("$name: FAILED (${line:-no tests run})")
        status=1
    else
        results+=("$name: ok (${line})")
    fi
}

trees=("$@")
((${#trees[@]})) || trees=(plain asan tsan fuzz)
for t in "${trees[@]}"; do
    case $t in
    plain) run_tree plain build "-j $jobs" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWARP_SANITIZE= ;;
    asan) run_tree asan build-asan "-j $jobs" -DCMAKE_BUILD_TYPE=Debug -DWARP_SANITIZE=address ;;
    tsan) run_tree tsan build-tsan "-j 1 -L concurrency" -DCMAKE_BUILD_TYPE=Debug -DWARP_SANITIZE=thread ;;
    fuzz) run_tree fuzz build-fuzz "-j $jobs -L fuzz" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
        -DWARP_SANITIZE=address -DWARP_FUZZ=ON -DWARP_FUZZ_SECONDS=60 ;;
    *)
        echo "scripts/test.sh: unknown tree '$t' (plain, asan, tsan, fuzz)" >&2
        exit 2
        ;;
    esac
done

echo
echo "=== test trees"
printf '  %s\n' "${results[@]}"
echo "summary: $passed passed, $failed failed"
exit $status
