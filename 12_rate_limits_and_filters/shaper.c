/*
 * 12_rate_limits_and_filters/shaper.c — chapter 12: a server that sends every
 * client an endless stream of bytes, as fast as its token buckets allow.
 *
 *   data source ──▶ [output buffer ≤ 64 KiB] ──▶ token bucket(s) ──▶ socket ──▶ client
 *
 * The stream is our own upstream: a connection's output buffer is topped up
 * whenever it falls below the write watermark (chapter 5), so a client that
 * never reads costs at most QUEUE_MAX bytes here. What the client sends is
 * read (through the same buckets) and thrown away.
 *
 *   --rate B/s --burst B   one bucket per connection  (shares.c: make_bucket)
 *   --group-rate B/s       one bucket for all of them (libevent's group)
 *   --fair                 the group rate split by us, equally (shares.c: fair)
 *   --tick-ms MS           how often buckets refill; --min-share B for the group
 *
 * Run it:  make chapter12      (a shaper at 64 KiB/s per connection on 8092)
 *          nc 127.0.0.1 8092 | pv -r >/dev/null       (pv shows the rate)
 *          kill -USR1 PID      per-connection bytes and achieved rate
 * Watch for: the rate pv shows is --rate, whatever the client can take; a
 * client that stops reading leaves "queued" at no more than 64 KiB.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "shaper.h"

#define DEFAULT_PORT 8092
#define DEFAULT_TICK_MS 50
#define CHUNK 16384           /* bytes added to an output buffer at a time */
#define QUEUE_MAX (4 * CHUNK) /* a connection's output buffer never holds more */

static char pattern[CHUNK]; /* the stream: "0123456789abcdef..." repeated */

/* ---- one connection --------------------------------------------------------- */

static void conn_free(struct conn *c)
{
    struct shaper *s = c->s;
    shares_leave(s, c);
    LIST_REMOVE(c, next);
    bufferevent_free(c->bev);
    s->n_conns--;
    free(c);
}

/* region: top_up */
/* Fill the output buffer up to QUEUE_MAX. The buckets decide how fast it
 * drains; the write watermark calls us back when it is half empty. */
static void top_up(struct conn *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    while (evbuffer_get_length(out) + CHUNK <= QUEUE_MAX) {
        if (evbuffer_add(out, pattern, CHUNK) != 0)
            return; /* out of memory: try again on the next callback */
        c->added += CHUNK;
    }
}

static void on_write(struct bufferevent *bev, void *arg)
{
    trace_dispatch(bufferevent_getfd(bev), "write", "on_write");
    top_up(arg);
}
/* endregion */

static void on_read(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    trace_dispatch(bufferevent_getfd(bev), "read", "on_read");
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t n = evbuffer_get_length(in);
    c->received += n;
    evbuffer_drain(in, n);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;
    trace_dispatch(bufferevent_getfd(bev), "event", "on_event");
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        conn_free(c); /* the client left: nothing more to send it */
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    (void)salen;
    struct shaper *s = arg;
    trace_dispatch(evconnlistener_get_fd(listener), "accept", "on_accept");
    struct conn *c = calloc(1, sizeof *c);
    struct bufferevent *bev = bufferevent_socket_new(s->srv.base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!c || !bev) {
        warnx_msg("cannot take a connection: out of memory");
        free(c);
        if (bev)
            bufferevent_free(bev);
        else
            evutil_closesocket(fd);
        return;
    }
    *c = (struct conn){.s = s, .bev = bev, .id = ++s->conns_total, .started_ms = elapsed_ms()};
    format_addr(sa, c->peer, sizeof c->peer);
    LIST_INSERT_HEAD(&s->conns, c, next);
    s->n_conns++;
    if (shares_join(s, c) != 0) {
        warnx_msg("conn %ld: cannot give it its rate limit", c->id);
        conn_free(c);
        return;
    }
    bufferevent_setcb(bev, on_read, on_write, on_event, c);
    bufferevent_setwatermark(bev, EV_WRITE, QUEUE_MAX / 2, 0);
    top_up(c);
    if (bufferevent_enable(bev, EV_READ | EV_WRITE) != 0) {
        warnx_msg("conn %ld: cannot enable it", c->id);
        conn_free(c);
    }
}

/* ---- stats ------------------------------------------------------------------------ */

/* region: stats */
/* Sent = what we added minus what still waits in the output buffer. */
static void print_stats(void *app, const char *label)
{
    const struct shaper *s = app;
    double now = elapsed_ms();
    uint64_t total = 0;
    for (const struct conn *c = LIST_FIRST(&s->conns); c; c = LIST_NEXT(c, next)) {
        size_t queued = evbuffer_get_length(bufferevent_get_output(c->bev));
        uint64_t sent = c->added - queued;
        double secs = (now - c->started_ms) / 1000.0;
        printf("%s: conn %ld %s: sent %llu bytes in %.2f s = %.0f B/s, received %llu, queued %zu\n",
               label, c->id, c->peer, (unsigned long long)sent, secs,
               secs > 0 ? (double)sent / secs : 0.0, (unsigned long long)c->received, queued);
        total += sent;
    }
    printf("%s: %ld connection%s now, %ld in all, %llu bytes sent by those now\n", label,
           s->n_conns, s->n_conns == 1 ? "" : "s", s->conns_total, (unsigned long long)total);
    shares_describe(s, label);
}
/* endregion */

/* SIGUSR1 prints the stats; SIGINT/SIGTERM leave at once (no drain: the
 * stream never ends, so there is nothing to wait for). */
static const struct server_hooks shaper_hooks = {.stats = print_stats};

/* ---- command line --------------------------------------------------------------- */

static void usage(void)
{
    printf("usage: %s [options]\n"
           "  Send each client an endless stream, as fast as its token buckets allow.\n"
           "  --port PORT        listen on 127.0.0.1:PORT, 0 = any free port (default %d)\n"
           "  --rate B/S         bytes per second per connection (default: no limit)\n"
           "  --burst BYTES      the most a connection's bucket holds (default: one second's)\n"
           "  --group-rate B/S   bytes per second for all connections together\n"
           "  --fair             split --group-rate equally ourselves, not libevent's group\n"
           "  --tick-ms MS       refill the buckets this often (default %d)\n"
           "  --min-share BYTES  libevent group's smallest grant per member (its default: 64)\n"
           "  --trace            print each register/detect/dispatch step on stderr\n"
           "  --backend NAME     epoll, poll or select (default: libevent's choice)\n"
           "  --help             this help; SIGUSR1 prints stats, SIGUSR2 what is registered\n",
           prog_name(), DEFAULT_PORT, DEFAULT_TICK_MS);
}

static void parse_args(int argc, char **argv, struct options *o)
{
    static const struct option options[] = {
        {"port", required_argument, NULL, 'p'},
        {"rate", required_argument, NULL, 'r'},
        {"burst", required_argument, NULL, 'B'},
        {"group-rate", required_argument, NULL, 'g'},
        {"fair", no_argument, NULL, 'f'},
        {"tick-ms", required_argument, NULL, 'k'},
        {"min-share", required_argument, NULL, 'm'},
        {"trace", no_argument, NULL, 't'},
        {"backend", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const long max = 1L << 40; /* a terabyte a second: far beyond any loopback */
    int port = DEFAULT_PORT;
    *o = (struct options){.tick_ms = DEFAULT_TICK_MS, .min_share = -1, .burst = -1};
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'p': port = parse_port_option("--port", optarg); break;
        case 'r': o->rate = parse_long_option("--rate", optarg, 1, max); break;
        case 'B': o->burst = parse_long_option("--burst", optarg, 1, max); break;
        case 'g': o->group_rate = parse_long_option("--group-rate", optarg, 1, max); break;
        case 'f': o->fair = 1; break;
        case 'k':
            /* libevent takes a tick of 0 ms and then divides by it */
            o->tick_ms = parse_long_option("--tick-ms", optarg, 1, 60000);
            break;
        case 'm': o->min_share = parse_long_option("--min-share", optarg, 1, max); break;
        case 't': o->server.loop.trace = 1; break;
        case 'b': o->server.loop.backend = parse_backend_option(optarg); break;
        case 'h': usage(); exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (o->burst >= 0 && o->rate == 0)
        usage_error("--burst sizes the --rate bucket: give --rate too");
    if (o->burst < 0)
        o->burst = o->rate; /* one second's worth */
    parse_ipv4_option(&o->listen_addr, "--port", "127.0.0.1", port);
}

/* ---- opening and closing ------------------------------------------------------------ */

static int shaper_open(struct shaper *s, const struct options *o)
{
    *s = (struct shaper){.opt = o};
    LIST_INIT(&s->conns);
    shares_create(s); /* before anything else: a refused value exits 2 */
    if (server_open(&s->srv, &o->server, &shaper_hooks, s) != 0 ||
        server_listen(&s->srv, &o->listen_addr, on_accept, s) != 0)
        return -1;
    return shares_open_group(s);
}

/* Newest first; safe on a half-made shaper. */
static void shaper_close(struct shaper *s)
{
    for (struct conn *c = LIST_FIRST(&s->conns), *next; c; c = next) {
        next = LIST_NEXT(c, next);
        conn_free(c);
    }
    shares_free(s);
    server_close(&s->srv);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct options o;
    parse_args(argc, argv, &o);
    for (size_t i = 0; i < sizeof pattern; i++)
        pattern[i] = "0123456789abcdef"[i % 16];

    struct shaper s;
    if (shaper_open(&s, &o) != 0) {
        shaper_close(&s);
        return EXIT_RUNTIME;
    }
    server_announce(&s.srv);
    shares_describe(&s, "limits");

    server_run(&s.srv); /* until SIGINT/SIGTERM */

    print_stats(&s, "summary");
    shaper_close(&s);
    return EXIT_CLEAN;
}
