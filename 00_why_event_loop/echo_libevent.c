/*
 * 00_why_event_loop/echo_libevent.c — design 5 of 5: echo_epoll.c's loop, with
 * libevent doing the chores. evconnlistener accepts; a bufferevent per client
 * reads into an input evbuffer and writes its output as the socket takes it
 * (partial writes, EAGAIN, EPOLLOUT only while output waits); evsignal makes
 * SIGINT and SIGTERM events. Ours: the protocol (echo_lines) and a connection's
 * end. Out of descriptors, and a client that never reads: chapters 1 and 5.
 * Run it: make chapter0, then nc 127.0.0.1 8000; docs/00-why-event-loop.md.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h> /* strerror, inside evutil_socket_error_to_string */
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "common.h"
#include "echo_shared.h"
#include "trace.h"

struct conn {
    struct bufferevent *bev;
    LIST_ENTRY(conn) link;
};

struct server {
    struct event_base *base;
    struct evconnlistener *listener;
    struct event *on_sigint, *on_sigterm;
    LIST_HEAD(conn_list, conn) conns; /* every open connection, freed at shutdown */
    unsigned long served;
};

static void conn_free(struct conn *c)
{
    LIST_REMOVE(c, link);
    bufferevent_free(c->bev); /* BEV_OPT_CLOSE_ON_FREE: closes the socket too */
    free(c);
}

/* Move every complete line from input to output (no copy: evbuffer moves
 * its chunks). With AT_EOF, the unterminated rest goes too. */
/* region: echo_lines */
static void echo_lines(struct bufferevent *bev, int at_eof)
{
    struct evbuffer *input = bufferevent_get_input(bev);
    struct evbuffer *output = bufferevent_get_output(bev);
    while (evbuffer_get_length(input) > 0) {
        struct evbuffer_ptr eol = evbuffer_search_eol(input, NULL, NULL, EVBUFFER_EOL_LF);
        if (eol.pos >= 0)
            evbuffer_remove_buffer(input, output, (size_t)eol.pos + 1);
        else if (at_eof || evbuffer_get_length(input) >= MAX_LINE)
            evbuffer_remove_buffer(input, output, MAX_LINE); /* the tail, or too long */
        else
            return; /* a line still arriving: it waits in input */
    }
}
/* endregion */

static void on_read(struct bufferevent *bev, void *ctx) /* libevent has read() into input */
{
    (void)ctx;
    trace_dispatch(bufferevent_getfd(bev), "read", "on_read");
    echo_lines(bev, 0);
}

static void on_flushed(struct bufferevent *bev, void *ctx) /* after FIN, all owed is sent */
{
    trace_dispatch(bufferevent_getfd(bev), "write", "on_flushed");
    conn_free(ctx);
}

static void on_conn_event(struct bufferevent *bev, short what, void *ctx)
{
    trace_dispatch(bufferevent_getfd(bev), "event", "on_conn_event");
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
        echo_lines(bev, 1); /* the client's FIN: its unterminated tail goes back too */
        if (evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
            bufferevent_setcb(bev, NULL, on_flushed, on_conn_event, ctx);
            return;
        }
    }
    conn_free(ctx); /* EOF with nothing owed, or an error such as a reset */
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *peer,
                      int peerlen, void *ctx)
{
    (void)peer;
    (void)peerlen;
    struct server *server = ctx;
    trace_dispatch(evconnlistener_get_fd(listener), "accept", "on_accept");
    struct conn *c = calloc(1, sizeof *c);
    if (c)
        c->bev = bufferevent_socket_new(server->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!c || !c->bev) {
        warnx_msg("out of memory: dropping a connection");
        evutil_closesocket(fd);
        free(c);
        return;
    }
    LIST_INSERT_HEAD(&server->conns, c, link);
    server->served++;
    bufferevent_setcb(c->bev, on_read, NULL, on_conn_event, c);
    if (bufferevent_enable(c->bev, EV_READ) != 0)
        conn_free(c); /* could not watch it: the client sees the close */
}

static void on_signal(evutil_socket_t sig, short what, void *base)
{
    (void)what;
    trace_dispatch(sig, "signal", "on_signal");
    stop_signal = (int)sig;
    event_base_loopexit(base, NULL);
}

/* Free what main made, in reverse (after a failure, some is missing). */
static int teardown(struct server *s, int status)
{
    for (struct conn *c = LIST_FIRST(&s->conns), *next; c; c = next) {
        next = LIST_NEXT(c, link);
        conn_free(c);
    }
    if (s->on_sigterm)
        event_free(s->on_sigterm);
    if (s->on_sigint)
        event_free(s->on_sigint);
    if (s->listener)
        evconnlistener_free(s->listener);
    event_base_free(s->base);
    libevent_global_shutdown(); /* so valgrind sees only our own leaks */
    return status;
}

int main(int argc, char **argv)
{
    struct sockaddr_in sin;
    struct loop_options loop = {0};
    common_init(argv[0]);
    parse_libevent_server_args(argc, argv, "Echo lines back, one thread, libevent.", &sin, &loop);
    signal(SIGPIPE, SIG_IGN); /* a send() to a vanished peer: an error, not death */
    trace_wire(loop.trace);   /* --trace: register, detect, dispatch lines (chapter 1) */

    struct server s = {.base = open_event_base(loop.backend)}; /* conns: zeroed is empty */
    if (!s.base)
        return EXIT_RUNTIME; /* open_event_base said why */
    s.listener = evconnlistener_new_bind(
        s.base, on_accept, &s, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
        LISTEN_BACKLOG, (struct sockaddr *)&sin, sizeof sin);
    if (!s.listener) {
        warn_cannot_listen(&sin, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        return teardown(&s, EXIT_RUNTIME);
    }
    s.on_sigint = evsignal_new(s.base, SIGINT, on_signal, s.base);
    s.on_sigterm = evsignal_new(s.base, SIGTERM, on_signal, s.base);
    if (!s.on_sigint || !s.on_sigterm || evsignal_add(s.on_sigint, NULL) != 0 ||
        evsignal_add(s.on_sigterm, NULL) != 0) {
        warnx_msg("cannot watch SIGINT/SIGTERM");
        return teardown(&s, EXIT_RUNTIME);
    }
    printf("backend: %s\n", event_base_get_method(s.base));
    print_listening(evconnlistener_get_fd(s.listener));
    if (loop.trace)
        trace_dump_events(s.base); /* what is registered now */

    event_base_dispatch(s.base); /* until on_signal */

    print_stop_signal();
    printf("served %lu connection%s, bye\n", s.served, s.served == 1 ? "" : "s");
    return teardown(&s, EXIT_CLEAN);
}
