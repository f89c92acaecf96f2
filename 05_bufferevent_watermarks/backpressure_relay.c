/*
 * 05_bufferevent_watermarks/backpressure_relay.c — chapter 5: producer ->
 * relay -> consumer, pausing the producer while the consumer is slow.
 *
 * What it teaches: backpressure from the two watermark rules. The relay moves
 * whatever the producer sends into the consumer's output buffer. When that
 * buffer holds --high bytes, it stops reading the producer (bufferevent_disable
 * EV_READ): the producer's bytes wait in the kernel, and TCP slows the producer
 * down. The consumer's write low watermark (--low) calls on_consumer_write once
 * the buffer has drained that far: then it reads the producer again.
 * --no-backpressure never pauses: watch the buffer grow instead.
 *
 * One producer and one consumer per run; the relay exits when the producer is
 * done and everything it sent has reached the consumer.
 *
 * Run it:  make plot5     (both ways, plotted into docs/img/05-backpressure.svg)
 *          build/05_bufferevent_watermarks/backpressure_relay --port 8085 --producer-port 8086
 *          then: nc 127.0.0.1 8085 >/dev/null, and: nc -N 127.0.0.1 8086 <bigfile
 *
 * Watch for: "peak buffered" at the end, with and without --no-backpressure.
 * Read docs/05-watermarks.md beside this file.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common.h"
#include "server.h"
#include "server_args.h"

#define DEFAULT_PORT 8085
#define DEFAULT_RELAY_HIGH (256 * 1024)
#define DEFAULT_RELAY_LOW (64 * 1024)
#define MAX_WATERMARK (1L << 30)
#define TRACE_INTERVAL_MS 10

struct options {
    struct sockaddr_in sin;
    int producer_port;
    long low, high; /* resume / pause the producer at this many buffered bytes */
    int backpressure;
    const char *trace_path; /* --csv: ms,buffered,reading */
    /* --trace, --backend */
    struct server_config server;
};

struct relay {
    struct server srv;                /* base, the consumers' listener, signals */
    struct evconnlistener *producers; /* the second listener (server_bind) */
    const struct options *opt;
    struct bufferevent *producer, *consumer;
    struct event *trace_timer;
    FILE *trace;
    size_t peak, relayed;
    int reading; /* is the producer's EV_READ enabled? */
    int producer_done;
};

static size_t buffered(const struct relay *r)
{
    return r->consumer ? evbuffer_get_length(bufferevent_get_output(r->consumer)) : 0;
}

static void trace_point(struct relay *r)
{
    size_t now = buffered(r);
    if (now > r->peak)
        r->peak = now;
    if (r->trace)
        fprintf(r->trace, "%.1f,%zu,%d\n", elapsed_ms(), now, r->reading);
}

static void set_reading(struct relay *r, int on)
{
    if (on == r->reading)
        return;
    trace_point(r);
    r->reading = on;
    if (on)
        bufferevent_enable(r->producer, EV_READ);
    else
        bufferevent_disable(r->producer, EV_READ);
    trace_point(r);
}

static void relay_finish(struct relay *r)
{
    trace_point(r);
    log_ms("relay: done: %zu bytes relayed, peak buffered toward the consumer %zu bytes",
           r->relayed, r->peak);
    event_base_loopexit(r->srv.base, NULL);
}

/* Producer data: move it to the consumer (no copy), then check the level. */
static void on_producer_read(struct bufferevent *bev, void *arg)
{
    struct relay *r = arg;
    trace_dispatch(bufferevent_getfd(bev), "read", "on_producer_read");
    struct evbuffer *input = bufferevent_get_input(bev);
    r->relayed += evbuffer_get_length(input);
    evbuffer_add_buffer(bufferevent_get_output(r->consumer), input);
    trace_point(r);
    if (r->opt->backpressure && buffered(r) >= (size_t)r->opt->high)
        set_reading(r, 0); /* consumer is behind: stop taking more */
}

/* The consumer's output drained to the low watermark: take more again. */
static void on_consumer_write(struct bufferevent *bev, void *arg)
{
    struct relay *r = arg;
    trace_dispatch(bufferevent_getfd(bev), "write", "on_consumer_write");
    trace_point(r);
    if (r->producer_done) {
        if (buffered(r) == 0)
            relay_finish(r); /* flushed everything the producer sent */
        return;
    }
    set_reading(r, 1);
}

static void on_producer_event(struct bufferevent *bev, short what, void *arg)
{
    struct relay *r = arg;
    trace_dispatch(bufferevent_getfd(bev), "event", "on_producer_event");
    log_ms("relay: producer %s; flushing %zu bytes to the consumer",
           (what & BEV_EVENT_EOF) ? "finished" : "failed", buffered(r));
    r->producer_done = 1;
    bufferevent_free(r->producer);
    r->producer = NULL;
    r->reading = 0;
    if (buffered(r) == 0) {
        relay_finish(r);
        return;
    }
    /* flush-then-close: the next write callback comes when all is out */
    bufferevent_setwatermark(r->consumer, EV_WRITE, 0, 0);
}

static void on_consumer_event(struct bufferevent *bev, short what, void *arg)
{
    (void)what;
    struct relay *r = arg;
    trace_dispatch(bufferevent_getfd(bev), "event", "on_consumer_event");
    log_ms("relay: consumer went away with %zu bytes still buffered", buffered(r));
    relay_finish(r);
}

static void on_trace_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    trace_dispatch(fd, "timeout", "on_trace_timer");
    trace_point(arg);
}

/* Start relaying once both sides are here. */
static void relay_maybe_start(struct relay *r)
{
    if (!r->producer || !r->consumer)
        return;
    log_ms("relay: both connected; backpressure %s (high %ld, low %ld); one read is at most "
           "%ld bytes",
           r->opt->backpressure ? "on" : "off", r->opt->high, r->opt->low,
           (long)bufferevent_get_max_single_read(r->producer));
    bufferevent_setcb(r->producer, on_producer_read, NULL, on_producer_event, r);
    bufferevent_setcb(r->consumer, NULL, on_consumer_write, on_consumer_event, r);
    /* write low: on_consumer_write runs when the consumer's output drains to it */
    bufferevent_setwatermark(r->consumer, EV_WRITE, (size_t)r->opt->low, 0);
    bufferevent_enable(r->consumer, EV_READ | EV_WRITE);
    r->reading = 0;
    set_reading(r, 1);
    struct timeval tv = ms_to_timeval(TRACE_INTERVAL_MS);
    if (event_add(r->trace_timer, &tv) != 0)
        warnx_msg("cannot start the trace timer: event_add failed; tracing only on changes");
}

static struct bufferevent *accept_side(struct relay *r, evutil_socket_t fd, struct sockaddr *sa,
                                       const char *role)
{
    char peer[ADDR_STRLEN];
    struct bufferevent *bev = bufferevent_socket_new(r->srv.base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        warnx_msg("dropping the %s: cannot create its bufferevent: out of memory", role);
        evutil_closesocket(fd);
        return NULL;
    }
    log_ms("relay: %s connected from %s", role, format_addr(sa, peer, sizeof peer));
    return bev;
}

static void on_consumer_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                               int salen, void *arg)
{
    (void)salen;
    trace_dispatch(evconnlistener_get_fd(l), "accept", "on_consumer_accept");
    struct relay *r = arg;
    evconnlistener_disable(l); /* one consumer per run */
    r->consumer = accept_side(r, fd, sa, "consumer");
    relay_maybe_start(r);
}

static void on_producer_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                               int salen, void *arg)
{
    (void)salen;
    trace_dispatch(evconnlistener_get_fd(l), "accept", "on_producer_accept");
    struct relay *r = arg;
    evconnlistener_disable(l); /* one producer per run */
    r->producer = accept_side(r, fd, sa, "producer");
    relay_maybe_start(r);
}

/* ---- command line ----------------------------------------------- */

static void usage(void)
{
    printf("usage: %s [--producer-port PORT] [--high H --low L] [--no-backpressure]\n"
           "       [--csv FILE] [--trace] [--backend NAME]\n"
           "  Relay one producer to one consumer, pausing the producer at H buffered bytes.\n"
           "  --port PORT            where the consumer connects (default %d, 0 = any)\n"
           "  --producer-port PORT   where the producer connects (default 0 = any)\n"
           "  --high H --low L       pause the producer at H buffered bytes, resume at L\n"
           "                         (default %d, %d)\n"
           "  --no-backpressure      never pause the producer\n"
           "  --csv FILE             write ms,buffered,reading every %d ms\n"
           "  --trace                print each register/detect/dispatch step on stderr\n"
           "  --backend NAME         epoll, poll or select (default: libevent's choice)\n"
           "  --host ADDR            IPv4 address to listen on (default 127.0.0.1)\n"
           "  --help                 show this help; SIGUSR2 prints what is registered\n",
           prog_name(), DEFAULT_PORT, DEFAULT_RELAY_HIGH, DEFAULT_RELAY_LOW, TRACE_INTERVAL_MS);
}

/* The relay's own options; the ones every server takes are server_args.h's. */
static void on_option(void *app, int opt, const char *arg)
{
    struct options *o = app;
    switch (opt) {
    case 'P': o->producer_port = parse_port_option("--producer-port", arg); break;
    case 'H': o->high = parse_long_option("--high", arg, 0, MAX_WATERMARK); break;
    case 'l': o->low = parse_long_option("--low", arg, 0, MAX_WATERMARK); break;
    case 'n': o->backpressure = 0; break;
    case 'c': o->trace_path = arg; break;
    }
}

static void parse_args(int argc, char **argv, struct options *o)
{
    static const struct option own[] = {
        {"producer-port", required_argument, NULL, 'P'}, {"high", required_argument, NULL, 'H'},
        {"no-backpressure", no_argument, NULL, 'n'},     {"low", required_argument, NULL, 'l'},
        {"csv", required_argument, NULL, 'c'},           {NULL, 0, NULL, 0},
    };
    *o = (struct options){.low = DEFAULT_RELAY_LOW, .high = DEFAULT_RELAY_HIGH, .backpressure = 1};
    struct server_args args = {.default_port = DEFAULT_PORT,
                               .listen_addr = &o->sin,
                               .loop = &o->server.loop,
                               .own = own,
                               .on_own = on_option,
                               .usage = usage,
                               .app = o};
    server_args_parse(&args, argc, argv);
    if (o->high == 0 || o->low >= o->high)
        usage_error("needs 0 <= --low < --high (got %ld, %ld)", o->low, o->high);
}

static FILE *open_trace(const char *path)
{
    FILE *trace = fopen(path, "w");
    if (!trace)
        usage_error("--csv: cannot write %s", path);
    fprintf(trace, "ms,buffered,reading\n");
    return trace;
}

/* ---- opening and closing ------------------------------------------------------- */

/* The server with the consumers' listener, the producers' listener beside it
 * on the same base, the trace timer; -1 after saying why. */
static int relay_open(struct relay *r, const struct options *o)
{
    *r = (struct relay){.opt = o, .trace = o->trace_path ? open_trace(o->trace_path) : NULL};
    if (server_open(&r->srv, &o->server, NULL, r) != 0 ||
        server_listen(&r->srv, &o->sin, on_consumer_accept, r) != 0)
        return -1;
    struct sockaddr_in psin = o->sin;
    psin.sin_port = htons((unsigned short)o->producer_port);
    r->producers = server_bind(&r->srv, &psin, on_producer_accept, r);
    r->trace_timer =
        r->producers ? event_new(r->srv.base, -1, EV_PERSIST, on_trace_timer, r) : NULL;
    return r->producers && made(r->trace_timer, "the trace timer") ? 0 : -1;
}

/* Everything, newest first; safe on a half-made relay. */
static void relay_close(struct relay *r)
{
    if (r->trace_timer)
        event_free(r->trace_timer);
    if (r->producer)
        bufferevent_free(r->producer);
    if (r->consumer)
        bufferevent_free(r->consumer);
    if (r->producers)
        evconnlistener_free(r->producers);
    if (r->trace)
        fclose(r->trace);
    server_close(&r->srv);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct options o;
    parse_args(argc, argv, &o);

    struct relay r;
    if (relay_open(&r, &o) != 0) {
        relay_close(&r);
        return EXIT_RUNTIME;
    }
    char addr[ADDR_STRLEN];
    printf("producers connect to %s\n",
           format_local_addr(evconnlistener_get_fd(r.producers), addr, sizeof addr));
    server_announce(&r.srv);

    server_run(&r.srv); /* until the producer's bytes are all out, or a signal */

    printf("peak buffered: %zu bytes\n", r.peak);
    relay_close(&r);
    return EXIT_CLEAN;
}
