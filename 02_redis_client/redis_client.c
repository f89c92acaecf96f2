/*
 * 02_redis_client/redis_client.c — chapter 2: a client that talks to Redis
 * through a bufferevent. The notes' ev_connectfd.c, fixed, then grown up.
 *
 * What it teaches: the *client* side of register → detect → dispatch. We
 * register a connect (bufferevent_socket_connect), epoll detects when it
 * completes, and libevent dispatches BEV_EVENT_CONNECTED (or ERROR, or
 * TIMEOUT) to on_event. Then replies arrive in pieces, in on_read_lines or
 * on_read_replies, and we must reassemble them: a read callback gets "some
 * bytes", never "one reply". A host name may resolve to several addresses
 * (localhost: ::1 and 127.0.0.1); like redis-cli we try each in turn.
 * RESP encoding and redis-cli-style printing live in resp.c.
 *
 * Run it:
 *   make chapter2                          the notes' demo: connect, PING, PONG
 *   build/02_redis_client/redis_client SET k v   any command, printed like redis-cli
 *   printf 'INCR n\nGET n\n' | build/02_redis_client/redis_client --pipe
 *   build/02_redis_client/redis_client --bench 100000 --pipeline 16
 *
 * Watch for: the default run reads replies line by line with evbuffer_readln,
 * as the notes did — fine for "+PONG", wrong for bulk strings and arrays. Every
 * other mode feeds hiredis's redisReader from the input evbuffer instead.
 * Read docs/02-redis-client.md beside this file.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h> /* notes' bug: <event.h> was not enough here either */
#include <event2/event.h>
#include <event2/util.h>
#include <hiredis/hiredis.h>

#include "common.h"
#include "resp.h"
#include "trace.h"

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 6379
#define NOTES_PING "*1\r\n$4\r\nPING\r\n" /* PING as a RESP array of one bulk string */
#define PORT_STRLEN 8

enum mode {
    MODE_NOTES,   /* no command given: the notes' PING, read with evbuffer_readln */
    MODE_COMMAND, /* one command from the command line */
    MODE_PIPE,    /* many commands from stdin, all sent before the first reply */
    MODE_BENCH    /* N PINGs, P in flight */
};

struct client {
    struct event_base *base;
    struct bufferevent *bev;
    redisReader *reader;
    struct evbuffer *requests; /* encoded commands, sent once connected */
    enum mode mode;
    int raw; /* --raw: bulk strings printed as they are */
    int connected;
    long expected; /* replies we wait for */
    long received;
    long pipeline;   /* MODE_BENCH: PINGs kept in flight */
    long bench_sent; /* MODE_BENCH: PINGs written so far */
    double bench_started_ms;
    long timeout_ms;
    struct evutil_addrinfo *addrs;     /* every address the host resolved to */
    struct evutil_addrinfo *next_addr; /* the one to try if this connect fails */
    int tried;                         /* addresses tried so far */
    char target[ADDR_STRLEN + 256];    /* "host:port", for messages */
    int exit_code;
};

/* ---- the event loop side ------------------------------------------------- */

static void finish(struct client *c, int exit_code)
{
    c->exit_code = exit_code;
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    /* notes' bug: EVLOOP_NO_EXIT_ON_EMPTY kept the loop alive forever; we end it
     * explicitly as soon as the work is done or has failed. */
    event_base_loopexit(c->base, NULL);
}

/* region: queue_pings */
/* Send up to HOW_MANY more PINGs. A bufferevent never writes at once: new
 * output makes it ask epoll for writability (epoll_ctl), wait for it
 * (epoll_wait), write, then stop asking (epoll_ctl) — three system calls of
 * the seven a bufferevent spends on each request at pipeline 1. The socket
 * almost always has room, so when nothing is queued before these PINGs we
 * write them to it ourselves; only what the kernel does not take goes
 * through the bufferevent (its write errors then reach on_event). */
static void queue_pings(struct client *c, long how_many)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    for (long i = 0; i < how_many && c->bench_sent < c->expected; i++, c->bench_sent++)
        evbuffer_add(c->requests, NOTES_PING, strlen(NOTES_PING));
    if (evbuffer_get_length(out) == 0) /* else the order would change */
        evbuffer_write(c->requests, bufferevent_getfd(c->bev));
    bufferevent_write_buffer(c->bev, c->requests); /* the rest, if any */
}
/* endregion */

/* The notes' way: one line at a time. Enough for "+PONG\r\n" — a status reply
 * is one line — but not for "$5\r\nhello\r\n" or arrays, whose payload spans
 * lines and may itself contain "\r\n". */
static void on_read_lines(struct bufferevent *bev, void *ctx)
{
    struct client *c = ctx;
    trace_dispatch(bufferevent_getfd(bev), "read", "on_read_lines");
    struct evbuffer *input = bufferevent_get_input(bev);
    char *line;
    /* notes' bug: one readln per callback; a callback may hold several lines */
    while ((line = evbuffer_readln(input, NULL, EVBUFFER_EOL_CRLF_STRICT)) != NULL) {
        /* "+PONG": the first byte is RESP's type marker, not part of the message */
        printf("recv redis message %s\n", line[0] == '+' ? line + 1 : line);
        free(line); /* notes' bug: readln's result is malloc'd and was leaked */
        if (++c->received == c->expected) {
            finish(c, EXIT_CLEAN);
            return;
        }
    }
    /* NULL: no complete line yet. The rest arrives in a later callback. */
}

/* Hand every byte of the input evbuffer to hiredis's parser. The evbuffer may
 * be several chunks: peek at them one by one instead of copying it flat. */
static int feed_reader(redisReader *reader, struct evbuffer *input)
{
    struct evbuffer_iovec chunk;
    while (evbuffer_get_length(input) > 0) {
        evbuffer_peek(input, -1, NULL, &chunk, 1);
        if (redisReaderFeed(reader, chunk.iov_base, chunk.iov_len) != REDIS_OK)
            return -1;
        evbuffer_drain(input, chunk.iov_len);
    }
    return 0;
}

/* region: on_read_replies */
static void on_read_replies(struct bufferevent *bev, void *ctx)
{
    struct client *c = ctx;
    trace_dispatch(bufferevent_getfd(bev), "read", "on_read_replies");
    if (feed_reader(c->reader, bufferevent_get_input(bev)) != 0) {
        warnx_msg("protocol error from %s: %s", c->target, c->reader->errstr);
        finish(c, EXIT_RUNTIME);
        return;
    }
    long got = 0;
    void *reply;
    /* One read may complete many replies, or none: half a reply stays inside
     * the reader until the next callback brings the rest. */
    while (c->received < c->expected) {
        if (redisReaderGetReply(c->reader, &reply) != REDIS_OK) {
            warnx_msg("protocol error from %s: %s", c->target, c->reader->errstr);
            finish(c, EXIT_RUNTIME);
            return;
        }
        if (!reply)
            break;
        if (c->mode != MODE_BENCH) { /* --bench's reader builds no objects */
            print_reply(reply, c->raw);
            freeReplyObject(reply);
        }
        c->received++;
        got++;
    }
    if (c->mode == MODE_BENCH)
        queue_pings(c, got); /* keep the pipeline full: one new PING per reply */
    if (c->received == c->expected) {
        if (c->mode == MODE_BENCH) {
            double secs = (elapsed_ms() - c->bench_started_ms) / 1000.0;
            printf("PING: %.0f requests per second (%ld requests, %.3f s)\n",
                   (double)c->expected / secs, c->expected, secs);
        }
        finish(c, EXIT_CLEAN);
    }
}
/* endregion */

static void on_event(struct bufferevent *bev, short what, void *ctx);

/* A bufferevent for one connect attempt, callbacks set and reading enabled
 * before it connects; NULL after saying why. */
static struct bufferevent *client_bufferevent(struct client *c)
{
    struct bufferevent *bev = bufferevent_socket_new(c->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        warnx_msg("cannot create a bufferevent: out of memory");
        return NULL;
    }
    /* notes' bug: the callbacks were set after connecting. An immediate
     * failure would be reported before anyone was listening for it. */
    bufferevent_setcb(bev, c->mode == MODE_NOTES ? on_read_lines : on_read_replies, NULL, on_event,
                      c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    if (c->timeout_ms) {
        struct timeval tv = ms_to_timeval(c->timeout_ms);
        /* While connecting the write timeout counts (connect waits for
         * writability); afterwards the read timeout bounds each wait for a reply. */
        bufferevent_set_timeouts(bev, &tv, &tv);
    }
    return bev;
}

/* Start a connect to the next address the host resolved to. Like redis-cli,
 * a host is every one of its addresses: "localhost" may be ::1 first, where
 * nothing listens, then 127.0.0.1. Each attempt gets a fresh bufferevent (a
 * socket whose connect failed cannot be reused). Returns 0 once a connect is
 * under way — its outcome comes to on_event — or -1 when none is left. */
static int connect_next(struct client *c)
{
    while (c->next_addr) {
        struct evutil_addrinfo *ai = c->next_addr;
        c->next_addr = ai->ai_next;
        c->tried++;
        if (c->bev)
            bufferevent_free(c->bev);
        c->bev = client_bufferevent(c);
        if (!c->bev)
            return -1;
        if (bufferevent_socket_connect(c->bev, ai->ai_addr, (int)ai->ai_addrlen) == 0)
            return 0;
    }
    return -1;
}

/* Every address of --host, in the order getaddrinfo prefers (a numeric
 * address is one). With no evdns_base this is a plain blocking lookup — fine
 * for a one-shot client. Returns 0, or a getaddrinfo error code. */
static int resolve(struct client *c, const char *host, int port)
{
    char service[PORT_STRLEN];
    snprintf(service, sizeof service, "%d", port);
    struct evutil_addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC; /* IPv4 and IPv6 */
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    int err = evutil_getaddrinfo(host, service, &hints, &c->addrs);
    c->next_addr = c->addrs;
    return err;
}

static void report_connect_failure(const struct client *c, const char *why)
{
    if (c->tried > 1)
        warnx_msg("cannot connect to %s (%d addresses tried): %s", c->target, c->tried, why);
    else
        warnx_msg("cannot connect to %s: %s", c->target, why);
}

static void on_connected(struct client *c)
{
    c->connected = 1;
    if (c->mode == MODE_NOTES)
        printf("connect redis success\n");
    if (c->mode == MODE_BENCH) {
        c->bench_started_ms = elapsed_ms();
        queue_pings(c, c->pipeline);
    } else {
        bufferevent_write_buffer(c->bev, c->requests);
    }
    /* Replies arrive in on_read_lines or on_read_replies, enabled before connecting. */
}

static void on_event(struct bufferevent *bev, short what, void *ctx)
{
    struct client *c = ctx;
    trace_dispatch(bufferevent_getfd(bev), "event", "on_event");
    if (what & BEV_EVENT_CONNECTED) {
        on_connected(c);
        return;
    }
    const char *why = evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR());
    if (what & BEV_EVENT_TIMEOUT) {
        if (!c->connected && connect_next(c) == 0)
            return; /* too slow; the next address is being tried */
        warnx_msg("timed out after %ld ms waiting for %s %s", c->timeout_ms, c->target,
                  c->connected ? "to reply" : "to accept the connection");
    } else if (!c->connected) {
        if (connect_next(c) == 0)
            return; /* this address failed; the next one is being tried */
        /* notes' bug: "connection error" without the cause or a newline */
        report_connect_failure(c, why);
    } else if (what & BEV_EVENT_EOF) {
        warnx_msg("%s closed the connection after %ld of %ld replies", c->target, c->received,
                  c->expected);
    } else {
        warnx_msg("connection to %s failed after %ld of %ld replies: %s", c->target, c->received,
                  c->expected, why);
    }
    finish(c, EXIT_RUNTIME);
}

/* ---- command line -------------------------------------------------------- */

struct options {
    const char *host;
    int port;
    long timeout_ms;
    long bench;
    long pipeline;
    int pipe;
    int raw;
    int trace; /* --trace: each register/detect/dispatch step on stderr */
};

static void usage(void)
{
    printf("usage: %s [options] [COMMAND [ARG...]]\n"
           "  With no command: connect, PING, print the reply as the notes did.\n"
           "  With a command: send it, print the reply like redis-cli.\n"
           "  --host HOST      Redis host name or address (default %s)\n"
           "  --port PORT      Redis port (default %d)\n"
           "  --pipe           read commands from stdin, one per line, and pipeline them\n"
           "  --raw            print bulk strings as raw bytes, without quotes\n"
           "  --timeout MS     give up when connecting or a reply takes longer than MS\n"
           "  --bench N        send N PINGs, keeping --pipeline P in flight; print req/s\n"
           "  --pipeline P     PINGs in flight for --bench (default 1)\n"
           "  --trace          print each register/detect/dispatch step on stderr\n"
           "  --help           show this help\n",
           prog_name(), DEFAULT_HOST, DEFAULT_PORT);
}

static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option options[] = {
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"timeout", required_argument, NULL, 't'},
        {"bench", required_argument, NULL, 'b'},
        {"pipeline", required_argument, NULL, 'P'},
        {"pipe", no_argument, NULL, 'i'},
        {"raw", no_argument, NULL, 'r'},
        {"trace", no_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct options){.host = DEFAULT_HOST, .port = DEFAULT_PORT, .pipeline = 1};
    int opt;
    /* "+": stop at the first non-option, so "SET k --raw" sends "--raw" as a value */
    while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
        switch (opt) {
        case 'H': o->host = optarg; break;
        case 'p': o->port = parse_port_option("--port", optarg); break;
        case 't': o->timeout_ms = parse_long_option("--timeout", optarg, 1, 86400000); break;
        case 'b': o->bench = parse_long_option("--bench", optarg, 1, 1000000000); break;
        case 'P': o->pipeline = parse_long_option("--pipeline", optarg, 1, 100000); break;
        case 'i': o->pipe = 1; break;
        case 'r': o->raw = 1; break;
        case 'T': o->trace = 1; break;
        case 'h': usage(); exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (o->port == 0)
        usage_error("--port: 0 is not a port Redis can listen on");
    int has_command = optind < argc;
    if (o->pipe + (o->bench > 0) + has_command > 1)
        usage_error("give only one of: a command, --pipe, --bench");
    return optind;
}

/* ---- main ---------------------------------------------------------------- */

/* What to send, encoded before we even connect; sets mode and expected. */
static void prepare_requests(struct client *c, const struct options *o, int argc, char **argv,
                             int first_arg)
{
    if (o->bench) {
        c->mode = MODE_BENCH;
        c->expected = o->bench;
        c->pipeline = o->pipeline; /* PINGs are queued as replies arrive */
        /* Only counted, never printed: without reply functions hiredis
         * parses each reply but allocates nothing for it (redisReaderGetReply
         * hands back a non-NULL marker), saving a malloc and free per reply. */
        c->reader->fn = NULL;
    } else if (o->pipe) {
        c->mode = MODE_PIPE;
        c->expected = encode_stdin(c->requests);
    } else if (first_arg < argc) {
        c->mode = MODE_COMMAND;
        struct args a = {0};
        for (int i = first_arg; i < argc; i++)
            args_push(&a, argv[i], strlen(argv[i]));
        encode_command(c->requests, &a);
        args_free(&a);
        c->expected = 1;
    } else {
        c->mode = MODE_NOTES;
        evbuffer_add(c->requests, NOTES_PING, strlen(NOTES_PING));
        c->expected = 1;
    }
}

/* Resolve, start the first connect, run the loop; the exit code. */
static int run(struct client *c, const struct options *o)
{
    int gai_err = resolve(c, o->host, o->port);
    if (gai_err != 0) {
        report_connect_failure(c, evutil_gai_strerror(gai_err));
        return EXIT_RUNTIME;
    }
    /* notes' bug: the connect's result was not checked */
    if (connect_next(c) != 0) {
        report_connect_failure(c, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        return EXIT_RUNTIME;
    }
    event_base_dispatch(c->base);
    return c->exit_code;
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct options opt;
    int first_arg = parse_args(argc, argv, &opt);

    struct client c = {.raw = opt.raw, .timeout_ms = opt.timeout_ms};
    snprintf(c.target, sizeof c.target, "%s:%d", opt.host, opt.port);
    c.requests = evbuffer_new();
    c.reader = redisReaderCreate();
    trace_wire(opt.trace); /* --trace: register, detect, dispatch lines */
    c.base = event_base_new();
    if (!c.requests || !c.reader || !c.base) {
        warnx_msg("cannot create the request buffer, reply reader and event base: out of memory");
        return EXIT_RUNTIME;
    }
    prepare_requests(&c, &opt, argc, argv, first_arg);

    /* --pipe with empty input: nothing to send, nothing to wait for */
    int status = c.expected == 0 ? EXIT_CLEAN : run(&c, &opt);

    if (c.bev)
        bufferevent_free(c.bev);
    if (c.addrs)
        evutil_freeaddrinfo(c.addrs);
    event_base_free(c.base);
    redisReaderFree(c.reader);
    evbuffer_free(c.requests);
    libevent_global_shutdown();
    return status;
}
