# hijackd - build with GNU make. Objects and programs go to $(BUILD) (default build/).
#   make                 build/hijackd
#   make check           build, then run the whole test suite (tests/run.sh)
#   make install         install under $(PREFIX) (default /usr/local)
#   make BUILD=build-asan SAN=1    the same with AddressSanitizer + UBSan
#   make tsan            build-tsan/ with ThreadSanitizer (TSAN=1); make tsan-test runs the
#                        daemon tests on it (tests/tsan.sh)
#   make WERROR=1        warnings are errors (CI)
#   make fuzz            the libFuzzer harnesses of tests/fuzz/ (clang; build-fuzz/fuzz_*)
#   make fuzz-smoke      each harness a few seconds over its corpus; fails on any crash

CC ?= cc
BUILD ?= build
PREFIX ?= /usr/local
CFLAGS ?= -O2 -g
STD = -std=c11 -D_GNU_SOURCE
WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
       -Wno-format-nonliteral
ifeq ($(WERROR),1)
WARN += -Werror
endif
# Hardening for a network daemon that starts as root (HARDEN=0 leaves it out): stack
# protector, fortified libc calls (not under the sanitizers, which replace those calls), full
# RELRO (the GOT read-only after start, all symbols bound at once).
HARDEN ?= 1
ifeq ($(SAN),1)
CFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
HARDEN_FORTIFY =
else
HARDEN_FORTIFY = -D_FORTIFY_SOURCE=2
endif
# The fuzzing build (make fuzz): the libraries with clang's libFuzzer instrumentation + ASan +
# UBSan, the harnesses linked with -fsanitize=fuzzer.
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined
ifeq ($(FUZZ),1)
CC = clang
CFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $(FUZZ_SAN)
LDFLAGS += -fsanitize=fuzzer $(FUZZ_SAN)
HARDEN_FORTIFY =
endif
# The ThreadSanitizer build (make tsan): the spool threads against the event loop.
ifeq ($(TSAN),1)
CFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=thread
LDFLAGS += -fsanitize=thread
HARDEN_FORTIFY =
endif
ifeq ($(HARDEN),1)
CFLAGS += -fstack-protector-strong
CPPFLAGS += $(HARDEN_FORTIFY)
LDFLAGS += -Wl,-z,relro,-z,now
endif
LIBS = -lz -lpthread -lsqlite3 -levent -ljansson -lcurl -lcrypto

# The layers (scripts/check-layers checks that each folder includes only those below it):
#   util <- engine <- {postfix, store, conf} <- {core, notify} <- {frontend, incident} <- admin
#   <- daemon <- prog (the programs)
# The engine and the generic utilities it needs: no sockets, no logging, no clock.
ENGINE_SRC = src/util/alloc.c src/util/buf.c src/util/htab.c src/util/netaddr.c \
             src/util/timeconv.c $(wildcard src/engine/*.c)
# Adapters (Postfix log, policy and milter codecs, postqueue/postsuper; the anti-spam scanners'
# client), configuration, store, notification spools, and the core that joins engine and store.
LIB_SRC = src/util/child.c src/util/jname.c src/util/jtime.c src/util/lineread.c src/util/listener.c src/util/log.c src/util/peercred.c src/util/peergate.c src/util/statedir.c src/util/tmpl.c \
          $(wildcard src/postfix/*.c) $(wildcard src/milter/*.c) $(wildcard src/scan/*.c) $(wildcard src/conf/*.c) $(wildcard src/store/*.c) \
          $(wildcard src/notify/*.c) $(wildcard src/core/*.c)
# The daemon's library: the front ends (policy service, log follower), incidents and the queue
# purge, the admin surface, and the daemon itself, replay and its report.
DAEMON_SRC = $(wildcard src/frontend/*.c) $(wildcard src/incident/*.c) $(wildcard src/admin/*.c) \
             $(wildcard src/daemon/*.c)
# The programs, each in its own folder under src/prog/.
HIJACKD_SRC = $(wildcard src/prog/hijackd/*.c)
CTL_SRC = $(wildcard src/prog/hijackctl/*.c)
UNIT_SRC = $(wildcard tests/unit/test_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
ENGINE_OBJ = $(call obj,$(ENGINE_SRC))
LIB_OBJ = $(call obj,$(LIB_SRC))
DAEMON_OBJ = $(call obj,$(DAEMON_SRC))
UNIT_BIN = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
LIBS_HJ = $(BUILD)/libhijackd.a $(BUILD)/libhjengine.a

all: $(BUILD)/hijackd $(BUILD)/hijackctl

# -Wconversion -Wsign-conversion (implicit conversions that may change a value or its sign)
# in the folders that are clean of them; the rest: docs/ARCHITECTURE.md, "Build flags".
CONV_DIRS = src/util src/engine src/postfix src/milter src/scan src/conf src/store src/core \
            src/notify src/frontend src/incident src/admin src/daemon src/prog/hijackd \
            src/prog/hijackctl
$(patsubst %,$(BUILD)/obj/%/%.o,$(CONV_DIRS)): WARN += -Wconversion -Wsign-conversion

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(WARN) $(CFLAGS) $(CPPFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libhjengine.a: $(ENGINE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libhijackd.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libhjdaemon.a: $(DAEMON_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/hijackd: $(call obj,$(HIJACKD_SRC)) $(BUILD)/libhjdaemon.a $(LIBS_HJ)
	$(CC) $(LDFLAGS) -o $@ $(call obj,$(HIJACKD_SRC)) $(BUILD)/libhjdaemon.a $(LIBS_HJ) $(LIBS)

$(BUILD)/hijackctl: $(call obj,$(CTL_SRC)) $(LIBS_HJ)
	$(CC) $(LDFLAGS) -o $@ $(call obj,$(CTL_SRC)) $(LIBS_HJ) $(LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIBS_HJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS_HJ) $(LIBS) -lcmocka

tests: $(UNIT_BIN) $(BUILD)/scan_probe

# tests/scan_test.py drives the scanner client through this program (real rspamd and spamd)
$(BUILD)/scan_probe: $(BUILD)/obj/tests/scan_probe.o $(LIBS_HJ)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS_HJ) $(LIBS)

# The fuzzing harnesses (tests/fuzz/, docs/FUZZING.md): "make fuzz" builds them in build-fuzz/,
# "make fuzz-smoke" runs each FUZZ_SECONDS over its committed corpus (tests/fuzz/corpus/NAME).
FUZZ_NAMES = policy logline mailmsg queue conf http milter scan
FUZZ_SECONDS ?= 5
FUZZ_BIN = $(patsubst %,$(BUILD)/fuzz_%,$(FUZZ_NAMES))

fuzz:
	$(MAKE) BUILD=build-fuzz FUZZ=1 fuzz-bins

fuzz-bins: $(FUZZ_BIN)

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(BUILD)/libhjdaemon.a $(LIBS_HJ)
	$(CC) $(STD) $(CFLAGS) $(CPPFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libhjdaemon.a $(LIBS_HJ) $(LIBS)

fuzz-smoke: fuzz
	tests/fuzz/smoke.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_NAMES)

# ThreadSanitizer: hijackd, hijackctl and the unit tests in build-tsan/; tsan-test builds them
# and runs the threaded unit tests and the daemon tests on them (tests/tsan.sh, which skips
# where TSan cannot run; a pass of scripts/test).
tsan:
	$(MAKE) BUILD=build-tsan TSAN=1 all tests

tsan-test:
	tests/tsan.sh build-tsan

# The engine library must not reach for sockets, syslog, files, the clock or global state:
# its objects may use only the outside symbols src/engine/ALLOWED_SYMBOLS allows (alloc.o alone
# may write its one out-of-memory line before abort()), and define no writable static data
# but what that file lists.
check-engine-pure: $(ENGINE_OBJ) src/engine/ALLOWED_SYMBOLS scripts/check-engine-pure
	@scripts/check-engine-pure src/engine/ALLOWED_SYMBOLS $(ENGINE_OBJ)

# Each folder of src/ includes only headers of the layers below it (scripts/check-layers).
check-layers:
	@scripts/check-layers

check: all tests
	tests/run.sh $(BUILD)

install: $(BUILD)/hijackd $(BUILD)/hijackctl
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/doc/hijackd/examples
	install -m 0755 $(BUILD)/hijackd $(DESTDIR)$(PREFIX)/sbin/hijackd
	install -m 0755 $(BUILD)/hijackctl $(DESTDIR)$(PREFIX)/sbin/hijackctl
	install -d $(DESTDIR)$(PREFIX)/share/hijackd/web
	install -m 0644 web/* $(DESTDIR)$(PREFIX)/share/hijackd/web/
	install -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/hijackd/
	install -m 0644 examples/* $(DESTDIR)$(PREFIX)/share/doc/hijackd/examples/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/hijackd $(DESTDIR)$(PREFIX)/sbin/hijackctl
	rm -rf $(DESTDIR)$(PREFIX)/share/hijackd
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/hijackd

format:
	clang-format -i $(ENGINE_SRC) $(LIB_SRC) $(DAEMON_SRC) $(HIJACKD_SRC) $(CTL_SRC) $(UNIT_SRC) $(shell find src -name "*.h") tests/unit/*.h

clean:
	rm -rf $(BUILD)

.PHONY: all tests check check-engine-pure check-layers install uninstall format clean fuzz \
	fuzz-bins fuzz-smoke tsan tsan-test
-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
