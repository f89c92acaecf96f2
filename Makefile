# Makefile — builds every chapter of the libevent workbook and runs its tests.
#
#   make chapter1     build chapter 1 and run its demo     make test      the whole suite
#   make help         every target, one line each
#
# Binaries land next to their source (01_listener/listener). O=DIR/ puts them
# under DIR instead (DIR/01_listener/listener), so a build with other flags can
# live beside the normal one without mixing objects.

CC       ?= cc
CFLAGS   ?= -std=c11 -Wall -Wextra -Werror -O2 -g
CPPFLAGS += -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Icommon
O        ?=
# Where the tests look for binaries (tests/helpers.bash reads it).
export WORKBOOK_BIN := $(if $(O),$(abspath $(O)),$(CURDIR))

# Recursive (=) on purpose: expanded when a recipe runs, after `deps` has
# installed the .pc files.
LIBEVENT_CFLAGS = $(shell pkg-config --cflags libevent)
LIBEVENT_LIBS   = $(shell pkg-config --libs libevent)
HIREDIS_CFLAGS  = $(shell pkg-config --cflags hiredis)
HIREDIS_LIBS    = $(shell pkg-config --libs hiredis)

COMMON_OBJ := $(O)common/common.o
SOURCES    := 01_listener/listener.c \
              02_redis_client/redis_client.c 02_redis_client/redis_async.c \
              03_timers/timers.c 04_signals/signals.c \
              05_bufferevent_watermarks/watermarks.c 06_redis_relay/relay.c
PROGRAMS   := $(addprefix $(O),$(SOURCES:.c=))

.PHONY: all deps help clean test chapter1 chapter2 bench-chapter2 chapter3 bench-chapter3 chapter4 chapter5 plot5 chapter6 bench-chapter6 \
        asan-test memcheck lint bench-c10k
.DEFAULT_GOAL := all

all: $(PROGRAMS)

help:
	@echo "make / make all      build every chapter"
	@echo "make chapter1        build chapter 1 and run the listener on 127.0.0.1:8080"
	@echo "make chapter2        build chapter 2 and PING Redis on 127.0.0.1:6379 (starts one if needed)"
	@echo "make bench-chapter2  chapter 2's pipelined client against redis-benchmark, side by side"
	@echo "make chapter3        build chapter 3 and run its timer demos one after another"
	@echo "make bench-chapter3  1,000,000 timers: min-heap vs common-timeout queue"
	@echo "make chapter4        build chapter 4 and run the signal-driven server on 127.0.0.1:8084"
	@echo "make chapter5        build chapter 5 and run the read-watermark demo on 127.0.0.1:8085"
	@echo "make plot5           relay a fast producer to a slow consumer with and without"
	@echo "                     backpressure; draw docs/img/05-backpressure.svg (gnuplot)"
	@echo "make chapter6        build chapter 6 and run the Redis relay on 127.0.0.1:6380 (starts Redis if needed)"
	@echo "make bench-chapter6  redis-benchmark against Redis, the relay and twemproxy, side by side"
	@echo "make test            build everything and run the whole test suite"
	@echo "make test-chapterN   build everything and run chapter N's tests (e.g. test-chapter1)"
	@echo "make bench-c10k      10,000 idle connections to the listener and the relay: RSS per connection"
	@echo "make asan-test       build with AddressSanitizer + UBSan in build/asan, run the suite on it"
	@echo "make memcheck        each program's main scenario under valgrind: no errors, no leaks"
	@echo "make lint            clang-format check, cppcheck and clang-tidy on every C file"
	@echo "make deps            install what is missing (Debian/Ubuntu), or say what to install"
	@echo "make clean           remove what the build made"

deps:
	@scripts/deps.sh

$(COMMON_OBJ): common/common.c common/common.h | deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(LIBEVENT_CFLAGS) $(CFLAGS) -c -o $@ $<

# Every chapter is one .c file linked with common.o and libevent; a chapter
# that needs more adds to EXTRA_LIBS for its own binary.
$(PROGRAMS): $(O)%: %.c $(COMMON_OBJ) common/common.h | deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(EXTRA_CFLAGS) $(LIBEVENT_CFLAGS) $(CFLAGS) -o $@ $< $(COMMON_OBJ) \
		$(EXTRA_LIBS) $(LIBEVENT_LIBS) $(LDFLAGS)

# Chapter 2 also speaks RESP through hiredis.
$(O)02_redis_client/redis_client $(O)02_redis_client/redis_async: EXTRA_CFLAGS = $(HIREDIS_CFLAGS)
$(O)02_redis_client/redis_client $(O)02_redis_client/redis_async: EXTRA_LIBS = $(HIREDIS_LIBS)

chapter1: $(O)01_listener/listener
	@echo "try: telnet 127.0.0.1 8080   (Ctrl-C here stops the server)"
	@$(O)01_listener/listener --port 8080

chapter2: $(O)02_redis_client/redis_client
	@echo "try: $(O)02_redis_client/redis_client SET greeting hello, then: redis-cli GET greeting"
	@scripts/with-redis.sh 6379 $(O)02_redis_client/redis_client

bench-chapter2: $(O)02_redis_client/redis_client
	@scripts/bench-chapter2.sh

chapter3: $(O)03_timers/timers
	@echo "try: $(O)03_timers/timers --demo idle --idle 3000, then: telnet 127.0.0.1 8083"
	@$(O)03_timers/timers --demo all

bench-chapter3: $(O)03_timers/timers
	@echo "machine: $$(nproc) cores, $$(awk -F': ' '/model name/ { print $$2; exit }' /proc/cpuinfo)"
	@$(O)03_timers/timers --bench 1000000

chapter4: $(O)04_signals/signals
	@echo "try: telnet 127.0.0.1 8084; kill -USR1/-HUP/-INT the server (it prints its pid)"
	@$(O)04_signals/signals --port 8084 --config 04_signals/greeting.conf

chapter5: $(O)05_bufferevent_watermarks/watermarks
	@echo "try: telnet 127.0.0.1 8085 and type: callbacks need >= 10 bytes; reading stops at 64"
	@$(O)05_bufferevent_watermarks/watermarks --demo read --port 8085 --low 10 --high 64 \
		--consume 16 --consume-delay 1000

plot5: $(O)05_bufferevent_watermarks/watermarks
	@scripts/deps.sh plot
	@scripts/plot5.sh

chapter6: $(O)06_redis_relay/relay
	@echo "try: redis-cli -p 6380 ping   (Ctrl-C here stops the relay)"
	@scripts/with-redis.sh 6379 $(O)06_redis_relay/relay --port 6380

bench-chapter6: $(O)06_redis_relay/relay
	@scripts/deps.sh bench
	@scripts/bench-chapter6.sh

bench-c10k: $(O)01_listener/listener $(O)06_redis_relay/relay
	@scripts/bench-c10k.sh

test: all
	@scripts/run-tests.sh tests/*.bats

test-chapter%: all
	@scripts/run-tests.sh tests/0$*_*.bats

SAN_FLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer
ALL_C_FILES := common/common.c $(SOURCES)
LINT_FLAGS   = -std=c11 $(CPPFLAGS) $(LIBEVENT_CFLAGS) $(HIREDIS_CFLAGS)

asan-test:
	@$(MAKE) --no-print-directory O=build/asan/ CFLAGS="$(CFLAGS) $(SAN_FLAGS)" \
		LDFLAGS="$(LDFLAGS) $(SAN_FLAGS)" all
	@ASAN_OPTIONS=halt_on_error=1:exitcode=66:detect_leaks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=66 \
	WORKBOOK_BIN=$(CURDIR)/build/asan WORKBOOK_SANITIZED=1 scripts/run-tests.sh tests/*.bats

memcheck: all
	@scripts/deps.sh memcheck
	@scripts/memcheck.sh

lint:
	@scripts/deps.sh lint
	clang-format --dry-run -Werror $(ALL_C_FILES) common/common.h
	cppcheck --enable=warning,performance,portability --error-exitcode=1 -q --std=c11 \
		-Icommon -D_DEFAULT_SOURCE $(ALL_C_FILES)
	clang-tidy -quiet $(ALL_C_FILES) -- $(LINT_FLAGS)
	@echo "lint: clean"

clean:
	rm -f $(PROGRAMS) $(COMMON_OBJ)
	rm -rf build
