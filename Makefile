# checkpointctl — build, test, install, benchmark.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DESTDIR ?=
SWIFT ?= swift
CONFIG ?= release
# The Swift runtime and Foundation are linked into the binary: it runs on nodes without a Swift toolchain and
# starts in about half the time (no dynamic loading of the Swift libraries and their ICU data).
STATIC ?= --static-swift-stdlib
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN := .build/$(CONFIG)/checkpointctl

.PHONY: all deps test-deps build example test install uninstall bench protos format clean

all: build

# Installs the system packages the build needs (libarchive-dev, pkg-config) when pkg-config cannot find them.
deps:
	@pkg-config --exists libarchive 2>/dev/null || { \
	  echo "Installing libarchive-dev and pkg-config"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq libarchive-dev pkg-config; }

build: deps
	$(SWIFT) build -c $(CONFIG) $(STATIC) --product checkpointctl

# Builds and shows the bundled example kubelet checkpoint directory.
example: build
	$(BIN) show --target Tests/Fixtures/kubelet-store --show-pod-uid

# Tools the tests run as independent references and to build archives as users build them (`tar --zstd`).
TEST_TOOLS := zstd
test-deps: deps
	@missing=""; for tool in $(TEST_TOOLS); do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	  [ -z "$$missing" ] || { echo "Installing$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing; }

# The whole test suite (unit and end-to-end).
test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

install: build
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 -s $(BIN) $(DESTDIR)$(BINDIR)/checkpointctl

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/checkpointctl

# Times checkpointctl against tar/zstd on the same data in one run and prints the ratios.
bench: build
	@[ -x /usr/bin/time ] || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq time; }
	@command -v zstd >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq zstd; }
	python3 scripts/bench.py --binary $(BIN)

# Regenerates Sources/CRIU/Generated from Sources/CRIU/Protos (the output is committed; CI never runs this).
protos:
	@command -v protoc >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq protobuf-compiler; }
	$(SWIFT) build -c release $(STATIC) --product protoc-gen-swift
	rm -f Sources/CRIU/Generated/*.pb.swift
	protoc --plugin=protoc-gen-swift=.build/release/protoc-gen-swift \
	  --swift_opt=Visibility=Public --swift_opt=FileNaming=PathToUnderscores \
	  --swift_out=Sources/CRIU/Generated -I Sources/CRIU/Protos Sources/CRIU/Protos/*.proto

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build
