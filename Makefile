# xtcp - one non-recursive Makefile.
#
#   make                 build everything into build/ (uses pgo/ profile when it can)
#   make check           every test: unit (TAP), cli (bats), fuzz smoke; then again under ASan/UBSan
#   make run             show this host's TCP sockets
#   make deps            install the Debian packages the build and tests need (and,
#                        for the tests, the ClickHouse engine: chdb's libchdb.so)
#   make clickhouse-ddl  regenerate clickhouse/*.sql from the proto
#   make pgo-status      does the pgo/ profile still fit the sources? (tools/pgo-stale)
#   make pgo             retrain it (root; when make pgo-status advises it)
#   make install PREFIX=/usr/local DESTDIR=
#
#   V=1 verbose, DEVELOPER=1 warnings are errors, SANITIZE=address,undefined,
#   PGO=0 build without the committed profile.

# The release number, and the commit when built from git (semver build
# metadata): "0.2.0+4bf045c", "0.2.0+4bf045c-dirty"; "0.2.0" from a tarball.
RELEASE := 0.2.0
GIT_REV := $(shell git describe --always --dirty --abbrev=7 --exclude='*' 2>/dev/null)
VERSION := $(RELEASE)$(if $(GIT_REV),+$(GIT_REV))
PREFIX ?= /usr/local
CC := clang
PYTHON ?= python3

# A missing Debian package is installed before anything else runs: what the
# build needs for `make`, and what the tests need too for `make check`.
ifeq ($(filter deps clean,$(MAKECMDGOALS)),)
DEPS_SET := $(if $(filter check check-plain check-san pgo pgo-compare,$(MAKECMDGOALS)),test,build)
MISSING := $(shell tools/deps.sh check $(DEPS_SET))
ifneq ($(MISSING),)
$(info deps: installing missing packages: $(MISSING))
DEPS_RC := $(shell tools/deps.sh install $(DEPS_SET) >&2; echo $$?)
ifneq ($(DEPS_RC),0)
$(error deps: could not install $(MISSING); run 'make deps' as root)
endif
endif
endif

SANITIZE ?=
ifeq ($(SANITIZE),)
B ?= build
else
B ?= build/san
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

CFLAGS ?= -O2 -g -gdwarf-4
WARN := -Wall -Wextra -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes -Wshadow \
	-Wpointer-arith -Wcast-qual -Wwrite-strings -Wvla -Wno-unused-parameter \
	-Wno-missing-field-initializers
ifeq ($(DEVELOPER),1)
WARN += -Werror
endif
# -MMD -MP: each object's header dependencies, computed by the compiler (.d files).
XCFLAGS := -std=gnu11 -D_GNU_SOURCE -DXTCP_VERSION='"$(VERSION)"' $(WARN) \
	-Ilib -I$(B)/gen -fno-omit-frame-pointer -MMD -MP
XLDFLAGS := -Wl,--as-needed
ifneq ($(SANITIZE),)
XCFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
XLDFLAGS += -fsanitize=$(SANITIZE)
endif

# PGO: pgo/default.proftext is the committed text profile (see pgo/README.md).
# A plain build uses it when it can; it never breaks the build:
#   - missing, or unreadable by this llvm-profdata: build without PGO, say so once;
#   - trained on other sources (pgo/source.sha256 differs): functions whose
#     control flow changed get no profile (clang checks a hash per function),
#     the rest keep theirs; say so once.
PGO ?= 1
PGO_TEXT := pgo/default.proftext
PGO_DATA := $(B)/pgo/default.profdata
PGO_SOURCES = proto/xtcp_flat_record.proto tools/gen-codec.py tools/gen-schema.py tools/proto.py $(sort $(wildcard lib/*.c lib/*.h cmd/*.c cmd/*.h bench/src/*.c bench/src/*.h))
PGO_NOTE :=
ifeq ($(PGO)$(SANITIZE)$(PGO_INSTR),1)
ifeq ($(wildcard $(PGO_TEXT)),)
PGO_NOTE := pgo: no profile at $(PGO_TEXT); building without PGO (make pgo trains one)
else ifneq ($(shell llvm-profdata merge -o /dev/null $(PGO_TEXT) >/dev/null 2>&1 && echo ok),ok)
PGO_NOTE := pgo: llvm-profdata cannot read $(PGO_TEXT); building without PGO
else
PGO_OK := 1
PGO_NOTE := pgo: using $(PGO_TEXT)
ifneq ($(shell cat $(PGO_SOURCES) | sha256sum | cut -c1-64),$(shell cat pgo/source.sha256 2>/dev/null))
PGO_NOTE += (sources changed since training: changed functions build without it; make pgo refreshes)
endif
endif
endif
ifneq ($(PGO_NOTE),)
ifeq ($(MAKELEVEL),0)
$(info $(PGO_NOTE))
endif
endif
ifeq ($(PGO_OK),1)
PGO_FLAGS := -fprofile-instr-use=$(PGO_DATA) -Wno-profile-instr-out-of-date \
	-Wno-profile-instr-unprofiled -Wno-backend-plugin
PGO_DEP := $(PGO_DATA)
endif
ifeq ($(PGO_INSTR),1)
PGO_FLAGS := -fprofile-instr-generate
XLDFLAGS += -fprofile-instr-generate
PGO_DEP :=
endif

# Objects are rebuilt when the compiler flags change (not the version string).
FLAGS_STAMP := $(B)/.flags
FLAGS_NOW := $(CC) $(WARN) $(PGO_FLAGS) $(CFLAGS) $(SANITIZE) $(LDFLAGS)
ifneq ($(FLAGS_NOW),$(shell cat $(FLAGS_STAMP) 2>/dev/null))
$(shell mkdir -p $(B) && echo '$(FLAGS_NOW)' > $(FLAGS_STAMP))
endif

# protobuf-c and PCRE2 are linked in (their -dev packages ship the archives):
# each shared library costs a start-up its mapping and relocations, which a
# tool run every few seconds, or twice in a pipeline, pays each time
# (docs/performance.md, "Start-up").
LIBS := -Wl,-Bstatic -lprotobuf-c -lpcre2-8 -Wl,-Bdynamic -ljansson -lrdkafka \
	-lpthread -lm

# The programs go further: each is one static position-independent
# executable, libc included, so a run maps no library and the dynamic loader
# binds no symbol (0.2 ms a process here; docs/performance.md, "Start-up").
# Not under the sanitizers, whose runtimes need the loader, and not the Kafka
# programs: librdkafka's dependencies (OpenSSL, Cyrus SASL) have no complete
# set of archives.
ifeq ($(SANITIZE),)
STATIC_LINK := -static-pie
endif
DYNAMIC_BINS = $(B)/bin/xtcp-kafka $(B)/bin/xtcp-mock-kafka $(DYN_TWINS)
link_mode = $(if $(filter $@,$(DYNAMIC_BINS)),,$(STATIC_LINK))
# Statically: every archive of LIBS, librdkafka (only the Kafka programs use it) aside.
comma := ,
STATIC_LIBS := $(filter-out -Wl$(comma)-Bstatic -Wl$(comma)-Bdynamic -lrdkafka,$(LIBS))
link_libs = $(if $(link_mode),$(STATIC_LIBS),$(LIBS))

GEN_PB := $(B)/gen/xtcp_flat_record.pb-c.c
GEN_PB_H := $(B)/gen/xtcp_flat_record.pb-c.h
GEN_CODEC := $(B)/gen/xtcp_codec.c
GEN_SCHEMA := $(B)/gen/xtcp_schema.c
GEN_H := $(GEN_PB_H)

LIB_SRC := $(wildcard lib/*.c)
LIB_OBJ := $(patsubst lib/%.c,$(B)/lib/%.o,$(LIB_SRC)) $(B)/gen/xtcp_flat_record.pb-c.o \
	$(B)/gen/xtcp_codec.o $(B)/gen/xtcp_schema.o
LIBXTCP := $(B)/libxtcp.a

CMD_SRC := $(wildcard cmd/xtcp-*.c)
BINS := $(patsubst cmd/%.c,$(B)/bin/%,$(CMD_SRC))
DYN_TWINS := $(B)/dyn/xtcp-dump
HELPER_SRC := $(wildcard tests/helpers/*.c)
HELPERS := $(patsubst tests/helpers/%.c,$(B)/bin/%,$(HELPER_SRC))
# Shared objects the tests LD_PRELOAD (tests/preload): built without the
# sanitizers, whose runtime the programs they are loaded into carry.
PRELOAD_SRC := $(wildcard tests/preload/*.c)
PRELOADS := $(patsubst tests/preload/%.c,$(B)/preload/%.so,$(PRELOAD_SRC))
UNIT_SRC := $(wildcard tests/unit/t-*.c)
UNITS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
FUZZ_SRC := $(wildcard tests/fuzz/fuzz-*.c)
FUZZERS := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRC))

# bench/src: benchmark scaffolding (synthetic records, socket load), not part
# of libxtcp: its own archive, linked only by xtcp-bench and by the unit tests
# of those modules.  And xtcp-bench's subcommands, one file each, linked with
# the dispatcher cmd/xtcp-bench.c; but micro, which counts allocations by
# replacing malloc (bench/src/alloccount.h), is a program of its own that
# xtcp-bench runs from libexec/xtcp beside its bin directory.
BENCH_LIB_OBJ := $(B)/bench/synth.o $(B)/bench/sockload.o
LIBXTCP_BENCH := $(B)/libxtcp-bench.a
BENCH_UNITS := $(B)/tests/t-synth
BENCH_CMD_OBJ := $(addprefix $(B)/bench/,bench.o bench-load.o bench-gen.o bench-floor.o)
BENCH_MICRO := $(B)/libexec/xtcp/xtcp-bench-micro
BENCH_MICRO_OBJ := $(addprefix $(B)/bench/,bench-micro.o bench.o alloccount.o)

.PHONY: all bins deps check check-plain check-san run install clean pgo pgo-compare clickhouse-ddl
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SECONDARY: $(GEN_PB) $(GEN_PB_H) $(GEN_CODEC) $(GEN_SCHEMA)

bins: $(BINS) $(HELPERS)

ifeq ($(SANITIZE),)
all: $(BINS) $(HELPERS) $(PRELOADS) $(DYN_TWINS) $(UNITS) $(FUZZERS)
else
all: $(BINS) $(HELPERS) $(PRELOADS) $(DYN_TWINS) $(UNITS)
endif

deps:
	tools/deps.sh install all

$(B)/gen/%.pb-c.c $(B)/gen/%.pb-c.h: proto/%.proto
	@mkdir -p $(B)/gen
	@echo "  PROTOC  $<"
	$(Q)protoc-c --c_out=$(B)/gen -Iproto $<

$(GEN_SCHEMA): proto/xtcp_flat_record.proto tools/gen-schema.py tools/proto.py
	@mkdir -p $(B)/gen
	@echo "  GEN     $@"
	$(Q)$(PYTHON) tools/gen-schema.py $< > $@.tmp && mv $@.tmp $@

$(GEN_CODEC): proto/xtcp_flat_record.proto tools/gen-codec.py tools/proto.py
	@mkdir -p $(B)/gen
	@echo "  GEN     $@"
	$(Q)$(PYTHON) tools/gen-codec.py $< > $@.tmp && mv $@.tmp $@

# The ClickHouse DDL is committed (clickhouse/), so that it can be read and
# installed without a build; tests/cli/clickhouse.bats fails when it is stale.
clickhouse-ddl:
	$(Q)$(PYTHON) tools/gen-clickhouse.py proto/xtcp_flat_record.proto clickhouse

$(PGO_DATA): $(PGO_TEXT)
	@mkdir -p $(dir $@)
	@echo "  PGO     using $(PGO_TEXT)"
	$(Q)llvm-profdata merge -o $@ $<

$(B)/gen/%.o: $(B)/gen/%.c $(GEN_H) $(PGO_DEP) $(FLAGS_STAMP)
	@echo "  CC      $<"
	$(Q)$(CC) $(XCFLAGS) $(PGO_FLAGS) $(CFLAGS) -Wno-missing-prototypes -Wno-cast-qual -c -o $@ $<

$(B)/lib/%.o: lib/%.c $(GEN_H) $(PGO_DEP) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(XCFLAGS) $(PGO_FLAGS) $(CFLAGS) -c -o $@ $<

$(LIBXTCP): $(LIB_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

define link_program
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(XCFLAGS) $(PGO_FLAGS) $(CFLAGS) $(link_mode) -o $@ $< $(LIBXTCP) $(XLDFLAGS) \
		$(LDFLAGS) $(link_libs)
endef

$(B)/bin/%: cmd/%.c $(LIBXTCP) $(GEN_H) $(PGO_DEP) $(FLAGS_STAMP)
	$(link_program)

# The dynamically linked twin of xtcp-dump (DYN_TWINS, in DYNAMIC_BINS) for the
# tests that LD_PRELOAD a shim into it (tests/preload), which a static program
# does not load.
$(B)/dyn/%: cmd/%.c $(LIBXTCP) $(GEN_H) $(PGO_DEP) $(FLAGS_STAMP)
	$(link_program)

$(B)/bin/%: tests/helpers/%.c $(LIBXTCP) $(GEN_H) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(XCFLAGS) $(CFLAGS) $(link_mode) -o $@ $< $(LIBXTCP) $(XLDFLAGS) $(LDFLAGS) $(link_libs)

$(B)/preload/%.so: tests/preload/%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(WARN) -O2 -fPIC -shared -o $@ $< -ldl

$(B)/tests/%: tests/unit/%.c $(LIBXTCP) $(GEN_H) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(XCFLAGS) $(CFLAGS) -Itests/unit -o $@ $< $(LIBXTCP) $(XLDFLAGS) $(LDFLAGS) $(LIBS)

$(B)/bench/%.o: bench/src/%.c $(GEN_H) $(PGO_DEP) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(XCFLAGS) -Ibench/src -Icmd $(PGO_FLAGS) $(CFLAGS) -c -o $@ $<

$(LIBXTCP_BENCH): $(BENCH_LIB_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/bin/xtcp-bench: cmd/xtcp-bench.c $(BENCH_CMD_OBJ) $(LIBXTCP_BENCH) $(LIBXTCP) $(GEN_H) \
		$(PGO_DEP) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(XCFLAGS) -Ibench/src $(PGO_FLAGS) $(CFLAGS) $(link_mode) -o $@ $< $(BENCH_CMD_OBJ) \
		$(LIBXTCP_BENCH) $(LIBXTCP) $(XLDFLAGS) $(LDFLAGS) $(link_libs)

all bins: $(BENCH_MICRO)

$(BENCH_MICRO): $(BENCH_MICRO_OBJ) $(LIBXTCP_BENCH) $(LIBXTCP)
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(XLDFLAGS) $(LDFLAGS) $(LIBS)

$(BENCH_UNITS): $(B)/tests/%: tests/unit/%.c $(LIBXTCP_BENCH) $(LIBXTCP) $(GEN_H) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(XCFLAGS) $(CFLAGS) -Itests/unit -Ibench/src -o $@ $< $(LIBXTCP_BENCH) $(LIBXTCP) \
		$(XLDFLAGS) $(LDFLAGS) $(LIBS)

# libFuzzer targets, always with ASan/UBSan; the same sources link as plain
# replay programs when the sanitizer build runs them over the corpus.
# They compile every library source, so every header is a real dependency.
$(B)/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(wildcard lib/*.h) $(GEN_PB) $(GEN_CODEC) $(GEN_SCHEMA) $(GEN_H)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)$(CC) $(filter-out -MMD -MP,$(XCFLAGS)) -Wno-cast-qual -O1 -g -fsanitize=fuzzer,address,undefined -o $@ $< \
		$(LIB_SRC) $(GEN_PB) $(GEN_CODEC) $(GEN_SCHEMA) $(LIBS)

# The compiler's record of which headers each object and program read.
-include $(wildcard $(B)/lib/*.d $(B)/gen/*.d $(B)/bin/*.d $(B)/dyn/*.d $(B)/tests/*.d)
-include $(wildcard $(B)/bench/*.d)

# --- tests ---------------------------------------------------------------

check: check-plain check-san

check-plain: all
	$(Q)XTCP_BUILD=$(CURDIR)/$(B) tests/run $(B)

check-san:
	$(Q)$(MAKE) --no-print-directory SANITIZE=address,undefined all
	$(Q)XTCP_BUILD=$(CURDIR)/build/san XTCP_SANITIZED=1 \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		tests/run build/san

run: all
	$(Q)if [ -x $(B)/bin/xtcp-fmt ]; then $(B)/bin/xtcp-dump | $(B)/bin/xtcp-fmt -f text; \
	else $(B)/bin/xtcp-dump | $(B)/bin/xtcp-show; fi

# --- PGO ---------------------------------------------------------------
# make pgo: instrumented binaries (build/pgo-instr), the training workload
# (pgo/train.sh: the whole pipeline as users run it), merged raw profiles,
# rewritten as the committed text profile.

pgo:
	$(Q)rm -rf build/pgo-instr build/pgo-raw
	$(Q)$(MAKE) --no-print-directory B=build/pgo-instr PGO_INSTR=1 bins
	$(Q)mkdir -p build/pgo-raw
	$(Q)LLVM_PROFILE_FILE=$(CURDIR)/build/pgo-raw/%p-%m.profraw \
		XTCP_BIN=$(CURDIR)/build/pgo-instr/bin pgo/train.sh
	$(Q)llvm-profdata merge -o build/pgo-raw/merged.profdata build/pgo-raw/*.profraw
	$(Q)llvm-profdata merge -text -o build/pgo-raw/merged.proftext build/pgo-raw/merged.profdata
	$(Q)$(PYTHON) tools/pgo-normalize.py build/pgo-raw/merged.proftext > $(PGO_TEXT)
	$(Q)cat $(PGO_SOURCES) | sha256sum | cut -c1-64 > pgo/source.sha256
	@echo "pgo: wrote $(PGO_TEXT) from $$(ls build/pgo-raw/*.profraw | wc -l) raw profiles"

pgo-compare:
	$(Q)bench/pgo-compare.sh

# make pgo-status: how much of the profile still applies to the sources, per
# function and weighted by counts; fails when tools/pgo-stale advises
# retraining (see pgo/README.md). It compiles what make builds with the
# profile: every library object's source (generated ones too) and commands,
# with the build's flags (a fixed version string: it has no control flow).
.PHONY: pgo-status pgo-inputs
PGO_STALE_SRC = $(patsubst $(B)/lib/%,lib/%,$(LIB_OBJ:.o=.c)) $(CMD_SRC) $(wildcard bench/src/*.c)
PGO_STALE_CFLAGS = $(filter-out -MMD -MP -DXTCP_VERSION=%,$(XCFLAGS)) -DXTCP_VERSION=\"0\" \
	-Ibench/src -Icmd $(CFLAGS)

pgo-status: $(filter $(B)/gen/%,$(PGO_STALE_SRC)) $(GEN_H)
	$(Q)$(PYTHON) tools/pgo-stale --profile $(PGO_TEXT) --cc '$(CC)' \
		--cflags '$(PGO_STALE_CFLAGS)' $(addprefix --unprofiled=,$(HELPER_SRC)) \
		$(PGO_STALE_SRC)

# what tools/pgo-stale asks for when run by hand
pgo-inputs: $(filter $(B)/gen/%,$(PGO_STALE_SRC)) $(GEN_H)
	@echo 'pgo-input cc $(CC)'
	@echo 'pgo-input cflags $(PGO_STALE_CFLAGS)'
	@echo 'pgo-input sources $(PGO_STALE_SRC)'
	@echo 'pgo-input unprofiled $(HELPER_SRC)'

# --- install -------------------------------------------------------------

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man7 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/xtcp \
		$(DESTDIR)$(PREFIX)/share/xtcp/clickhouse $(DESTDIR)$(PREFIX)/libexec/xtcp
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 755 $(BENCH_MICRO) $(DESTDIR)$(PREFIX)/libexec/xtcp/
	install -m 644 proto/xtcp_flat_record.proto $(DESTDIR)$(PREFIX)/share/xtcp/
	install -m 644 clickhouse/*.sql $(DESTDIR)$(PREFIX)/share/xtcp/clickhouse/
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/*.7 $(DESTDIR)$(PREFIX)/share/man/man7/
	install -m 644 completions/bash/* $(DESTDIR)$(PREFIX)/share/bash-completion/completions/
	install -m 644 completions/zsh/* $(DESTDIR)$(PREFIX)/share/zsh/site-functions/

clean:
	rm -rf build
