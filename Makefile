# checkpointctl — build, test, install, benchmark.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DESTDIR ?=
SWIFT ?= swift
CONFIG ?= release
# The Swift runtime, FoundationEssentials, SwiftNIO and BoringSSL are linked into the binary: it runs on nodes
# without a Swift toolchain and loads no shared library beyond the C and C++ runtimes and libarchive's.
STATIC ?= --static-swift-stdlib
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# How the release binary is linked (docs/performance.md#start-up-and-size): by GNU ld, its relative relocations
# packed (DT_RELR: 2.3 MB less; ld does it only when the C library supports it, and the binary then needs glibc
# 2.36, so PACK_RELOCS= builds one for older systems), without the unwind tables (.eh_frame, 6.1 MB: nothing in the
# binary unwinds at run time, Swift errors being return values; gdb unwinds it with the unstripped build's
# .debug_frame). GNU ld's own default script, with .eh_frame discarded, is written beside the build.
PACK_RELOCS ?= -Xlinker -z -Xlinker pack-relative-relocs
LINKER_SCRIPT := $(CURDIR)/.build/no-unwind-tables.ld
RELEASE_LINK ?= -Xswiftc -use-ld=bfd $(PACK_RELOCS) -Xlinker --no-eh-frame-hdr -Xlinker -T -Xlinker $(LINKER_SCRIPT)
LINK := $(if $(filter release,$(CONFIG)),$(RELEASE_LINK))
BIN := .build/$(CONFIG)/checkpointctl
MANDIR ?= $(PREFIX)/share/man/man1
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
# Where `make man` and the completion scripts are written before they are installed.
GENDIR ?= .build/generated
# `make install BIN=path/to/checkpointctl` installs a binary built elsewhere instead of building one.
BUILT_BIN := $(if $(filter command line,$(origin BIN)),,build)

.PHONY: all deps test-deps build example test man completions install uninstall bench protos format clean

all: build

# Installs the system packages the build needs (libarchive-dev, libyara-dev, pkg-config) when pkg-config cannot
# find them.
deps:
	@pkg-config --exists libarchive yara 2>/dev/null || { \
	  echo "Installing libarchive-dev, libyara-dev and pkg-config"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq libarchive-dev libyara-dev pkg-config; }

build: deps $(if $(LINK),$(LINKER_SCRIPT))
	$(SWIFT) build -c $(CONFIG) $(STATIC) $(LINK) --product checkpointctl

$(LINKER_SCRIPT):
	@mkdir -p $(@D)
	ld.bfd -pie --verbose | sed -n '/^=====/,/^=====/{/^=====/d;p}' | \
	  sed -e '/\.eh_frame_hdr *:/d' -e '/\.eh_frame *:.*ONLY_IF_RW/d' \
	  -e 's|^\( *\)\.eh_frame *:.*ONLY_IF_RO.*|\1/DISCARD/ : { *(.eh_frame) *(.eh_frame.*) }|' > $@.tmp
	grep -q DISCARD $@.tmp && mv $@.tmp $@

# Builds and shows the bundled example kubelet checkpoint directory.
example: build
	$(BIN) show --target Tests/Fixtures/kubelet-store --show-pod-uid

# Tools the tests run as independent references and to build archives as users build them (`tar --zstd`).
# Each entry is tool[:apt package] when the package is named otherwise (readelf comes with binutils).
TEST_TOOLS := zstd gdb readelf:binutils man:man-db skopeo docker-registry htpasswd:apache2-utils openssl yara
test-deps: deps
	@missing=""; for entry in $(TEST_TOOLS); do tool=$${entry%%:*}; package=$${entry#*:}; \
	  command -v $$tool >/dev/null || missing="$$missing $$package"; done; \
	  [ -z "$$missing" ] || { echo "Installing$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing; }

# The whole test suite (unit and end-to-end), under AddressSanitizer and LeakSanitizer: one build gives both the
# tests and the memory checks, a cold build fewer in CI (docs/robustness.md#ci). `swift test` runs it without them.
ASAN := --scratch-path .build-asan --sanitize=address
test: test-deps
	scripts/check-layers
	$(SWIFT) build --build-tests $(ASAN)
	SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1} \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/lsan-suppressions.txt:print_suppressions=0 \
	  $(SWIFT) test --skip-build $(ASAN)

# checkpointctl(1) and one page per command, written by the binary from its own command definitions.
man: $(BUILT_BIN)
	rm -rf $(GENDIR)/man && mkdir -p $(GENDIR) && $(BIN) generate-manual $(GENDIR)/man

completions: $(BUILT_BIN)
	mkdir -p $(GENDIR)/completions
	$(BIN) completion bash > $(GENDIR)/completions/checkpointctl
	$(BIN) completion zsh > $(GENDIR)/completions/_checkpointctl
	$(BIN) completion fish > $(GENDIR)/completions/checkpointctl.fish

# The binary, the manual pages and the bash, zsh and fish completions.
install: man completions
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) \
	  $(DESTDIR)$(FISHCOMPDIR)
	install -m 0755 -s $(BIN) $(DESTDIR)$(BINDIR)/checkpointctl
	install -m 0644 $(GENDIR)/man/*.1 $(DESTDIR)$(MANDIR)/
	install -m 0644 $(GENDIR)/completions/checkpointctl $(DESTDIR)$(BASHCOMPDIR)/checkpointctl
	install -m 0644 $(GENDIR)/completions/_checkpointctl $(DESTDIR)$(ZSHCOMPDIR)/_checkpointctl
	install -m 0644 $(GENDIR)/completions/checkpointctl.fish $(DESTDIR)$(FISHCOMPDIR)/checkpointctl.fish

# Removes the files install wrote (the page names come from the same command definitions); with DESTDIR (a staging
# tree) the directories left empty are removed too, up to DESTDIR.
uninstall:
	@[ -d $(GENDIR)/man ] || $(MAKE) --no-print-directory man
	rm -f $(DESTDIR)$(BINDIR)/checkpointctl $(DESTDIR)$(BASHCOMPDIR)/checkpointctl \
	  $(DESTDIR)$(ZSHCOMPDIR)/_checkpointctl $(DESTDIR)$(FISHCOMPDIR)/checkpointctl.fish
	for page in $(GENDIR)/man/*.1; do rm -f "$(DESTDIR)$(MANDIR)/$${page##*/}"; done
	@[ -z "$(DESTDIR)" ] || for dir in $(BINDIR) $(MANDIR) $(BASHCOMPDIR) $(ZSHCOMPDIR) $(FISHCOMPDIR); do \
	  while [ "$$dir" != / ] && [ "$$dir" != . ] && rmdir "$(DESTDIR)$$dir" 2>/dev/null; do dir=$$(dirname "$$dir"); done; \
	done

# Times checkpointctl against tar/zstd on the same data in one run and prints the ratios
# (BENCH_ARGS="--only diff" runs one group: kubelet, criu, coredump, diff, build, startup, stream or verify).
bench: build
	@[ -x /usr/bin/time ] || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq time; }
	@command -v zstd >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq zstd; }
	python3 scripts/bench.py --binary $(BIN) $(BENCH_ARGS)

# Regenerates Sources/CRIU/Generated from Sources/CRIU/Protos (the output is committed; CI never runs this).
protos:
	@command -v protoc >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq protobuf-compiler; }
	$(SWIFT) build -c release $(STATIC) --product protoc-gen-swift
	rm -f Sources/CRIU/Generated/*.pb.swift
	protoc --plugin=protoc-gen-swift=.build/release/protoc-gen-swift \
	  --swift_opt=Visibility=Public --swift_opt=FileNaming=PathToUnderscores \
	  --swift_out=Sources/CRIU/Generated -I Sources/CRIU/Protos Sources/CRIU/Protos/*.proto

# Fuzzing and sanitizers (issue #14; docs/robustness.md). Each uses its own scratch path, so neither disturbs the
# normal build. `make fuzz` builds Fuzz/ (a separate package) with libFuzzer and AddressSanitizer and runs every
# target FUZZ_SECONDS (FUZZ_CONFIG=debug: an unoptimized build, for CI's smoke run); a crash, leak, timeout or
# out-of-memory input lands in Fuzz/Regressions/<target>/, which `make test` replays from then on. `make sanitize`
# runs the whole suite under AddressSanitizer (which `make test` does), then under ThreadSanitizer.
.PHONY: fuzz sanitize sanitize-address sanitize-thread
FUZZ_SECONDS ?= 60
FUZZ_CONFIG ?= release
fuzz: deps
	SWIFT=$(SWIFT) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_CONFIG=$(FUZZ_CONFIG) Fuzz/run

sanitize: sanitize-address sanitize-thread

sanitize-address: test

sanitize-thread: test-deps
	$(SWIFT) build --build-tests --scratch-path .build-tsan --sanitize=thread
	SWIFT_BACKTRACE=enable=no TSAN_OPTIONS=$${TSAN_OPTIONS:-halt_on_error=1} \
	  $(SWIFT) test --skip-build --scratch-path .build-tsan --sanitize=thread

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build
