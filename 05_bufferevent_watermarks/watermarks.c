/*
 * 05_bufferevent_watermarks/watermarks.c — chapter 5: what a bufferevent's
 * watermarks really do, made visible, and the backpressure they allow.
 *
 * The notes say the write callback fires on the write low watermark, and that
 * crossing the low and high watermarks "triggers callbacks". The exact rules
 * (libevent 2.1, socket bufferevents) and the demo that shows each:
 *   read low    the read callback runs only once the input holds >= low bytes
 *   read high   while the input holds >= high bytes libevent stops reading the
 *               socket; no callback says so. Reading resumes below high.
 *               --demo read
 *   write low   the write callback runs when a write leaves the output at
 *               <= low bytes (0: fully flushed). --demo write
 *   write high  unused by socket bufferevents (only by filters)
 *   together    producer -> relay -> consumer, pausing the producer while the
 *               consumer is slow. --demo relay
 *
 * Run it:  make chapter5    (the read demo: --low 10 --high 64 --consume-delay 1000)
 *          then: telnet 127.0.0.1 8085 and type; watch the callbacks.
 *          make plot5       (the relay, with and without backpressure, plotted)
 *
 * Watch for: the lines "read callback", "write callback", "pause"/"resume"
 * and what the input/output lengths are each time. Read docs/05-watermarks.md.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "common.h"

#define DEFAULT_PORT 8085
#define DEFAULT_WRITE_BYTES (1024 * 1024)
#define DEFAULT_CHUNK (16 * 1024)
#define DEFAULT_RELAY_HIGH (256 * 1024)
#define DEFAULT_RELAY_LOW (64 * 1024)
#define TRACE_INTERVAL_MS 10
#define CONSUME_ALL (-1L)
/* The write demo's payload repeats this; tests rebuild it to compare sums. */
static const char PATTERN[] = "abcdefghijklmnopqrstuvwxyz0123456789";

struct options {
    const char *demo;
    struct sockaddr_in sin;
    long low, high;                  /* read demo: read watermarks */
    long consume, consume_delay_ms;  /* read demo */
    long bytes, chunk, write_low;    /* write demo */
    long relay_low, relay_high;      /* relay demo */
    int producer_port, backpressure; /* relay demo */
    const char *trace_path;          /* relay demo */
};

/* Everything the three demos share: one base, one listener, ways to stop. */
struct app {
    struct event_base *base;
    struct evconnlistener *listener;
    const struct options *opt;
    struct event *on_sigint, *on_sigterm;
    struct reader *readers; /* open connections of the read demo ... */
    struct sender *senders; /* ... and of the write demo, freed at exit */
};

/* ======== --demo read: read low and high watermarks ======================= */

struct reader {
    struct app *app;
    struct bufferevent *bev;
    struct event *consume_timer; /* --consume-delay */
    long callbacks;
    char peer[ADDR_STRLEN];
    struct reader *prev, *next;
};

static void reader_free(struct reader *r)
{
    log_ms("read: %s closed after %ld read callbacks", r->peer, r->callbacks);
    if (r->prev)
        r->prev->next = r->next;
    else
        r->app->readers = r->next;
    if (r->next)
        r->next->prev = r->prev;
    event_free(r->consume_timer);
    bufferevent_free(r->bev);
    free(r);
}

static void consume(struct reader *r)
{
    struct evbuffer *input = bufferevent_get_input(r->bev);
    size_t have = evbuffer_get_length(input);
    size_t take = r->app->opt->consume == CONSUME_ALL ? have : (size_t)r->app->opt->consume;
    if (take > have)
        take = have;
    evbuffer_drain(input, take);
    if (take > 0)
        log_ms("read: consumed %zu bytes, input now %zu bytes", take, evbuffer_get_length(input));
}

/* Paused while input >= high; reading resumes once we drained below it. */
static void pause_or_resume(struct reader *r)
{
    long high = r->app->opt->high;
    size_t len = evbuffer_get_length(bufferevent_get_input(r->bev));
    if (high == 0 || len < (size_t)high) {
        bufferevent_enable(r->bev, EV_READ);
        return;
    }
    log_ms("read: input %zu >= high %ld: libevent has stopped reading the socket; "
           "callback paused until we consume",
           len, high);
    /* libevent 2.1.11+ would otherwise call on_reader_read again and again
     * while input >= high (libevent #891): a 100% CPU spin. */
    bufferevent_disable(r->bev, EV_READ);
}

static void arm_consume_timer(struct reader *r)
{
    struct timeval tv = ms_to_timeval(r->app->opt->consume_delay_ms);
    evtimer_add(r->consume_timer, &tv);
}

/* --consume-delay: consume one portion per delay while enough is buffered.
 * Data already in the input never triggers the read callback again: only a
 * read from the socket does. So the timer keeps going by itself. */
static void on_consume_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct reader *r = arg;
    consume(r);
    size_t left = evbuffer_get_length(bufferevent_get_input(r->bev));
    size_t low = (size_t)r->app->opt->low;
    if (left > 0 && left >= low)
        arm_consume_timer(r);
    pause_or_resume(r);
}

static void on_reader_read(struct bufferevent *bev, void *arg)
{
    struct reader *r = arg;
    r->callbacks++;
    log_ms("read: callback %ld: input %zu bytes", r->callbacks,
           evbuffer_get_length(bufferevent_get_input(bev)));
    if (r->app->opt->consume_delay_ms == 0)
        consume(r);
    else if (!evtimer_pending(r->consume_timer, NULL))
        arm_consume_timer(r);
    pause_or_resume(r);
}

static void on_reader_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    (void)what;
    reader_free(arg);
}

static void on_reader_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                             int salen, void *arg)
{
    (void)l;
    (void)salen;
    struct app *app = arg;
    struct reader *r = calloc(1, sizeof *r);
    struct bufferevent *bev =
        r ? bufferevent_socket_new(app->base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
    if (!bev) {
        evutil_closesocket(fd);
        free(r);
        return;
    }
    r->app = app;
    r->next = app->readers;
    if (r->next)
        r->next->prev = r;
    app->readers = r;
    r->bev = bev;
    r->consume_timer = evtimer_new(app->base, on_consume_timer, r);
    format_addr(sa, r->peer, sizeof r->peer);
    log_ms("read: %s connected (read low %ld, high %ld)", r->peer, app->opt->low, app->opt->high);
    bufferevent_setcb(bev, on_reader_read, NULL, on_reader_event, r);
    /* The point of the chapter, in one call: */
    bufferevent_setwatermark(bev, EV_READ, (size_t)app->opt->low, (size_t)app->opt->high);
    bufferevent_enable(bev, EV_READ);
}

/* ======== --demo write: the write low watermark ============================ */

struct sender {
    struct app *app;
    struct bufferevent *bev;
    long total, queued, callbacks, chunk;
    char peer[ADDR_STRLEN];
    struct sender *prev, *next;
};

static void add_payload(struct sender *s, long n)
{
    struct evbuffer *out = bufferevent_get_output(s->bev);
    char block[4096];
    long pattern_len = (long)strlen(PATTERN);
    while (n > 0) {
        long len = n < (long)sizeof block ? n : (long)sizeof block;
        for (long i = 0; i < len; i++)
            block[i] = PATTERN[(s->queued + i) % pattern_len];
        evbuffer_add(out, block, (size_t)len);
        s->queued += len;
        n -= len;
    }
}

static void sender_free(struct sender *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        s->app->senders = s->next;
    if (s->next)
        s->next->prev = s->prev;
    bufferevent_free(s->bev);
    free(s);
}

/* Runs when a write leaves the output at <= the write low watermark. It is a
 * "running low, refill me" callback, not "you may write now". */
static void on_sender_write(struct bufferevent *bev, void *arg)
{
    struct sender *s = arg;
    size_t len = evbuffer_get_length(bufferevent_get_output(bev));
    s->callbacks++;
    if (s->queued == s->total) {
        if (len == 0) {
            log_ms("write: %s: all %ld bytes sent, %ld write callbacks", s->peer, s->total,
                   s->callbacks);
            sender_free(s);
        }
        return;
    }
    long refill = s->total - s->queued < s->chunk ? s->total - s->queued : s->chunk;
    log_ms("write: callback %ld: output %zu bytes; refilling %ld", s->callbacks, len, refill);
    add_payload(s, refill);
    if (s->queued == s->total)
        bufferevent_setwatermark(bev, EV_WRITE, 0, 0); /* next callback: fully flushed */
}

static void on_sender_event(struct bufferevent *bev, short what, void *arg)
{
    struct sender *s = arg;
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
        /* the peer finished sending (nc -N does at once); it may still read */
        bufferevent_disable(bev, EV_READ);
        return;
    }
    log_ms("write: %s went away after %ld of %ld bytes were queued", s->peer, s->queued, s->total);
    sender_free(s);
}

static void on_sender_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                             int salen, void *arg)
{
    (void)l;
    (void)salen;
    struct app *app = arg;
    struct sender *s = calloc(1, sizeof *s);
    struct bufferevent *bev =
        s ? bufferevent_socket_new(app->base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
    if (!bev) {
        evutil_closesocket(fd);
        free(s);
        return;
    }
    s->app = app;
    s->bev = bev;
    s->next = app->senders;
    if (s->next)
        s->next->prev = s;
    app->senders = s;
    s->total = app->opt->bytes;
    s->chunk = app->opt->chunk;
    format_addr(sa, s->peer, sizeof s->peer);
    log_ms("write: %s connected: sending %ld bytes, %ld per refill, write low %ld", s->peer,
           s->total, s->chunk, app->opt->write_low);
    bufferevent_setcb(bev, NULL, on_sender_write, on_sender_event, s);
    bufferevent_setwatermark(bev, EV_WRITE, (size_t)app->opt->write_low, 0);
    bufferevent_enable(bev, EV_READ | EV_WRITE); /* EV_READ: to notice a close */
    long first = s->total < s->chunk ? s->total : s->chunk;
    add_payload(s, first); /* the first chunk; every other one from on_sender_write */
    if (s->queued == s->total)
        bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
}

/* ======== --demo relay: producer -> relay -> consumer, with backpressure === */

struct relay {
    struct app *app;
    struct evconnlistener *producer_listener;
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
    event_base_loopexit(r->app->base, NULL);
}

/* Producer data: move it to the consumer (no copy), then check the level. */
static void on_producer_read(struct bufferevent *bev, void *arg)
{
    struct relay *r = arg;
    struct evbuffer *input = bufferevent_get_input(bev);
    r->relayed += evbuffer_get_length(input);
    evbuffer_add_buffer(bufferevent_get_output(r->consumer), input);
    trace_point(r);
    if (r->app->opt->backpressure && buffered(r) >= (size_t)r->app->opt->relay_high)
        set_reading(r, 0); /* consumer is behind: stop taking more */
}

/* The consumer's output drained to the low watermark: take more again. */
static void on_consumer_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    struct relay *r = arg;
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
    (void)bev;
    struct relay *r = arg;
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
    (void)bev;
    (void)what;
    struct relay *r = arg;
    log_ms("relay: consumer went away with %zu bytes still buffered", buffered(r));
    relay_finish(r);
}

static void on_trace_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    trace_point(arg);
}

/* Start relaying once both sides are here. */
static void relay_maybe_start(struct relay *r)
{
    if (!r->producer || !r->consumer)
        return;
    log_ms("relay: both connected; backpressure %s (high %ld, low %ld); one read is at most "
           "%ld bytes",
           r->app->opt->backpressure ? "on" : "off", r->app->opt->relay_high,
           r->app->opt->relay_low, (long)bufferevent_get_max_single_read(r->producer));
    bufferevent_setcb(r->producer, on_producer_read, NULL, on_producer_event, r);
    bufferevent_setcb(r->consumer, NULL, on_consumer_write, on_consumer_event, r);
    /* write low: on_consumer_write runs when the consumer's output drains to it */
    bufferevent_setwatermark(r->consumer, EV_WRITE, (size_t)r->app->opt->relay_low, 0);
    bufferevent_enable(r->consumer, EV_READ | EV_WRITE);
    r->reading = 0;
    set_reading(r, 1);
    struct timeval tv = ms_to_timeval(TRACE_INTERVAL_MS);
    event_add(r->trace_timer, &tv);
}

static struct bufferevent *accept_side(struct relay *r, evutil_socket_t fd, struct sockaddr *sa,
                                       const char *role)
{
    char peer[ADDR_STRLEN];
    struct bufferevent *bev = bufferevent_socket_new(r->app->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
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
    struct relay *r = arg;
    evconnlistener_disable(l); /* one consumer per run */
    r->consumer = accept_side(r, fd, sa, "consumer");
    relay_maybe_start(r);
}

static void on_producer_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                               int salen, void *arg)
{
    (void)salen;
    struct relay *r = arg;
    evconnlistener_disable(l); /* one producer per run */
    r->producer = accept_side(r, fd, sa, "producer");
    relay_maybe_start(r);
}

static int run_relay(struct app *app)
{
    struct relay r = {.app = app};
    if (app->opt->trace_path) {
        r.trace = fopen(app->opt->trace_path, "w");
        if (!r.trace) {
            warnx_msg("--trace: cannot write %s", app->opt->trace_path);
            return EXIT_USAGE;
        }
        fprintf(r.trace, "ms,buffered,reading\n");
    }
    struct sockaddr_in psin = app->opt->sin;
    psin.sin_port = htons((unsigned short)app->opt->producer_port);
    r.producer_listener = evconnlistener_new_bind(app->base, on_producer_accept, &r,
                                                  LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, -1,
                                                  (struct sockaddr *)&psin, sizeof psin);
    if (!r.producer_listener) {
        warnx_msg("cannot listen for the producer on port %d: %s", app->opt->producer_port,
                  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        if (r.trace)
            fclose(r.trace);
        return EXIT_RUNTIME;
    }
    evconnlistener_set_cb(app->listener, on_consumer_accept, &r);
    r.trace_timer = event_new(app->base, -1, EV_PERSIST, on_trace_timer, &r);
    char addr[ADDR_STRLEN];
    printf("producers connect to %s\n",
           format_local_addr(evconnlistener_get_fd(r.producer_listener), addr, sizeof addr));
    printf("listening on %s\n",
           format_local_addr(evconnlistener_get_fd(app->listener), addr, sizeof addr));

    event_base_dispatch(app->base);

    printf("peak buffered: %zu bytes\n", r.peak);
    event_free(r.trace_timer);
    if (r.producer)
        bufferevent_free(r.producer);
    if (r.consumer)
        bufferevent_free(r.consumer);
    evconnlistener_free(r.producer_listener);
    if (r.trace)
        fclose(r.trace);
    return EXIT_CLEAN;
}

/* ======== command line and main ============================================ */

static void usage(void)
{
    printf("usage: %s --demo read|write|relay [options]\n"
           "  common:  --host ADDR (default 127.0.0.1)  --port PORT (default %d, 0 = any)\n"
           "  read:    --low L --high H          read watermarks (default 0 0)\n"
           "           --consume N|all           bytes to drain per callback (default all)\n"
           "           --consume-delay MS        drain that long after each callback\n"
           "  write:   --bytes N                 payload size (default %d)\n"
           "           --chunk N                 bytes added per refill (default %d)\n"
           "           --write-low L             write low watermark (default 0)\n"
           "  relay:   --producer-port PORT      where the producer connects (default 0)\n"
           "           --high H --low L          pause the producer at H buffered bytes,\n"
           "                                     resume at L (default %d, %d)\n"
           "           --no-backpressure         never pause the producer\n"
           "           --trace FILE              CSV: ms,buffered,reading\n",
           prog_name(), DEFAULT_PORT, DEFAULT_WRITE_BYTES, DEFAULT_CHUNK, DEFAULT_RELAY_HIGH,
           DEFAULT_RELAY_LOW);
}

static void parse_args(int argc, char **argv, struct options *o)
{
    static const struct option options[] = {
        {"demo", required_argument, NULL, 'd'},
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"low", required_argument, NULL, 'l'},
        {"high", required_argument, NULL, 'h' + 256},
        {"consume", required_argument, NULL, 'c'},
        {"consume-delay", required_argument, NULL, 'C'},
        {"bytes", required_argument, NULL, 'b'},
        {"chunk", required_argument, NULL, 'k'},
        {"write-low", required_argument, NULL, 'w'},
        {"producer-port", required_argument, NULL, 'P'},
        {"no-backpressure", no_argument, NULL, 'n'},
        {"trace", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *host = "127.0.0.1";
    int port = DEFAULT_PORT;
    long low = -1, high = -1; /* read demo: watermarks; relay demo: pause/resume */
    *o = (struct options){.demo = NULL,
                          .consume = CONSUME_ALL,
                          .bytes = DEFAULT_WRITE_BYTES,
                          .chunk = DEFAULT_CHUNK,
                          .backpressure = 1};
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'd': o->demo = optarg; break;
        case 'H': host = optarg; break;
        case 'p': port = parse_port_option("--port", optarg); break;
        case 'l': low = parse_long_option("--low", optarg, 0, 1L << 30); break;
        case 'h' + 256: high = parse_long_option("--high", optarg, 0, 1L << 30); break;
        case 'c':
            o->consume = strcmp(optarg, "all") == 0
                             ? CONSUME_ALL
                             : parse_long_option("--consume", optarg, 0, 1L << 30);
            break;
        case 'C':
            o->consume_delay_ms = parse_long_option("--consume-delay", optarg, 0, 3600000);
            break;
        case 'b': o->bytes = parse_long_option("--bytes", optarg, 1, 1L << 34); break;
        case 'k': o->chunk = parse_long_option("--chunk", optarg, 1, 1L << 30); break;
        case 'w': o->write_low = parse_long_option("--write-low", optarg, 0, 1L << 30); break;
        case 'P': o->producer_port = parse_port_option("--producer-port", optarg); break;
        case 'n': o->backpressure = 0; break;
        case 't': o->trace_path = optarg; break;
        case 'h': usage(); exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (!o->demo)
        usage_error("--demo is required: read, write or relay");
    if (strcmp(o->demo, "read") == 0) {
        o->low = low < 0 ? 0 : low;
        o->high = high < 0 ? 0 : high;
        if (o->high != 0 && o->low > o->high)
            usage_error("--low %ld is above --high %ld", o->low, o->high);
    } else if (strcmp(o->demo, "relay") == 0) {
        o->relay_low = low < 0 ? DEFAULT_RELAY_LOW : low;
        o->relay_high = high < 0 ? DEFAULT_RELAY_HIGH : high;
        if (o->relay_high == 0 || o->relay_low >= o->relay_high)
            usage_error("relay needs 0 <= --low < --high (got %ld, %ld)", o->relay_low,
                        o->relay_high);
    } else if (strcmp(o->demo, "write") != 0) {
        usage_error("--demo: unknown demo '%s' (read, write, relay)", o->demo);
    }
    parse_ipv4_option(&o->sin, "--host", host, port);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    log_ms("caught %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    event_base_loopexit(arg, NULL);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct options o;
    parse_args(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN); /* a vanished peer must not kill us (chapter 4) */

    struct app app = {.opt = &o};
    app.base = event_base_new();
    if (!app.base) {
        warnx_msg("cannot create an event base");
        return EXIT_RUNTIME;
    }
    evconnlistener_cb on_accept = strcmp(o.demo, "read") == 0    ? on_reader_accept
                                  : strcmp(o.demo, "write") == 0 ? on_sender_accept
                                                                 : NULL;
    app.listener = evconnlistener_new_bind(app.base, on_accept, &app,
                                           LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, -1,
                                           (struct sockaddr *)&o.sin, sizeof o.sin);
    if (!app.listener) {
        char want[ADDR_STRLEN];
        warnx_msg("cannot listen on %s: %s",
                  format_addr((struct sockaddr *)&o.sin, want, sizeof want),
                  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        event_base_free(app.base);
        return EXIT_RUNTIME;
    }
    evconnlistener_set_error_cb(app.listener, pause_accepting_after_error); /* EMFILE: ch. 1 */
    app.on_sigint = evsignal_new(app.base, SIGINT, on_signal, app.base);
    app.on_sigterm = evsignal_new(app.base, SIGTERM, on_signal, app.base);
    evsignal_add(app.on_sigint, NULL);
    evsignal_add(app.on_sigterm, NULL);

    int status = EXIT_CLEAN;
    if (on_accept) {
        char bound[ADDR_STRLEN];
        printf("listening on %s\n",
               format_local_addr(evconnlistener_get_fd(app.listener), bound, sizeof bound));
        event_base_dispatch(app.base);
    } else {
        status = run_relay(&app);
    }

    for (struct reader *r = app.readers, *next; r; r = next) {
        next = r->next;
        reader_free(r);
    }
    for (struct sender *s = app.senders, *next; s; s = next) {
        next = s->next;
        sender_free(s);
    }
    event_free(app.on_sigterm);
    event_free(app.on_sigint);
    evconnlistener_free(app.listener);
    event_base_free(app.base);
    libevent_global_shutdown();
    return status;
}
