# 06_redis_relay/chapter.mk — chapter 6's entry in the Makefile.

## chapter6             build chapter 6 and run the Redis relay on 127.0.0.1:6380 (starts Redis if needed)
chapter6: $(O)06_redis_relay/relay
	@echo "try: redis-cli -p 6380 ping   (Ctrl-C here stops the relay)"
	@scripts/with-redis.sh 6379 $(O)06_redis_relay/relay --port 6380

## bench-chapter6       redis-benchmark against Redis, the relay and twemproxy, side by side
bench-chapter6: $(O)06_redis_relay/relay
	@scripts/deps.sh bench
	@scripts/bench-chapter6.sh
