# 08_http_gateway/chapter.mk — chapter 8's entry in the Makefile.
# PORT=N picks the gateway's port; REDIS_PORT=N points it at the Redis on port
# N instead of the private one of `make redis` (started here if needed, and
# left running). Its pid goes to build/gateway.pid for the page's stats line.

# Replies are framed with hiredis's redisReader.
08_http_gateway_PKGS := hiredis

## chapter8             build chapter 8, start the demos' Redis (make redis), run the HTTP gateway on 127.0.0.1:8088 (PORT=, REDIS_PORT=)
chapter8: PORT ?= 8088
chapter8: $(O)08_http_gateway/http_gateway $(O)08_http_gateway/http_get
	@port=$$(scripts/demo/demo-redis.sh port $(REDIS_PORT)) || exit 1; \
	mkdir -p build; \
	echo "try: curl http://127.0.0.1:$(PORT)/SET/workbook:hello/world; stats: kill -USR1 \$$(cat build/gateway.pid)   (Ctrl-C here stops the gateway)"; \
	scripts/demo/run-demo.sh --pidfile build/gateway.pid $(O)08_http_gateway/http_gateway --port $(PORT) --redis-port $$port --docs docs

## bench-chapter8       wrk against the gateway and webdis (GET, SET; 1, 50, 1000 connections), static files against nginx
bench-chapter8: $(O)08_http_gateway/http_gateway
	@scripts/deps.sh bench
	@08_http_gateway/bench.sh $(BENCH_ARGS)

## demo8                classroom mode: chapter 8 as a short lesson in tmux (docs/teaching.md; DEMO_AUTO=1 plays it)
demo8: export DEMO_TRACE ?= --trace
demo8: $(O)08_http_gateway/http_gateway $(O)08_http_gateway/http_get
	@scripts/classroom/demo.sh 8
