# xtcp - one non-recursive Makefile.
#
#   make                 build everything into build/ (uses pgo/ profile when it can)
#   make check           every test: unit (TAP), cli (bats), fuzz smoke; then again under ASan/UBSan
#   make run             show this host's TCP sockets
#   make deps            install the Debian packages the build and tests need
#   make install PREFIX=/usr/local DESTDIR=
#
#   V=1 verbose, DEVELOPER=1 warnings are errors, SANITIZE=address,undefined,
#   PGO=0 build without the committed profile.

VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0)
PREFIX ?= /usr/local
CC := clang
PYTHON ?= python3

# A missing Debian package is installed before anything else runs.
ifeq ($(filter deps clean,$(MAKECMDGOALS)),)
MISSING := $(shell tools/deps.sh check)
ifneq ($(MISSING),)
$(info deps: installing missing packages: $(MISSING))
DEPS_RC := $(shell tools/deps.sh install >&2; echo $$?)
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

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes -Wshadow \
	-Wpointer-arith -Wcast-qual -Wwrite-strings -Wvla -Wno-unused-parameter \
	-Wno-missing-field-initializers
ifeq ($(DEVELOPER),1)
WARN += -Werror
endif
XCFLAGS := -std=gnu11 -D_GNU_SOURCE -DXTCP_VERSION='"$(VERSION)"' $(WARN) \
	-Ilib -I$(B)/gen -fno-omit-frame-pointer
XLDFLAGS := -Wl,--as-needed
ifneq ($(SANITIZE),)
XCFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
XLDFLAGS += -fsanitize=$(SANITIZE)
endif

# PGO: pgo/default.proftext is the committed text profile (see pgo/README.md).
PGO ?= 1
PGO_TEXT := pgo/default.proftext
PGO_DATA := $(B)/pgo/default.profdata
ifeq ($(PGO)$(SANITIZE),1)
ifneq ($(wildcard $(PGO_TEXT)),)
PGO_OK := $(shell llvm-profdata merge -o /dev/null $(PGO_TEXT) >/dev/null 2>&1 && echo 1)
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

LIBS := -lmnl -lprotobuf-c -ljansson -lrdkafka -lpthread -lm

GEN_PB := $(B)/gen/xtcp_flat_record.pb-c.c
GEN_PB_H := $(B)/gen/xtcp_flat_record.pb-c.h
GEN_CODEC := $(B)/gen/xtcp_codec.c
GEN_H := $(GEN_PB_H)

LIB_SRC := $(wildcard lib/*.c)
LIB_OBJ := $(patsubst lib/%.c,$(B)/lib/%.o,$(LIB_SRC)) $(B)/gen/xtcp_flat_record.pb-c.o \
	$(B)/gen/xtcp_codec.o
LIBXTCP := $(B)/libxtcp.a

CMD_SRC := $(wildcard cmd/xtcp-*.c)
BINS := $(patsubst cmd/%.c,$(B)/bin/%,$(CMD_SRC))
HELPER_SRC := $(wildcard tests/helpers/*.c)
HELPERS := $(patsubst tests/helpers/%.c,$(B)/bin/%,$(HELPER_SRC))
UNIT_SRC := $(wildcard tests/unit/t-*.c)
UNITS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
FUZZ_SRC := $(wildcard tests/fuzz/fuzz-*.c)
FUZZERS := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRC))

.PHONY: all deps check check-plain check-san unit cli fuzz-smoke run install clean
.DELETE_ON_ERROR:
.SECONDARY: $(GEN_PB) $(GEN_PB_H) $(GEN_CODEC)

ifeq ($(SANITIZE),)
all: $(BINS) $(HELPERS) $(UNITS) $(FUZZERS)
else
all: $(BINS) $(HELPERS) $(UNITS)
endif

deps:
	tools/deps.sh install

$(B)/gen/%.pb-c.c $(B)/gen/%.pb-c.h: proto/%.proto
	@mkdir -p $(B)/gen
	@echo "  PROTOC  $<"
	$(Q)protoc-c --c_out=$(B)/gen -Iproto $<

$(GEN_CODEC): proto/xtcp_flat_record.proto tools/gen-codec.py
	@mkdir -p $(B)/gen
	@echo "  GEN     $@"
	$(Q)$(PYTHON) tools/gen-codec.py $< > $@.tmp && mv $@.tmp $@

$(PGO_DATA): $(PGO_TEXT)
	@mkdir -p $(dir $@)
	@echo "  PGO     using $(PGO_TEXT)"
	$(Q)llvm-profdata merge -o $@ $<

$(B)/gen/%.o: $(B)/gen/%.c $(GEN_H) $(PGO_DEP)
	@echo "  CC      $<"
	$(Q)$(CC) $(XCFLAGS) $(PGO_FLAGS) $(CFLAGS) -Wno-missing-prototypes -Wno-cast-qual -c -o $@ $<

$(B)/lib/%.o: lib/%.c $(wildcard lib/*.h) $(GEN_H) $(PGO_DEP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(XCFLAGS) $(PGO_FLAGS) $(CFLAGS) -c -o $@ $<

$(LIBXTCP): $(LIB_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/bin/%: cmd/%.c $(wildcard cmd/*.h) $(LIBXTCP) $(wildcard lib/*.h) $(GEN_H) $(PGO_DEP)
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(XCFLAGS) $(PGO_FLAGS) $(CFLAGS) -o $@ $< $(LIBXTCP) $(XLDFLAGS) $(LDFLAGS) $(LIBS)

$(B)/bin/%: tests/helpers/%.c $(LIBXTCP) $(wildcard lib/*.h) $(GEN_H)
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(XCFLAGS) $(CFLAGS) -o $@ $< $(LIBXTCP) $(XLDFLAGS) $(LDFLAGS) $(LIBS)

$(B)/tests/%: tests/unit/%.c tests/unit/tap.h $(LIBXTCP) $(wildcard lib/*.h) $(GEN_H)
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(XCFLAGS) $(CFLAGS) -Itests/unit -o $@ $< $(LIBXTCP) $(XLDFLAGS) $(LDFLAGS) $(LIBS)

# libFuzzer targets, always with ASan/UBSan; the same sources link as plain
# replay programs when the sanitizer build runs them over the corpus.
$(B)/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(GEN_PB) $(GEN_CODEC) $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)$(CC) $(XCFLAGS) -Wno-cast-qual -O1 -g -fsanitize=fuzzer,address,undefined -o $@ $< \
		$(LIB_SRC) $(GEN_PB) $(GEN_CODEC) $(LIBS)

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

# --- install -------------------------------------------------------------

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man7 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/xtcp
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 proto/xtcp_flat_record.proto $(DESTDIR)$(PREFIX)/share/xtcp/
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/*.7 $(DESTDIR)$(PREFIX)/share/man/man7/
	install -m 644 completions/bash/* $(DESTDIR)$(PREFIX)/share/bash-completion/completions/
	install -m 644 completions/zsh/* $(DESTDIR)$(PREFIX)/share/zsh/site-functions/

clean:
	rm -rf build
