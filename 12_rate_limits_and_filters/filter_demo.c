/*
 * 12_rate_limits_and_filters/filter_demo.c — chapter 12: a bufferevent filter
 * between the socket and our callbacks. An echo server whose input passes
 * through number_lines first, so every line comes back numbered, the way
 * `nl -ba` numbers a file:
 *
 *   socket ──▶ [underlying bev: input] ──number_lines──▶ [filter bev: input] ──▶ on_read
 *   socket ◀── [underlying bev: output] ◀─────(as is)─── [filter bev: output] ◀──┘
 *
 * The filter sees the bytes as they arrive, in whatever pieces TCP makes. A
 * line split over two reads gives it half a line: it answers BEV_NEED_MORE
 * and libevent keeps the half in the underlying buffer until more comes. When
 * the client closes, a last line without its newline is still waiting there:
 * libevent 2.1 never calls a filter with BEV_FINISHED by itself, so on EOF we
 * flush it ourselves (bufferevent_flush(bev, EV_READ, BEV_FINISHED)).
 * TLS (bufferevent_openssl) is the same idea: a layer over a socket bufferevent.
 *
 * Run it:  make filter12      then:  nc 127.0.0.1 8093     (type lines)
 *          printf 'one\ntwo' | nc -N 127.0.0.1 8093      (two comes back on close)
 * Watch for: a line is echoed only once its newline arrives.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "common.h"
#include "server.h"
#include "trace.h"

#define DEFAULT_PORT 8093
#define MAX_LINE 65536 /* a longer line is numbered in pieces of this size */
#define HIGH 262144    /* stop reading while this much waits to be sent */

struct filter_demo;
struct client {
    LIST_ENTRY(client) next;
    struct filter_demo *s;
    struct bufferevent *bev;   /* the filter: what our callbacks see */
    struct evbuffer *sending;  /* the underlying socket bev's output */
    struct event *close_later; /* frees the conn once everything is sent */
    long id, lines;            /* lines numbered so far */
    int closing;               /* the client has finished; send, then close */
};

struct filter_demo {
    struct server srv; /* base, listener, signals: common/server.h */
    LIST_HEAD(client_list, client) clients;
    long conns_total;
};

/* region: number_lines */
/* The input filter: move whole lines from SRC (what the socket read) to DST
 * (what on_read will see), each with its number in front. */
static enum bufferevent_filter_result number_lines(struct evbuffer *src, struct evbuffer *dst,
                                                   ev_ssize_t limit,
                                                   enum bufferevent_flush_mode mode, void *arg)
{
    (void)limit; /* no read watermark is set on the filter */
    struct client *c = arg;
    int moved = 0;
    for (;;) {
        size_t have = evbuffer_get_length(src), take;
        struct evbuffer_ptr eol = evbuffer_search(src, "\n", 1, NULL);
        if (eol.pos >= 0)
            take = (size_t)eol.pos + 1; /* a whole line, newline included */
        else if (have >= MAX_LINE)
            take = MAX_LINE; /* too long to wait for: a piece now */
        else if (have > 0 && mode == BEV_FINISHED)
            take = have; /* the client is gone: its last, unfinished line */
        else
            break;
        evbuffer_add_printf(dst, "%6ld\t", ++c->lines);
        evbuffer_remove_buffer(src, dst, take);
        if (eol.pos < 0)
            evbuffer_add(dst, "\n", 1); /* as nl does for a last line */
        moved = 1;
    }
    /* Nothing whole yet: leave the half line where it is, ask for more. */
    return moved ? BEV_OK : BEV_NEED_MORE;
}
/* endregion */

static void on_sent(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg);

static void conn_free(struct client *c)
{
    printf("conn %ld: closed after %ld line%s\n", c->id, c->lines, c->lines == 1 ? "" : "s");
    LIST_REMOVE(c, next);
    evbuffer_remove_cb(c->sending, on_sent, c);
    event_free(c->close_later);
    bufferevent_free(c->bev); /* and, CLOSE_ON_FREE, the socket bev under it */
    free(c);
}

static void on_close_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    conn_free(arg);
}

/* The socket's output shrank: read again if we had stopped (backpressure,
 * chapter 5), or close once a finished client has been sent everything. */
static void on_sent(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    struct client *c = arg;
    size_t left = evbuffer_get_length(buf);
    if (info->n_deleted == 0)
        return;
    if (c->closing && left == 0)
        event_active(c->close_later, EV_TIMEOUT, 1); /* not inside libevent's write */
    else if (!c->closing && left < HIGH / 2)
        bufferevent_enable(c->bev, EV_READ);
}

/* Numbered lines in, the same lines out. */
static void on_read(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;
    trace_dispatch(bufferevent_getfd(bev), "read", "on_read");
    bufferevent_write_buffer(bev, bufferevent_get_input(bev));
    if (evbuffer_get_length(c->sending) >= HIGH)
        bufferevent_disable(bev, EV_READ); /* a client that does not read */
}

/* region: finish */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct client *c = arg;
    trace_dispatch(bufferevent_getfd(bev), "event", "on_event");
    if (!(what & BEV_EVENT_EOF)) {
        conn_free(c); /* an error: nobody to send to */
        return;
    }
    /* The client has sent everything. The filter still holds what followed
     * the last newline; BEV_FINISHED tells it no more will come. */
    bufferevent_flush(bev, EV_READ, BEV_FINISHED);
    bufferevent_write_buffer(bev, bufferevent_get_input(bev));
    c->closing = 1;
    if (evbuffer_get_length(c->sending) == 0)
        conn_free(c);
}
/* endregion */

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    (void)sa, (void)salen;
    struct filter_demo *s = arg;
    trace_dispatch(evconnlistener_get_fd(listener), "accept", "on_accept");
    struct client *c = calloc(1, sizeof *c);
    struct bufferevent *sock = bufferevent_socket_new(s->srv.base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!c || !sock) {
        warnx_msg("cannot take a connection: out of memory");
        free(c);
        if (sock)
            bufferevent_free(sock);
        else
            evutil_closesocket(fd);
        return;
    }
    /* region: layer */
    /* The filter wraps the socket bev: number_lines on the way in, nothing
     * on the way out (NULL passes bytes as they are). Freeing the filter
     * frees the socket bev too (BEV_OPT_CLOSE_ON_FREE). */
    c->bev = bufferevent_filter_new(sock, number_lines, NULL, BEV_OPT_CLOSE_ON_FREE, NULL, c);
    /* endregion */
    c->close_later = evtimer_new(s->srv.base, on_close_later, c);
    if (!c->bev || !c->close_later) {
        warnx_msg("cannot layer a filter on a connection: out of memory");
        if (c->bev)
            bufferevent_free(c->bev);
        else
            bufferevent_free(sock);
        free(c);
        return;
    }
    c->s = s;
    c->id = ++s->conns_total;
    c->sending = bufferevent_get_output(sock);
    LIST_INSERT_HEAD(&s->clients, c, next);
    evbuffer_add_cb(c->sending, on_sent, c);
    bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
    if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) != 0) {
        warnx_msg("conn %ld: cannot enable it", c->id);
        conn_free(c);
    }
}

static void usage(void)
{
    printf("usage: %s [options]\n"
           "  Echo every line back with its number, through a bufferevent filter.\n"
           "  --port PORT      listen on 127.0.0.1:PORT, 0 = any free port (default %d)\n"
           "  --trace          print each register/detect/dispatch step on stderr\n"
           "  --backend NAME   epoll, poll or select (default: libevent's choice)\n"
           "  --help           this help; SIGUSR2 prints what is registered\n",
           prog_name(), DEFAULT_PORT);
}

static void parse_args(int argc, char **argv, struct sockaddr_in *sin, struct server_config *cfg)
{
    static const struct option options[] = {
        {"port", required_argument, NULL, 'p'},
        {"trace", no_argument, NULL, 't'},
        {"backend", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int port = DEFAULT_PORT, opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'p': port = parse_port_option("--port", optarg); break;
        case 't': cfg->loop.trace = 1; break;
        case 'b': cfg->loop.backend = parse_backend_option(optarg); break;
        case 'h': usage(); exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    parse_ipv4_option(sin, "--port", "127.0.0.1", port);
}

/* ---- opening and closing ------------------------------------------------------ */

/* No hooks: SIGINT/SIGTERM leave at once, SIGUSR2 shows what is registered. */
static int filter_open(struct filter_demo *s, const struct server_config *cfg,
                       const struct sockaddr_in *sin)
{
    *s = (struct filter_demo){0};
    LIST_INIT(&s->clients);
    return server_open(&s->srv, cfg, NULL, s) == 0 && server_listen(&s->srv, sin, on_accept, s) == 0
               ? 0
               : -1;
}

/* Newest first; safe on a half-made server. */
static void filter_close(struct filter_demo *s)
{
    for (struct client *c = LIST_FIRST(&s->clients), *next; c; c = next) {
        next = LIST_NEXT(c, next);
        conn_free(c);
    }
    server_close(&s->srv);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct sockaddr_in sin;
    struct server_config cfg = {0};
    parse_args(argc, argv, &sin, &cfg);

    struct filter_demo s;
    if (filter_open(&s, &cfg, &sin) != 0) {
        filter_close(&s);
        return EXIT_RUNTIME;
    }
    server_announce(&s.srv);
    server_run(&s.srv); /* until SIGINT/SIGTERM */
    filter_close(&s);
    return EXIT_CLEAN;
}
