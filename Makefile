# The front door. Two commands for a newcomer: `make demo` and `make check`.
# Everything builds with CMake under build*/; scripts/deps.sh installs what is missing.
JOBS    ?= $(shell nproc)
PREFIX  ?= /usr/local
DESTDIR ?=
CMAKE   ?= cmake

.PHONY: all build demo check bench stress fuzz install clean deps format

all: build

deps:
	@scripts/deps.sh build

build: deps
	@$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@$(CMAKE) --build build -j $(JOBS)

demo: build
	@./build/examples/leak-demo build/leak-demo.pb
	@echo; echo "The demo's registry, seen the way a Go heap is seen (./build/tether top build/leak-demo.pb):"
	@./build/tether top build/leak-demo.pb

check:
	@scripts/deps.sh build check go deb
	@scripts/check.sh

bench:
	@scripts/deps.sh build bench go
	@scripts/bench.sh

# The article's comparison table, measured (docs/bench.md): into build-bench/.
.PHONY: bench-article
bench-article:
	@scripts/bench-article.sh build-bench

stress: build
	@./build/tests/stress $${STRESS_SECONDS:-120}

# The Promela models of the protocol and their mutations (model/, spin).
.PHONY: model
model:
	@scripts/deps.sh model
	@scripts/model.sh

fuzz:
	@scripts/deps.sh build check
	@scripts/fuzz.sh $${FUZZ_SECONDS:-120}

# gcov line and branch coverage of src/ and tools/ over the test tiers, with an
# HTML report under build-coverage/ (docs/testing.md; not part of make check).
.PHONY: coverage
coverage:
	@scripts/coverage.sh build-coverage

# The installed copy is a release build: NDEBUG, no tests (build-release/).
.PHONY: release
release: deps
	@$(CMAKE) -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -g -DNDEBUG" \
	  -DTETHER_BUILD_TESTS=OFF -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@$(CMAKE) --build build-release -j $(JOBS)

install: release
	@DESTDIR=$(DESTDIR) $(CMAKE) --install build-release --prefix $(PREFIX)

# Debian packages libtether0, libtether-dev and tether, built from a copy of the
# tree with dpkg-buildpackage: the .deb files land in build-deb/ (docs/packaging.md).
.PHONY: deb abi-baseline
deb:
	@scripts/deps.sh build deb
	@scripts/deb.sh build-deb

# Records the release build's ABI as the baseline scripts/check.d/32-abi.sh compares
# with (abi/libtether.so.N.abi): after a soname bump, or at a release.
abi-baseline: release
	@scripts/deps.sh deb
	@scripts/abi.sh baseline

format:
	@clang-format -i include/tether/*.h src/*.c src/*.h tests/*.c tests/*.h tests/cli/*.c \
	  bench/*.c examples/*.c tools/tether/*.c tools/tether/*/*.c tools/tether/*/*.h fuzz/*.c 2>/dev/null || true

clean:
	rm -rf build build-*
