/*
 * 01_listener/listener.c — chapter 1: accept TCP connections with evconnlistener.
 *
 * What it teaches: the notes' three steps, 注册 → 检测 → 触发.
 *   register  evconnlistener_new_bind() puts the listening socket into the
 *             event base with a callback attached;
 *   detect    event_base_dispatch() waits in epoll until a socket is ready;
 *   dispatch  libevent accept()s and calls on_accept() with the new socket.
 * Each accepted connection becomes a bufferevent that greets the peer and echoes
 * back every line it sends.
 *
 * Run it:  make chapter1        (or: build/01_listener/listener --port 8080)
 * Poke it: telnet 127.0.0.1 8080   — type a line, it comes back; Ctrl-] quit
 *
 * Watch for: the server prints "recv a connection from 127.0.0.1:PORT" the moment
 * telnet connects — that is the dispatch step. Ctrl-C stops the server cleanly.
 * Read docs/01-listener.md beside this file.
 *
 * The wiring here — base, listener, EMFILE pause, signal events — is done by
 * hand on purpose: it is this chapter's lesson. From chapter 5 on, servers get
 * the same wiring from common/server.h in a few calls.
 */
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h> /* notes' bug: <event.h> alone lacks evconnlistener_* */

#include "common.h"
#include "trace.h"

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 8080
#define LISTEN_BACKLOG 256
/* ACCEPT_PAUSE_MS (common.h): after a failed accept (typically EMFILE, out of
 * descriptors) stop accepting for this long instead of retrying in a tight loop. */
/* A peer that sends but never reads its echoes would make us buffer without
 * limit. Past this much unsent output we stop reading from that peer ... */
#define MAX_PENDING_OUTPUT (64 * 1024)
/* ... and start again once the output has drained to this (chapter 5 explains). */
#define RESUME_READING_AT (16 * 1024)
#define GREETING "hello from the chapter 1 listener: type a line and it comes back\r\n"

struct conn;
LIST_HEAD(conn_list, conn);

struct server {
    struct event_base *base;
    struct evconnlistener *listener;
    struct event *resume_accepting; /* timer: re-enable the listener */
    struct event *on_sigint;
    struct event *on_sigterm;
    struct event *on_sigusr2; /* dump what is registered (--trace's companion) */
    struct conn_list conns;   /* every open connection, so shutdown can free them */
    unsigned long served;
};

struct conn {
    struct server *server;
    struct bufferevent *bev;
    int closing; /* peer said EOF: flush what is left, then free */
    char peer[ADDR_STRLEN];
    LIST_ENTRY(conn) link; /* <sys/queue.h>: the list's links live in the element */
};

/* ---- one connection ------------------------------------------------------ */

static void conn_free(struct conn *c)
{
    printf("connection from %s closed\n", c->peer);
    LIST_REMOVE(c, link);
    bufferevent_free(c->bev); /* BEV_OPT_CLOSE_ON_FREE: closes the socket too */
    free(c);
}

/* Dispatch for "data arrived": echo it. evbuffer_add_buffer moves the bytes
 * from input to output without copying them. */
static void on_read(struct bufferevent *bev, void *ctx)
{
    (void)ctx;
    trace_dispatch(bufferevent_getfd(bev), "read", "on_read");
    struct evbuffer *output = bufferevent_get_output(bev);
    evbuffer_add_buffer(output, bufferevent_get_input(bev));
    if (evbuffer_get_length(output) >= MAX_PENDING_OUTPUT)
        bufferevent_disable(bev, EV_READ); /* the peer is not reading: stop too */
}

/* Runs when the output has drained to the write low watermark. */
static void on_write(struct bufferevent *bev, void *ctx)
{
    struct conn *c = ctx;
    trace_dispatch(bufferevent_getfd(bev), "write", "on_write");
    if (c->closing) {
        if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
            conn_free(c); /* everything the peer was owed has left */
        return;
    }
    bufferevent_enable(bev, EV_READ);
}

static void on_conn_event(struct bufferevent *bev, short what, void *ctx)
{
    struct conn *c = ctx;
    trace_dispatch(bufferevent_getfd(bev), "event", "on_conn_event");
    if (what & BEV_EVENT_ERROR)
        warnx_msg("connection from %s: %s", c->peer,
                  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    int unsent = evbuffer_get_length(bufferevent_get_output(bev)) > 0;
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && unsent) {
        /* The peer closed its sending side but may still read: deliver the
         * rest of its echo first. Watermark 0 = call on_write when flushed. */
        c->closing = 1;
        bufferevent_disable(bev, EV_READ);
        bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
        return;
    }
    conn_free(c);
}

/* Dispatch for "a connection arrived": libevent already called accept(). */
/* region: on_accept */
static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *peer,
                      int peerlen, void *ctx)
{
    (void)peerlen;
    struct server *server = ctx;
    trace_dispatch(evconnlistener_get_fd(listener), "accept", "on_accept");
    /* notes' bug: the callback only printed, so every accepted fd leaked and the
     * peer waited forever. The fd is ours now: hand it to a bufferevent. */
    struct conn *c = calloc(1, sizeof *c);
    struct bufferevent *bev =
        c ? bufferevent_socket_new(server->base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
    if (!bev) {
        warnx_msg("out of memory: dropping a connection");
        evutil_closesocket(fd); /* nobody else owns it: never leak the fd */
        free(c);
        return;
    }
    c->server = server;
    c->bev = bev;
    format_addr(peer, c->peer, sizeof c->peer);
    LIST_INSERT_HEAD(&server->conns, c, link);
    server->served++;
    printf("recv a connection from %s\n", c->peer);

    bufferevent_setcb(bev, on_read, on_write, on_conn_event, c);
    bufferevent_setwatermark(bev, EV_WRITE, RESUME_READING_AT, 0);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    bufferevent_write(bev, GREETING, strlen(GREETING));
}
/* endregion */

/* accept() failed. With EMFILE the pending connection stays in the backlog,
 * so the listening socket stays readable: re-enabling at once would spin at
 * 100% CPU. Pause, and let a timer turn accepting back on. (Every later
 * server uses the same idea packaged as struct accept_pause in common/.) */
static void on_accept_error(struct evconnlistener *listener, void *ctx)
{
    struct server *server = ctx;
    int err = EVUTIL_SOCKET_ERROR();
    trace_dispatch(evconnlistener_get_fd(listener), "accept error", "on_accept_error");
    warnx_msg("accept failed: %s; pausing accepts for %d ms", evutil_socket_error_to_string(err),
              ACCEPT_PAUSE_MS);
    evconnlistener_disable(listener);
    struct timeval pause = ms_to_timeval(ACCEPT_PAUSE_MS);
    if (evtimer_add(server->resume_accepting, &pause) != 0)
        warnx_msg("cannot schedule accepting again: evtimer_add failed");
}

static void on_resume_accepting(evutil_socket_t fd, short what, void *ctx)
{
    (void)what;
    struct server *server = ctx;
    trace_dispatch(fd, "timeout", "on_resume_accepting");
    evconnlistener_enable(server->listener);
}

static void on_signal(evutil_socket_t sig, short what, void *ctx)
{
    (void)what;
    struct server *server = ctx;
    trace_dispatch(sig, "signal", "on_signal");
    printf("caught %s, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    event_base_loopexit(server->base, NULL);
}

/* What is registered right now: at start with --trace, and on SIGUSR2. The
 * dump goes through trace.c to lose its event addresses. */
static void dump_events(struct event_base *base)
{
    FILE *dump = trace_dump_begin();
    event_base_dump_events(base, dump);
    trace_dump_end(dump);
}

static void on_sigusr2(evutil_socket_t sig, short what, void *ctx)
{
    (void)what;
    struct server *server = ctx;
    trace_dispatch(sig, "signal", "on_sigusr2");
    dump_events(server->base);
}

/* ---- command line -------------------------------------------------------- */

static void usage(void)
{
    printf("usage: %s [--host ADDR] [--port PORT] [--trace] [--backend NAME]\n"
           "  Accept TCP connections; greet each peer and echo its lines back.\n"
           "  --host ADDR  IPv4 address to listen on (default %s;\n"
           "               0.0.0.0 exposes the server to your network)\n"
           "  --port PORT  port to listen on, 0 = any free port (default %d)\n"
           "  --trace      print each register/detect/dispatch step on stderr\n"
           "  --backend NAME  epoll, poll or select (default: libevent's choice)\n"
           "  --help       show this help; SIGUSR2 prints what is registered\n",
           prog_name(), DEFAULT_HOST, DEFAULT_PORT);
}

static void parse_args(int argc, char **argv, struct sockaddr_in *sin, struct loop_options *loop)
{
    static const struct option options[] = {
        {"host", required_argument, NULL, 'H'}, {"port", required_argument, NULL, 'p'},
        {"trace", no_argument, NULL, 't'},      {"backend", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    const char *host = DEFAULT_HOST;
    int port = DEFAULT_PORT;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'H': host = optarg; break;
        case 'p': port = parse_port_option("--port", optarg); break;
        case 't': loop->trace = 1; break;
        case 'b': loop->backend = parse_backend_option(optarg); break;
        case 'h': usage(); exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);

    /* notes' bug: sin_addr stayed 0 (INADDR_ANY) = listening on every interface */
    parse_ipv4_option(sin, "--host", host, port);
}

/* ---- main: wire things up in the order they happen ----------------------- */

/* Register: socket + bind + listen + "call on_accept when readable"; and the
 * timer that ends an accept pause. -1 after saying why. */
static int open_listener(struct server *server, const struct sockaddr_in *sin)
{
    server->listener =
        evconnlistener_new_bind(server->base, on_accept, server,
                                LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
                                LISTEN_BACKLOG, (const struct sockaddr *)sin, sizeof *sin);
    if (!server->listener) { /* notes' bug: the result was never checked */
        char want[ADDR_STRLEN];
        warnx_msg("cannot listen on %s: %s",
                  format_addr((const struct sockaddr *)sin, want, sizeof want),
                  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        return -1;
    }
    evconnlistener_set_error_cb(server->listener, on_accept_error);
    server->resume_accepting = evtimer_new(server->base, on_resume_accepting, server);
    if (!server->resume_accepting) {
        warnx_msg("cannot create the accept-pause timer: out of memory");
        return -1;
    }
    return 0;
}

/* Ctrl-C (SIGINT) and kill (SIGTERM) become events; chapter 4 explains. */
static int watch_signals(struct server *server)
{
    server->on_sigint = evsignal_new(server->base, SIGINT, on_signal, server);
    server->on_sigterm = evsignal_new(server->base, SIGTERM, on_signal, server);
    server->on_sigusr2 = evsignal_new(server->base, SIGUSR2, on_sigusr2, server);
    if (!server->on_sigint || !server->on_sigterm || !server->on_sigusr2 ||
        evsignal_add(server->on_sigint, NULL) != 0 || evsignal_add(server->on_sigterm, NULL) != 0 ||
        evsignal_add(server->on_sigusr2, NULL) != 0) {
        warnx_msg("cannot watch SIGINT, SIGTERM and SIGUSR2: evsignal_new/evsignal_add failed");
        return -1;
    }
    return 0;
}

/* --backend NAME: avoid the other methods, so NAME is the only one libevent may
 * choose. Without it, libevent takes the best it has (epoll on Linux). The
 * later servers call the same function packaged in common (open_event_base). */
static struct event_base *open_base(const char *backend)
{
    struct event_config *cfg = event_config_new();
    if (!cfg)
        return NULL;
    for (int i = 0; backend && i < N_BACKENDS; i++)
        if (strcmp(backend_names[i], backend) != 0)
            event_config_avoid_method(cfg, backend_names[i]);
    struct event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return base;
}

/* Teardown in reverse order of creation; safe on a half-opened server. */
static void server_close(struct server *server)
{
    for (struct conn *c = LIST_FIRST(&server->conns), *next; c; c = next) {
        next = LIST_NEXT(c, link); /* read before conn_free(c) frees c */
        conn_free(c);
    }
    if (server->on_sigusr2)
        event_free(server->on_sigusr2);
    if (server->on_sigterm)
        event_free(server->on_sigterm);
    if (server->on_sigint)
        event_free(server->on_sigint);
    if (server->resume_accepting)
        event_free(server->resume_accepting);
    if (server->listener)
        evconnlistener_free(server->listener);
    event_base_free(server->base);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct sockaddr_in sin;
    struct loop_options loop = {0};
    parse_args(argc, argv, &sin, &loop);
    /* Writing to a peer that has gone raises SIGPIPE, whose default action
     * kills the process. One vanished client must not stop the server. */
    signal(SIGPIPE, SIG_IGN);

    struct server server = {0};
    LIST_INIT(&server.conns);
    if (loop.trace) {
        /* libevent reports every event it adds and every wait it makes;
         * trace.c prints them as register and detect lines on stderr. By
         * hand here, to be seen; the other programs call trace_wire(). */
        trace_enable();
        event_enable_debug_logging(EVENT_DBG_ALL);
        event_set_log_callback(trace_libevent_log);
    }
    server.base = open_base(loop.backend);
    if (!server.base) {
        warnx_msg("cannot create the event base: %s",
                  loop.backend ? "that backend is not available here" : "out of memory");
        return EXIT_RUNTIME;
    }
    if (open_listener(&server, &sin) != 0 || watch_signals(&server) != 0) {
        server_close(&server);
        return EXIT_RUNTIME;
    }
    char bound[ADDR_STRLEN];
    printf("backend: %s\n", event_base_get_method(server.base));
    printf("listening on %s\n",
           format_local_addr(evconnlistener_get_fd(server.listener), bound, sizeof bound));
    if (loop.trace)
        dump_events(server.base);

    /* Detect and dispatch until on_signal asks the loop to exit. (The notes
     * used EVLOOP_NO_EXIT_ON_EMPTY; with a listener registered the loop is
     * never empty, so the plain dispatch is enough.) */
    event_base_dispatch(server.base);

    unsigned long served = server.served;
    server_close(&server);
    libevent_global_shutdown(); /* so valgrind sees only our own leaks */
    printf("served %lu connection%s, bye\n", served, served == 1 ? "" : "s");
    return EXIT_CLEAN;
}
