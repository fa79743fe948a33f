# tests/durability.cmake - the durability tests (per-shard WAL, group
# commit, checkpoints, crash recovery): which they are and what they need.
# tests/CMakeLists.txt includes it before it makes the tests.
#
#   test-durability          persistence across close and reopen (black-box)
#   test-durability-threads  checkpoints while threads write (black-box;
#                            also `concurrency`, so it runs under TSan)
#   test-crash               fork, write (and move slots), SIGKILL,
#                            recover (black-box; WARP_CRASH_ITERS
#                            iterations, default 20)
#   test-corruption          torn tails and bit flips in WAL and snapshots
#   test-iofault             EIO, ENOSPC and short writes injected through
#                            src/io.h (white-box: links warp_internal)
#   test-migrate             slot moves: contents, counters, reopen,
#                            checkpoints, lost images, old file versions
#                            (white-box for the file layouts)
#   test-migrate-threads     moves while threads read and write (also
#                            `concurrency`, so it runs under TSan)
#
# Every one is labelled `durability` (ctest -L durability) and `unit`. The
# fork/kill test is never `concurrency`: the TSan tree runs only that label.

list(APPEND WARP_DURABILITY_TESTS
     test-durability test-durability-threads test-crash test-corruption
     test-iofault test-migrate test-migrate-threads)
list(APPEND WARP_WHITEBOX_TESTS test-iofault test-migrate)
list(APPEND WARP_CONCURRENCY_TESTS test-durability-threads
     test-migrate-threads)
