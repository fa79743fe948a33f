# tests/hardening.cmake - warpd under attack, crashes and a full disk, and
# behind twemproxy (issue 8), included by the top-level CMakeLists.txt.
#
#   chaos                tests/test-chaos.py: SIGKILL warpd at random moments
#                        under load (fsync always, rebalances, checkpoints)
#                        and check every acknowledged write after each
#                        restart; 60 s per tree here, `make soak` runs longer
#   hardening-security   loopback default, nothing before AUTH, no file
#                        outside the data directory, CONFIG SET and paths
#   hardening-clients    1,000 clients, slow readers, garbage, half requests
#   hardening-diskfull   a small tmpfs fills up (skipped without root)
#   cluster              3 warpd nodes behind nutcracker (twemproxy)
# Labels: every one is `hardening`; chaos also `chaos`, cluster `cluster`.
# The python is Debian's /usr/bin/python3 (python3-redis), as in
# tests/server.cmake.

find_program(WARP_HARDENING_PYTHON python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT WARP_HARDENING_PYTHON OR NOT TARGET warpd OR NOT TARGET warp_cli)
    message(WARNING "/usr/bin/python3, warpd or the warp CLI missing: "
                    "the hardening tests are not registered")
    return()
endif()

set(WARP_CHAOS_SECONDS 60 CACHE STRING "seconds the chaos test runs in ctest")
add_test(NAME chaos
         COMMAND ${WARP_HARDENING_PYTHON}
                 ${CMAKE_CURRENT_LIST_DIR}/test-chaos.py $<TARGET_FILE:warpd>
                 --budget ${WARP_CHAOS_SECONDS} --warp $<TARGET_FILE:warp_cli>)
set_tests_properties(chaos PROPERTIES LABELS "hardening;chaos" TIMEOUT 600)

foreach(group security clients diskfull)
    add_test(NAME hardening-${group}
             COMMAND ${WARP_HARDENING_PYTHON}
                     ${CMAKE_CURRENT_LIST_DIR}/test-hardening.py
                     $<TARGET_FILE:warpd> ${group})
    set_tests_properties(hardening-${group} PROPERTIES
        LABELS hardening TIMEOUT 300 SKIP_RETURN_CODE 77)
endforeach()

find_program(WARP_NUTCRACKER nutcracker PATHS /usr/sbin /usr/bin)
if(WARP_NUTCRACKER)
    add_test(NAME cluster
             COMMAND ${WARP_HARDENING_PYTHON}
                     ${CMAKE_CURRENT_LIST_DIR}/test-cluster.py
                     $<TARGET_FILE:warpd>)
    set_tests_properties(cluster PROPERTIES LABELS "hardening;cluster"
                         TIMEOUT 300)
else()
    message(WARNING "nutcracker (twemproxy) missing: the cluster test is "
                    "not registered (scripts/deps.sh test installs it)")
endif()
