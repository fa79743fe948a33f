# tests/cli.cmake - black-box tests of the `warp` command (label `cli`).
#
# tests/test-cli.sh drives the real binary (target warp_cli, built as
# bin/warp); each group of the script is one ctest test:
#   cli-roundtrip    dump/load of binary keys and values, byte for byte
#   cli-check        warp check on clean and damaged WAL and snapshot files
#   cli-load-errors  malformed dumps are refused with their line number
#   cli-bench-usage  bench argument errors exit 2; bench --dir cleans up
#   cli-bench-physics  bench --physics modes side by side (vs off), mixed,
#                    --repeat, zipf, and the rebalance workload's report
#   cli-bench-engines  bench --workload large (upstream's mix, counted per
#                    call) and --engine with every adapter built, each for
#                    a fraction of a second: the table, JSON and plot
#   cli-bench-qget   bench --workload qget: both rows and the ratio; a key
#                    count that is not a multiple of 4 is refused
# Needs bash and coreutils (od, dd, cmp, sort, awk, paste); bench-engines
# also /usr/bin/python3 (to read the JSON) and uses gnuplot when present.

# warp_cli is defined later (cli/ is added after tests/); the generator
# expression below resolves it at generate time.
find_program(WARP_BASH bash)
if(NOT WARP_BASH OR NOT EXISTS ${PROJECT_SOURCE_DIR}/cli/CMakeLists.txt)
    message(WARNING "bash or cli/ missing: the cli tests are not registered")
    return()
endif()

foreach(group roundtrip check load-errors bench-usage bench-physics
              bench-engines)
    add_test(NAME cli-${group}
             COMMAND ${WARP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/test-cli.sh
                     $<TARGET_FILE:warp_cli> ${group})
    set_tests_properties(cli-${group} PROPERTIES LABELS cli TIMEOUT 300)
endforeach()

# cli-bench-qget: `warp bench --workload qget` runs its two rows on a small
# store (every quantum get must return its 3 partners, found) and prints
# the ratio; bad flags are usage errors (exit 2).
add_test(NAME cli-bench-qget
         COMMAND $<TARGET_FILE:warp_cli> bench --workload qget --keys 4000
                 --seconds 0.05 --repeat 2)
set_tests_properties(cli-bench-qget PROPERTIES LABELS cli TIMEOUT 120
    PASS_REGULAR_EXPRESSION "qget / get4: [0-9]+\\.[0-9]+ \\(per run: [0-9.]+ [0-9.]+")
add_test(NAME cli-bench-qget-usage
         COMMAND $<TARGET_FILE:warp_cli> bench --workload qget --keys 4001)
set_tests_properties(cli-bench-qget-usage PROPERTIES LABELS cli TIMEOUT 60
    PASS_REGULAR_EXPRESSION "qget: bad flag or value for '--keys'")
