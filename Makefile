# Makefile — builds every chapter of the libevent workbook and runs its tests.
#
#   make chapter1     build chapter 1 and run its demo     make test      the whole suite
#   make help         every target, one line each
#
# A chapter is one folder, NN_name/, found by its name; nothing here lists them:
#   - every NN_name/*.c that defines main() is a program, built under build/
#     (01_listener/listener.c -> build/01_listener/listener), so a chapter's
#     folder holds only what a student reads;
#   - the folder's other .c files are parts: an archive (build/NN_name/parts.a)
#     from which each of its programs takes what it uses;
#   - NN_name/chapter.mk says how `make chapterN` runs it, which pkg-config
#     packages it needs besides libevent (NN_name_PKGS) and other libraries
#     (NN_name_LDLIBS), and adds its own `## ` help lines;
#   - NN_name/*.bats are its tests (`make test-chapterN`).
# tools/ holds programs that are not a lesson (chapter 0's load generator),
# built the same way: tools/loadgen.c -> build/tools/loadgen.
# docs/adding-a-chapter.md walks through adding one.
#
# O=DIR/ puts binaries and objects under DIR instead of build/ (DIR/01_listener/
# listener), so a build with other flags (make asan-test: build/asan/) can live
# beside the normal one without mixing.

CC       ?= cc
CFLAGS   ?= -std=c11 -Wall -Wextra -Werror -O2 -g
CPPFLAGS += -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Icommon
O        ?= build/
# Where the tests look for binaries (tests/helpers.bash reads it).
export WORKBOOK_BIN := $(abspath $(O))

CHAPTERS     := $(patsubst %/,%,$(sort $(wildcard [0-9][0-9]_*/)))
C_SOURCES    := $(foreach c,$(CHAPTERS) tools,$(wildcard $(c)/*.c))
MAIN_RE      := ^(int )?main[(]
MAIN_SOURCES := $(shell grep -lE '$(MAIN_RE)' $(C_SOURCES) /dev/null)
PART_SOURCES := $(filter-out $(MAIN_SOURCES),$(C_SOURCES))
PROGRAMS     := $(addprefix $(O),$(MAIN_SOURCES:.c=))
COMMON_OBJ   := $(patsubst %.c,$(O)%.o,$(wildcard common/*.c))
CHAPTER_TESTS = $(foreach c,$(CHAPTERS),$(wildcard $(c)/*.bats))

# chapter_dir N: the folder of chapter N (1 -> 01_listener, 10 -> 10_...)
chapter_dir = $(filter 0$(1)_% $(1)_%,$(CHAPTERS))
# chapter_of FILE: the chapter folder FILE belongs to ("" for common/)
chapter_of  = $(filter $(CHAPTERS),$(firstword $(subst /, ,$(patsubst $(O)%,%,$(1)))))
# pkgs_of FILE: pkg-config packages for FILE: libevent, plus its chapter's NN_name_PKGS
pkgs_of     = libevent $($(call chapter_of,$(1))_PKGS)
# part_objs_of FILE: the objects of the non-main .c files in FILE's folder
part_objs_of = $(patsubst %.c,$(O)%.o,$(filter $(patsubst $(O)%,%,$(dir $(1)))%,$(PART_SOURCES)))
# parts_of PROGRAM: those objects as one archive, NN_name/parts.a, so that the
# linker takes only the parts the program uses (none when there are none)
parts_of     = $(if $(call part_objs_of,$(1)),$(dir $(1))parts.a)

.PHONY: all deps help clean test check-fresh soak asan-test memcheck lint list-programs \
	check progress verify-exercises
.DEFAULT_GOAL := all

all: $(PROGRAMS)

# Each chapter's own targets (chapterN, bench-…), its NN_name_PKGS and
# NN_name_LDLIBS; then the docs' own targets (docs/*.mk).
include $(wildcard $(addsuffix /chapter.mk,$(CHAPTERS)) docs/*.mk)
include tests/fuzz/fuzz.mk

## help                 every target, one line each
help:
	@echo "Targets (PORT=N picks another port for a chapter's server):"
	@sed -n 's/^## /  make /p' $(addsuffix /chapter.mk,$(CHAPTERS)) $(wildcard docs/*.mk tests/*/*.mk) Makefile

## deps                 install what is missing (Debian/Ubuntu), or say what to install
deps:
	@scripts/deps.sh

# pkg-config runs when the recipe runs, after `deps` has installed the .pc files.
# EXTRA_CFLAGS: a chapter.mk may set it for one object (target-specific), and
# it survives a CFLAGS given on the command line (make asan-test gives one).
$(O)%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $$(pkg-config --cflags $(call pkgs_of,$<)) $(CFLAGS) $(EXTRA_CFLAGS) -MMD -MP -c -o $@ $<

.SECONDEXPANSION:
$(PROGRAMS): $(O)%: $(O)%.o $$(call parts_of,$$@) $(COMMON_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $$(pkg-config --libs $(call pkgs_of,$@)) \
		$($(call chapter_of,$@)_LDLIBS)

# The objects are kept (not deleted as intermediate files), so a second make
# rebuilds nothing.
.SECONDARY: $(patsubst %.c,$(O)%.o,$(C_SOURCES))
$(O)%/parts.a: $$(call part_objs_of,$$@)
	rm -f $@ && $(AR) rcs $@ $^

-include $(patsubst %,$(O)%.d,$(MAIN_SOURCES:.c=) $(PART_SOURCES:.c=)) $(COMMON_OBJ:.o=.d)

## list-programs        every program the build makes, one per line
list-programs:
	@printf '%s\n' $(PROGRAMS)

## test                 build everything, run the whole suite (files in parallel), list the 10 slowest tests
test: all
	@scripts/ci/run-tests.sh tests/*.bats $(CHAPTER_TESTS)

## test-chapterN        build everything and run chapter N's tests (e.g. test-chapter1)
test-chapter%: all
	@$(if $(call chapter_dir,$*),,echo "make: no chapter $* (chapters: $(CHAPTERS))" >&2; exit 2)
	@scripts/ci/run-tests.sh $(wildcard $(call chapter_dir,$*)/*.bats)

## check                EX=N.M: run exercise N.M's check on your code: PASS, or FAIL with a hint
# PASS and FAIL are both an answer, not a build error: make exits 0 for both
# (scripts/exercises.sh check N.M exits 1 on FAIL, for scripts)
check: all
	@scripts/exercises.sh check $(EX); status=$$?; [ $$status -eq 1 ] || exit $$status

## progress             every exercise: ✔ passes, ✘ not passing yet, · not started (RECHECK=1 re-runs changed ones)
progress:
	@scripts/exercises.sh progress $(if $(RECHECK),--recheck)

## verify-exercises     prove every exercise's check: fails as shipped, passes with its solution
verify-exercises: all
	@scripts/exercises.sh verify

## check-fresh          make test on a bare Debian root (SUITE=bookworm|trixie; needs root)
check-fresh:
	@scripts/ci/check-fresh.sh

## soak                 make test N times (N=10), LOAD=1 with two CPU hogs beside it
soak: all
	@scripts/ci/soak-tests.sh $(or $(N),10) $(if $(LOAD),--load)

SAN_FLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer
ALL_C_FILES := $(wildcard common/*.c) $(C_SOURCES)
LINT_FLAGS   = -std=c11 $(CPPFLAGS) $(shell pkg-config --cflags libevent hiredis)
# The shell and Python around the chapters: scripts, test helpers, tests and checks.
SHELL_FILES  := $(wildcard scripts/*.sh scripts/*/*.sh tests/*.bash exercises/*.bash $(addsuffix /*.sh,$(CHAPTERS)) $(addsuffix /*.bash,$(CHAPTERS)))
BATS_FILES   := $(wildcard tests/*.bats $(addsuffix /*.bats,$(CHAPTERS)) exercises/*/*.bats tests/fixtures/*/*.bats)
PY_FILES     := $(wildcard scripts/*.py scripts/*/*.py scripts/*/*/*.py $(addsuffix /*.py,$(CHAPTERS)) exercises/*/*.py)

# The suite's files that run no program of ours (they test the docs, the tools
# around the chapters, or run programs under strace/tmux): asan-test skips them.
NOT_PROGRAM_TESTS := tests/deps.bats $(wildcard tests/docs_*.bats) tests/zh-sync.bats tests/casts.bats $(wildcard tests/classroom*.bats) \
	tests/strace.bats tests/exercises.bats
## asan-test            build with AddressSanitizer + UBSan in build/asan, run the suite's program tests on it
asan-test:
	@$(MAKE) --no-print-directory O=build/asan/ CFLAGS="$(CFLAGS) $(SAN_FLAGS)" \
		LDFLAGS="$(LDFLAGS) $(SAN_FLAGS)" all
	@ASAN_OPTIONS=halt_on_error=1:exitcode=66:detect_leaks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=66 \
	WORKBOOK_BIN=$(CURDIR)/build/asan WORKBOOK_SANITIZED=1 \
		scripts/ci/run-tests.sh $(filter-out $(NOT_PROGRAM_TESTS),$(wildcard tests/*.bats)) $(CHAPTER_TESTS)

## memcheck             each program's main scenario under valgrind: no errors, no leaks
memcheck: all
	@scripts/deps.sh memcheck
	@scripts/ci/memcheck.sh

## lint                 clang-format, cppcheck and clang-tidy on every C file; shellcheck and pyflakes on the shell and Python
lint:
	@scripts/deps.sh lint
	clang-format --dry-run -Werror $(ALL_C_FILES) $(wildcard common/*.h tools/*.h $(addsuffix /*.h,$(CHAPTERS)))
	cppcheck --enable=warning,performance,portability --error-exitcode=1 -q --std=c11 \
		-Icommon -D_DEFAULT_SOURCE $(ALL_C_FILES)
	clang-tidy -quiet $(ALL_C_FILES) -- $(LINT_FLAGS)
	@echo "shellcheck: $(words $(SHELL_FILES)) shell files, $(words $(BATS_FILES)) bats files"
	@shellcheck -x -S warning $(SHELL_FILES)
	@shellcheck -S warning -s bats $(BATS_FILES)
	@echo "pyflakes3: $(words $(PY_FILES)) Python files"
	@pyflakes3 $(PY_FILES)
	@echo "lint: clean"

## bench-c10k           10,000 idle connections to the listener and the relay: RSS per connection
bench-c10k: $(O)01_listener/listener $(O)06_redis_relay/relay
	@scripts/bench/bench-c10k.sh

## clean                remove what the build made
clean:
	rm -rf build
