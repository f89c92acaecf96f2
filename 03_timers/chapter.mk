# 03_timers/chapter.mk — chapter 3's entry in the Makefile.

## chapter3             build chapter 3 and run its timer demos one after another
chapter3: $(O)03_timers/timers
	@echo "try: $(O)03_timers/timers --demo idle --idle 3000, then: telnet 127.0.0.1 8083"
	@$(O)03_timers/timers --demo all

## bench-chapter3       1,000,000 timers: min-heap vs common-timeout queue
bench-chapter3: $(O)03_timers/timers
	@echo "machine: $$(nproc) cores, $$(awk -F': ' '/model name/ { print $$2; exit }' /proc/cpuinfo)"
	@$(O)03_timers/timers --bench 1000000
