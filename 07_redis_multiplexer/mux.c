/*
 * 07_redis_multiplexer/mux.c — chapter 7: many Redis clients over a few
 * shared connections to Redis. main() wires the parts in the order they run.
 *
 *   client A ─┐                       ┌─ pending: [A][B][A][C] ─┐
 *   client B ─┼─ frame requests ──▶ shared upstream ──▶ Redis ──┼─ frame replies
 *   client C ─┘  (request.c)         (upstream.c)               └─ (reply.c) ─▶ A, B, A, C
 *   client D ─── MULTI ... ──▶ its own connection (pinned.c: chapter 6's relay)
 *
 * Chapter 6 gave every client its own Redis connection and copied bytes. With
 * 1,000 clients that is 1,000 connections, and Redis does one read and one
 * write per command. Here the requests of many clients leave in one write on
 * one connection, and Redis reads them in one go; the price is that we must
 * know where each request and each reply ends.
 *
 * Run it:  make chapter7       (starts a throwaway Redis on 6379 if none runs)
 *          redis-cli -p 6381 ping
 *
 * Read mux.h first (the map), then client.c, client_close.c, upstream.c,
 * request.c, pinned.c; docs/07-redis-multiplexer.md beside them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mux.h"
#include "server_args.h"

#define DEFAULT_PORT 6381
#define DEFAULT_UPSTREAMS 1
#define MAX_UPSTREAMS 64
#define DEFAULT_OUTPUT_LIMIT (8L * 1024 * 1024)
#define DEFAULT_MAX_REQUEST (16L * 1024 * 1024)
#define DEFAULT_DRAIN_MS 5000

/* ---- stats and the drain: common/server.h's hooks ------------------------------ */

static void print_stats(void *app, const char *label)
{
    const struct mux *m = app;
    const struct stats *s = &m->stats;
    long up = 0;
    size_t in_flight = 0;
    for (long i = 0; i < m->opt->upstreams; i++) {
        up += upstream_is_connected(m->upstreams[i]);
        in_flight += upstream_in_flight(m->upstreams[i]);
    }
    printf("%s: clients=%ld clients_total=%ld pinned=%ld pinned_total=%ld upstreams_up=%ld/%ld "
           "in_flight=%zu requests=%llu replies=%llu upstream_writes=%llu batching=%.2f "
           "unavailable=%llu output_limit_closes=%ld bad_requests=%ld\n",
           label, s->clients_now, s->clients_total, s->pinned_now, s->pinned_total, up,
           m->opt->upstreams, in_flight, s->requests, s->replies, s->upstream_writes,
           s->upstream_writes ? (double)s->requests / (double)s->upstream_writes : 0.0,
           s->unavailable, s->output_limit_closes, s->bad_requests);
}

static long clients_now(void *app)
{
    return ((struct mux *)app)->stats.clients_now;
}

/* SIGINT/SIGTERM: stop taking requests; every reply already asked for still
 * reaches its client, then the client is closed (client_stop). The drain
 * ends when the last one is gone (client_drop calls server_client_left). */
static void stop_every_client(void *app)
{
    struct mux *m = app;
    for (struct client *c = TAILQ_FIRST(&m->clients), *next; c; c = next) {
        next = TAILQ_NEXT(c, link);
        client_stop(c);
    }
}

static const struct server_hooks mux_hooks = {
    .stats = print_stats, .clients = clients_now, .drain = stop_every_client};

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    (void)salen;
    trace_dispatch(evconnlistener_get_fd(listener), "accept", "on_accept");
    client_accept(arg, fd, sa);
}

/* ---- command line ----------------------------------------------------------------- */

static void usage(void)
{
    printf("usage: %s [options]\n"
           "  Many Redis clients over a few shared connections to Redis.\n"
           "  --host ADDR               listen address (default 127.0.0.1)\n"
           "  --port PORT               listen port, 0 = any free port (default %d)\n"
           "  --redis-host ADDR         Redis's IPv4 address (default %s)\n"
           "  --redis-port PORT         Redis's port (default %d)\n"
           "  --upstreams N             shared connections to Redis (default %d)\n"
           "  --client-output-limit B   unread reply bytes before a client is cut off "
           "(default %ld)\n"
           "  --max-request B           largest request accepted (default %ld)\n"
           "  --drain-ms MS             how long shutdown waits for replies (default %d)\n"
           "  --trace                   print each register/detect/dispatch step on stderr\n"
           "  --backend NAME            epoll, poll or select (default: libevent's choice)\n"
           "  --help                    show this help; SIGUSR2 prints what is registered\n",
           prog_name(), DEFAULT_PORT, SERVER_ARGS_REDIS_HOST, SERVER_ARGS_REDIS_PORT,
           DEFAULT_UPSTREAMS, DEFAULT_OUTPUT_LIMIT, DEFAULT_MAX_REQUEST, DEFAULT_DRAIN_MS);
}

/* The multiplexer's own options; the ones every server takes are server_args.h's. */
static void on_option(void *app, int opt, const char *arg)
{
    struct options *o = app;
    switch (opt) {
    case 'u': o->upstreams = parse_long_option("--upstreams", arg, 1, MAX_UPSTREAMS); break;
    case 'o':
        o->client_output_limit = parse_long_option("--client-output-limit", arg, 4096, 1L << 40);
        break;
    case 'm': o->max_request = parse_long_option("--max-request", arg, 1024, 1L << 30); break;
    case 'd': o->server.drain_ms = parse_long_option("--drain-ms", arg, 0, 3600000); break;
    }
}

static void parse_args(int argc, char **argv, struct options *o)
{
    static const struct option own[] = {
        {"upstreams", required_argument, NULL, 'u'},
        {"client-output-limit", required_argument, NULL, 'o'},
        {"max-request", required_argument, NULL, 'm'},
        {"drain-ms", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct options){.upstreams = DEFAULT_UPSTREAMS,
                          .client_output_limit = DEFAULT_OUTPUT_LIMIT,
                          .max_request = DEFAULT_MAX_REQUEST,
                          .server.drain_ms = DEFAULT_DRAIN_MS};
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

/* ---- opening and closing ------------------------------------------------------------ */

static int make_upstreams(struct mux *m)
{
    m->upstreams = calloc((size_t)m->opt->upstreams, sizeof(struct upstream *));
    if (!made(m->upstreams, "the upstreams"))
        return -1;
    for (long i = 0; i < m->opt->upstreams; i++)
        if (!(m->upstreams[i] = upstream_new(m, (int)i + 1)))
            return -1;
    return 0;
}

static int mux_open(struct mux *m, const struct options *o)
{
    *m = (struct mux){.opt = o};
    TAILQ_INIT(&m->clients);
    TAILQ_INIT(&m->to_flush);
    if (server_open(&m->srv, &o->server, &mux_hooks, m) != 0 || make_upstreams(m) != 0)
        return -1;
    return server_listen(&m->srv, &o->listen_addr, on_accept, m);
}

/* Everything, newest first; safe on a half-made mux. Clients first: the ones
 * still owed replies are then freed with their upstream's FIFO. */
static void mux_close(struct mux *m)
{
    while (!TAILQ_EMPTY(&m->clients))
        client_drop(TAILQ_FIRST(&m->clients));
    for (long i = 0; m->upstreams && i < m->opt->upstreams; i++)
        if (m->upstreams[i])
            upstream_free(m->upstreams[i]);
    free(m->upstreams);
    server_close(&m->srv);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct options o;
    parse_args(argc, argv, &o);
    keep_freed_memory(); /* fastpath.c: malloc keeps what it frees, process-wide */

    struct mux m;
    if (mux_open(&m, &o) != 0) {
        mux_close(&m);
        return EXIT_RUNTIME;
    }
    char redis[ADDR_STRLEN];
    server_announce(&m.srv);
    printf("multiplexing onto Redis at %s over %ld shared connection%s\n",
           format_addr((struct sockaddr *)&o.redis_addr, redis, sizeof redis), o.upstreams,
           o.upstreams == 1 ? "" : "s");

    server_run(&m.srv); /* until SIGINT/SIGTERM and the drain */

    print_stats(&m, "summary");
    mux_close(&m);
    return EXIT_CLEAN;
}
