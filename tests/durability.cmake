# tests/durability.cmake - the durability tests (per-shard WAL, group
# commit, checkpoints, crash recovery), included by tests/CMakeLists.txt.
#
#   test-durability          persistence across close and reopen (black-box)
#   test-durability-threads  checkpoints while threads write (black-box;
#                            also `concurrency`, so it runs under TSan)
#   test-crash               fork, write, SIGKILL, recover (black-box;
#                            WARP_CRASH_ITERS iterations, default 20)
#   test-corruption          torn tails and bit flips in WAL and snapshots
#   test-iofault             EIO, ENOSPC and short writes injected through
#                            src/io.h (white-box: links warp_internal)
#
# Every one is labelled `durability` (ctest -L durability) and `unit`. The
# fork/kill test is never `concurrency`: the TSan tree runs only that label.

set(WARP_DURABILITY_TESTS
    test-durability test-durability-threads test-crash test-corruption
    test-iofault)
set(WARP_DURABILITY_WHITEBOX test-iofault)
set(WARP_DURABILITY_CONCURRENCY test-durability-threads)

# tests/CMakeLists.txt has already made a target and a test of each
# test-*.c; this file adds labels and the white-box include path.
foreach(name IN LISTS WARP_DURABILITY_TESTS)
    if(name IN_LIST WARP_DURABILITY_WHITEBOX)
        target_link_libraries(${name} PRIVATE warp_internal)
    endif()
    set(labels unit durability)
    if(name IN_LIST WARP_DURABILITY_CONCURRENCY)
        list(APPEND labels concurrency)
    endif()
    set_tests_properties(${name} PROPERTIES
        LABELS "${labels}"
        TIMEOUT 300)
endforeach()
