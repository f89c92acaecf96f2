# 11_threads/chapter.mk — chapter 11's entry in the Makefile: one loop per
# thread (threaded_echo, reuseport_echo) and a worker pool beside the loop
# (offload), with ThreadSanitizer runs of the chapter's tests.

# evthread_use_pthreads lives in libevent_pthreads; -pthread for pthreads itself
11_threads_PKGS := libevent_pthreads
11_threads_LDLIBS := -pthread

## chapter11            build chapter 11 and run threaded_echo --threads 4 on 127.0.0.1:8011 (PORT=N for another)
chapter11: PORT ?= 8011
chapter11: $(O)11_threads/threaded_echo
	@echo "try: nc 127.0.0.1 $(PORT); build/tools/loadgen --port $(PORT) --connections 1000; kill -USR1 PID for the per-thread counts (Ctrl-C here stops it)"
	@scripts/demo/run-demo.sh $(O)11_threads/threaded_echo --threads 4 --port $(PORT)

# ThreadSanitizer: the chapter's programs (and loadgen, which its tests
# drive) built with clang -fsanitize=thread under build/tsan/, then the
# chapter's tests run against them. A race makes the program exit 66, and
# threads.bats fails a test whose server printed a ThreadSanitizer report.
TSAN_FLAGS := -fsanitize=thread -fno-omit-frame-pointer
TSAN_PROGRAMS = $(filter $(O)11_threads/%,$(PROGRAMS)) $(O)tools/loadgen
.PHONY: tsan-test tsan-programs
## tsan-test            chapter 11's programs built with ThreadSanitizer (build/tsan), its tests run on them
tsan-test:
	@scripts/deps.sh tsan
	@$(MAKE) --no-print-directory O=build/tsan/ CC=clang \
		CFLAGS="-std=c11 -Wall -Wextra -Werror -O1 -g $(TSAN_FLAGS)" \
		LDFLAGS="$(LDFLAGS) $(TSAN_FLAGS)" tsan-programs
	@TSAN_OPTIONS="halt_on_error=1 exitcode=66 $(TSAN_OPTIONS)" \
	WORKBOOK_BIN=$(CURDIR)/build/tsan WORKBOOK_SANITIZED=1 WORKBOOK_TSAN=1 \
		scripts/ci/run-tests.sh $(wildcard 11_threads/*.bats)
tsan-programs: $(TSAN_PROGRAMS)

## bench-chapter11      echo throughput and CPU per request at 1, 2, 4 threads (both designs vs chapter 0), offload's PING latency
bench-chapter11: $(addprefix $(O)11_threads/,threaded_echo reuseport_echo offload) \
		$(O)00_why_event_loop/echo_libevent $(O)tools/loadgen
	@11_threads/bench.sh

## demo11               classroom mode: chapter 11 as a short lesson in tmux (docs/teaching.md; DEMO_AUTO=1 plays it)
demo11: export DEMO_TRACE ?= --trace
demo11: $(addprefix $(O)11_threads/,threaded_echo offload) $(O)tools/loadgen
	@scripts/classroom/demo.sh 11
