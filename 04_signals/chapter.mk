# 04_signals/chapter.mk — chapter 4's entry in the Makefile. Its programs:
# signals (evsignal_new) and signals_raw (a self-pipe by hand), sharing the
# server in signal_server.c and config.c.
# PORT=N (make chapter4 PORT=9000) picks another port. The server reads a copy
# of greeting.conf in build/ (made if missing), so the page's reload step edits
# the copy, never the tracked file.

CH4_CONFIG := build/chapter4/greeting.conf

$(CH4_CONFIG): | 04_signals/greeting.conf
	@mkdir -p $(dir $@)
	cp 04_signals/greeting.conf $@

## chapter4             build chapter 4 and run the signal-driven server on 127.0.0.1:8084 (PORT=N for another)
chapter4: PORT ?= 8084
chapter4: $(O)04_signals/signals $(O)04_signals/signals_raw $(CH4_CONFIG)
	@echo "try: telnet 127.0.0.1 $(PORT); kill -USR1/-HUP/-INT the server (it prints its pid); config: $(CH4_CONFIG)"
	@scripts/demo/run-demo.sh $(O)04_signals/signals --port $(PORT) --config $(CH4_CONFIG)

## demo4                classroom mode: chapter 4 as a short lesson in tmux (docs/teaching.md; DEMO_AUTO=1 plays it)
demo4: export DEMO_TRACE ?= --trace
demo4: $(O)04_signals/signals
	@scripts/classroom/demo.sh 4
