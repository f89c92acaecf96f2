/*
 * 03_timers/idle_server.c — chapter 3: a server whose connections time out.
 *
 * What it teaches: a timer per connection, restarted on every input. Adding a
 * pending timer again simply moves its deadline, so "restart" is one call.
 * When a connection has been silent for --idle MS its timer fires, the server
 * says goodbye and closes it. The server echoes what it receives.
 *
 * Run it:  build/03_timers/idle_server --idle 3000, then: telnet 127.0.0.1 8083
 *          type now and then: the connection stays; stop typing: it closes.
 *
 * Watch for: "connected; it will be closed after ... ms without input", then
 * "closing ...: no input for ... ms". Read docs/03-timers.md beside this file.
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
#include <event2/listener.h>

#include "common.h"
#include "trace.h"

#define DEFAULT_IDLE_MS 5000
#define DEFAULT_PORT 8083

struct idle_server;

struct idle_conn {
    struct idle_server *server;
    struct bufferevent *bev;
    struct event *idle_timer; /* restarted on every input */
    char peer[ADDR_STRLEN];
    LIST_ENTRY(idle_conn) link;
};

LIST_HEAD(idle_conn_list, idle_conn);

struct idle_server {
    struct event_base *base;
    struct evconnlistener *listener;
    struct accept_pause pause; /* EMFILE: see chapter 1 */
    struct event *on_sigint, *on_sigterm;
    struct event *on_sigusr2; /* dump what is registered */
    struct loop_options loop; /* --trace, --backend */
    struct timeval idle;
    long idle_ms;
    struct idle_conn_list conns;
};

static void idle_conn_free(struct idle_conn *c)
{
    LIST_REMOVE(c, link);
    event_free(c->idle_timer);
    bufferevent_free(c->bev);
    free(c);
}

/* Input: echo it, and restart the idle timer. */
static void on_idle_read(struct bufferevent *bev, void *arg)
{
    struct idle_conn *c = arg;
    trace_dispatch(bufferevent_getfd(bev), "read", "on_idle_read");
    evbuffer_add_buffer(bufferevent_get_output(bev), bufferevent_get_input(bev));
    if (evtimer_add(c->idle_timer, &c->server->idle) != 0) {
        warnx_msg("closing %s: cannot restart its idle timer: evtimer_add failed", c->peer);
        idle_conn_free(c);
    }
}

static void on_idle_event(struct bufferevent *bev, short what, void *arg)
{
    (void)what;
    struct idle_conn *c = arg;
    trace_dispatch(bufferevent_getfd(bev), "event", "on_idle_event");
    log_ms("idle: %s left", c->peer);
    idle_conn_free(c);
}

/* Only used once the connection timed out: free it when the goodbye is out. */
static void on_idle_flushed(struct bufferevent *bev, void *arg)
{
    trace_dispatch(bufferevent_getfd(bev), "write", "on_idle_flushed");
    idle_conn_free(arg);
}

static void on_idle_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct idle_conn *c = arg;
    trace_dispatch(fd, "timeout", "on_idle_timeout");
    log_ms("idle: closing %s: no input for %ld ms", c->peer, c->server->idle_ms);
    bufferevent_disable(c->bev, EV_READ);
    bufferevent_setcb(c->bev, NULL, on_idle_flushed, on_idle_event, c); /* flush, then close */
    evbuffer_add_printf(bufferevent_get_output(c->bev), "idle for %ld ms, bye\r\n",
                        c->server->idle_ms);
}

/* The connection's bufferevent and timer, or NULL after saying why. */
static struct idle_conn *idle_conn_new(struct idle_server *server, evutil_socket_t fd)
{
    struct idle_conn *c = calloc(1, sizeof *c);
    struct bufferevent *bev =
        c ? bufferevent_socket_new(server->base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
    struct event *timer = bev ? evtimer_new(server->base, on_idle_timeout, c) : NULL;
    if (!timer || evtimer_add(timer, &server->idle) != 0) {
        warnx_msg("dropping a connection: cannot set up its bufferevent and idle timer: "
                  "out of memory");
        if (timer)
            event_free(timer);
        if (bev)
            bufferevent_free(bev);
        else
            evutil_closesocket(fd);
        free(c);
        return NULL;
    }
    c->server = server;
    c->bev = bev;
    c->idle_timer = timer;
    return c;
}

static void on_idle_accept(struct evconnlistener *listener, evutil_socket_t fd,
                           struct sockaddr *peer, int peerlen, void *arg)
{
    (void)peerlen;
    struct idle_server *server = arg;
    trace_dispatch(evconnlistener_get_fd(listener), "accept", "on_idle_accept");
    struct idle_conn *c = idle_conn_new(server, fd);
    if (!c)
        return;
    format_addr(peer, c->peer, sizeof c->peer);
    LIST_INSERT_HEAD(&server->conns, c, link);
    log_ms("idle: %s connected; it will be closed after %ld ms without input", c->peer,
           server->idle_ms);
    bufferevent_setcb(c->bev, on_idle_read, NULL, on_idle_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    /* The bufferevent way to do the same: bufferevent_set_timeouts(bev,
     * &idle, NULL) — on expiry on_idle_event gets BEV_EVENT_TIMEOUT. The
     * separate timer here keeps the mechanism visible. */
}

static void on_accept_error(struct evconnlistener *listener, void *arg)
{
    (void)listener;
    struct idle_server *server = arg;
    accept_pause_after_error(&server->pause); /* out of descriptors: chapter 1 */
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    trace_dispatch(sig, "signal", "on_stop_signal");
    log_ms("idle: caught %s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    event_base_loopexit(arg, NULL);
}

/* Listener, EMFILE pause and signal events, or -1 after saying why. */
static int idle_server_open(struct idle_server *s, const struct sockaddr_in *sin)
{
    s->listener = evconnlistener_new_bind(s->base, on_idle_accept, s,
                                          LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, -1,
                                          (const struct sockaddr *)sin, sizeof *sin);
    if (!s->listener) {
        char want[ADDR_STRLEN];
        warnx_msg("cannot listen on %s: %s",
                  format_addr((const struct sockaddr *)sin, want, sizeof want),
                  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        return -1;
    }
    if (accept_pause_init(&s->pause, s->listener) != 0)
        return -1;
    evconnlistener_set_error_cb(s->listener, on_accept_error);
    s->on_sigint = evsignal_new(s->base, SIGINT, on_stop_signal, s->base);
    s->on_sigterm = evsignal_new(s->base, SIGTERM, on_stop_signal, s->base);
    s->on_sigusr2 = evsignal_new(s->base, SIGUSR2, trace_on_sigusr2, s->base);
    if (!s->on_sigint || !s->on_sigterm || !s->on_sigusr2 ||
        evsignal_add(s->on_sigint, NULL) != 0 || evsignal_add(s->on_sigterm, NULL) != 0 ||
        evsignal_add(s->on_sigusr2, NULL) != 0) {
        warnx_msg("cannot watch SIGINT, SIGTERM and SIGUSR2: evsignal_new/evsignal_add failed");
        return -1;
    }
    return 0;
}

/* Teardown in reverse order; safe on a half-opened server. */
static void idle_server_close(struct idle_server *s)
{
    /* next is read before idle_conn_free(c) frees c */
    for (struct idle_conn *c = LIST_FIRST(&s->conns), *next; c; c = next) {
        next = LIST_NEXT(c, link);
        idle_conn_free(c);
    }
    if (s->on_sigusr2)
        event_free(s->on_sigusr2);
    if (s->on_sigterm)
        event_free(s->on_sigterm);
    if (s->on_sigint)
        event_free(s->on_sigint);
    accept_pause_free(&s->pause);
    if (s->listener)
        evconnlistener_free(s->listener);
}

static void usage(void)
{
    printf("usage: %s [--idle MS] [--host ADDR] [--port PORT] [--trace] [--backend NAME]\n"
           "  An echo server that closes connections silent for --idle MS.\n"
           "  --idle MS       close connections silent this long (default %d)\n"
           "  --host ADDR     IPv4 address to listen on (default 127.0.0.1)\n"
           "  --port PORT     port to listen on, 0 = any free port (default %d)\n"
           "  --trace         print each register/detect/dispatch step on stderr\n"
           "  --backend NAME  epoll, poll or select (default: libevent's choice)\n"
           "  --help          show this help; SIGUSR2 prints what is registered\n",
           prog_name(), DEFAULT_IDLE_MS, DEFAULT_PORT);
}

static long parse_args(int argc, char **argv, struct sockaddr_in *sin, struct loop_options *loop)
{
    static const struct option options[] = {
        {"idle", required_argument, NULL, 'I'},
        {"port", required_argument, NULL, 'p'},
        {"host", required_argument, NULL, 'H'},
        {"trace", no_argument, NULL, 't'},
        {"backend", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *host = "127.0.0.1";
    int port = DEFAULT_PORT;
    long idle_ms = DEFAULT_IDLE_MS;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'I': idle_ms = parse_long_option("--idle", optarg, 1, 86400000); break;
        case 'p': port = parse_port_option("--port", optarg); break;
        case 'H': host = optarg; break;
        case 't': loop->trace = 1; break;
        case 'b': loop->backend = parse_backend_option(optarg); break;
        case 'h': usage(); exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    parse_ipv4_option(sin, "--host", host, port);
    return idle_ms;
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct sockaddr_in sin;
    struct idle_server server = {0};
    server.idle_ms = parse_args(argc, argv, &sin, &server.loop);
    server.idle = ms_to_timeval(server.idle_ms);
    LIST_INIT(&server.conns);
    signal(SIGPIPE, SIG_IGN); /* a peer that vanished must not kill us (chapter 4) */

    trace_wire(server.loop.trace); /* --trace: register, detect, dispatch lines */
    server.base = open_event_base(server.loop.backend); /* says why if it cannot */
    if (!server.base)
        return EXIT_RUNTIME;
    int status = EXIT_RUNTIME;
    if (idle_server_open(&server, &sin) == 0) {
        char bound[ADDR_STRLEN];
        printf("backend: %s\n", event_base_get_method(server.base));
        printf("listening on %s\n",
               format_local_addr(evconnlistener_get_fd(server.listener), bound, sizeof bound));
        if (server.loop.trace)
            trace_dump_events(server.base);
        event_base_dispatch(server.base);
        status = EXIT_CLEAN;
    }
    idle_server_close(&server);
    event_base_free(server.base);
    libevent_global_shutdown();
    return status;
}
