/*
 * common/server.h — the wiring every server from chapter 5 on shares.
 *
 * Chapters 1 and 4 teach this wiring by hand, one libevent call at a time:
 * the event base, the listener with its EMFILE pause, the signal events.
 * From chapter 5 on, a server's .c file is about its own lesson, and it gets
 * the same wiring from here in a few calls, in the order they happen:
 *
 *   struct server srv;
 *   server_open(&srv, &cfg, &hooks, app)   base (--backend), --trace, SIGPIPE
 *                                          ignored, SIGINT/SIGTERM/SIGUSR1/
 *                                          SIGUSR2 events, stats and drain timers
 *   server_listen(&srv, &addr, on_accept, app)
 *                                          a TCP listener with chapter 1's pause
 *   ... the chapter's own setup ...
 *   server_announce(&srv)                  "backend: epoll", "listening on ..."
 *   server_run(&srv)                       the loop, until a signal ends it
 *   ... the chapter's own teardown ...
 *   server_close(&srv)                     everything above, in reverse
 *
 * What the signals do:
 *   SIGUSR1  hooks.stats(app, "stats"): the program's counters
 *   SIGUSR2  what is registered right now (trace_on_sigusr2)
 *   SIGINT, SIGTERM  with cfg.drain_ms > 0: stop accepting, call hooks.drain,
 *            and leave the loop when hooks.clients() reaches 0 (the program
 *            calls server_client_left as each one goes) or the drain time is
 *            up; a second signal leaves at once. With cfg.drain_ms == 0: say
 *            so and leave the loop at once.
 * Every libevent call is checked; a failure prints "prog: cannot ...: why"
 * and the call returns -1, leaving the struct safe for server_close.
 */
#ifndef WORKBOOK_SERVER_H
#define WORKBOOK_SERVER_H

#include <netinet/in.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "common.h"
#include "trace.h"

/* Connections the kernel may queue before we accept them. libevent's default
 * (-1) is 128: a burst of clients beyond that sees dropped SYNs and waits a
 * full second to retry. */
#define SERVER_LISTEN_BACKLOG 4096

/* What the command line chose (every server takes --trace and --backend). */
struct server_config {
    struct loop_options loop; /* --trace, --backend */
    long drain_ms;            /* how long SIGINT/SIGTERM wait for clients; 0: not at all */
    long stats_interval_s;    /* a stats line this often; 0: only on SIGUSR1 */
    int base_flags;           /* event_config_set_flag's flags for the base; usually 0 */
};

/* The program's side; any of them may be NULL. */
struct server_hooks {
    void (*stats)(void *app, const char *label); /* print one stats line */
    long (*clients)(void *app);                  /* connections still open */
    void (*drain)(void *app);                    /* the drain begins: stop taking new work */
};

enum server_signal { SERVER_SIGINT, SERVER_SIGTERM, SERVER_SIGUSR1, SERVER_SIGUSR2, SERVER_NSIG };

struct server {
    struct event_base *base;
    struct evconnlistener *listener; /* NULL until server_listen (and for UDP servers) */
    struct accept_pause pause;
    struct event *signals[SERVER_NSIG];
    struct event *stats_timer;    /* every cfg.stats_interval_s */
    struct event *drain_deadline; /* the drain's end */
    int draining;
    int listener_given_away; /* its new owner frees it (server_listener_given_away) */
    const struct server_config *cfg;
    const struct server_hooks *hooks;
    void *app;
    LIST_ENTRY(server) link; /* among the servers with a listener (server.c) */
};

/* The base, the trace, the signal events and timers. 0, or -1 (message printed). */
int server_open(struct server *s, const struct server_config *cfg, const struct server_hooks *hooks,
                void *app);
/* Listen on ADDR; each accepted socket goes to ON_ACCEPT(…, arg). ON_ACCEPT may
 * be NULL for a listener handed to another owner (evhttp_bind_listener).
 * 0, or -1 with "prog: cannot listen on 127.0.0.1:6380: Address in use". */
int server_listen(struct server *s, const struct sockaddr_in *addr, evconnlistener_cb on_accept,
                  void *arg);
/* A second listener on the server's base (chapter 5's producers): the same
 * checked call and message as server_listen's, but no EMFILE pause; the
 * caller frees it (evconnlistener_free) before server_close. NULL on failure. */
struct evconnlistener *server_bind(struct server *s, const struct sockaddr_in *addr,
                                   evconnlistener_cb on_accept, void *arg);
/* The listener now belongs to an owner that frees it (evhttp_bind_listener:
 * evhttp_free frees it); server_close forgets it instead of freeing it. */
void server_listener_given_away(struct server *s);
/* "backend: NAME", then "listening on ADDR:PORT" when there is a listener. */
void server_announce(const struct server *s);
/* Under --trace, what is registered; then the loop until a signal ends it. */
void server_run(struct server *s);
/* The program closed a connection: ends a drain once hooks.clients() is 0. */
void server_client_left(struct server *s);
/* Free everything server_open and server_listen made (safe on a half-made
 * server), and libevent's own globals. The program frees its things first. */
void server_close(struct server *s);

/* NULL-check for a creation: 1, or 0 after "prog: cannot create WHAT: out of memory". */
int made(const void *thing, const char *what);

#endif
