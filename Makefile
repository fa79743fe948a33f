# A thin wrapper around CMake: `make run` and `make test` are the README's
# quick start. Each first installs missing Debian packages (scripts/deps.sh).
#
#   make / make all   build build/ (RelWithDebInfo); binaries in build/bin/
#   make run          build, then start warpd, the Redis-protocol server, in
#                     the foreground with its embedded defaults (the main job:
#                     127.0.0.1:6380, data in ./warpd-data; Ctrl-C or SIGTERM
#                     stops it; SERVE_ARGS="--port 6390 ...")
#   make bench-quick  build, then a short `warp bench` (2 s of gets)
#   make test         build and test build/, build-asan/, build-tsan/,
#                     build-fuzz/ (each fuzz target for 60 s)
#   make bench        build, then WarpEngine, LMDB and RocksDB on the seed's
#                     workloads (~2 min): bench/results/DATE.json and .png
#   make serve        the same as make run
#   make bench-redis  build, then bench/vs-redis.sh: redis-benchmark against
#                     warpd and redis-server, with the ratio table
#   make soak         build, then the crash tests with many more kills
#                     (SOAK_ITERS per test, default 500), then the warpd
#                     chaos run: CHAOS_ITERS SIGKILLs under load (default
#                     200, at most CHAOS_SECONDS, default 3600)
#   make fuzz         the libFuzzer targets of fuzz/ in build-fuzz/ (clang,
#                     ASan+UBSan), each for FUZZ_SECONDS (default 300)
#   make cluster-demo build, then 3 warpd nodes behind twemproxy
#                     (nutcracker), redis-benchmark through it (docs/SCALING.md)
#   make format       clang-format -i every .c/.h
#   make format-check report files clang-format would change (no edits)
#   make clean        remove every build tree

MAKEFLAGS += --no-print-directory

JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
BUILD     ?= build
BUILD_TYPE ?= RelWithDebInfo
WARP      := $(BUILD)/bin/warp
SOAK_ITERS ?= 500
CHAOS_ITERS ?= 200
CHAOS_SECONDS ?= 3600
FUZZ_SECONDS ?= 300
BENCH_ARGS := bench --workload simple --keys 1000000 --value-size 100 --threads 1,2

FORMAT_FILES = $(shell find include src tests cli server fuzz bench -name '*.[ch]' 2>/dev/null)

.PHONY: all build run bench test soak format format-check clean serve \
        bench-quick bench-redis fuzz cluster-demo

all: build

build:
	@scripts/deps.sh build
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	cmake --build $(BUILD) -j $(JOBS)

# The main job: warpd (docs/SERVER.md) in the foreground, with its
# embedded defaults, until Ctrl-C or SIGTERM. `make serve` is the same.
SERVE_ARGS ?=
run: build
	$(BUILD)/bin/warpd $(SERVE_ARGS)

serve: run

bench-quick: build
	$(WARP) $(BENCH_ARGS) --seconds 2

# The standard comparison (docs/BENCHMARKS.md, "The seed's workloads,
# against the peers"): about 2 minutes; writes bench/results/DATE.json
# and DATE.png (with DATE.dat and DATE.gp, the plot's data and script).
BENCH_DATE := $(shell date -u +%Y-%m-%d)
BENCH_CMP  := bench --engine warp,lmdb,rocksdb --workload simple,mixed,complex \
              --keys 1000000 --target-gb 1 --threads 1,2 --seconds 1.5 \
              --warmup 0.5 --repeat 3 --physics full --fsync everysec
bench:
	@scripts/deps.sh bench
	@$(MAKE) build
	@mkdir -p bench/results
	rm -rf $(BUILD)/bench-stores
	$(WARP) $(BENCH_CMP) --dir $(BUILD)/bench-stores \
	    --json bench/results/$(BENCH_DATE).json \
	    --plot bench/results/$(BENCH_DATE).png

bench-redis: build
	@scripts/deps.sh bench
	bench/vs-redis.sh $(BUILD)/bin/warpd

test:
	@scripts/deps.sh test
	@JOBS=$(JOBS) scripts/test.sh

# The crash tests of tests/test-crash.c, run directly (no ctest timeout),
# then warpd's chaos run (tests/test-chaos.py).
soak: build
	@scripts/deps.sh test
	WARP_CRASH_ITERS=$(SOAK_ITERS) $(BUILD)/bin/test-crash
	/usr/bin/python3 tests/test-chaos.py $(BUILD)/bin/warpd \
	    --iterations $(CHAOS_ITERS) --budget $(CHAOS_SECONDS) --warp $(WARP)

# libFuzzer, JOBS targets at a time (fuzz/CMakeLists.txt); new corpus
# entries land in build-fuzz/fuzz-corpus/, crashes in build-fuzz/fuzz-artifacts/.
fuzz:
	@scripts/deps.sh test
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	    -DWARP_SANITIZE=address -DWARP_FUZZ=ON -DWARP_FUZZ_SECONDS=$(FUZZ_SECONDS)
	cmake --build build-fuzz -j $(JOBS)
	ctest --test-dir build-fuzz -L fuzz -j $(JOBS) --output-on-failure \
	    --timeout $$(($(FUZZ_SECONDS) + 300))

cluster-demo: build
	@scripts/deps.sh test
	/usr/bin/python3 tests/test-cluster.py $(BUILD)/bin/warpd --demo \
	    --requests 100000

format:
	@scripts/deps.sh format
	$(if $(FORMAT_FILES),clang-format -i $(FORMAT_FILES))

format-check:
	@scripts/deps.sh format
	$(if $(FORMAT_FILES),clang-format --dry-run --Werror $(FORMAT_FILES))

clean:
	rm -rf build build-asan build-tsan build-fuzz
