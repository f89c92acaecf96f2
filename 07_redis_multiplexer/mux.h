/*
 * 07_redis_multiplexer/mux.h — what the multiplexer's parts share: the
 * program's state (struct mux), one client (struct client), and the calls
 * each part offers the others. Read it first: it is the map of the chapter.
 *
 *   mux.c           main, options, stats, what the drain does (common/server.h wires it)
 *   request.c       framing requests: RESP arrays and inline lines, with limits
 *   client.c        one client on a shared connection: parse, send, take replies
 *   client_close.c  a client's end: finish, farewell, flush, linger, free
 *   upstream.c      the shared connections to Redis and their FIFO of pending replies
 *   reply.c         framing replies: every RESP2 and RESP3 reply, any depth, bytes unchanged
 *   pinned.c        a client that needs its own connection: chapter 6's byte relay
 *   fastpath.c      malloc keeps the memory it freed (a measured note)
 *   ../06_redis_relay/relay_io.c  chapter 6's read_some, forward, set_nodelay: linked here
 */
#ifndef MUX_H
#define MUX_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "../06_redis_relay/relay_io.h" /* chapter 6: read_some, forward, set_nodelay */
#include "common.h"
#include "request.h"
#include "server.h"
#include "trace.h"

struct options {
    struct sockaddr_in listen_addr, redis_addr;
    long upstreams;              /* shared connections to Redis */
    long client_output_limit;    /* bytes of unread replies before a client is cut off */
    long max_request;            /* bytes in one request before it is refused */
    struct server_config server; /* --trace, --backend, --drain-ms */
};

struct stats {
    long clients_now, clients_total, pinned_now, pinned_total;
    long output_limit_closes, bad_requests;
    unsigned long long requests, replies, upstream_writes, unavailable;
};

struct upstream;
struct client;

TAILQ_HEAD(client_list, client);

/* The whole program. */
struct mux {
    struct server srv; /* base, listener, signals, drain: common/server.h */
    const struct options *opt;
    struct upstream **upstreams; /* opt->upstreams of them */
    long next_upstream;          /* round robin for new clients */
    struct client_list clients;  /* connected clients (not the cut-off ones still owed replies) */
    struct client_list to_flush; /* clients given replies in this upstream read */
    struct stats stats;
};

/* A client's life, one state at a time. Every transition, and where it is made:
 *
 *   SHARED ──pinned_start──▶ PINNING ──pinned_begin_relay──▶ PINNED
 *     │  (MULTI, SUBSCRIBE…)     (its last shared reply is out)   │ pinned_client_done
 *     │                                                          ▼ (its FIN, or the drain)
 *     │ client_finish: QUIT, EOF, a bad request, the drain,  PINNED_EOF
 *     │ or its own connection failed (from PINNING too)          │ pass_fin_when_flushed
 *     ▼                                                          ▼ (its bytes are out)
 *   FINISHING ──client_send_farewell──┐                      PINNED_FIN
 *   (the replies it is owed,          │ (the last one is out)    │
 *    then a farewell)                 ▼                          │ Redis closed its own
 *                                  CLOSING ◀─────────────────────┘ connection (any PINNED*)
 *     SHARED, FINISHING ──▶ CLOSING   client_reply_failed: Redis died mid-reply
 *   CLOSING ──on_client_event──▶ CLOSING_EOF   the client closed while we flush
 *   CLOSING ──finish_close──▶ LINGERING        our last byte is out: FIN sent
 *   CLOSING_EOF ──finish_close──▶ (freed)      nothing to wait for
 *   LINGERING ──its EOF, or on_linger──▶ (freed)
 *   any state ──client_drop──▶ GONE, or freed at once if it is owed nothing:
 *             a reset, a failed write, --client-output-limit, the end of the program
 *   GONE ──client_reply_done──▶ (freed)        the last reply it was owed passed by
 *
 * Every closing step is in client_close.c. Three facts change beside the
 * state, on their own, and are not steps of its life (struct client lists
 * them apart): paused (backpressure: its upstream is full, so it is not read
 * until there is room; only while SHARED), flush_listed (it has replies staged
 * in this upstream read) and pinned_connected (its own connection's connect
 * has completed; PINNING, PINNED* — Redis's side moves at its own pace).
 */
enum client_state {
    CLIENT_SHARED,      /* requests framed and sent over its shared upstream */
    CLIENT_FINISHING,   /* no more requests: owed replies, then c->farewell, then CLOSING */
    CLIENT_PINNING,     /* asked for its own connection; not read until earlier replies are out */
    CLIENT_PINNED,      /* its own connection to Redis: bytes relayed unchanged */
    CLIENT_PINNED_EOF,  /* pinned, and it half-closed: its FIN goes on once its bytes are out */
    CLIENT_PINNED_FIN,  /* pinned, its FIN passed on to Redis: Redis's replies still relayed */
    CLIENT_CLOSING,     /* flushing our last bytes; what it sends is read and dropped */
    CLIENT_CLOSING_EOF, /* flushing, and it has closed its side already */
    CLIENT_LINGERING,   /* our FIN is sent: waiting (LINGER_MS at most) for its EOF */
    CLIENT_GONE         /* connection closed; the struct waits for the replies still owed */
};

/* One client. Its struct outlives its connection (CLIENT_GONE) while replies
 * are still owed to it on a shared upstream (pending > 0): those replies are
 * then dropped, and the last one frees the struct (client_reply_done). */
struct client {
    struct mux *mux;
    enum client_state state;
    struct bufferevent *bev;    /* the connection; NULL once GONE */
    struct event *readable;     /* while shared: requests read by our own read (read_some) */
    size_t last_read;           /* read_some's guess of how much the next read brings */
    struct upstream *up;        /* the shared connection its requests go to */
    struct bufferevent *pinned; /* its own connection, once pinning started */
    struct request req;         /* framing state of the request being read */
    struct evbuffer *staged;    /* replies taken in this upstream read, not yet written */
    long pending;               /* requests on the shared upstream not answered yet */
    char farewell[160];         /* sent once pending reaches 0, then close */
    struct event *linger_timer; /* made once LINGERING (client_close.c) */
    char peer[ADDR_STRLEN];
    /* Not its life, but beside it (the comment above enum client_state): */
    int paused;                      /* backpressure: in its upstream's paused list, not read */
    int flush_listed;                /* in mux->to_flush: replies staged in this upstream read */
    int pinned_connected;            /* its own connection's connect has completed */
    TAILQ_ENTRY(client) link;        /* in mux->clients */
    TAILQ_ENTRY(client) paused_link; /* in its upstream's paused list */
    TAILQ_ENTRY(client) flush_link;  /* in mux->to_flush */
};

/* client.c */
void client_accept(struct mux *m, evutil_socket_t fd, struct sockaddr *sa);
void client_process_input(struct client *c);
void client_take_reply(struct client *c, struct evbuffer *src, size_t n);
void client_reply_failed(struct client *c, int cut);
int client_flush(struct client *c);
void client_flush_all(struct mux *m);
void client_reply_done(struct client *c);
void client_read_requests(struct client *c, int on);

/* client_close.c */
void client_finish(struct client *c, const char *farewell);
void client_send_farewell(struct client *c);
void client_close_after_flush(struct client *c);
void client_drop(struct client *c);
void client_stop(struct client *c);
int client_is_closing(const struct client *c);
void client_set_callbacks(struct client *c);

/* upstream.c */
struct upstream *upstream_new(struct mux *m, int index);
void upstream_free(struct upstream *up);
int upstream_is_down(const struct upstream *up);
int upstream_is_full(const struct upstream *up);
int upstream_send(struct upstream *up, struct client *c, struct evbuffer *src, size_t n);
void upstream_pause_client(struct upstream *up, struct client *c);
void upstream_unpause_client(struct upstream *up, struct client *c);
size_t upstream_in_flight(const struct upstream *up);
int upstream_is_connected(const struct upstream *up);

/* pinned.c */
void pinned_start(struct client *c);
void pinned_begin_relay(struct client *c);
void pinned_release(struct client *c);
void pinned_client_done(struct client *c);

/* fastpath.c */
void keep_freed_memory(void);

#endif
