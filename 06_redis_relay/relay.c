/*
 * 06_redis_relay/relay.c — chapter 6: the notes' C <-> S <-> DB, as a working
 * relay between Redis clients and Redis. Every earlier chapter in one program.
 *
 *   client ──▶ [client fd: our read] ──forward──▶ [upstream bev] ──▶ Redis
 *   client ◀── [client bev] ◀──forward── [upstream fd: our read] ◀── Redis
 *
 * This file is the server around the pairs: options, stats, and main wiring
 * them up. The event base, the listener, the signals and the drain are
 * common/server.h's (chapters 1, 3 and 4 taught them by hand). pair.c is one
 * client and its own connection to Redis — the data path and a connection's
 * whole life.
 *
 * What it uses, and from where:
 *   chapter 1  evconnlistener, the accept-error pause (EMFILE)
 *   chapter 2  a bufferevent that connects out, BEV_EVENT_CONNECTED / ERROR
 *   chapter 3  a periodic stats timer, the drain deadline
 *   chapter 4  signal events: graceful drain on SIGINT/SIGTERM, stats on SIGUSR1
 *   chapter 5  backpressure both ways with write watermarks
 * The relay is transparent: bytes go through unchanged and each side's end
 * reaches the other, so redis-cli, client libraries, telnet and nc behave as
 * they do against Redis itself.
 *
 * Run it:  make chapter6       (starts a throwaway Redis on 6379 if none runs)
 *          redis-cli -p 6380 ping
 * Read docs/06-redis-relay.md beside this file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "relay.h"
#include "server_args.h"

#define DEFAULT_PORT 6380
#define DEFAULT_HIGH (1024 * 1024) /* per direction, per client */
#define DEFAULT_DRAIN_MS 5000

static void print_stats(void *app, const char *label)
{
    const struct relay *r = app;
    printf("%s: clients_now=%ld clients_total=%ld rejected=%ld bytes_to_redis=%llu "
           "bytes_to_clients=%llu upstream_errors=%ld\n",
           label, r->clients_now, r->clients_total, r->rejected, r->bytes_to_redis,
           r->bytes_to_clients, r->upstream_errors);
}

static long clients_now(void *app)
{
    return ((struct relay *)app)->clients_now;
}

/* SIGUSR1 prints the stats, SIGINT/SIGTERM drain: the clients we have carry
 * on until they leave (or Redis closes them), for at most --drain-ms. */
static const struct server_hooks relay_hooks = {.stats = print_stats, .clients = clients_now};

/* ---- accepting ------------------------------------------------------------ */

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    (void)salen;
    struct relay *r = arg;
    trace_dispatch(evconnlistener_get_fd(listener), "accept", "on_accept");
    int full = r->opt->max_clients > 0 && r->clients_now >= r->opt->max_clients;
    if (full)
        r->rejected++;
    else
        r->clients_total++;
    pair_start(r, fd, sa, full);
}

/* ---- command line ------------------------------------------------------------ */

static void usage(void)
{
    printf("usage: %s [options]\n"
           "  Relay Redis clients to Redis, one upstream connection per client.\n"
           "  --host ADDR            listen address (default 127.0.0.1)\n"
           "  --port PORT            listen port, 0 = any free port (default %d)\n"
           "  --redis-host ADDR      Redis's IPv4 address (default %s)\n"
           "  --redis-port PORT      Redis's port (default %d)\n"
           "  --high BYTES           per-direction buffer before pausing the sender (default %d)\n"
           "  --stats-interval SEC   print a stats line this often (default: never)\n"
           "  --max-clients N        refuse clients beyond N (default: no limit)\n"
           "  --drain-ms MS          how long shutdown waits for clients to leave (default %d)\n"
           "  --trace                print each register/detect/dispatch step on stderr\n"
           "  --backend NAME         epoll, poll or select (default: libevent's choice)\n"
           "  --help                 show this help; SIGUSR2 prints what is registered\n",
           prog_name(), DEFAULT_PORT, SERVER_ARGS_REDIS_HOST, SERVER_ARGS_REDIS_PORT, DEFAULT_HIGH,
           DEFAULT_DRAIN_MS);
}

/* The relay's own options; the ones every server takes are server_args.h's. */
static void on_option(void *app, int opt, const char *arg)
{
    struct options *o = app;
    switch (opt) {
    case 'w': o->high = parse_long_option("--high", arg, 4096, 1L << 30); break;
    case 's':
        o->server.stats_interval_s = parse_long_option("--stats-interval", arg, 1, 86400);
        break;
    case 'm': o->max_clients = parse_long_option("--max-clients", arg, 1, 10000000); break;
    case 'd': o->server.drain_ms = parse_long_option("--drain-ms", arg, 0, 3600000); break;
    }
}

static void parse_args(int argc, char **argv, struct options *o)
{
    static const struct option own[] = {
        {"high", required_argument, NULL, 'w'},
        {"stats-interval", required_argument, NULL, 's'},
        {"max-clients", required_argument, NULL, 'm'},
        {"drain-ms", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct options){.high = DEFAULT_HIGH, .server.drain_ms = DEFAULT_DRAIN_MS};
    struct server_args args = {.default_port = DEFAULT_PORT,
                               .listen_addr = &o->listen_addr,
                               .upstream_addr = &o->redis_addr,
                               .loop = &o->server.loop,
                               .own = own,
                               .on_own = on_option,
                               .usage = usage,
                               .app = o};
    server_args_parse(&args, argc, argv);
}

/* ---- opening and closing ------------------------------------------------------- */

static int relay_open(struct relay *r, const struct options *o)
{
    *r = (struct relay){.opt = o};
    LIST_INIT(&r->pairs);
    if (server_open(&r->srv, &o->server, &relay_hooks, r) != 0 ||
        server_listen(&r->srv, &o->listen_addr, on_accept, r) != 0)
        return -1;
    r->scratch = evbuffer_new();
    return made(r->scratch, "the read buffer") ? 0 : -1;
}

/* Everything, newest first; safe on a half-made relay. */
static void relay_close(struct relay *r)
{
    while (!LIST_EMPTY(&r->pairs))
        pair_free(LIST_FIRST(&r->pairs));
    if (r->scratch)
        evbuffer_free(r->scratch);
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
    char redis[ADDR_STRLEN];
    server_announce(&r.srv);
    printf("relaying to Redis at %s\n",
           format_addr((struct sockaddr *)&o.redis_addr, redis, sizeof redis));

    server_run(&r.srv); /* until SIGINT/SIGTERM and the drain */

    print_stats(&r, "summary");
    relay_close(&r);
    return EXIT_CLEAN;
}
