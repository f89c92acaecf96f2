/*
 * 05_bufferevent_watermarks/read_watermarks.c — chapter 5: the read low and
 * high watermarks of a bufferevent, made visible.
 *
 * The exact rules (libevent 2.1, socket bufferevents):
 *   read low    the read callback runs only once the input holds >= low bytes
 *   read high   while the input holds >= high bytes libevent stops reading the
 *               socket; no callback says so. Reading resumes below high.
 * The server logs every read callback with the input's length, and consumes
 * (drains) --consume bytes per callback, or per --consume-delay MS, so you can
 * watch the input fill up to high and stop there.
 *
 * Run it:  make chapter5   (= --port 8085 --low 10 --high 64 --consume 16
 *                             --consume-delay 1000)
 *          then: telnet 127.0.0.1 8085 and type; watch the callbacks.
 *
 * Watch for: "read: callback N: input L bytes" and "input L >= high H".
 * The chapter's other programs: write_watermark.c, backpressure_relay.c.
 * Read docs/05-watermarks.md beside this file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common.h"
#include "server.h"
#include "server_args.h"

#define DEFAULT_PORT 8085
#define MAX_WATERMARK (1L << 30)
#define CONSUME_ALL (-1L)

struct options {
    struct sockaddr_in sin;
    /* --trace, --backend */
    struct server_config server;
    long low, high;        /* the read watermarks */
    long consume;          /* bytes drained per callback, or CONSUME_ALL */
    long consume_delay_ms; /* 0: drain in the callback itself */
};

struct reader {
    const struct options *opt;
    struct bufferevent *bev;
    struct event *consume_timer; /* --consume-delay */
    long callbacks;
    char peer[ADDR_STRLEN];
    LIST_ENTRY(reader) link;
};

LIST_HEAD(reader_list, reader);

struct read_demo {
    struct server srv; /* base, listener, signals: common/server.h */
    const struct options *opt;
    struct reader_list readers; /* open connections, freed at exit */
};

static void reader_free(struct reader *r)
{
    log_ms("read: %s closed after %ld read callbacks", r->peer, r->callbacks);
    LIST_REMOVE(r, link);
    event_free(r->consume_timer);
    bufferevent_free(r->bev);
    free(r);
}

/* The readers still connected, then the server; safe on a half-made demo. */
static void read_demo_close(struct read_demo *demo)
{
    /* next is read before reader_free(r) frees r */
    for (struct reader *r = LIST_FIRST(&demo->readers), *next; r; r = next) {
        next = LIST_NEXT(r, link);
        reader_free(r);
    }
    server_close(&demo->srv);
}

static void consume(struct reader *r)
{
    struct evbuffer *input = bufferevent_get_input(r->bev);
    size_t have = evbuffer_get_length(input);
    size_t take = r->opt->consume == CONSUME_ALL ? have : (size_t)r->opt->consume;
    if (take > have)
        take = have;
    evbuffer_drain(input, take);
    if (take > 0)
        log_ms("read: consumed %zu bytes, input now %zu bytes", take, evbuffer_get_length(input));
}

/* Paused while input >= high; reading resumes once we drained below it. */
/* region: pause_or_resume */
static void pause_or_resume(struct reader *r)
{
    long high = r->opt->high;
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
/* endregion */

static void arm_consume_timer(struct reader *r)
{
    struct timeval tv = ms_to_timeval(r->opt->consume_delay_ms);
    if (evtimer_add(r->consume_timer, &tv) != 0)
        warnx_msg("%s: cannot schedule consuming: evtimer_add failed", r->peer);
}

/* --consume-delay: consume one portion per delay while enough is buffered.
 * Data already in the input never triggers the read callback again: only a
 * read from the socket does. So the timer keeps going by itself. */
static void on_consume_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct reader *r = arg;
    trace_dispatch(fd, "timeout", "on_consume_timer");
    consume(r);
    size_t left = evbuffer_get_length(bufferevent_get_input(r->bev));
    if (left > 0 && left >= (size_t)r->opt->low)
        arm_consume_timer(r);
    pause_or_resume(r);
}

static void on_reader_read(struct bufferevent *bev, void *arg)
{
    struct reader *r = arg;
    trace_dispatch(bufferevent_getfd(bev), "read", "on_reader_read");
    r->callbacks++;
    log_ms("read: callback %ld: input %zu bytes", r->callbacks,
           evbuffer_get_length(bufferevent_get_input(bev)));
    if (r->opt->consume_delay_ms == 0)
        consume(r);
    else if (!evtimer_pending(r->consume_timer, NULL))
        arm_consume_timer(r);
    pause_or_resume(r);
}

static void on_reader_event(struct bufferevent *bev, short what, void *arg)
{
    (void)what;
    trace_dispatch(bufferevent_getfd(bev), "event", "on_reader_event");
    reader_free(arg);
}

static void on_reader_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                             int salen, void *arg)
{
    (void)salen;
    trace_dispatch(evconnlistener_get_fd(l), "accept", "on_reader_accept");
    struct read_demo *demo = arg;
    struct reader *r = calloc(1, sizeof *r);
    struct event_base *base = evconnlistener_get_base(l);
    struct bufferevent *bev = r ? bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
    struct event *timer = bev ? evtimer_new(base, on_consume_timer, r) : NULL;
    if (!timer) {
        warnx_msg("dropping a connection: cannot create its bufferevent and timer: out of memory");
        if (bev)
            bufferevent_free(bev);
        else
            evutil_closesocket(fd);
        free(r);
        return;
    }
    r->opt = demo->opt;
    r->bev = bev;
    r->consume_timer = timer;
    format_addr(sa, r->peer, sizeof r->peer);
    LIST_INSERT_HEAD(&demo->readers, r, link);
    log_ms("read: %s connected (read low %ld, high %ld)", r->peer, r->opt->low, r->opt->high);
    bufferevent_setcb(bev, on_reader_read, NULL, on_reader_event, r);
    /* The point of the chapter, in one call: */
    bufferevent_setwatermark(bev, EV_READ, (size_t)r->opt->low, (size_t)r->opt->high);
    bufferevent_enable(bev, EV_READ);
}

/* common's server (base, signals) with a listener whose clients go to on_reader_accept */
static int read_demo_open(struct read_demo *demo, const struct options *o)
{
    *demo = (struct read_demo){.opt = o, .readers = LIST_HEAD_INITIALIZER(demo->readers)};
    if (server_open(&demo->srv, &o->server, NULL, demo) != 0)
        return -1;
    return server_listen(&demo->srv, &o->sin, on_reader_accept, demo);
}

/* ---- command line and main ----------------------------------------------- */

static void usage(void)
{
    printf("usage: %s [--low L] [--high H] [--consume N|all] [--consume-delay MS]\n"
           "       [--trace] [--backend NAME]\n"
           "  A server that logs every read callback, to show the read watermarks.\n"
           "  --low L               read low watermark (default 0)\n"
           "  --high H              read high watermark, 0 = none (default 0)\n"
           "  --consume N|all       bytes to drain per callback (default all)\n"
           "  --consume-delay MS    drain that long after each callback (default 0)\n"
           "  --host ADDR           IPv4 address to listen on (default 127.0.0.1)\n"
           "  --port PORT           port, 0 = any free port (default %d)\n"
           "  --trace               print each register/detect/dispatch step on stderr\n"
           "  --backend NAME        epoll, poll or select (default: libevent's choice)\n"
           "  --help                show this help; SIGUSR2 prints what is registered\n",
           prog_name(), DEFAULT_PORT);
}

/* The demo's own options; the ones every server takes are server_args.h's. */
static void on_option(void *app, int opt, const char *arg)
{
    struct options *o = app;
    switch (opt) {
    case 'l': o->low = parse_long_option("--low", arg, 0, MAX_WATERMARK); break;
    case 'H': o->high = parse_long_option("--high", arg, 0, MAX_WATERMARK); break;
    case 'c':
        o->consume = strcmp(arg, "all") == 0
                         ? CONSUME_ALL
                         : parse_long_option("--consume", arg, 0, MAX_WATERMARK);
        break;
    case 'C': o->consume_delay_ms = parse_long_option("--consume-delay", arg, 0, 3600000); break;
    }
}

static void parse_args(int argc, char **argv, struct options *o)
{
    static const struct option own[] = {
        {"low", required_argument, NULL, 'l'},
        {"high", required_argument, NULL, 'H'},
        {"consume", required_argument, NULL, 'c'},
        {"consume-delay", required_argument, NULL, 'C'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct options){.consume = CONSUME_ALL};
    struct server_args args = {.default_port = DEFAULT_PORT,
                               .listen_addr = &o->sin,
                               .loop = &o->server.loop,
                               .own = own,
                               .on_own = on_option,
                               .usage = usage,
                               .app = o};
    server_args_parse(&args, argc, argv);
    if (o->high != 0 && o->low > o->high)
        usage_error("--low %ld is above --high %ld", o->low, o->high);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct options o;
    parse_args(argc, argv, &o);

    struct read_demo demo;
    int status = read_demo_open(&demo, &o) == 0 ? EXIT_CLEAN : EXIT_RUNTIME;
    if (status == EXIT_CLEAN) {
        server_announce(&demo.srv);
        server_run(&demo.srv); /* until SIGINT/SIGTERM */
    }
    read_demo_close(&demo);
    return status;
}
