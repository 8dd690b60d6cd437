# chanrac — top-level build.  Out-of-tree: everything goes under $(BUILD).
#   make            build the programs into $(BUILD)/bin
#   make check      install missing Debian packages, build, run every test
#   make run        install missing packages, build, start the system on loopback
#   make demo       install missing packages, build, narrate mail through a private Postfix (root)
# BUILD=dir selects another build directory (each helper/sanitizer build its own).

BUILD   ?= build
CC      ?= cc
PREFIX  ?= /usr
DESTDIR ?=

PKGS      := hiredis ldns inih libidn2 libpsl opendkim
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)
# libspf2, libmilter and libunistring ship no .pc file on Debian 12.
EXTRA_LIBS := -lspf2 -lunistring -lm
MILTER_LIBS := -lmilter -lpthread
# the CLI alone reads JSON (postqueue -j)
CLI_CFLAGS := $(shell pkg-config --cflags jansson 2>/dev/null)
CLI_LIBS   := $(shell pkg-config --libs jansson 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wno-format-nonliteral
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Ilib $(PKG_CFLAGS) -MMD -MP
LDFLAGS ?=

LIB_SRC    := $(wildcard lib/*.c)
LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB_A      := $(BUILD)/libchanrac.a
CLI_SRC    := $(wildcard cli/*.c)
RBL_SRC    := $(wildcard rbl/*.c)
MILTER_SRC := $(wildcard milter/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC   := $(wildcard tests/tools/*.c)
TOOL_BIN   := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)

PROGS := $(BUILD)/bin/chanrac
ifneq ($(RBL_SRC),)
PROGS += $(BUILD)/bin/chanrac-rbld
endif
ifneq ($(MILTER_SRC),)
PROGS += $(BUILD)/bin/chanrac-milter
endif

.PHONY: all deps check check-asan unit integration run demo clean install uninstall
all: $(PROGS)

deps:
	@./contrib/install-deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB_A): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(CLI_SRC:%.c=$(BUILD)/%.o): ALL_CFLAGS += $(CLI_CFLAGS)

$(BUILD)/bin/chanrac: $(CLI_SRC:%.c=$(BUILD)/%.o) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CLI_LIBS) $(EXTRA_LIBS)

$(BUILD)/bin/chanrac-rbld: $(RBL_SRC:%.c=$(BUILD)/%.o) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(EXTRA_LIBS) -lpthread

$(BUILD)/bin/chanrac-milter: $(MILTER_SRC:%.c=$(BUILD)/%.o) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(EXTRA_LIBS) $(MILTER_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_A) $(PKG_LIBS) $(EXTRA_LIBS) $(CHECK_LIBS)

$(BUILD)/tests/tools/%: tests/tools/%.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_A) $(PKG_LIBS) $(EXTRA_LIBS)

# The test runner prints one line per test and ends with "N passed, N failed".
check: deps
	$(MAKE) all $(UNIT_BIN) $(TOOL_BIN)
	BUILD=$(BUILD) ./tests/run.sh

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer, in its
# own build directory; any sanitizer report fails the test that hit it.
ASAN_BUILD ?= build-asan
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
check-asan: deps
	$(MAKE) BUILD=$(ASAN_BUILD) CFLAGS="$(SAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" \
		all $(UNIT_SRC:tests/unit/%.c=$(ASAN_BUILD)/tests/%) \
		$(TOOL_SRC:tests/tools/%.c=$(ASAN_BUILD)/tests/tools/%)
	BUILD=$(ASAN_BUILD) SANITIZED=1 \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ./tests/run.sh

unit: all $(UNIT_BIN) $(TOOL_BIN)
	BUILD=$(BUILD) ./tests/run.sh unit

integration: all $(TOOL_BIN)
	BUILD=$(BUILD) ./tests/run.sh integration

run: deps
	$(MAKE) all
	BUILD=$(BUILD) ./contrib/run.sh

# libFuzzer targets (tests/fuzz/fuzz_*.c), built by clang with ASan+UBSan into
# $(FUZZ_BUILD): the library (and rbl/zone.c, for the responder's answers) is
# compiled again there with -fsanitize=fuzzer-no-link; the gcc build is untouched.
# tests/fuzz/run.sh [SECONDS] replays the corpora and fuzzes each target.
FUZZ_BUILD ?= build-fuzz
FUZZ_CC    ?= clang
FUZZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) \
	-Ilib -Irbl $(PKG_CFLAGS) -MMD -MP
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_OBJ   := $(LIB_SRC:%.c=$(FUZZ_BUILD)/obj/%.o) $(FUZZ_BUILD)/obj/rbl/zone.o
.PHONY: fuzz
fuzz: $(FUZZ_BIN)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/libfuzz.a: $(FUZZ_OBJ)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/%: tests/fuzz/%.c $(FUZZ_BUILD)/libfuzz.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/libfuzz.a \
		$(PKG_LIBS) $(EXTRA_LIBS) -lpthread

-include $(FUZZ_OBJ:.o=.d) $(FUZZ_BIN:=.d)

demo: deps
	$(MAKE) all
	BUILD=$(BUILD) ./contrib/demo.sh

clean:
	rm -rf $(BUILD)

# Debian's layout (PREFIX=/usr: configuration in /etc).  DESTDIR stages.
ifeq ($(PREFIX),/usr)
SYSCONFDIR ?= /etc
else
SYSCONFDIR ?= $(PREFIX)/etc
endif
BINDIR   := $(PREFIX)/bin
SBINDIR  := $(PREFIX)/sbin
MANDIR   := $(PREFIX)/share/man
DOCDIR   := $(PREFIX)/share/doc/chanrac
LIBDIR_SYSTEMD := $(PREFIX)/lib/systemd/system
SYSUSERSDIR := $(PREFIX)/lib/sysusers.d
TMPFILESDIR := $(PREFIX)/lib/tmpfiles.d
CONFDIR  := $(SYSCONFDIR)/chanrac
UNITS    := $(wildcard contrib/systemd/*.service contrib/systemd/*.timer)
MAN1     := $(wildcard doc/*.1)
MAN5     := $(wildcard doc/*.5)
MAN8     := $(wildcard doc/*.8)
DOCS     := README.md $(wildcard doc/*.md) $(wildcard contrib/*.snippet) \
            contrib/redis-acl.conf.in contrib/redis-acl-setup.sh

# Installed files other than the configuration, relative to DESTDIR.
INSTALLED := $(BINDIR)/chanrac $(SBINDIR)/chanrac-milter $(SBINDIR)/chanrac-rbld \
	$(MAN1:doc/%=$(MANDIR)/man1/%) $(MAN5:doc/%=$(MANDIR)/man5/%) \
	$(MAN8:doc/%=$(MANDIR)/man8/%) $(addprefix $(DOCDIR)/,$(notdir $(DOCS))) \
	$(DOCDIR)/chanrac.conf.sample \
	$(UNITS:contrib/systemd/%=$(LIBDIR_SYSTEMD)/%) $(SYSUSERSDIR)/chanrac.conf \
	$(TMPFILESDIR)/chanrac.conf $(SYSCONFDIR)/logrotate.d/chanrac

# The configuration is installed only where none exists yet (an admin's edits
# are never overwritten); uninstall removes it only if it is still the sample.
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(LIBDIR_SYSTEMD) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
		$(DESTDIR)$(SYSCONFDIR)/logrotate.d $(DESTDIR)$(CONFDIR)
	install -m 0755 $(BUILD)/bin/chanrac $(DESTDIR)$(BINDIR)/chanrac
	install -m 0755 $(BUILD)/bin/chanrac-milter $(BUILD)/bin/chanrac-rbld $(DESTDIR)$(SBINDIR)/
	install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	install -m 0644 conf/chanrac.conf $(DESTDIR)$(DOCDIR)/chanrac.conf.sample
	install -m 0644 $(UNITS) $(DESTDIR)$(LIBDIR_SYSTEMD)/
	install -m 0644 contrib/sysusers.d-chanrac.conf $(DESTDIR)$(SYSUSERSDIR)/chanrac.conf
	install -m 0644 contrib/tmpfiles.d-chanrac.conf $(DESTDIR)$(TMPFILESDIR)/chanrac.conf
	install -m 0644 contrib/logrotate-chanrac $(DESTDIR)$(SYSCONFDIR)/logrotate.d/chanrac
	@if [ -e $(DESTDIR)$(CONFDIR)/chanrac.conf ]; then \
		echo "install: kept existing $(DESTDIR)$(CONFDIR)/chanrac.conf (sample in $(DOCDIR))"; \
	else \
		install -m 0640 conf/chanrac.conf $(DESTDIR)$(CONFDIR)/chanrac.conf; \
	fi
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v systemd-sysusers >/dev/null; then \
		systemd-sysusers $(SYSUSERSDIR)/chanrac.conf && \
		systemd-tmpfiles --create $(TMPFILESDIR)/chanrac.conf && \
		chgrp chanrac $(CONFDIR)/chanrac.conf; \
	fi

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	@if [ -e $(DESTDIR)$(CONFDIR)/chanrac.conf ]; then \
		if cmp -s conf/chanrac.conf $(DESTDIR)$(CONFDIR)/chanrac.conf; then \
			rm -f $(DESTDIR)$(CONFDIR)/chanrac.conf; \
		else \
			echo "uninstall: kept $(DESTDIR)$(CONFDIR)/chanrac.conf (changed from the sample)"; \
		fi; \
	fi
	-rmdir $(DESTDIR)$(CONFDIR) $(DESTDIR)$(DOCDIR) 2>/dev/null

-include $(LIB_OBJ:.o=.d) $(CLI_SRC:%.c=$(BUILD)/%.d) $(RBL_SRC:%.c=$(BUILD)/%.d) \
	$(MILTER_SRC:%.c=$(BUILD)/%.d)
