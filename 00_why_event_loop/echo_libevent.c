/*
 * 00_why_event_loop/echo_libevent.c — design 5 of 5: the same event loop as
 * echo_epoll.c, with libevent doing the chores.
 *
 * What it teaches: everything echo_epoll.c did by hand is still happening —
 * non-blocking sockets, epoll_wait, a buffer in and a buffer out for each
 * client, partial writes, EAGAIN, EPOLLOUT only while output is pending, a
 * signal turned into an event — but inside libevent:
 *   evconnlistener   socket/bind/listen, and accept() when readable
 *   bufferevent      the per-connection input and output evbuffers; it reads
 *                    when data arrives, writes as the socket takes it, and
 *                    watches EPOLLOUT only while its output is not empty
 *   evsignal         SIGINT/SIGTERM as ordinary events (a pipe inside, too)
 * What is left for us is the protocol: move each complete line from input to
 * output. Chapter 1 takes these calls apart one by one.
 *
 * Run it:  make chapter0    (or: build/00_why_event_loop/echo_libevent --port 8000)
 * Poke it: nc 127.0.0.1 8000 — type lines, they come back.
 * Read docs/00-why-event-loop.md beside this file.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "common.h"
#include "echo_shared.h"
#include "trace.h"

/* Past this much unsent output we stop reading from the peer (it is not
 * reading its echoes) until the output drains below MAX_LINE. */
#define MAX_PENDING_OUTPUT (4 * MAX_LINE)

struct conn {
    struct bufferevent *bev;
    int closing; /* the client sent FIN: flush its echo, then free */
    LIST_ENTRY(conn) link;
};
LIST_HEAD(conn_list, conn);

struct server {
    struct event_base *base;
    struct evconnlistener *listener;
    struct accept_pause pause; /* out of descriptors: stop accepting a while */
    struct event *on_sigint;
    struct event *on_sigterm;
    struct event *on_sigusr2; /* dump what is registered */
    struct conn_list conns;   /* every open connection, so shutdown can free them */
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

/* Input arrived (libevent has read() it into the input evbuffer). */
static void on_read(struct bufferevent *bev, void *ctx)
{
    (void)ctx;
    trace_dispatch(bufferevent_getfd(bev), "read", "on_read");
    echo_lines(bev, 0);
    if (evbuffer_get_length(bufferevent_get_output(bev)) >= MAX_PENDING_OUTPUT)
        bufferevent_disable(bev, EV_READ); /* backpressure: see on_write */
}

/* The output drained to the write low watermark. */
static void on_write(struct bufferevent *bev, void *ctx)
{
    struct conn *c = ctx;
    trace_dispatch(bufferevent_getfd(bev), "write", "on_write");
    if (c->closing)
        conn_free(c); /* watermark 0: everything owed has left */
    else
        bufferevent_enable(bev, EV_READ);
}

static void on_conn_event(struct bufferevent *bev, short what, void *ctx)
{
    struct conn *c = ctx;
    trace_dispatch(bufferevent_getfd(bev), "event", "on_conn_event");
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
        /* The client's FIN: echo what is left, free once it is sent. */
        echo_lines(bev, 1);
        if (evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
            c->closing = 1;
            bufferevent_disable(bev, EV_READ);
            bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
            return;
        }
    }
    conn_free(c); /* EOF with nothing owed, or an error: reset, timeout */
}

/* libevent accept()ed a client: wrap its socket in a bufferevent. */
static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *peer,
                      int peerlen, void *ctx)
{
    (void)peer;
    (void)peerlen;
    struct server *server = ctx;
    trace_dispatch(evconnlistener_get_fd(listener), "accept", "on_accept");
    struct conn *c = calloc(1, sizeof *c);
    struct bufferevent *bev =
        c ? bufferevent_socket_new(server->base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
    if (!bev) {
        warnx_msg("out of memory: dropping a connection");
        evutil_closesocket(fd);
        free(c);
        return;
    }
    c->bev = bev;
    LIST_INSERT_HEAD(&server->conns, c, link);
    server->served++;
    bufferevent_setcb(bev, on_read, on_write, on_conn_event, c);
    /* on_write runs once output is below MAX_LINE: time to read again. */
    bufferevent_setwatermark(bev, EV_WRITE, MAX_LINE, 0);
    if (bufferevent_enable(bev, EV_READ | EV_WRITE) != 0) {
        warnx_msg("cannot watch a new client");
        conn_free(c);
    }
}

static void on_signal(evutil_socket_t sig, short what, void *ctx)
{
    (void)what;
    struct server *server = ctx;
    trace_dispatch(sig, "signal", "on_signal");
    stop_signal = (int)sig;
    event_base_loopexit(server->base, NULL);
}

/* accept() failed, typically EMFILE: pause accepting for a moment (common's
 * accept_pause; chapter 1 teaches it) instead of spinning. */
static void on_accept_error(struct evconnlistener *listener, void *arg)
{
    (void)listener;
    accept_pause_after_error(&((struct server *)arg)->pause);
}

/* Register the listener and the two signals. 0, or -1 after a message. */
static int setup(struct server *server, const struct sockaddr_in *sin)
{
    char want[ADDR_STRLEN];
    server->listener =
        evconnlistener_new_bind(server->base, on_accept, server,
                                LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
                                LISTEN_BACKLOG, (const struct sockaddr *)sin, sizeof *sin);
    if (!server->listener) {
        warnx_msg("cannot listen on %s: %s",
                  format_addr((const struct sockaddr *)sin, want, sizeof want),
                  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        return -1;
    }
    /* Out of descriptors: pause accepting for a moment (chapter 1). */
    if (accept_pause_init(&server->pause, server->listener) != 0)
        return -1;
    evconnlistener_set_error_cb(server->listener, on_accept_error);
    server->on_sigint = evsignal_new(server->base, SIGINT, on_signal, server);
    server->on_sigterm = evsignal_new(server->base, SIGTERM, on_signal, server);
    server->on_sigusr2 = evsignal_new(server->base, SIGUSR2, trace_on_sigusr2, server->base);
    if (!server->on_sigint || !server->on_sigterm || !server->on_sigusr2 ||
        evsignal_add(server->on_sigint, NULL) != 0 || evsignal_add(server->on_sigterm, NULL) != 0 ||
        evsignal_add(server->on_sigusr2, NULL) != 0) {
        warnx_msg("cannot watch SIGINT/SIGTERM/SIGUSR2");
        return -1;
    }
    return 0;
}

static void teardown(struct server *server)
{
    for (struct conn *c = LIST_FIRST(&server->conns), *next; c; c = next) {
        next = LIST_NEXT(c, link);
        conn_free(c);
    }
    if (server->on_sigusr2)
        event_free(server->on_sigusr2);
    if (server->on_sigterm)
        event_free(server->on_sigterm);
    if (server->on_sigint)
        event_free(server->on_sigint);
    accept_pause_free(&server->pause);
    if (server->listener)
        evconnlistener_free(server->listener);
    event_base_free(server->base);
    libevent_global_shutdown(); /* so valgrind sees only our own leaks */
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct sockaddr_in sin;
    struct loop_options loop = {0};
    parse_libevent_server_args(argc, argv, "Echo lines back, one thread, libevent bufferevents.",
                               &sin, &loop);
    /* A send() to a vanished peer raises SIGPIPE, fatal by default. */
    signal(SIGPIPE, SIG_IGN);

    struct server server = {0};
    LIST_INIT(&server.conns);
    if (loop.trace) {
        /* libevent reports every event it adds and every wait it makes;
         * trace.c prints them as register and detect lines on stderr. */
        trace_enable();
        event_enable_debug_logging(EVENT_DBG_ALL);
        event_set_log_callback(trace_libevent_log);
    }
    server.base = open_event_base(loop.backend);
    if (!server.base) {
        warnx_msg("cannot create the event base: %s",
                  loop.backend ? "that backend is not available here" : "out of memory");
        return EXIT_RUNTIME;
    }
    if (setup(&server, &sin) != 0) {
        teardown(&server);
        return EXIT_RUNTIME;
    }
    printf("backend: %s\n", event_base_get_method(server.base));
    print_listening(evconnlistener_get_fd(server.listener));
    if (loop.trace)
        trace_dump_events(server.base);

    event_base_dispatch(server.base); /* until on_signal */

    if (stop_signal)
        print_stop_signal();
    unsigned long served = server.served;
    teardown(&server);
    printf("served %lu connection%s, bye\n", served, served == 1 ? "" : "s");
    return EXIT_CLEAN;
}
