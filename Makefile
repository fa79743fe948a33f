# A thin wrapper around CMake: `make run` and `make test` are the README's
# quick start. Each first installs missing Debian packages (scripts/deps.sh).
#
#   make / make all   build build/ (RelWithDebInfo); binaries in build/bin/
#   make run          build, then a short `warp bench` (the main job)
#   make test         build and test build/, build-asan/, build-tsan/
#   make bench        build, then the longer benchmark run
#   make serve        build, then run warpd in the foreground (Ctrl-C or
#                     SIGTERM stops it; SERVE_ARGS="--port 6390 ...")
#   make bench-redis  build, then bench/vs-redis.sh: redis-benchmark against
#                     warpd and redis-server, with the ratio table
#   make soak         build, then the crash tests with many more kills
#                     (SOAK_ITERS per test, default 500)
#   make format       clang-format -i every .c/.h
#   make format-check report files clang-format would change (no edits)
#   make clean        remove every build tree

MAKEFLAGS += --no-print-directory

JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
BUILD     ?= build
BUILD_TYPE ?= RelWithDebInfo
WARP      := $(BUILD)/bin/warp
SOAK_ITERS ?= 500
BENCH_ARGS := bench --workload simple --keys 1000000 --value-size 100 --threads 1,2

FORMAT_FILES = $(shell find include src tests cli server -name '*.[ch]' 2>/dev/null)

.PHONY: all build run bench test soak format format-check clean serve \
        bench-redis

all: build

build:
	@scripts/deps.sh build
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(WARP) $(BENCH_ARGS) --seconds 2

bench: build
	$(WARP) $(BENCH_ARGS) --seconds 3

# warpd (docs/SERVER.md): a server runs until it is stopped, so it is not
# `make run`, which must end on its own.
SERVE_ARGS ?=
serve: build
	$(BUILD)/bin/warpd $(SERVE_ARGS)

bench-redis: build
	@scripts/deps.sh bench
	bench/vs-redis.sh $(BUILD)/bin/warpd

test:
	@scripts/deps.sh test
	@JOBS=$(JOBS) scripts/test.sh

# The crash tests of tests/test-crash.c, run directly (no ctest timeout).
soak: build
	WARP_CRASH_ITERS=$(SOAK_ITERS) $(BUILD)/bin/test-crash

format:
	@scripts/deps.sh format
	$(if $(FORMAT_FILES),clang-format -i $(FORMAT_FILES))

format-check:
	@scripts/deps.sh format
	$(if $(FORMAT_FILES),clang-format --dry-run --Werror $(FORMAT_FILES))

clean:
	rm -rf build build-asan build-tsan
