# 12_rate_limits_and_filters/chapter.mk — chapter 12's entry in the Makefile.
# Its programs: shaper (a rate-limited data source: shaper.c + shares.c),
# meter (N connections, their rates, Jain's index) and filter_demo (a
# bufferevent filter numbering lines). PORT=N picks the shaper's port.

## chapter12            build chapter 12 and run the shaper on 127.0.0.1:8092 at 64 KiB/s per connection (PORT=, RATE=)
chapter12: PORT ?= 8092
chapter12: RATE ?= 65536
chapter12: $(O)12_rate_limits_and_filters/shaper $(O)12_rate_limits_and_filters/meter
	@echo "try: nc 127.0.0.1 $(PORT) | pv -r >/dev/null   or   $(O)12_rate_limits_and_filters/meter --port $(PORT) --connections 3 --seconds 3"
	@scripts/demo/run-demo.sh $(O)12_rate_limits_and_filters/shaper --port $(PORT) --rate $(RATE)

## filter12             build chapter 12 and run filter_demo (lines echoed numbered, through a filter) on 127.0.0.1:8093 (PORT=)
filter12: PORT ?= 8093
filter12: $(O)12_rate_limits_and_filters/filter_demo
	@echo "try: nc 127.0.0.1 $(PORT)   and type lines; or: printf 'one\ntwo' | nc -N 127.0.0.1 $(PORT)"
	@scripts/demo/run-demo.sh $(O)12_rate_limits_and_filters/filter_demo --port $(PORT)

## bench-chapter12      shaper accuracy 1 KiB/s…100 MiB/s, libevent's group vs --fair (Jain's index), CPU per GiB, burst after idle (~40 s; SECONDS_PER_RUN=)
bench-chapter12: $(O)12_rate_limits_and_filters/shaper $(O)12_rate_limits_and_filters/meter
	@12_rate_limits_and_filters/bench.sh

## plot12               10 connections in a group, libevent's vs --fair, drawn into build/12-fairness.svg (UPDATE=1: into docs/img/)
plot12: $(O)12_rate_limits_and_filters/shaper $(O)12_rate_limits_and_filters/meter
	@scripts/deps.sh plot
	@12_rate_limits_and_filters/plot.sh $(if $(UPDATE),docs/img/12-fairness.svg,build/12-fairness.svg)

## demo12               classroom mode: chapter 12 as a short lesson in tmux (docs/teaching.md; DEMO_AUTO=1 plays it)
demo12: export DEMO_TRACE ?= --trace
demo12: $(O)12_rate_limits_and_filters/shaper $(O)12_rate_limits_and_filters/meter
	@scripts/classroom/demo.sh 12
