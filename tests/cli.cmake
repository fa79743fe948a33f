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
# Needs bash and coreutils (od, dd, cmp, sort, awk, paste).

# warp_cli is defined later (cli/ is added after tests/); the generator
# expression below resolves it at generate time.
find_program(WARP_BASH bash)
if(NOT WARP_BASH OR NOT EXISTS ${PROJECT_SOURCE_DIR}/cli/CMakeLists.txt)
    message(WARNING "bash or cli/ missing: the cli tests are not registered")
    return()
endif()

foreach(group roundtrip check load-errors bench-usage bench-physics)
    add_test(NAME cli-${group}
             COMMAND ${WARP_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/test-cli.sh
                     $<TARGET_FILE:warp_cli> ${group})
    set_tests_properties(cli-${group} PROPERTIES LABELS cli TIMEOUT 300)
endforeach()
