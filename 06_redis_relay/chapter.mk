# 06_redis_relay/chapter.mk — chapter 6's entry in the Makefile.
# PORT=N picks the relay's port; REDIS_PORT=N points it at the Redis on port N
# instead of the private one of `make redis` (started here if needed, and left
# running). The relay's pid goes to build/relay.pid for the page's stats line.

## chapter6             build chapter 6, start the demos' Redis (make redis), run the relay on 127.0.0.1:6380 (PORT=, REDIS_PORT=)
chapter6: PORT ?= 6380
chapter6: $(O)06_redis_relay/relay
	@port=$$(scripts/demo/demo-redis.sh port $(REDIS_PORT)) || exit 1; \
	mkdir -p build; \
	echo "try: redis-cli -p $(PORT) ping; stats: kill -USR1 \$$(cat build/relay.pid)   (Ctrl-C here stops the relay)"; \
	scripts/demo/run-demo.sh --pidfile build/relay.pid $(O)06_redis_relay/relay --port $(PORT) --redis-port $$port

## bench-chapter6       redis-benchmark against Redis, the relay and twemproxy, side by side
bench-chapter6: $(O)06_redis_relay/relay
	@scripts/deps.sh bench
	@scripts/bench/bench-chapter6.sh

## demo6                classroom mode: chapter 6 as a short lesson in tmux (docs/teaching.md; DEMO_AUTO=1 plays it)
demo6: export DEMO_TRACE ?= --trace
demo6: $(O)06_redis_relay/relay
	@scripts/classroom/demo.sh 6

## strace-chapter6      the relay under strace, redis-cli through it to a private Redis: register/detect/dispatch
strace-chapter6: $(O)06_redis_relay/relay
	@scripts/classroom/strace-lesson.sh 6
