# 05_bufferevent_watermarks/chapter.mk — chapter 5's entry in the Makefile. Its
# programs: read_watermarks, write_watermark, backpressure_relay (their server
# skeleton is common/server.h's).
# PORT=N (make chapter5 PORT=9000) picks another port.

## chapter5             build chapter 5 and run the read-watermark demo on 127.0.0.1:8085 (PORT=N for another)
chapter5: PORT ?= 8085
chapter5: $(O)05_bufferevent_watermarks/read_watermarks
	@echo "try: telnet 127.0.0.1 $(PORT) and type: callbacks need >= 10 bytes; reading stops at 64"
	@scripts/demo/run-demo.sh $(O)05_bufferevent_watermarks/read_watermarks --port $(PORT) \
		--low 10 --high 64 --consume 16 --consume-delay 1000

## plot5                backpressure on and off, drawn into build/05-backpressure.svg (UPDATE=1: into docs/img/)
plot5: $(O)05_bufferevent_watermarks/backpressure_relay
	@scripts/deps.sh plot
	@scripts/bench/plot5.sh $(if $(UPDATE),docs/img/05-backpressure.svg,build/05-backpressure.svg)

## demo5                classroom mode: chapter 5 as a short lesson in tmux (docs/teaching.md; DEMO_AUTO=1 plays it)
demo5: export DEMO_TRACE ?= --trace
demo5: $(O)05_bufferevent_watermarks/backpressure_relay
	@scripts/classroom/demo.sh 5
