/*
 * 09_tls/terminator.h — what the terminator's two files share: the server as
 * a whole (struct terminator, in tls_terminator.c) and one TLS client with
 * its own plaintext connection to Redis (struct tls_pair, in tls_pair.c).
 */
#ifndef TERMINATOR_H
#define TERMINATOR_H

#include <netinet/in.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "common.h"
#include "server.h"
#include "trace.h"

struct options {
    struct sockaddr_in listen_addr, redis_addr;
    const char *cert, *key;
    long handshake_timeout_ms, high;
    /* --trace, --backend */
    struct server_config server;
};

LIST_HEAD(pair_list, tls_pair);

struct terminator {
    struct server srv; /* base, listener, signals: common/server.h */
    SSL_CTX *ctx;
    const struct options *opt;
    struct pair_list pairs;
    long clients_now, clients_total, handshakes_failed, upstream_errors;
};

/* A freshly accepted TCP connection: wrap it in TLS and wait for the
 * handshake. Takes ownership of fd in every case. */
void pair_start(struct terminator *t, evutil_socket_t fd, const struct sockaddr *sa);

/* End one pair now, both sides (shutdown). */
void pair_free(struct tls_pair *p);

#endif
