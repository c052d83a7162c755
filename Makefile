# The two commands of the README, and a few more for developers.
#   make run    build a release binary and run the demo (Fulcrum on 127.0.0.1:8080 over 3 backends)
#   make test   build and run every test through ctest
#   make deb    build the Debian packages (fulcrum, fulcrum-dev) into $(BUILD)/packages
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: run test build deps test-sanitize fuzz bench deb clean

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/fulcrum demo

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# cpack -G DEB: the daemon's package (binary, man page, systemd unit, /etc/fulcrum/fulcrum.yaml,
# the fulcrum user) and the library's (cmake/package.cmake).
deb: build
	cd $(BUILD) && cpack -G DEB

# The same tests built with AddressSanitizer and UndefinedBehaviorSanitizer.
test-sanitize: deps
	@cmake -S . -B $(BUILD)/sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFULCRUM_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD)/sanitize -j $(JOBS)
	cd $(BUILD)/sanitize && ctest --output-on-failure -j $(JOBS)

# The HTTP parsers and the PROXY protocol header under libFuzzer (clang) for FUZZ_SECONDS per
# target, from the committed seeds.
FUZZ_SECONDS ?= 30
fuzz:
	@scripts/install-deps.sh fuzz
	fuzz/run.sh $(FUZZ_SECONDS)

bench: build
	@scripts/install-deps.sh bench
	bench/run.sh

clean:
	rm -rf $(BUILD)
