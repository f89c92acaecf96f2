# 02_redis_client/chapter.mk — chapter 2's entry in the Makefile.

# Chapter 2 speaks RESP through hiredis.
02_redis_client_PKGS := hiredis

## chapter2             build chapter 2 and PING Redis on 127.0.0.1:6379 (starts one if needed)
chapter2: $(O)02_redis_client/redis_client $(O)02_redis_client/redis_async
	@echo "try: $(O)02_redis_client/redis_client SET greeting hello, then: redis-cli GET greeting"
	@scripts/with-redis.sh 6379 $(O)02_redis_client/redis_client

## bench-chapter2       chapter 2's pipelined client against redis-benchmark, side by side
bench-chapter2: $(O)02_redis_client/redis_client
	@scripts/bench-chapter2.sh
