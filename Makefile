# Entry points for users and CI. Every target installs what it needs first (Debian bookworm),
# then drives CMake. `make` builds, `make test` runs every test, `make demo` shows the main job.
BUILD      ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS       ?= $(shell nproc)
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian packages the build, the tests and the guests need.
DEPS := cmake ninja-build g++ make wabt tcc libtcc-dev libgtest-dev libgmock-dev \
        libbenchmark-dev libcli11-dev nlohmann-json3-dev libsodium-dev clang lld wasi-libc \
        libclang-rt-14-dev-wasm32 binaryen libclang-rt-14-dev libcpp-httplib-dev wrk liblmdb-dev \
        libsqlite3-dev
# node runs the differential test's V8 side; any node >= 18 on PATH will do.
DEPS += $(if $(shell command -v node),,nodejs)

.PHONY: all deps configure build test test-crash difftest demo bench bench-store bench-serve bench-instructions asan tsan test-asan test-tsan \
        fuzz-build fuzz fuzz-merge fuzz-artifact fuzz-artifact-merge format clean

all: build

deps:
	@missing=$$(for p in $(DEPS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
	  echo "installing missing packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) --timeout 900

# The store's crash test at length: CRASH_KILLS SIGKILLs of a writer process per durability
# mode (ctest runs 40), each followed by a check of the reopened store (docs/store.md,
# "Durability"). Reproduce a failure with WS_STORE_CRASH_SEED=<the seed it printed>.
CRASH_KILLS ?= 1000
test-crash: configure
	cmake --build $(BUILD) -j $(JOBS) --target store_tests
	WS_STORE_CRASH_KILLS=$(CRASH_KILLS) $(BUILD)/bin/store_tests --gtest_filter='*StoreCrash*'

# Differential test against V8 over a long seed range (ctest runs a fixed few). Override with
# e.g. `make difftest DIFFTEST_SEEDS=1-10000 DIFFTEST_JOBS=4`, and pick our side's code with
# DIFFTEST_TIER=baseline|optimized|auto (empty: the engine's default, auto) and
# DIFFTEST_METERED=1 (fuel metering); see tests/differential/README.md.
DIFFTEST_SEEDS   ?= 1-2000
DIFFTEST_JOBS    ?= 1
DIFFTEST_TIER    ?=
DIFFTEST_METERED ?=
difftest: build
	DIFFTEST_SEEDS=$(DIFFTEST_SEEDS) DIFFTEST_JOBS=$(DIFFTEST_JOBS) DIFFTEST_TIER=$(DIFFTEST_TIER) \
	  DIFFTEST_METERED=$(DIFFTEST_METERED) \
	  $(BUILD)/bin/differential_tests --gtest_filter='Differential.SeedRange'

demo: build
	@sh examples/demo.sh $(BUILD)

bench: build
	cmake --build $(BUILD) --target large_guest
	$(BUILD)/bin/wasm_sandbox_bench --benchmark_min_time=0.2 --benchmark_filter='-^once/'
	$(BUILD)/bin/wasm_sandbox_kernels

# The store beside SQLite on the same workload (docs/store.md, Performance): medians of three runs.
bench-store: configure
	cmake --build $(BUILD) --target store_bench
	$(BUILD)/bin/store_bench --benchmark_min_time=1 --benchmark_repetitions=3 \
	  --benchmark_report_aggregates_only=true $(if $(BENCH_FILTER),--benchmark_filter='$(BENCH_FILTER)')

# `wasm-sandbox serve` under wrk on loopback: a trivial function (add.wasm), 2 wrk threads, 64
# keep-alive connections, 10 s (docs/serve.md). Override with e.g. SERVE_WRK_ARGS="-t2 -c128 -d30s".
SERVE_WRK_ARGS ?= -t2 -c64 -d10s
bench-serve: build
	@command -v wrk >/dev/null && command -v curl >/dev/null || $(SUDO) apt-get install -y -qq wrk curl
	sh bench/serve_bench.sh $(BUILD) $(SERVE_WRK_ARGS)

# The cost of the safety controls in instructions (callgrind: repeatable on a shared machine).
bench-instructions: build
	@command -v valgrind >/dev/null || $(SUDO) apt-get install -y -qq valgrind
	sh bench/instruction_counts.sh $(BUILD) $(or $(BENCH_TIER),baseline)

# Sanitizer builds: the whole test suite under AddressSanitizer (+LeakSanitizer, UBSan) or
# ThreadSanitizer, each in its own build directory (see CMakePresets.json).
asan tsan: deps
	cmake --preset $@ && cmake --build --preset $@ -j $(JOBS)

test-asan: asan
	ctest --preset asan -j $(JOBS)

test-tsan: tsan
	ctest --preset tsan -j $(JOBS)

# Fuzzing the load path with libFuzzer (the `fuzz` preset: clang, ASan + UBSan; libFuzzer comes
# from libclang-rt-14-dev). `make fuzz` runs for FUZZ_SECONDS from the committed corpus; new
# inputs go to build-fuzz/corpus and findings (crash-*, leak-*, timeout-*, oom-*) to
# build-fuzz/findings/. Fork mode keeps going after a finding; it runs one worker at a time.
# `make fuzz-merge` minimizes the new inputs back into fuzz/corpus (commit the result).
FUZZ_SECONDS ?= 1800
FUZZ_BIN     := build-fuzz/bin/load_fuzzer
FUZZ_ENV     := ASAN_OPTIONS=detect_leaks=1:allow_user_segv_handler=1:detect_stack_use_after_return=0 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
FUZZ_FLAGS   := -timeout=10 -rss_limit_mb=4096 -dict=fuzz/wasm.dict -print_funcs=0

fuzz-build: deps
	cmake --preset fuzz && cmake --build --preset fuzz -j $(JOBS)

fuzz: fuzz-build
	mkdir -p build-fuzz/corpus build-fuzz/findings
	$(FUZZ_ENV) $(FUZZ_BIN) $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) -fork=1 \
	  -ignore_crashes=1 -artifact_prefix=build-fuzz/findings/ build-fuzz/corpus fuzz/corpus

fuzz-merge: fuzz-build
	mkdir -p build-fuzz/corpus build-fuzz/findings
	$(FUZZ_ENV) $(FUZZ_BIN) $(FUZZ_FLAGS) -merge=1 -artifact_prefix=build-fuzz/findings/ \
	  fuzz/corpus build-fuzz/corpus

# Fuzzing the artifact reader (engine::deserialize, check_compatible; the code is never loaded)
# the same way: `make fuzz-artifact` from fuzz/artifact_corpus (real artifacts, remade by
# fuzz/seeds/make_artifact_seeds.sh), new inputs to build-fuzz/artifact-corpus, findings to
# build-fuzz/artifact-findings/; `make fuzz-artifact-merge` minimizes them into the corpus.
ARTIFACT_FUZZ_BIN   := build-fuzz/bin/artifact_fuzzer
ARTIFACT_FUZZ_FLAGS := -timeout=10 -rss_limit_mb=4096 -print_funcs=0

fuzz-artifact: fuzz-build
	mkdir -p build-fuzz/artifact-corpus build-fuzz/artifact-findings
	$(FUZZ_ENV) $(ARTIFACT_FUZZ_BIN) $(ARTIFACT_FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) \
	  -fork=1 -ignore_crashes=1 -artifact_prefix=build-fuzz/artifact-findings/ \
	  build-fuzz/artifact-corpus fuzz/artifact_corpus

fuzz-artifact-merge: fuzz-build
	mkdir -p build-fuzz/artifact-corpus build-fuzz/artifact-findings
	$(FUZZ_ENV) $(ARTIFACT_FUZZ_BIN) $(ARTIFACT_FUZZ_FLAGS) -merge=1 \
	  -artifact_prefix=build-fuzz/artifact-findings/ fuzz/artifact_corpus build-fuzz/artifact-corpus

format:
	clang-format -i $$(git ls-files '*.cc' '*.h' | grep -v '^guests/')

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz
