# 01_listener/chapter.mk — chapter 1's entry in the Makefile: how `make chapter1` runs it.
# PORT=N (make chapter1 PORT=9000) picks another port; the default belongs to
# this target only, so it does not leak into other chapters.

## chapter1             build chapter 1 and run the listener on 127.0.0.1:8080 (PORT=N for another)
chapter1: PORT ?= 8080
chapter1: $(O)01_listener/listener $(O)01_listener/ev_listenfd
	@echo "try: telnet 127.0.0.1 $(PORT)   (Ctrl-C here stops the server)"
	@scripts/demo/run-demo.sh $(O)01_listener/listener --port $(PORT)

# The notes' ev_listenfd.c keeps its callbacks' signatures; like most callbacks
# they ignore some of their arguments.
$(O)01_listener/ev_listenfd.o: EXTRA_CFLAGS := -Wno-unused-parameter

## demo1                classroom mode: chapter 1 as a short lesson in tmux (docs/teaching.md; DEMO_AUTO=1 plays it)
demo1: export DEMO_TRACE ?= --trace
demo1: $(O)01_listener/listener
	@scripts/classroom/demo.sh 1

## strace-chapter1      the listener under strace with an nc client: its system calls as register/detect/dispatch
strace-chapter1: $(O)01_listener/listener
	@scripts/classroom/strace-lesson.sh 1
## bench-backends       the listener on epoll, poll and select: 10,000 idle connections + one echo client; select past 1024 fds
bench-backends: $(O)01_listener/listener
	@scripts/bench/bench-backends.sh
