# 07_redis_multiplexer/chapter.mk — chapter 7's entry in the Makefile.
# PORT=N picks the multiplexer's port; REDIS_PORT=N points it at the Redis on
# port N instead of the private one of `make redis` (started here if needed,
# and left running). Its pid goes to build/mux.pid for the page's stats line.

# Replies are framed by the chapter's own reply.c: no hiredis here (the
# fuzz harness tests/fuzz/reply_framer.c compares it with hiredis's reader).

## chapter7             build chapter 7, start the demos' Redis (make redis), run the multiplexer on 127.0.0.1:6381 (PORT=, REDIS_PORT=)
chapter7: PORT ?= 6381
chapter7: $(O)07_redis_multiplexer/mux
	@port=$$(scripts/demo/demo-redis.sh port $(REDIS_PORT)) || exit 1; \
	mkdir -p build; \
	echo "try: redis-cli -p $(PORT) ping; stats: kill -USR1 \$$(cat build/mux.pid)   (Ctrl-C here stops the multiplexer)"; \
	scripts/demo/run-demo.sh --pidfile build/mux.pid $(O)07_redis_multiplexer/mux --port $(PORT) --redis-port $$port

## bench-chapter7       redis-benchmark against Redis, twemproxy and the multiplexer, side by side
bench-chapter7: $(O)07_redis_multiplexer/mux
	@scripts/deps.sh bench
	@scripts/bench/bench-chapter7.sh

## demo7                classroom mode: chapter 7 as a short lesson in tmux (docs/teaching.md; DEMO_AUTO=1 plays it)
demo7: export DEMO_TRACE ?= --trace
demo7: $(O)07_redis_multiplexer/mux
	@scripts/classroom/demo.sh 7

# pinned.c is chapter 6's relay for one client, and every socket here is read
# with chapter 6's read_some: chapter 6's relay_io.c, linked from its parts.a.
07_redis_multiplexer_LDLIBS := $(O)06_redis_relay/parts.a
$(O)07_redis_multiplexer/mux: $(O)06_redis_relay/parts.a
