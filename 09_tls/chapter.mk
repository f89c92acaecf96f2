# 09_tls/chapter.mk — chapter 9's entry in the Makefile: TLS as a bufferevent
# layer. `make certs` makes the private CA and certificates (build/certs/);
# `make chapter9` starts a private TLS Redis and the terminator in front of it.

# OpenSSL through libevent's bufferevent_openssl; hiredis for the client's replies.
09_tls_PKGS := hiredis libevent_openssl openssl
# tls_client prints replies with chapter 2's resp.c (its folder's parts.a).
09_tls_LDLIBS := $(O)02_redis_client/parts.a
$(O)09_tls/tls_client: $(O)02_redis_client/parts.a
$(O)09_tls/tls_client.o: EXTRA_CFLAGS = -I02_redis_client

CERTS_DIR ?= build/certs

## certs                a private CA and chapter 9's certificates in build/certs/ (good, wrong name, expired, client)
certs:
	@09_tls/certs.sh $(CERTS_DIR)
