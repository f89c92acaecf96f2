# 02_redis_client/chapter.mk — chapter 2's entry in the Makefile.
# The demos talk to the private Redis of `make redis` (started here if needed,
# and left running for the rest of the page); REDIS_PORT=N points them at the
# Redis on port N instead.

# Chapter 2 speaks RESP through hiredis.
02_redis_client_PKGS := hiredis

## chapter2             build chapter 2, start the demos' Redis (make redis), PING it the notes' way (REDIS_PORT=N)
chapter2: $(O)02_redis_client/redis_client $(O)02_redis_client/redis_async $(O)02_redis_client/ev_connectfd
	@port=$$(scripts/demo/demo-redis.sh port $(REDIS_PORT)) || exit 1; \
	opt=; [ "$$port" = "$${WORKBOOK_REDIS_DEFAULT_PORT:-6379}" ] || opt=" --port $$port"; \
	echo "== the notes' program, bugs fixed: $(O)02_redis_client/ev_connectfd $$port"; \
	$(O)02_redis_client/ev_connectfd $$port || exit 1; \
	echo "== chapter 2's client: $(O)02_redis_client/redis_client$$opt"; \
	$(O)02_redis_client/redis_client --port $$port || exit 1; \
	echo "try: $(O)02_redis_client/redis_client$$opt SET workbook:greeting hello, then: redis-cli -p $$port GET workbook:greeting"

## bench-chapter2       chapter 2's pipelined client against redis-benchmark, side by side
bench-chapter2: $(O)02_redis_client/redis_client
	@scripts/bench/bench-chapter2.sh

## demo2                classroom mode: chapter 2 as a short lesson in tmux (docs/teaching.md; DEMO_AUTO=1 plays it)
demo2: export DEMO_TRACE ?= --trace
demo2: $(O)02_redis_client/redis_client $(O)02_redis_client/redis_async
	@scripts/classroom/demo.sh 2
