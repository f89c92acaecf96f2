/*
 * 10_dns/connect_name.c — chapter 10: connect to Redis by name without
 * blocking the loop, and ask it PING.
 *
 *   bufferevent_socket_connect_hostname(bev, dns, AF_INET, "redis.workbook.test", 6379)
 *     ├─ evdns asks our DNS server (a UDP query; the loop keeps running)
 *     ├─ the answer comes: a non-blocking connect to that address (chapter 2)
 *     └─ BEV_EVENT_CONNECTED → PING → +PONG
 *
 * Chapter 2's client called getaddrinfo() first, which waits for the
 * system's resolver with the loop stopped. Here the name is resolved by the
 * loop itself; a heartbeat timer counts how often the loop ran meanwhile. With
 * NULL for the dns base, bufferevent_socket_connect_hostname would block just
 * like getaddrinfo — and could not use our server at all.
 *
 * Run it:  make chapter10 (a dns_server on 5310), a Redis on 6379, then
 *          build/10_dns/connect_name --server 127.0.0.1:5310 --redis-port 6379
 * Watch: against dns_server --delay 300, about 30 heartbeats go by while the
 * name is resolved.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>

#include "common.h"

#define DEFAULT_NAME "redis.workbook.test"
#define DEFAULT_REDIS_PORT 6379
#define HEARTBEAT_MS 10
#define REPLY_TIMEOUT_MS 5000

struct options {
    const char *server, *name, *timeout_s;
    int redis_port;
};

struct client {
    const struct options *opt;
    struct event_base *base;
    struct evdns_base *dns;
    struct bufferevent *bev;
    struct event *heartbeat;
    long beats; /* heartbeats until connected: the loop was free meanwhile */
    int status; /* the exit status */
};

/* libevent's messages (evdns: "Nameserver ... has failed"), named as ours */
static void on_libevent_log(int severity, const char *msg)
{
    if (severity >= EVENT_LOG_MSG)
        warnx_msg("libevent: %s", msg);
}

static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    ((struct client *)arg)->beats++;
}

static void finish(struct client *c, int status)
{
    c->status = status;
    event_base_loopexit(c->base, NULL);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;
    char *line = evbuffer_readln(bufferevent_get_input(bev), NULL, EVBUFFER_EOL_CRLF);
    if (!line)
        return; /* not a whole line yet */
    printf("PING -> %s\n", line);
    finish(c, strcmp(line, "+PONG") == 0 ? EXIT_CLEAN : EXIT_RUNTIME);
    free(line);
}

/* region: on-event */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct client *c = arg;
    char peer[ADDR_STRLEN] = "?";
    if (what & BEV_EVENT_CONNECTED) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        if (getpeername(bufferevent_getfd(bev), (struct sockaddr *)&ss, &len) == 0)
            format_addr((struct sockaddr *)&ss, peer, sizeof peer);
        printf("connected to %s at %s after %.1f ms; the loop ran %ld heartbeats meanwhile\n",
               c->opt->name, peer, elapsed_ms(), c->beats);
        evbuffer_add_printf(bufferevent_get_output(bev), "PING\r\n");
        return;
    }
    int dns_error = bufferevent_socket_get_dns_error(bev);
    if (dns_error)
        warnx_msg("cannot resolve %s: %s%s", c->opt->name, evutil_gai_strerror(dns_error),
                  dns_error == EVUTIL_EAI_FAIL ? " (SERVFAIL, or no answer from the server)" : "");
    else if (what & BEV_EVENT_TIMEOUT)
        warnx_msg("no reply from %s within %d ms", c->opt->name, REPLY_TIMEOUT_MS);
    else if (what & BEV_EVENT_ERROR)
        warnx_msg("cannot connect to %s port %d: %s", c->opt->name, c->opt->redis_port,
                  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    else
        warnx_msg("%s closed the connection before replying", c->opt->name);
    finish(c, EXIT_RUNTIME);
}
/* endregion */

static void usage(void)
{
    printf("usage: %s --server ADDR:PORT [options]\n"
           "  Resolve NAME with evdns against one DNS server, connect to NAME:PORT, send PING.\n"
           "  --server ADDR:PORT   the DNS server, e.g. 127.0.0.1:5310 (required)\n"
           "  --name NAME          the name to connect to (default %s)\n"
           "  --redis-port PORT    the port to connect to (default %d)\n"
           "  --timeout SECONDS    evdns's timeout per attempt (default 1)\n"
           "  --help               show this help\n",
           prog_name(), DEFAULT_NAME, DEFAULT_REDIS_PORT);
}

static void parse_args(int argc, char **argv, struct options *o)
{
    static const struct option options[] = {
        {"server", required_argument, NULL, 's'},
        {"name", required_argument, NULL, 'n'},
        {"redis-port", required_argument, NULL, 'p'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct options){.name = DEFAULT_NAME, .timeout_s = "1", .redis_port = DEFAULT_REDIS_PORT};
    struct sockaddr_in check;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 's': o->server = optarg; break;
        case 'n': o->name = optarg; break;
        case 'p': o->redis_port = (int)parse_long_option("--redis-port", optarg, 1, 65535); break;
        case 't':
            parse_long_option("--timeout", optarg, 1, 60);
            o->timeout_s = optarg;
            break;
        case 'h': usage(); exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (!o->server)
        usage_error("--server ADDR:PORT is required (the DNS server to ask)");
    int len = (int)sizeof check;
    if (evutil_parse_sockaddr_port(o->server, (struct sockaddr *)&check, &len) != 0)
        usage_error("--server: '%s' is not ADDR:PORT (e.g. 127.0.0.1:5310)", o->server);
}

/* region: connect-by-name */
static int start(struct client *c)
{
    struct timeval beat = ms_to_timeval(HEARTBEAT_MS), reply = ms_to_timeval(REPLY_TIMEOUT_MS);
    event_set_log_callback(on_libevent_log);
    c->dns = evdns_base_new(c->base, 0); /* our server only: no resolv.conf */
    c->heartbeat = event_new(c->base, -1, EV_PERSIST, on_heartbeat, c);
    c->bev = bufferevent_socket_new(c->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!c->dns || !c->heartbeat || !c->bev || event_add(c->heartbeat, &beat) != 0 ||
        evdns_base_set_option(c->dns, "timeout:", c->opt->timeout_s) != 0 ||
        evdns_base_set_option(c->dns, "attempts:", "2") != 0 ||
        evdns_base_nameserver_ip_add(c->dns, c->opt->server) != 0) {
        warnx_msg("cannot set up the resolver or the connection (nameserver %s)", c->opt->server);
        return -1;
    }
    bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
    bufferevent_set_timeouts(c->bev, &reply, NULL);
    bufferevent_enable(c->bev, EV_READ);
    printf("resolving %s through %s; the loop keeps running\n", c->opt->name, c->opt->server);
    /* with c->dns: asynchronous. With NULL it would call getaddrinfo() and block. */
    if (bufferevent_socket_connect_hostname(c->bev, c->dns, AF_INET, c->opt->name,
                                            c->opt->redis_port) != 0) {
        int dns_error = bufferevent_socket_get_dns_error(c->bev);
        warnx_msg("cannot start connecting to %s: %s", c->opt->name,
                  dns_error ? evutil_gai_strerror(dns_error) : "out of resources");
        return -1;
    }
    return 0;
}
/* endregion */

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct options o;
    parse_args(argc, argv, &o);

    struct client c = {.opt = &o, .status = EXIT_RUNTIME};
    c.base = event_base_new();
    if (!c.base)
        warnx_msg("cannot create the event base: out of memory");
    else if (start(&c) == 0)
        event_base_dispatch(c.base);

    if (c.bev)
        bufferevent_free(c.bev);
    if (c.heartbeat)
        event_free(c.heartbeat);
    if (c.dns)
        evdns_base_free(c.dns, 1);
    if (c.base)
        event_base_free(c.base);
    libevent_global_shutdown();
    return c.status;
}
