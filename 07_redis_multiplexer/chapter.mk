# 07_redis_multiplexer/chapter.mk — chapter 7's entry in the Makefile.

# Replies are framed with hiredis's redisReader.
07_redis_multiplexer_PKGS := hiredis

## chapter7             build chapter 7 and run the multiplexer on 127.0.0.1:6381 (starts Redis if needed)
chapter7: $(O)07_redis_multiplexer/mux
	@echo "try: redis-cli -p $(or $(PORT),6381) ping   (Ctrl-C here stops the multiplexer)"
	@scripts/with-redis.sh 6379 $(O)07_redis_multiplexer/mux --port $(or $(PORT),6381)

## bench-chapter7       redis-benchmark against Redis, twemproxy and the multiplexer, side by side
bench-chapter7: $(O)07_redis_multiplexer/mux
	@scripts/deps.sh bench
	@scripts/bench-chapter7.sh
