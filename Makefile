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
	@./build/examples/leak-demo

check:
	@scripts/deps.sh build check go
	@scripts/check.sh

bench:
	@scripts/deps.sh build bench go
	@scripts/bench.sh

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

# The installed copy is a release build: NDEBUG, no tests (build-release/).
install: deps
	@$(CMAKE) -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -g -DNDEBUG" \
	  -DTETHER_BUILD_TESTS=OFF -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@$(CMAKE) --build build-release -j $(JOBS)
	@DESTDIR=$(DESTDIR) $(CMAKE) --install build-release --prefix $(PREFIX)

format:
	@clang-format -i include/tether/*.h src/*.c src/*.h tests/*.c tests/*.h tests/cli/*.c \
	  bench/*.c examples/*.c tools/tether/*.c tools/tether/*/*.c tools/tether/*/*.h fuzz/*.c 2>/dev/null || true

clean:
	rm -rf build build-*
