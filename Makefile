# dnsfollow — plain Makefile.
#
#   make            build build/dnsfollow and build/plugins/*.so
#   make run        install missing packages, build, one pass on config/dnsfollow.ini
#   make check      install missing packages, build, run every test
#   make check-asan / check-valgrind   the same suite under sanitizers / valgrind
#   make bench      benchmarks (bench/)
#   make fuzz       bounded fuzzing runs (clang, libFuzzer)
#   make install PREFIX=/usr/local DESTDIR=
#   make image      the FROM scratch image (deploy/Dockerfile); needs a Docker engine
#
# Plugins are discovered: every folder providers/NAME or backends/NAME
# becomes build/plugins/NAME.so. A folder may hold a plugin.mk that adds
# libraries (NAME_LDLIBS), fuzz targets or bench targets.

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
PLUGINDIR  ?= $(PREFIX)/lib/dnsfollow
INCLUDEDIR ?= $(PREFIX)/include
DOCDIR     ?= $(PREFIX)/share/doc/dnsfollow
DESTDIR    ?=

B       ?= build
CC      ?= cc
SAN     ?=
VERSION := 0.1.0

CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-format-truncation
CPPFLAGS_ALL := -std=c11 -D_GNU_SOURCE -Iinclude -Icore \
	-DDNSFOLLOW_VERSION='"$(VERSION)"' -DDNSFOLLOW_PLUGINDIR='"$(PLUGINDIR)"'
ALL_CFLAGS = $(CPPFLAGS_ALL) $(WARN) $(CFLAGS) $(SAN)
LIBS    := -lcurl -ljansson -lcrypto -linih -lmicrohttpd -ldl -lpthread

CORE_SRC  := $(filter-out core/main.c,$(wildcard core/*.c))
CORE_OBJ  := $(CORE_SRC:%.c=$(B)/obj/%.o)
MAIN_OBJ  := $(B)/obj/core/main.o

PLUGIN_DIRS  := $(sort $(wildcard providers/*/ backends/*/))
PLUGIN_NAMES := $(notdir $(patsubst %/,%,$(PLUGIN_DIRS)))
PLUGINS      := $(PLUGIN_NAMES:%=$(B)/plugins/%.so)

# Unit tests: tests/unit/core/test_*.c link the core; tests/unit/NAME/test_*.c
# also link the objects of plugin NAME.
UNIT_SRC   := $(wildcard tests/unit/*/test_*.c)
UNIT_BINS  := $(UNIT_SRC:%.c=$(B)/%)
# Drivers: built like unit tests (tests/unit/NAME/drv_*.c) but run only by
# the integration scripts that need them, with arguments.
DRIVER_BINS := $(patsubst %.c,$(B)/%,$(wildcard tests/unit/*/drv_*.c))
TESTLIB_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(wildcard tests/lib/*.c))
# Test plugins built on purpose broken, for the loader tests: one source,
# one flaw each (bad_abi.so is built with -DBAD_ABI, ...).
BAD_FLAWS  := abi kind name nullop opsize symbol abi1 notxt default keys bkeys
BADPLUGINS := $(BAD_FLAWS:%=$(B)/badplugins/bad_%.so) $(B)/badplugins/not_plugin.so

# Plugins may use only the host table: unresolved core symbols fail the
# link. (Sanitizer runtimes live in the executable, so not under SAN.)
PLUGIN_LDFLAGS = -Wl,--as-needed $(if $(SAN),,-Wl,--no-undefined)

FUZZ_TARGETS :=
BENCH_TARGETS :=

plugin_src = $(wildcard providers/$(1)/*.c backends/$(1)/*.c)
plugin_obj = $(patsubst %.c,$(B)/obj/%.o,$(call plugin_src,$(1)))

.PHONY: all deps deps-build run check check-asan check-valgrind bench fuzz install clean
# Objects built through the pattern rules are not intermediate files.
.SECONDARY:
all: $(B)/dnsfollow $(PLUGINS)

# Fuzzing: clang + libFuzzer, bounded by FUZZ_SECONDS per target. A
# target is declared (here or in a plugin.mk) with
#   $(eval $(call fuzz_target,NAME,SOURCES,LIBS,SEED_DIR,MAX_LEN,EXTRA_DEPS))
# and `make fuzz-NAME` runs build-fuzz/NAME/fuzz on build-fuzz/NAME/corpus
# seeded from SEED_DIR; `make fuzz` runs them all.
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -Iinclude -Icore -g -O1 \
	-Wall -Wextra -Werror -Wshadow \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
define fuzz_target
FUZZ_TARGETS += fuzz-$(1)
build-fuzz/$(1)/fuzz: $(2) $(6) $$(wildcard include/dnsfollow/*.h)
	@mkdir -p $$(dir $$@)
	clang $$(FUZZ_CFLAGS) -o $$@ $(2) $(3)
fuzz-$(1): build-fuzz/$(1)/fuzz
	@mkdir -p build-fuzz/$(1)/corpus
	build-fuzz/$(1)/fuzz -max_total_time=$$(FUZZ_SECONDS) -max_len=$(5) \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		build-fuzz/$(1)/corpus $(4)
.PHONY: fuzz-$(1)
endef

-include $(wildcard providers/*/plugin.mk backends/*/plugin.mk)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -MMD -MP -c $< -o $@

# Plugin objects: hidden by default; only the descriptor is exported.
$(B)/obj/providers/%.o $(B)/obj/backends/%.o: private ALL_CFLAGS += -fvisibility=hidden
$(B)/obj/providers/%.o: providers/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -MMD -MP -c $< -o $@
$(B)/obj/backends/%.o: backends/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -MMD -MP -c $< -o $@

# The install folder is compiled in: rebuild the loader when it changes.
$(B)/plugindir.stamp: FORCE
	@mkdir -p $(B)
	@echo '$(PLUGINDIR)' | cmp -s - $@ || echo '$(PLUGINDIR)' >$@
$(B)/obj/core/loader.o: $(B)/plugindir.stamp
.PHONY: FORCE
FORCE:

$(B)/libdfcore.a: $(CORE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(B)/dnsfollow: $(MAIN_OBJ) $(B)/libdfcore.a
	$(CC) $(SAN) -o $@ $^ $(LIBS)

.SECONDEXPANSION:
$(B)/plugins/%.so: $$(call plugin_obj,%)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -shared -fvisibility=hidden $(PLUGIN_LDFLAGS) -o $@ $^ $($*_LDLIBS) $(LIBS)

$(B)/badplugins/not_plugin.so: tests/badplugins/not_plugin.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -shared -fvisibility=hidden -o $@ $<
$(B)/badplugins/bad_%.so: tests/badplugins/bad.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -shared -fvisibility=hidden \
		-DPLUGIN_NAME='"bad_$*"' -DBAD_$(shell echo $* | tr a-z A-Z) -o $@ $<

$(B)/tests/unit/%: tests/unit/%.c $(B)/libdfcore.a $(TESTLIB_OBJ) \
		$$(call plugin_obj,$$(firstword $$(subst /, ,$$*)))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/lib -o $@ $< $(TESTLIB_OBJ) \
		$(call plugin_obj,$(firstword $(subst /, ,$*))) \
		$(B)/libdfcore.a $(LIBS) -lcmocka $($(firstword $(subst /, ,$*))_LDLIBS)

$(B)/obj/tests/%.o: private ALL_CFLAGS += -Itests/lib

tests-build: all $(UNIT_BINS) $(DRIVER_BINS) $(BADPLUGINS)
.PHONY: tests-build

deps:
	@sh tests/lib/deps.sh
deps-build:
	@sh tests/lib/deps.sh --build

run: deps-build all
	$(B)/dnsfollow -c config/dnsfollow.ini --once

check: deps
	@$(MAKE) --no-print-directory tests-build
	@B=$(B) sh tests/run.sh

check-asan: deps
	@$(MAKE) --no-print-directory B=build-asan \
		SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		tests-build
	@B=build-asan DF_SANITIZED=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 sh tests/run.sh

check-valgrind: deps
	@$(MAKE) --no-print-directory tests-build
	@B=$(B) DF_WRAP="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --track-fds=no" \
		sh tests/run.sh

# Core benchmark: a driver linked with the core and in-memory plugins.
BENCH_PLUGINS := $(patsubst bench/plugins/%.c,$(B)/bench/plugins/%.so,$(wildcard bench/plugins/*.c))
$(B)/bench/plugins/%.so: bench/plugins/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -shared -fvisibility=hidden -o $@ $< -ldl
$(B)/bench/planbench: bench/src/planbench.c $(B)/libdfcore.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -rdynamic -o $@ $< $(B)/libdfcore.a $(LIBS)
BENCH_TARGETS += $(BENCH_PLUGINS) $(B)/bench/planbench

# Every benchmark runs, even after one missed its target; the misses are
# summed up at the end and fail the target. BENCH_SCRIPTS picks some.
BENCH_SCRIPTS ?= $(wildcard bench/*.sh)
bench: deps all $(BENCH_TARGETS)
	@d=$$(mktemp -d /tmp/dfbench-all.XXXXXX) && missed= && ran=0 && \
	for b in $(BENCH_SCRIPTS); do \
		n=$$(basename "$$b" .sh); ran=$$((ran + 1)); echo "==== $$b"; \
		{ B=$(B) sh "$$b" 2>&1; echo $$? >"$$d/$$n.rc"; } | tee "$$d/$$n.out"; \
		[ "$$(cat "$$d/$$n.rc")" = 0 ] || missed="$$missed $$n"; \
	done; \
	echo "==== bench summary: $$ran benchmark(s)"; \
	for b in $(BENCH_SCRIPTS); do n=$$(basename "$$b" .sh); \
		if grep -q ': skipped' "$$d/$$n.out"; then echo "  skipped  $$b: $$(grep -m1 ': skipped' "$$d/$$n.out")"; \
		elif [ "$$(cat "$$d/$$n.rc")" = 0 ]; then echo "  met      $$b"; \
		else echo "  MISSED   $$b (exit $$(cat "$$d/$$n.rc")):"; \
			{ grep -E 'MISSED|FAIL|missed|target' "$$d/$$n.out" || tail -n 3 "$$d/$$n.out"; } | tail -n 5 | sed 's/^/             /'; fi; \
	done; \
	rm -rf "$$d"; \
	if [ -n "$$missed" ]; then echo "bench: target(s) missed by:$$missed"; exit 1; fi; \
	echo "bench: every benchmark met its target(s)"

$(eval $(call fuzz_target,config,tests/fuzz/core/fuzz_config.c $(CORE_SRC),$(LIBS),tests/fuzz/core/corpus,4096,$(wildcard core/*.h)))

fuzz: $(FUZZ_TARGETS)

# ==== SDK (sdk/): conformance kit, test host, pkg-config, install ========
# Owned with the install target by the SDK work; see docs/conformance.md.
LIBDIR       ?= $(PREFIX)/lib
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
CONFORM_OBJ  := $(patsubst %.c,$(B)/obj/%.o,$(wildcard sdk/conform/*.c))
# The test host is the daemon's host table and the code it calls, no
# more: a plugin's unit test gets the real helpers, never the reconciler.
TESTHOST_CORE := host log http sdk file util cfg_types rtypes metrics
TESTHOST_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(wildcard sdk/testhost*.c)) \
	$(filter $(TESTHOST_CORE:%=$(B)/obj/core/%.o),$(CORE_OBJ))
SDK_PC := $(B)/dnsfollow.pc $(B)/dnsfollow-testhost.pc
# Folders under PREFIX are written as ${prefix}/..., so the .pc moves
# with its tree (pkg-config --define-prefix).
sdk_rel = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))
SDK_SED = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@INCLUDEDIR@|$(call sdk_rel,$(INCLUDEDIR))|g' \
	-e 's|@LIBDIR@|$(call sdk_rel,$(LIBDIR))|g' -e 's|@PLUGINDIR@|$(call sdk_rel,$(PLUGINDIR))|g' \
	-e 's|@DOCDIR@|$(call sdk_rel,$(DOCDIR))|g' -e 's|@VERSION@|$(VERSION)|g'
# Plugins with one flaw each, for the kit's own test (tests/conform).
CONFORM_FLAWS := none append dup cname delabsent zone results atomic crash upper
CONFORM_PLUGINS := $(CONFORM_FLAWS:%=$(B)/conform/plugins/memprov_%.so)

$(B)/dnsfollow-conform: $(CONFORM_OBJ) $(B)/libdfcore.a
	$(CC) $(SAN) -o $@ $^ $(LIBS)
$(B)/libdnsfollow-testhost.a: $(TESTHOST_OBJ)
	rm -f $@ && ar rcs $@ $^
# Rewritten only when PREFIX & co. change the text.
$(B)/dnsfollow.pc: dnsfollow.pc.in FORCE
$(B)/dnsfollow-testhost.pc: sdk/dnsfollow-testhost.pc.in FORCE
$(SDK_PC):
	@mkdir -p $(dir $@)
	@$(SDK_SED) $< >$@.tmp && { cmp -s $@.tmp $@ || mv $@.tmp $@; }; rm -f $@.tmp
$(B)/conform/plugins/memprov_%.so: tests/conform/memprov.c $(wildcard include/dnsfollow/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -Iinclude $(WARN) $(CFLAGS) $(SAN) -fPIC -shared \
		-fvisibility=hidden $(PLUGIN_LDFLAGS) -DPLUGIN_NAME='"memprov_$*"' -DFLAW_$(shell echo $* | tr a-z A-Z) -o $@ $<

# The test host's own test, built as an author builds one (public and
# installed headers only), run by tests/conform/t_testhost.sh.
$(B)/sdk-include/dnsfollow/testhost.h: sdk/testhost.h
	@mkdir -p $(dir $@)
	cp $< $@
$(B)/conform/test_testhost: tests/conform/test_testhost.c tests/conform/memprov.c \
		$(B)/libdnsfollow-testhost.a $(B)/sdk-include/dnsfollow/testhost.h \
		$(wildcard include/dnsfollow/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -Iinclude -I$(B)/sdk-include $(WARN) $(CFLAGS) $(SAN) \
		-DPLUGIN_NAME='"memprov"' -o $@ $(filter %.c,$^) $(B)/libdnsfollow-testhost.a \
		-lcurl -ljansson -lpthread

sdk: $(B)/dnsfollow-conform $(B)/libdnsfollow-testhost.a $(SDK_PC)
sdk-tests: sdk $(CONFORM_PLUGINS) $(B)/conform/test_testhost
tests-build: sdk-tests
.PHONY: sdk sdk-tests

install: all sdk
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(INCLUDEDIR)/dnsfollow \
		$(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(DOCDIR)/examples \
		$(DESTDIR)$(DOCDIR)/plugins
	install -m 0755 $(B)/dnsfollow $(B)/dnsfollow-conform $(DESTDIR)$(BINDIR)/
	install -m 0755 $(PLUGINS) $(DESTDIR)$(PLUGINDIR)/
	install -m 0644 include/dnsfollow/*.h $(DESTDIR)$(INCLUDEDIR)/dnsfollow/
	install -m 0644 sdk/testhost.h $(DESTDIR)$(INCLUDEDIR)/dnsfollow/testhost.h
	install -m 0644 $(B)/libdnsfollow-testhost.a $(DESTDIR)$(LIBDIR)/
	install -m 0644 $(SDK_PC) $(DESTDIR)$(PKGCONFIGDIR)/
	install -m 0644 README.md config/dnsfollow.ini docs/plugin-guide.md \
		docs/conformance.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 docs/examples/*.c $(DESTDIR)$(DOCDIR)/examples/
	for d in $(patsubst %/,%,$(PLUGIN_DIRS)); do \
		if [ -f $$d/README.md ]; then \
			install -m 0644 $$d/README.md $(DESTDIR)$(DOCDIR)/plugins/$$(basename $$d).md || exit 1; \
		fi; \
	done
# ==== end of the SDK block ==============================================

# ==== man pages: docs/man/NAME.SECTION.scd -> $(B)/man/NAME.SECTION ====
# scdoc (Debian scdoc) renders them; tests/e2e/t_man.sh checks them.
# Built by install and tests-build, not by `all` (scdoc is a test dep).
MANDIR    ?= $(PREFIX)/share/man
MAN_PAGES := $(patsubst docs/man/%.scd,$(B)/man/%,$(wildcard docs/man/*.scd))
$(B)/man/%: docs/man/%.scd
	@command -v scdoc >/dev/null || { echo "$@: scdoc not found (apt-get install scdoc, or make deps)" >&2; exit 1; }
	@mkdir -p $(dir $@)
	sed 's/@VERSION@/$(VERSION)/g' $< | scdoc >$@.tmp && mv $@.tmp $@ || \
		{ rm -f $@.tmp; echo "$<: scdoc failed (its LINE:COL above)" >&2; exit 1; }
man: $(MAN_PAGES)
install-man: man
	for p in $(MAN_PAGES); do \
		d=$(DESTDIR)$(MANDIR)/man$${p##*.}; \
		install -d $$d && install -m 0644 $$p $$d/ || exit 1; \
	done
install: install-man
tests-build: man
.PHONY: man install-man

# ==== image: deploy/Dockerfile FROM scratch, staged by deploy/image.sh ====
# A build folder of its own with PREFIX=/usr (the plugin folder compiled
# in is the image's). Needs a Docker engine (DOCKER_HOST), no registry.
# It links static libcurl (HTTP/HTTPS/unix sockets, OpenSSL) and
# libmicrohttpd (no HTTPS) built once from Debian's sources into
# IMAGE_DEPS (needs deb-src and root the first time, or IMAGE_SRC: see
# deploy/README.md); the normal build keeps Debian's shared ones.
IMAGE  ?= dnsfollow:$(VERSION)
DOCKER ?= docker
IMAGE_DEPS ?= $(B)/image/deps
IMAGE_LIBS = $(patsubst -lmicrohttpd,$(IMAGE_DEPS)/lib/libmicrohttpd.a,\
	$(patsubst -lcurl,$(IMAGE_DEPS)/lib/libcurl.a -lssl,$(LIBS)))
image:
	@sh deploy/image.sh libs $(IMAGE_DEPS) $(B)/image
	@$(MAKE) --no-print-directory B=$(B)/image PREFIX=/usr \
		CFLAGS="$(CFLAGS) -I$(IMAGE_DEPS)/include" LIBS="$(IMAGE_LIBS)" all
	@DOCKER="$(DOCKER)" sh deploy/image.sh $(B)/image $(IMAGE) $(VERSION)
.PHONY: image

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(B) -name '*.d' 2>/dev/null)
