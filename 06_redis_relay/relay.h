/*
 * 06_redis_relay/relay.h — what the relay's two files share: the relay as a
 * whole (struct relay, in relay.c) and one client with its own connection to
 * Redis (struct pair, in pair.c).
 */
#ifndef RELAY_H
#define RELAY_H

#include <netinet/in.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "server.h"

struct options {
    struct sockaddr_in listen_addr, redis_addr;
    long high, max_clients;
    struct server_config server; /* --trace, --backend, --drain-ms, --stats-interval */
};

LIST_HEAD(pair_list, pair);

struct relay {
    struct server srv; /* base, listener, signals, drain: common/server.h */
    const struct options *opt;
    struct evbuffer *scratch; /* where every read lands before it is forwarded */
    struct pair_list pairs;
    long clients_now, clients_total, rejected, upstream_errors;
    unsigned long long bytes_to_redis, bytes_to_clients;
};

/* A freshly accepted client: wrap it and connect to Redis for it. With
 * `refuse` set, tell it Redis's own "max clients" line instead, then close.
 * Takes ownership of fd in every case. */
void pair_start(struct relay *r, evutil_socket_t fd, const struct sockaddr *sa, int refuse);

/* End one pair now, both sides (shutdown: the drain time is up). */
void pair_free(struct pair *p);

#endif
