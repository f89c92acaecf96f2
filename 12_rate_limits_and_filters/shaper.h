/*
 * 12_rate_limits_and_filters/shaper.h — what shaper.c (the server) and
 * shares.c (the token buckets) share: the options, one connection, the server.
 *
 * shaper.c wires the server (options, stats) on common/server.h's skeleton.
 * shares.c holds the lesson: a token bucket per connection
 * (ev_token_bucket_cfg_new + bufferevent_set_rate_limit), libevent's group
 * (bufferevent_rate_limit_group_new), and our own equal share (--fair).
 */
#ifndef SHAPER_H
#define SHAPER_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "common.h"
#include "server.h"
#include "trace.h"

struct options {
    struct sockaddr_in listen_addr;
    long rate;       /* --rate: bytes per second per connection (0: none) */
    long burst;      /* --burst: the most one connection's bucket holds */
    long group_rate; /* --group-rate: bytes per second for all together (0: none) */
    long tick_ms;    /* --tick-ms: how often the buckets are refilled */
    long min_share;  /* --min-share: libevent group's smallest grant (-1: its default) */
    int fair;        /* --fair: split --group-rate ourselves, in equal shares */
    struct server_config server; /* --trace, --backend (no drain, no stats timer) */
};

struct conn {
    LIST_ENTRY(conn) next;
    struct shaper *s;
    struct bufferevent *bev;
    long id;           /* 1, 2, ... in order of arrival */
    uint64_t added;    /* bytes we put in the output buffer */
    uint64_t received; /* bytes the client sent us (read and thrown away) */
    double started_ms; /* elapsed_ms() when it connected */
    char peer[ADDR_STRLEN];
};

struct shaper {
    const struct options *opt;
    struct server srv; /* base, listener, signals: common/server.h */
    LIST_HEAD(conn_list, conn) conns;
    long n_conns, conns_total;
    /* shares.c's buckets */
    struct ev_token_bucket_cfg *conn_cfg;  /* --rate/--burst, one per connection */
    struct ev_token_bucket_cfg *group_cfg; /* --group-rate, for libevent's group */
    struct bufferevent_rate_limit_group *group;
    struct ev_token_bucket_cfg *fair_cfg; /* --fair: group rate / connections */
};

/* shares.c: check the options against what libevent accepts and make the
 * buckets; a value libevent would refuse (or crash on) exits 2 with why. */
void shares_create(struct shaper *s);
/* libevent's group for --group-rate (it needs the base); 0, or -1 said why. */
int shares_open_group(struct shaper *s);
/* A new connection takes its bucket and joins the group; 0 or -1. */
int shares_join(struct shaper *s, struct conn *c);
/* C is leaving (before bufferevent_free); --fair re-splits among the rest. */
void shares_leave(struct shaper *s, struct conn *c);
/* Free the buckets and the group (after every connection is gone). */
void shares_free(struct shaper *s);
/* One line describing the buckets in force, for the start and for stats. */
void shares_describe(const struct shaper *s, const char *label);

#endif
