# tests/tiers.cmake - the event-horizon tier tests (docs/TIERS.md): which
# they are and what they need. tests/CMakeLists.txt includes it before it
# makes the tests.
#
#   test-tiers        moves between tiers keep values bit-exact; the
#                     budget, eviction, deep segments, slot moves,
#                     restarts; readers racing the demoter (`concurrency`:
#                     every test runs the demoter thread beside the test's,
#                     so the TSan tree runs them all); white-box for
#                     one: an eviction racing a pending group commit
#   test-tiers-crash  fork, write under a small budget while values are
#                     demoted, SIGKILL, recover (`durability`; never
#                     `concurrency`: TSan does not run fork/kill tests)

list(APPEND WARP_CONCURRENCY_TESTS test-tiers)
list(APPEND WARP_WHITEBOX_TESTS test-tiers)
list(APPEND WARP_DURABILITY_TESTS test-tiers-crash)
