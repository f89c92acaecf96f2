# 00_why_event_loop/chapter.mk — chapter 0's entry in the Makefile: the
# libevent echo server as its demo, and the five-way benchmark.

# Every program the page runs is built here, not only the demo's server: the
# five servers, and the load generator (a tool, not a lesson: tools/loadgen.c).
CH0_PROGRAMS := $(addprefix $(O)00_why_event_loop/,echo_iterative echo_fork echo_threads echo_epoll echo_libevent) \
	$(O)tools/loadgen

## chapter0             build chapter 0 (all five servers and loadgen) and run the libevent echo server on 127.0.0.1:8000 (PORT=N for another)
chapter0: PORT ?= 8000
chapter0: $(CH0_PROGRAMS)
	@echo "try: nc 127.0.0.1 $(PORT)   (type lines; Ctrl-C here stops the server)"
	@scripts/demo/run-demo.sh $(O)00_why_event_loop/echo_libevent --port $(PORT)

## bench-why            the same echo server five ways, 1 to 10,000 clients: table + docs/img/00-why.svg
bench-why: $(CH0_PROGRAMS)
	@scripts/bench/bench-why.sh

## demo0                classroom mode: chapter 0 as a short lesson in tmux (docs/teaching.md; DEMO_AUTO=1 plays it)
demo0: export DEMO_TRACE ?= --trace
demo0: $(O)00_why_event_loop/echo_iterative $(O)00_why_event_loop/echo_libevent $(O)tools/loadgen
	@scripts/classroom/demo.sh 0
