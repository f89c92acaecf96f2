# 04_signals/chapter.mk — chapter 4's entry in the Makefile. Its programs:
# signals (evsignal_new) and signals_raw (a self-pipe by hand), sharing the
# server in signal_server.c and config.c.

## chapter4             build chapter 4 and run the signal-driven server on 127.0.0.1:8084
chapter4: $(O)04_signals/signals $(O)04_signals/signals_raw
	@echo "try: telnet 127.0.0.1 8084; kill -USR1/-HUP/-INT the server (it prints its pid)"
	@$(O)04_signals/signals --port 8084 --config 04_signals/greeting.conf
