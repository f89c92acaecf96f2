/*
 * 08_http_gateway/gateway.c — chapter 8: an HTTP front for Redis that answers
 * as webdis does, built on libevent's own HTTP server (evhttp).
 *
 *   curl http://127.0.0.1:8088/SET/greeting/hello    {"SET":[true,"OK"]}
 *   curl http://127.0.0.1:8088/GET/greeting          {"GET":"hello"}
 *   curl http://127.0.0.1:8088/GET/greeting.txt      hello
 *   curl -N http://127.0.0.1:8088/SUBSCRIBE/news     one chunk per message
 *
 * Many HTTP clients, a few Redis connections: each request becomes a command
 * pipelined on a shared link (redis_link.c), chapter 7's lesson. This file is
 * the wiring: options, stats, the HTTP server, the links. The event base, the
 * listener and the signals are common/server.h's, as in chapter 6.
 *
 * Run it:  make chapter8      (a private Redis for the demos, then the gateway)
 * Watch:   --trace prints register/detect/dispatch; SIGUSR1 prints stats.
 * Read docs/08-http-gateway.md beside this file.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "gateway.h"

#define DEFAULT_PORT 8088
#define DEFAULT_REDIS_PORT 6379
#define DEFAULT_LINKS 2
#define DEFAULT_DOCS_PREFIX "/docs/"
#define DEFAULT_MAX_HEADER_BYTES 8192
#define DEFAULT_MAX_BODY_BYTES (1024 * 1024)
#define DEFAULT_IDLE_TIMEOUT_S 60
#define DEFAULT_HEADER_TIMEOUT_MS 10000
#define DEFAULT_SUB_BUFFER (256 * 1024)

/* evhttp turns a connection's events off and on around every request: EV_READ
 * off when a request arrives, EV_READ|EV_WRITE on to reply, EV_WRITE off when
 * it is sent. With epoll each change is an epoll_ctl, made at once; with
 * libevent's changelist they are collected and one epoll_ctl per descriptor
 * is made before the next epoll_wait (strace: 4.2 epoll_ctl per request
 * without, 2 with server_send_reply in server.c). The flag's caveat: epoll
 * watches open files, not descriptor numbers, so a descriptor dup()ed and
 * closed while its change waits can leave a stale registration; the gateway
 * dups none. Chapters 6 and 7 do not toggle events per request and measured
 * no gain, so only chapter 8 asks for it. */
#define BASE_FLAGS EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST

static void print_stats(void *app, const char *label)
{
    const struct gateway *gw = app;
    const struct stats *s = &gw->stats;
    printf("%s: requests=%lu denied=%lu replies_503=%lu conns_now=%ld conns_total=%lu "
           "slow_cut=%lu streams_now=%ld sub_messages=%lu sub_paused=%lu sub_resumed=%lu "
           "sub_max_buffered=%zu file_hits=%lu\n",
           label, s->requests, s->denied, s->replies_503, s->conns_now, s->conns_total, s->slow_cut,
           s->streams_now, s->sub_messages, s->sub_paused, s->sub_resumed, s->sub_max_buffered,
           s->file_hits);
}

/* SIGUSR1 prints the stats; SIGINT/SIGTERM leave the loop at once. */
static const struct server_hooks gateway_hooks = {.stats = print_stats};

static void usage(void)
{
    printf("usage: %s [options]\n"
           "  An HTTP gateway to Redis with webdis's URLs and replies.\n"
           "  --port PORT             listen port on 127.0.0.1, 0 = any free port (default %d)\n"
           "  --redis-host ADDR       Redis's IPv4 address (default 127.0.0.1)\n"
           "  --redis-port PORT       Redis's port (default %d); 0 = no Redis: --docs alone,\n"
           "                          every command answered 503\n"
           "  --redis-links N         shared Redis connections, 1-%d (default %d)\n"
           "  --docs DIR              serve DIR's files under /docs/ (sendfile)\n"
           "  --docs-prefix PATH      serve them under PATH instead; / = the whole site, no API\n"
           "  --max-conns N           accept at most N connections at once (default: no limit)\n"
           "  --max-header-bytes N    request head limit (default %d)\n"
           "  --max-body-bytes N      request body limit, 413 past it (default %d)\n"
           "  --idle-timeout SEC      close a connection quiet this long (default %d)\n"
           "  --header-timeout MS     a request head must arrive within MS (default %d)\n"
           "  --sub-buffer BYTES      a stream's unsent bytes before it pauses (default %d)\n"
           "  --trace                 print each register/detect/dispatch step on stderr\n"
           "  --backend NAME          epoll, poll or select (default: libevent's choice)\n"
           "  --help                  this help; SIGUSR1 prints stats, SIGUSR2 the events\n",
           prog_name(), DEFAULT_PORT, DEFAULT_REDIS_PORT, MAX_LINKS, DEFAULT_LINKS,
           DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_BODY_BYTES, DEFAULT_IDLE_TIMEOUT_S,
           DEFAULT_HEADER_TIMEOUT_MS, DEFAULT_SUB_BUFFER);
}

static void parse_args(int argc, char **argv, struct options *o)
{
    static const struct option options[] = {
        {"port", required_argument, NULL, 'p'},
        {"redis-host", required_argument, NULL, 'R'},
        {"redis-port", required_argument, NULL, 'P'},
        {"redis-links", required_argument, NULL, 'l'},
        {"docs", required_argument, NULL, 'd'},
        {"docs-prefix", required_argument, NULL, 'D'},
        {"max-conns", required_argument, NULL, 'm'},
        {"max-header-bytes", required_argument, NULL, 'H'},
        {"max-body-bytes", required_argument, NULL, 'B'},
        {"idle-timeout", required_argument, NULL, 'i'},
        {"header-timeout", required_argument, NULL, 'T'},
        {"sub-buffer", required_argument, NULL, 's'},
        {"trace", no_argument, NULL, 't'},
        {"backend", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *redis_host = "127.0.0.1";
    int port = DEFAULT_PORT, redis_port = DEFAULT_REDIS_PORT;
    *o = (struct options){.links = DEFAULT_LINKS,
                          .docs_prefix = DEFAULT_DOCS_PREFIX,
                          .max_header_bytes = DEFAULT_MAX_HEADER_BYTES,
                          .max_body_bytes = DEFAULT_MAX_BODY_BYTES,
                          .idle_timeout_s = DEFAULT_IDLE_TIMEOUT_S,
                          .header_timeout_ms = DEFAULT_HEADER_TIMEOUT_MS,
                          .sub_buffer_bytes = DEFAULT_SUB_BUFFER,
                          .server.base_flags = BASE_FLAGS};
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'p': port = parse_port_option("--port", optarg); break;
        case 'R': redis_host = optarg; break;
        case 'P': redis_port = (int)parse_long_option("--redis-port", optarg, 0, 65535); break;
        case 'l': o->links = (int)parse_long_option("--redis-links", optarg, 1, MAX_LINKS); break;
        case 'd': o->docs = optarg; break;
        case 'D': o->docs_prefix = optarg; break;
        case 'm': o->max_conns = parse_long_option("--max-conns", optarg, 1, 1000000); break;
        case 'H':
            o->max_header_bytes = parse_long_option("--max-header-bytes", optarg, 256, 1L << 20);
            break;
        case 'B':
            o->max_body_bytes = parse_long_option("--max-body-bytes", optarg, 0, 1L << 30);
            break;
        case 'i': o->idle_timeout_s = parse_long_option("--idle-timeout", optarg, 1, 86400); break;
        case 'T':
            o->header_timeout_ms = parse_long_option("--header-timeout", optarg, 100, 3600000);
            break;
        case 's':
            o->sub_buffer_bytes = parse_long_option("--sub-buffer", optarg, 1024, 1L << 30);
            break;
        case 't': o->server.loop.trace = 1; break;
        case 'b': o->server.loop.backend = parse_backend_option(optarg); break;
        case 'h': usage(); exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (o->docs_prefix[0] != '/' || o->docs_prefix[strlen(o->docs_prefix) - 1] != '/')
        usage_error("--docs-prefix '%s': must start and end with '/'", o->docs_prefix);
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    parse_ipv4_option(&o->listen_addr, "--port", "127.0.0.1", port);
    parse_ipv4_option(&o->redis_addr, "--redis-host", redis_host, redis_port);
    if (redis_port == 0)
        o->links = 0; /* make serve-docs: static files only */
}

/* ---- opening and closing ------------------------------------------------------- */

static int gateway_open(struct gateway *gw, const struct options *o)
{
    *gw = (struct gateway){.opt = o, .docs_fd = -1};
    TAILQ_INIT(&gw->streams);
    TAILQ_INIT(&gw->conns);
    if (server_open(&gw->srv, &o->server, &gateway_hooks, gw) != 0)
        return -1;
    return server_start(gw) == 0 && links_start(gw) == 0 ? 0 : -1;
}

/* Everything, newest first; safe on a half-made gateway. */
static void gateway_close(struct gateway *gw)
{
    gw->closing = 1;
    subscribe_stop_all(gw); /* the streams end, */
    links_stop(gw);         /* requests still waiting for Redis get 503, */
    server_stop(gw);        /* then evhttp frees the connections and the listener */
    server_close(&gw->srv);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct options o;
    parse_args(argc, argv, &o);

    struct gateway gw;
    if (gateway_open(&gw, &o) != 0) {
        gateway_close(&gw);
        return EXIT_RUNTIME;
    }
    char redis[ADDR_STRLEN];
    server_announce(&gw.srv);
    printf("redis at %s, %d shared link%s%s%s\n",
           format_addr((struct sockaddr *)&o.redis_addr, redis, sizeof redis), o.links,
           o.links == 1 ? "" : "s", o.docs ? "; docs from " : "", o.docs ? o.docs : "");

    server_run(&gw.srv); /* until SIGINT/SIGTERM */

    print_stats(&gw, "summary");
    gateway_close(&gw);
    return EXIT_CLEAN;
}
