# The two commands of the README, and the steps they are made of.
#   make demo   build, then run broker + ferry-landing + ferry + simulated devices (Ctrl-C stops)
#   make test   build, then run the whole test suite (unit and integration) with ctest
BUILD ?= build
JOBS ?= $(shell nproc)
DEMO_ARGS ?=

.PHONY: all deps build test demo sanitize clean format readme schema cross-arm64 cross-armhf packages

all: build

deps:
	@toolchains/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j 2

demo: build
	@python3 tests/demo/demo.py --build $(BUILD) $(DEMO_ARGS)

# The suite again under AddressSanitizer and UndefinedBehaviorSanitizer.
sanitize: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DFERRY_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ctest --output-on-failure -j 2

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) build-asan build-arm64 build-armhf

# Regenerates the README's option table from the config declaration.
readme:
	@python3 toolchains/update_readme.py $(BUILD)/agent/ferry README.md

# Regenerates config/ferry.schema.json, the config's JSON Schema, from the declaration.
schema:
	@cmake --build $(BUILD) -j $(JOBS) --target ferry
	@$(BUILD)/agent/ferry config-schema > config/ferry.schema.json

# Cross builds for ARM gateways, unit tests under qemu-user, .deb packages (build-arm64/, ...).
cross-arm64:
	@toolchains/cross-build.sh arm64
cross-armhf:
	@toolchains/cross-build.sh armhf

# Builds the amd64 .deb packages, lints them, installs and removes them on this machine.
packages: build
	@toolchains/test-packages.sh $(BUILD)
