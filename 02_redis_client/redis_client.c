/*
 * 02_redis_client/redis_client.c — chapter 2: a client that talks to Redis
 * through a bufferevent. The notes' ev_connectfd.c, fixed, then grown up.
 *
 * What it teaches: the *client* side of register → detect → dispatch. We
 * register a connect (bufferevent_socket_connect), epoll detects when it
 * completes, and libevent dispatches BEV_EVENT_CONNECTED (or ERROR, or
 * TIMEOUT) to on_event. Then replies arrive in pieces, in on_read, and we must
 * reassemble them: a read callback gets "some bytes", never "one reply".
 *
 * Run it:
 *   make chapter2                          the notes' demo: connect, PING, PONG
 *   02_redis_client/redis_client SET k v   any command, printed like redis-cli
 *   printf 'INCR n\nGET n\n' | 02_redis_client/redis_client --pipe
 *   02_redis_client/redis_client --bench 100000 --pipeline 16
 *
 * Watch for: the default run reads replies line by line with evbuffer_readln,
 * as the notes did — fine for "+PONG", wrong for bulk strings and arrays. Every
 * other mode feeds hiredis's redisReader from the input evbuffer instead.
 * Read docs/02-redis-client.md beside this file.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h> /* notes' bug: <event.h> was not enough here either */
#include <event2/event.h>
#include <event2/util.h>
#include <hiredis/hiredis.h>

#include "common.h"

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 6379
#define NOTES_PING "*1\r\n$4\r\nPING\r\n" /* PING as a RESP array of one bulk string */

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
    char target[ADDR_STRLEN + 256]; /* "host:port", for messages */
    int exit_code;
};

/* ---- RESP: encoding commands ------------------------------------------- */

struct args {
    char **v;
    size_t *len;
    size_t count, cap;
};

static void args_push(struct args *a, char *arg, size_t len)
{
    if (a->count == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 8;
        a->v = realloc(a->v, a->cap * sizeof *a->v);
        a->len = realloc(a->len, a->cap * sizeof *a->len);
        if (!a->v || !a->len) {
            warnx_msg("out of memory");
            exit(EXIT_RUNTIME);
        }
    }
    a->v[a->count] = arg;
    a->len[a->count] = len;
    a->count++;
}

/* A command is an array of bulk strings: "*<count>\r\n" then "$<len>\r\n<bytes>\r\n"
 * per argument. Lengths in front make it binary-safe: any byte may appear. */
static void encode_command(struct evbuffer *out, const struct args *a)
{
    evbuffer_add_printf(out, "*%zu\r\n", a->count);
    for (size_t i = 0; i < a->count; i++) {
        evbuffer_add_printf(out, "$%zu\r\n", a->len[i]);
        evbuffer_add(out, a->v[i], a->len[i]);
        evbuffer_add(out, "\r\n", 2);
    }
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Split one --pipe line into arguments, in place, the way redis-cli reads
 * its input: words split on blanks; "double quotes" group words and know the
 * escapes \n \r \t \" \\ \xHH (so NUL is "\x00"); 'single quotes' know only \'.
 * Returns 0, or -1 on unbalanced quotes. */
static int split_line(char *p, struct args *a)
{
    for (;;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            return 0;
        char *start = p, *w = p;
        char quote = '\0';
        if (*p == '"' || *p == '\'')
            quote = *p++;
        for (;;) {
            if (!*p) {
                if (quote)
                    return -1;
                break;
            }
            if (quote && *p == quote) {
                p++;
                if (*p && !isspace((unsigned char)*p))
                    return -1; /* "closing quote must be followed by a blank */
                break;
            }
            if (!quote && isspace((unsigned char)*p))
                break;
            if (quote == '"' && *p == '\\' && p[1]) {
                p++;
                int hi, lo;
                switch (*p) {
                case 'n': *w++ = '\n'; break;
                case 'r': *w++ = '\r'; break;
                case 't': *w++ = '\t'; break;
                case 'x':
                    hi = hex_value((unsigned char)p[1]);
                    lo = hi < 0 ? -1 : hex_value((unsigned char)p[2]);
                    if (lo < 0) {
                        *w++ = 'x';
                        break;
                    }
                    *w++ = (char)(hi * 16 + lo);
                    p += 2;
                    break;
                default: *w++ = *p; break;
                }
                p++;
                continue;
            }
            if (quote == '\'' && *p == '\\' && p[1] == '\'')
                p++;
            *w++ = *p++;
        }
        int at_end = (*p == '\0');
        args_push(a, start, (size_t)(w - start));
        if (at_end)
            return 0;
        p++; /* past the blank that ended the word */
    }
}

/* Read every stdin line and encode it; returns the number of commands. */
static long encode_stdin(struct evbuffer *out)
{
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0, commands = 0;
    struct args a = {0};
    while (getline(&line, &cap, stdin) != -1) {
        lineno++;
        a.count = 0;
        if (split_line(line, &a) != 0) {
            warnx_msg("stdin line %ld: unbalanced quotes", lineno);
            exit(EXIT_USAGE);
        }
        if (a.count == 0)
            continue; /* blank line */
        encode_command(out, &a);
        commands++;
    }
    free(line);
    free(a.v);
    free(a.len);
    return commands;
}

/* ---- RESP: printing replies the way redis-cli does ---------------------- */

static void print_quoted(const char *s, size_t len)
{
    putchar('"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '\\': fputs("\\\\", stdout); break;
        case '"': fputs("\\\"", stdout); break;
        case '\n': fputs("\\n", stdout); break;
        case '\r': fputs("\\r", stdout); break;
        case '\t': fputs("\\t", stdout); break;
        case '\a': fputs("\\a", stdout); break;
        case '\b': fputs("\\b", stdout); break;
        default:
            if (isprint(c))
                putchar(c);
            else
                printf("\\x%02x", c);
        }
    }
    putchar('"');
}

/* indent: the spaces that line up nested array elements under their parent */
static void print_reply(const redisReply *r, int raw, int indent)
{
    switch (r->type) {
    case REDIS_REPLY_STATUS: printf("%s\n", r->str); break;
    case REDIS_REPLY_ERROR: printf("(error) %s\n", r->str); break;
    case REDIS_REPLY_INTEGER: printf("(integer) %lld\n", r->integer); break;
    case REDIS_REPLY_NIL: printf("(nil)\n"); break;
    case REDIS_REPLY_STRING:
        if (raw)
            fwrite(r->str, 1, r->len, stdout);
        else
            print_quoted(r->str, r->len);
        putchar('\n');
        break;
    case REDIS_REPLY_ARRAY:
        if (r->elements == 0) {
            printf("(empty array)\n");
            break;
        }
        int width = snprintf(NULL, 0, "%zu", r->elements);
        for (size_t i = 0; i < r->elements; i++) {
            if (i > 0)
                printf("%*s", indent, "");
            printf("%*zu) ", width, i + 1);
            print_reply(r->element[i], raw, indent + width + 2);
        }
        break;
    default: printf("(unknown reply type %d)\n", r->type);
    }
}

/* ---- the event loop side ------------------------------------------------- */

static void finish(struct client *c, int exit_code)
{
    c->exit_code = exit_code;
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    /* notes' bug: EVLOOP_NO_EXIT_ON_EMPTY kept the loop alive forever; we end it
     * explicitly as soon as the work is done or has failed. */
    event_base_loopexit(c->base, NULL);
}

static void queue_pings(struct client *c, long how_many)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    for (long i = 0; i < how_many && c->bench_sent < c->expected; i++, c->bench_sent++)
        evbuffer_add(out, NOTES_PING, strlen(NOTES_PING));
}

/* The notes' way: one line at a time. Enough for "+PONG\r\n" — a status reply
 * is one line — but not for "$5\r\nhello\r\n" or arrays, whose payload spans
 * lines and may itself contain "\r\n". */
static void on_read_lines(struct bufferevent *bev, void *ctx)
{
    struct client *c = ctx;
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

static void on_read_replies(struct bufferevent *bev, void *ctx)
{
    struct client *c = ctx;
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
        if (c->mode != MODE_BENCH)
            print_reply(reply, c->raw, 0);
        freeReplyObject(reply);
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

static void on_event(struct bufferevent *bev, short what, void *ctx)
{
    struct client *c = ctx;
    if (what & BEV_EVENT_CONNECTED) {
        c->connected = 1;
        if (c->mode == MODE_NOTES)
            printf("connect redis success\n");
        if (c->mode == MODE_BENCH) {
            c->bench_started_ms = elapsed_ms();
            queue_pings(c, c->pipeline);
        } else {
            bufferevent_write_buffer(bev, c->requests);
        }
        /* Replies arrive in on_read. (notes' bug: "bufferevent_enabal" — the
         * real name is bufferevent_enable, called in main before connecting.) */
        return;
    }
    if (what & BEV_EVENT_TIMEOUT) {
        warnx_msg("timed out after %ld ms waiting for %s %s", c->timeout_ms, c->target,
                  c->connected ? "to reply" : "to accept the connection");
    } else if (!c->connected) {
        int dns_err = bufferevent_socket_get_dns_error(bev);
        /* notes' bug: "connection error" without the cause or a newline */
        warnx_msg("cannot connect to %s: %s", c->target,
                  dns_err ? evutil_gai_strerror(dns_err)
                          : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    } else if (what & BEV_EVENT_EOF) {
        warnx_msg("%s closed the connection after %ld of %ld replies", c->target, c->received,
                  c->expected);
    } else {
        warnx_msg("connection to %s failed after %ld of %ld replies: %s", c->target, c->received,
                  c->expected, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
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

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct options opt;
    int first_arg = parse_args(argc, argv, &opt);

    struct client c = {.raw = opt.raw, .timeout_ms = opt.timeout_ms};
    snprintf(c.target, sizeof c.target, "%s:%d", opt.host, opt.port);
    c.requests = evbuffer_new();
    c.reader = redisReaderCreate();
    if (!c.requests || !c.reader) {
        warnx_msg("out of memory");
        return EXIT_RUNTIME;
    }

    /* What to send, encoded before we even connect. */
    if (opt.bench) {
        c.mode = MODE_BENCH;
        c.expected = opt.bench;
        c.pipeline = opt.pipeline; /* PINGs are queued as replies arrive */
    } else if (opt.pipe) {
        c.mode = MODE_PIPE;
        c.expected = encode_stdin(c.requests);
    } else if (first_arg < argc) {
        c.mode = MODE_COMMAND;
        struct args a = {0};
        for (int i = first_arg; i < argc; i++)
            args_push(&a, argv[i], strlen(argv[i]));
        encode_command(c.requests, &a);
        free(a.v);
        free(a.len);
        c.expected = 1;
    } else {
        c.mode = MODE_NOTES;
        evbuffer_add(c.requests, NOTES_PING, strlen(NOTES_PING));
        c.expected = 1;
    }

    c.base = event_base_new();
    c.bev = bufferevent_socket_new(c.base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!c.base || !c.bev) {
        warnx_msg("cannot create the event base or bufferevent");
        return EXIT_RUNTIME;
    }
    /* notes' bug: the callbacks were set after connecting. An immediate
     * failure would be reported before anyone was listening for it. */
    bufferevent_setcb(c.bev, c.mode == MODE_NOTES ? on_read_lines : on_read_replies, NULL, on_event,
                      &c);
    bufferevent_enable(c.bev, EV_READ | EV_WRITE);
    if (opt.timeout_ms) {
        struct timeval tv = ms_to_timeval(opt.timeout_ms);
        /* While connecting the write timeout counts (connect waits for
         * writability); afterwards the read timeout bounds each wait for a reply. */
        bufferevent_set_timeouts(c.bev, &tv, &tv);
    }

    int started;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin); /* notes' bug: sin was used uninitialised */
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)opt.port);
    if (c.expected == 0) {
        started = 0; /* --pipe with empty input: nothing to do */
    } else if (inet_pton(AF_INET, opt.host, &sin.sin_addr) == 1) {
        /* An address: connect as the notes did ("struct sockad  dr_in" fixed). */
        started = bufferevent_socket_connect(c.bev, (struct sockaddr *)&sin, sizeof sin) == 0;
    } else {
        /* A name: libevent resolves it first. With no evdns_base (NULL) the
         * lookup is a plain blocking getaddrinfo — fine for a one-shot client. */
        started =
            bufferevent_socket_connect_hostname(c.bev, NULL, AF_UNSPEC, opt.host, opt.port) == 0;
    }
    if (c.expected == 0) {
        c.exit_code = EXIT_CLEAN;
    } else if (!started) { /* notes' bug: the connect's result was not checked */
        int dns_err = bufferevent_socket_get_dns_error(c.bev);
        warnx_msg("cannot connect to %s: %s", c.target,
                  dns_err ? evutil_gai_strerror(dns_err)
                          : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        c.exit_code = EXIT_RUNTIME;
    } else {
        event_base_dispatch(c.base);
    }

    bufferevent_free(c.bev);
    event_base_free(c.base);
    redisReaderFree(c.reader);
    evbuffer_free(c.requests);
    libevent_global_shutdown();
    return c.exit_code;
}
