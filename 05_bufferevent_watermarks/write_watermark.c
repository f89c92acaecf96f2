/*
 * 05_bufferevent_watermarks/write_watermark.c — chapter 5: the write low
 * watermark, made visible.
 *
 * The rule (libevent 2.1, socket bufferevents): the write callback runs when a
 * write leaves the output at <= the write low watermark (0: fully flushed).
 * It is a "running low, refill me" callback, not "you may write now". The
 * write high watermark is unused by socket bufferevents (only by filters).
 *
 * Each client gets --bytes of a repeating pattern, --chunk bytes at a time:
 * the first chunk when it connects, every other one from the write callback.
 *
 * Run it:  build/05_bufferevent_watermarks/write_watermark --port 8085 --bytes 16777216
 *              --chunk 65536 --write-low 16384
 *          then: nc 127.0.0.1 8085 | pv >/dev/null   (or > file)
 *
 * Watch for: "write: callback N: output L bytes; refilling C" — L is never
 * above --write-low. Read docs/05-watermarks.md beside this file.
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
#define DEFAULT_WRITE_BYTES (1024 * 1024)
#define DEFAULT_CHUNK (16 * 1024)
#define MAX_WATERMARK (1L << 30)
#define MAX_WRITE_BYTES (1L << 34)
#define FILL_BLOCK 4096
/* The payload repeats this; tests rebuild it to compare checksums. */
static const char PATTERN[] = "abcdefghijklmnopqrstuvwxyz0123456789";

struct options {
    struct sockaddr_in sin;
    /* --trace, --backend */
    struct server_config server;
    long bytes, chunk, write_low;
};

struct sender {
    struct bufferevent *bev;
    long total, queued, callbacks, chunk;
    char peer[ADDR_STRLEN];
    LIST_ENTRY(sender) link;
};

LIST_HEAD(sender_list, sender);

struct write_demo {
    struct server srv; /* base, listener, signals: common/server.h */
    const struct options *opt;
    struct sender_list senders; /* open connections, freed at exit */
};

static void add_payload(struct sender *s, long n)
{
    struct evbuffer *out = bufferevent_get_output(s->bev);
    char block[FILL_BLOCK];
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

/* Queue the next chunk; after the last one, ask to be told when all is out. */
static void refill(struct sender *s)
{
    long left = s->total - s->queued;
    add_payload(s, left < s->chunk ? left : s->chunk);
    if (s->queued == s->total)
        bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0); /* next callback: fully flushed */
}

static void sender_free(struct sender *s)
{
    LIST_REMOVE(s, link);
    bufferevent_free(s->bev);
    free(s);
}

/* The senders still connected, then the server; safe on a half-made demo. */
static void write_demo_close(struct write_demo *demo)
{
    /* next is read before sender_free(s) frees s */
    for (struct sender *s = LIST_FIRST(&demo->senders), *next; s; s = next) {
        next = LIST_NEXT(s, link);
        sender_free(s);
    }
    server_close(&demo->srv);
}

/* Runs when a write leaves the output at <= the write low watermark. */
static void on_sender_write(struct bufferevent *bev, void *arg)
{
    struct sender *s = arg;
    trace_dispatch(bufferevent_getfd(bev), "write", "on_sender_write");
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
    long left = s->total - s->queued;
    log_ms("write: callback %ld: output %zu bytes; refilling %ld", s->callbacks, len,
           left < s->chunk ? left : s->chunk);
    refill(s);
}

static void on_sender_event(struct bufferevent *bev, short what, void *arg)
{
    struct sender *s = arg;
    trace_dispatch(bufferevent_getfd(bev), "event", "on_sender_event");
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
    (void)salen;
    trace_dispatch(evconnlistener_get_fd(l), "accept", "on_sender_accept");
    struct write_demo *demo = arg;
    const struct options *o = demo->opt;
    struct sender *s = calloc(1, sizeof *s);
    struct bufferevent *bev =
        s ? bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
    if (!bev) {
        warnx_msg("dropping a connection: cannot create its bufferevent: out of memory");
        evutil_closesocket(fd);
        free(s);
        return;
    }
    s->bev = bev;
    s->total = o->bytes;
    s->chunk = o->chunk;
    format_addr(sa, s->peer, sizeof s->peer);
    LIST_INSERT_HEAD(&demo->senders, s, link);
    log_ms("write: %s connected: sending %ld bytes, %ld per refill, write low %ld", s->peer,
           s->total, s->chunk, o->write_low);
    bufferevent_setcb(bev, NULL, on_sender_write, on_sender_event, s);
    /* The point of the chapter, in one call: */
    bufferevent_setwatermark(bev, EV_WRITE, (size_t)o->write_low, 0);
    bufferevent_enable(bev, EV_READ | EV_WRITE); /* EV_READ: to notice a close */
    refill(s); /* the first chunk; every other one from on_sender_write */
}

/* common's server (base, signals) with a listener whose clients go to on_sender_accept */
static int write_demo_open(struct write_demo *demo, const struct options *o)
{
    *demo = (struct write_demo){.opt = o, .senders = LIST_HEAD_INITIALIZER(demo->senders)};
    if (server_open(&demo->srv, &o->server, NULL, demo) != 0)
        return -1;
    return server_listen(&demo->srv, &o->sin, on_sender_accept, demo);
}

/* ---- command line and main ----------------------------------------------- */

static void usage(void)
{
    printf("usage: %s [--bytes N] [--chunk N] [--write-low L] [--trace] [--backend NAME]\n"
           "  A server that sends each client N bytes, refilling from the write callback.\n"
           "  --bytes N         payload size (default %d)\n"
           "  --chunk N         bytes added per refill (default %d)\n"
           "  --write-low L     write low watermark (default 0)\n"
           "  --host ADDR       IPv4 address to listen on (default 127.0.0.1)\n"
           "  --port PORT       port, 0 = any free port (default %d)\n"
           "  --trace           print each register/detect/dispatch step on stderr\n"
           "  --backend NAME        epoll, poll or select (default: libevent's choice)\n"
           "  --help            show this help; SIGUSR2 prints what is registered\n",
           prog_name(), DEFAULT_WRITE_BYTES, DEFAULT_CHUNK, DEFAULT_PORT);
}

/* The demo's own options; the ones every server takes are server_args.h's. */
static void on_option(void *app, int opt, const char *arg)
{
    struct options *o = app;
    switch (opt) {
    case 'b': o->bytes = parse_long_option("--bytes", arg, 1, MAX_WRITE_BYTES); break;
    case 'k': o->chunk = parse_long_option("--chunk", arg, 1, MAX_WATERMARK); break;
    case 'w': o->write_low = parse_long_option("--write-low", arg, 0, MAX_WATERMARK); break;
    }
}

static void parse_args(int argc, char **argv, struct options *o)
{
    static const struct option own[] = {
        {"bytes", required_argument, NULL, 'b'},
        {"chunk", required_argument, NULL, 'k'},
        {"write-low", required_argument, NULL, 'w'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct options){.bytes = DEFAULT_WRITE_BYTES, .chunk = DEFAULT_CHUNK};
    struct server_args args = {.default_port = DEFAULT_PORT,
                               .listen_addr = &o->sin,
                               .loop = &o->server.loop,
                               .own = own,
                               .on_own = on_option,
                               .usage = usage,
                               .app = o};
    server_args_parse(&args, argc, argv);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct options o;
    parse_args(argc, argv, &o);

    struct write_demo demo;
    if (write_demo_open(&demo, &o) != 0) {
        write_demo_close(&demo);
        return EXIT_RUNTIME;
    }
    server_announce(&demo.srv);
    server_run(&demo.srv); /* until SIGINT/SIGTERM */
    write_demo_close(&demo);
    return EXIT_CLEAN;
}
