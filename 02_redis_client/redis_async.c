/*
 * 02_redis_client/redis_async.c — chapter 2, the library way: the same PING,
 * then a SET and a GET, through hiredis's own libevent adapter.
 *
 * redis_client.c does by hand what this file gets for free: redisLibeventAttach
 * registers hiredis's socket with our event base, hiredis encodes commands and
 * parses replies, and each reply comes back to the callback we named with the
 * command. Compare the two side by side (docs/02-redis-client.md).
 *
 * Run it: build/02_redis_client/redis_async [--host ADDR] [--port PORT]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "common.h"
#include "trace.h"

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 6379
#define KEY "workbook:async"
#define VALUE "hello from redis_async"

static int exit_code = EXIT_CLEAN;
static int connected;

static void on_connect(const redisAsyncContext *ac, int status)
{
    trace_dispatch(ac->c.fd, "write", "on_connect");
    if (status != REDIS_OK) {
        warnx_msg("cannot connect to %s:%d: %s", ac->c.tcp.host, ac->c.tcp.port, ac->errstr);
        exit_code = EXIT_RUNTIME;
        return; /* hiredis frees the context; nothing is left in the loop */
    }
    connected = 1;
    printf("connect redis success\n");
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    trace_dispatch(ac->c.fd, "read", "on_disconnect");
    if (status != REDIS_OK) {
        warnx_msg("connection lost: %s", ac->errstr);
        exit_code = EXIT_RUNTIME;
    }
}

/* One callback for all three commands: privdata says which one it was. */
static void on_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    const redisReply *reply = r;
    const char *command = privdata;
    trace_dispatch(ac->c.fd, "read", "on_reply");
    if (!reply) {      /* the connection failed or was lost: the command never ran */
        if (connected) /* (a failed connect was already reported in on_connect) */
            warnx_msg("%s: no reply (%s)", command, ac->errstr);
        exit_code = EXIT_RUNTIME;
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        printf("%s -> (error) %s\n", command, reply->str);
        exit_code = EXIT_RUNTIME;
    } else if (reply->type == REDIS_REPLY_STRING) {
        printf("%s -> \"%s\"\n", command, reply->str);
    } else {
        printf("%s -> %s\n", command, reply->str ? reply->str : "(nil)");
    }
    /* The GET was queued last, so its reply is the last one: hang up, which
     * removes hiredis's events and lets the loop end by itself. */
    if (command[0] == 'G')
        redisAsyncDisconnect(ac);
}

struct options {
    const char *host;
    int port, trace;
};

static void parse_args(int argc, char **argv, struct options *o)
{
    static const struct option options[] = {
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"trace", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct options){.host = DEFAULT_HOST, .port = DEFAULT_PORT};
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'H': o->host = optarg; break;
        case 'p': o->port = parse_port_option("--port", optarg); break;
        case 't': o->trace = 1; break;
        case 'h':
            printf("usage: %s [--host ADDR] [--port PORT] [--trace]\n"
                   "  PING, SET " KEY ", GET " KEY " through hiredis's libevent adapter.\n"
                   "  --trace  print each register/detect/dispatch step on stderr\n",
                   prog_name());
            exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct options o;
    parse_args(argc, argv, &o);

    trace_wire(o.trace); /* --trace: register, detect, dispatch lines */
    struct event_base *base = event_base_new();
    redisAsyncContext *ac = redisAsyncConnect(o.host, o.port);
    if (!base || !ac || ac->err) {
        warnx_msg("cannot connect to %s:%d: %s", o.host, o.port, ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        if (base)
            event_base_free(base);
        return EXIT_RUNTIME;
    }
    redisLibeventAttach(ac, base); /* register hiredis's socket with our loop */
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);

    /* All three are queued now and sent together once connected: pipelining
     * for free. Replies come back in order. */
    redisAsyncCommand(ac, on_reply, "PING", "PING");
    redisAsyncCommand(ac, on_reply, "SET " KEY, "SET %s %s", KEY, VALUE);
    redisAsyncCommand(ac, on_reply, "GET " KEY, "GET %s", KEY);

    event_base_dispatch(base); /* ends when hiredis has no events left */

    event_base_free(base);
    libevent_global_shutdown();
    return exit_code;
}
