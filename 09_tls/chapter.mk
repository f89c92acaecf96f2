# 09_tls/chapter.mk — chapter 9's entry in the Makefile: TLS as a bufferevent
# layer. `make certs` makes the private CA and certificates (build/certs/);
# `make chapter9` starts a private TLS Redis and the terminator in front of it.

# OpenSSL through libevent's bufferevent_openssl; hiredis for the client's replies.
09_tls_PKGS := hiredis libevent_openssl openssl
# tls_client prints replies with chapter 2's resp.c (its folder's parts.a).
09_tls_LDLIBS := $(O)02_redis_client/parts.a
$(O)09_tls/tls_client: $(O)02_redis_client/parts.a

CERTS_DIR ?= build/certs

## certs                a private CA and chapter 9's certificates in build/certs/ (good, wrong name, expired, client)
certs:
	@09_tls/certs.sh $(CERTS_DIR)

## tls-redis-stop       stop chapter 9's private TLS Redis (started by make chapter9)
tls-redis-stop:
	@09_tls/tls-redis.sh stop

## chapter9             make certs, start a private TLS Redis, run the TLS terminator in front of it on 127.0.0.1:6391 (PORT=)
chapter9: PORT ?= 6391
chapter9: $(O)09_tls/tls_terminator $(O)09_tls/tls_client
	@ports=$$(CERTS_DIR=$(CERTS_DIR) 09_tls/tls-redis.sh start) || exit 1; set -- $$ports; \
	echo "try: redis-cli --tls --cacert $(CERTS_DIR)/ca.crt -p $(PORT) ping"; \
	echo "     $(O)09_tls/tls_client --port $$2 --cacert $(CERTS_DIR)/ca.crt ping   (Redis's own TLS port; Ctrl-C here stops the terminator)"; \
	scripts/demo/run-demo.sh --pidfile build/tls_terminator.pid $(O)09_tls/tls_terminator --port $(PORT) \
		--redis-port $$1 --cert $(CERTS_DIR)/server.crt --key $(CERTS_DIR)/server.key

## bench-chapter9       redis-benchmark --tls: through tls_terminator, through stunnel4, straight to Redis's TLS port
bench-chapter9: $(O)09_tls/tls_terminator
	@scripts/deps.sh bench
	@09_tls/bench-chapter9.sh

## demo9                classroom mode: chapter 9 as a short lesson in tmux (docs/teaching.md; DEMO_AUTO=1 plays it)
demo9: export DEMO_TRACE ?= --trace
demo9: $(O)09_tls/tls_terminator $(O)09_tls/tls_client
	@scripts/classroom/demo.sh 9
