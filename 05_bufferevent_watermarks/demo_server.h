/*
 * 05_bufferevent_watermarks/demo_server.h — the server skeleton the three
 * chapter 5 programs share (a part: linked into each of them).
 *
 * One event base, one listener, the EMFILE pause (chapter 1), and SIGINT /
 * SIGTERM stopping the loop (chapter 4). Each program keeps what it teaches —
 * its accept callback and its bufferevent callbacks — in its own file.
 */
#ifndef WATERMARKS_DEMO_SERVER_H
#define WATERMARKS_DEMO_SERVER_H

#include <netinet/in.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "common.h"
#include "trace.h"

struct demo_server {
    struct event_base *base;
    struct evconnlistener *listener;
    struct accept_pause pause;
    struct event *on_sigint, *on_sigterm;
    struct event *on_sigusr2; /* dump what is registered */
    int trace;                /* --trace: dump the events at start too */
    void *app;                /* the program's own state */
};

/* A listener on SIN calling ON_ACCEPT(.., ARG), or NULL after printing
 * "prog: cannot listen for WHAT on ADDR: why". */
struct evconnlistener *demo_listen(struct event_base *base, const struct sockaddr_in *sin,
                                   evconnlistener_cb on_accept, void *arg, const char *what);

/* Base, listener (the EMFILE pause as its error callback) and the signal
 * events; 0, or -1 after saying why (demo_server_close still frees it all).
 * ON_ACCEPT's argument is the demo_server; APP is in its app field. LOOP:
 * --trace turns libevent's debug log on, --backend picks the method. */
int demo_server_open(struct demo_server *s, const struct sockaddr_in *sin,
                     const struct loop_options *loop, evconnlistener_cb on_accept, void *app);
/* "listening on 127.0.0.1:PORT": the line tests and students wait for. */
void demo_server_print_listening(const struct demo_server *s);
/* Free everything demo_server_open made, in reverse order, and the base. */
void demo_server_close(struct demo_server *s);

#endif
