# 03_timers/chapter.mk — chapter 3's entry in the Makefile. Its programs:
# timers (the timer demos), idle_server, timer_bench.
# PORT=N (make chapter3 PORT=9000) names the idle server's port in the hint.

## chapter3             build chapter 3 and run its timer demos one after another
chapter3: PORT ?= 8083
chapter3: $(O)03_timers/timers $(O)03_timers/idle_server
	@echo "try: $(O)03_timers/idle_server --idle 3000 --port $(PORT), then: telnet 127.0.0.1 $(PORT)"
	@scripts/demo/run-demo.sh $(O)03_timers/timers --demo all

## bench-chapter3       1,000,000 timers: min-heap vs common-timeout queue
bench-chapter3: $(O)03_timers/timer_bench
	@echo "machine: $$(nproc) cores, $$(awk -F': ' '/model name/ { print $$2; exit }' /proc/cpuinfo)"
	@$(O)03_timers/timer_bench 1000000

## demo3                classroom mode: chapter 3 as a short lesson in tmux (docs/teaching.md; DEMO_AUTO=1 plays it)
demo3: export DEMO_TRACE ?= --trace
demo3: $(O)03_timers/timers $(O)03_timers/idle_server
	@scripts/classroom/demo.sh 3
