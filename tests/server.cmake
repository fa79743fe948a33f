# tests/server.cmake - black-box tests of warpd (label `server`), included
# by server/CMakeLists.txt.
#
# tests/test-server.py starts the real binary on a free loopback port and
# drives it with redis-py, redis-cli and raw sockets; each group of the
# script is one ctest test:
#   server-commands     the command set, through redis-py and redis-cli
#   server-resp         frames split at every byte, inline commands, huge
#                       declared lengths, 10,000 pipelined commands, RESP3
#   server-limits       bulk length, multibulk count, query and output
#                       buffers, maxclients, idle timeout, maxmemory
#   server-auth         requirepass, NOAUTH, AUTH, HELLO AUTH, RESET
#   server-ttl          expiry options, lazy and active expiry
#   server-persistence  restarts keep values and TTLs; SHUTDOWN; adoption
#   server-crash        kill -9 with fsync always loses no acknowledged write
#   server-entangle     QGET, ENTANGLE, UNENTANGLE against rules and a model
#                       of random edges; restart; FLUSHDB; RESP3
#   server-series       TS.* against a naive computation on random samples;
#                       RETENTION, errors, restart, redis-py's ts() client
#   server-info         INFO's physics, entropy, entanglement, tiers sections
#   server-smoke        many clients on four loops at once; also labelled
#                       `concurrency`, so it runs under ThreadSanitizer
# Needs Debian's python3 with python3-redis, and redis-tools (scripts/deps.sh
# test installs them). The interpreter is /usr/bin/python3 on purpose: a
# python3 earlier on PATH (pyenv, a venv) does not see Debian's packages.

find_program(WARPD_PYTHON python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT WARPD_PYTHON OR NOT TARGET warp_cli)
    message(WARNING "/usr/bin/python3 or the warp CLI missing: "
                    "the warpd tests are not registered")
    return()
endif()

foreach(group commands resp limits auth ttl persistence crash smoke
              entangle series info)
    add_test(NAME server-${group}
             COMMAND ${WARPD_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test-server.py
                     $<TARGET_FILE:warpd> $<TARGET_FILE:warp_cli> ${group})
    set(labels server)
    if(group STREQUAL "smoke")
        list(APPEND labels concurrency)
    endif()
    set_tests_properties(server-${group} PROPERTIES
        LABELS "${labels}" TIMEOUT 300)
endforeach()
