# Entry points for users and CI. Every target installs what it needs first (Debian bookworm),
# then drives CMake. `make` builds, `make test` runs every test, `make demo` shows the main job.
BUILD      ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS       ?= $(shell nproc)
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian packages the build, the tests and the guests need.
DEPS := cmake ninja-build g++ make wabt tcc libtcc-dev libgtest-dev libgmock-dev \
        libbenchmark-dev libcli11-dev nlohmann-json3-dev clang lld wasi-libc \
        libclang-rt-14-dev-wasm32 binaryen

.PHONY: all deps configure build test demo bench asan tsan test-asan test-tsan format clean

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

demo: build
	@sh examples/demo.sh $(BUILD)

bench: build
	cmake --build $(BUILD) --target large_guest
	$(BUILD)/bin/wasm_sandbox_bench --benchmark_min_time=0.2

# Sanitizer builds: the whole test suite under AddressSanitizer (+LeakSanitizer, UBSan) or
# ThreadSanitizer, each in its own build directory (see CMakePresets.json).
asan tsan: deps
	cmake --preset $@ && cmake --build --preset $@ -j $(JOBS)

test-asan: asan
	ctest --preset asan -j $(JOBS)

test-tsan: tsan
	ctest --preset tsan -j $(JOBS)

format:
	clang-format -i $$(git ls-files '*.cc' '*.h' | grep -v '^guests/')

clean:
	rm -rf $(BUILD) build-asan build-tsan
