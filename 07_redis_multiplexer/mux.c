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
 * Read mux.h first (the map), then client.c, upstream.c, request.c,
 * pinned.c; docs/07-redis-multiplexer.md beside them.
 */
#include <getopt.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "mux.h"

#define DEFAULT_PORT 6381
#define DEFAULT_REDIS_HOST "127.0.0.1"
#define DEFAULT_REDIS_PORT 6379
#define DEFAULT_UPSTREAMS 1
#define MAX_UPSTREAMS 64
#define DEFAULT_OUTPUT_LIMIT (8L * 1024 * 1024)
#define DEFAULT_MAX_REQUEST (16L * 1024 * 1024)
#define DEFAULT_DRAIN_MS 5000
#define LISTEN_BACKLOG 4096 /* see chapter 6: a burst of clients must not lose SYNs */

void set_nodelay(evutil_socket_t fd)
{
    /* Nagle's algorithm would hold a small reply back until the previous one
     * is acknowledged. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* ---- stats ------------------------------------------------------------------- */

static void print_stats(const struct mux *m, const char *label)
{
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

/* ---- shutdown ------------------------------------------------------------------ */

static void on_drain_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct mux *m = arg;
    trace_dispatch(fd, "timeout", "on_drain_deadline");
    printf("shutdown: drain time is up; closing %ld client%s\n", m->stats.clients_now,
           m->stats.clients_now == 1 ? "" : "s");
    event_base_loopexit(m->base, NULL);
}

/* Stop taking requests; let every reply already asked for reach its client. */
static void start_drain(struct mux *m, const char *why)
{
    if (m->draining) {
        printf("shutdown: second %s: exiting now\n", why);
        event_base_loopexit(m->base, NULL);
        return;
    }
    m->draining = 1;
    accept_pause_stop_accepting(&m->pause); /* also cancels a pending EMFILE resume */
    printf("shutdown: caught %s; draining %ld client%s (up to %ld ms)\n", why, m->stats.clients_now,
           m->stats.clients_now == 1 ? "" : "s", m->opt->drain_ms);
    if (m->stats.clients_now == 0) {
        event_base_loopexit(m->base, NULL);
        return;
    }
    for (struct client *c = TAILQ_FIRST(&m->clients), *next; c; c = next) {
        next = TAILQ_NEXT(c, link);
        client_stop(c);
    }
    struct timeval deadline = ms_to_timeval(m->opt->drain_ms);
    evtimer_add(m->drain_deadline, &deadline);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct mux *m = arg;
    trace_dispatch(sig, "signal", "on_signal");
    if (sig == SIGUSR1)
        print_stats(m, "stats");
    else
        start_drain(m, sig == SIGINT ? "SIGINT" : "SIGTERM");
}

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
           prog_name(), DEFAULT_PORT, DEFAULT_REDIS_HOST, DEFAULT_REDIS_PORT, DEFAULT_UPSTREAMS,
           DEFAULT_OUTPUT_LIMIT, DEFAULT_MAX_REQUEST, DEFAULT_DRAIN_MS);
}

static void parse_args(int argc, char **argv, struct options *o)
{
    static const struct option options[] = {
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"redis-host", required_argument, NULL, 'R'},
        {"redis-port", required_argument, NULL, 'P'},
        {"upstreams", required_argument, NULL, 'u'},
        {"client-output-limit", required_argument, NULL, 'o'},
        {"max-request", required_argument, NULL, 'm'},
        {"drain-ms", required_argument, NULL, 'd'},
        {"trace", no_argument, NULL, 't'},
        {"backend", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *host = "127.0.0.1", *redis_host = DEFAULT_REDIS_HOST;
    int port = DEFAULT_PORT, redis_port = DEFAULT_REDIS_PORT;
    *o = (struct options){.upstreams = DEFAULT_UPSTREAMS,
                          .client_output_limit = DEFAULT_OUTPUT_LIMIT,
                          .max_request = DEFAULT_MAX_REQUEST,
                          .drain_ms = DEFAULT_DRAIN_MS};
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'H': host = optarg; break;
        case 'p': port = parse_port_option("--port", optarg); break;
        case 'R': redis_host = optarg; break;
        case 'P': redis_port = (int)parse_long_option("--redis-port", optarg, 1, 65535); break;
        case 'u': o->upstreams = parse_long_option("--upstreams", optarg, 1, MAX_UPSTREAMS); break;
        case 'o':
            o->client_output_limit =
                parse_long_option("--client-output-limit", optarg, 4096, 1L << 40);
            break;
        case 'm':
            o->max_request = parse_long_option("--max-request", optarg, 1024, 1L << 30);
            break;
        case 'd': o->drain_ms = parse_long_option("--drain-ms", optarg, 0, 3600000); break;
        case 't': o->loop.trace = 1; break;
        case 'b': o->loop.backend = parse_backend_option(optarg); break;
        case 'h': usage(); exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    parse_ipv4_option(&o->listen_addr, "--host", host, port);
    parse_ipv4_option(&o->redis_addr, "--redis-host", redis_host, redis_port);
}

/* ---- main ------------------------------------------------------------------------- */

static int make_events(struct mux *m)
{
    m->drain_deadline = evtimer_new(m->base, on_drain_deadline, m);
    m->on_sigint = evsignal_new(m->base, SIGINT, on_signal, m);
    m->on_sigterm = evsignal_new(m->base, SIGTERM, on_signal, m);
    m->on_sigusr1 = evsignal_new(m->base, SIGUSR1, on_signal, m);
    m->on_sigusr2 = evsignal_new(m->base, SIGUSR2, trace_on_sigusr2, m->base);
    if (!m->drain_deadline || !m->on_sigint || !m->on_sigterm || !m->on_sigusr1 || !m->on_sigusr2 ||
        evsignal_add(m->on_sigint, NULL) != 0 || evsignal_add(m->on_sigterm, NULL) != 0 ||
        evsignal_add(m->on_sigusr1, NULL) != 0 || evsignal_add(m->on_sigusr2, NULL) != 0) {
        warnx_msg("cannot set up timers and signal events");
        return -1;
    }
    return 0;
}

static int make_upstreams(struct mux *m)
{
    m->upstreams = calloc((size_t)m->opt->upstreams, sizeof(struct upstream *));
    if (!m->upstreams) {
        warnx_msg("cannot create upstreams: out of memory");
        return -1;
    }
    for (long i = 0; i < m->opt->upstreams; i++)
        if (!(m->upstreams[i] = upstream_new(m, (int)i + 1)))
            return -1;
    return 0;
}

/* accept() failed, typically EMFILE: pause accepting (common's accept_pause,
 * chapter 1's idea) rather than spin on a listening socket that stays readable. */
static void on_accept_error(struct evconnlistener *listener, void *arg)
{
    (void)listener;
    accept_pause_after_error(&((struct mux *)arg)->pause);
}

static int make_listener(struct mux *m)
{
    const struct options *o = m->opt;
    m->listener = evconnlistener_new_bind(
        m->base, on_accept, m, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, LISTEN_BACKLOG,
        (const struct sockaddr *)&o->listen_addr, sizeof o->listen_addr);
    if (!m->listener) {
        char want[ADDR_STRLEN];
        warnx_msg("cannot listen on %s: %s",
                  format_addr((const struct sockaddr *)&o->listen_addr, want, sizeof want),
                  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        return -1;
    }
    if (accept_pause_init(&m->pause, m->listener) != 0)
        return -1;
    evconnlistener_set_error_cb(m->listener, on_accept_error);
    return 0;
}

/* Reverse order of creation. Clients first: the ones still owed replies are
 * then freed with their upstream's FIFO. */
static void teardown(struct mux *m)
{
    while (!TAILQ_EMPTY(&m->clients))
        client_drop(TAILQ_FIRST(&m->clients));
    accept_pause_free(&m->pause);
    if (m->listener)
        evconnlistener_free(m->listener);
    for (long i = 0; m->upstreams && i < m->opt->upstreams; i++)
        if (m->upstreams[i])
            upstream_free(m->upstreams[i]);
    free(m->upstreams);
    if (m->on_sigusr2)
        event_free(m->on_sigusr2);
    if (m->on_sigusr1)
        event_free(m->on_sigusr1);
    if (m->on_sigterm)
        event_free(m->on_sigterm);
    if (m->on_sigint)
        event_free(m->on_sigint);
    if (m->drain_deadline)
        event_free(m->drain_deadline);
    event_base_free(m->base);
    libevent_global_shutdown();
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct options o;
    parse_args(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN); /* a vanished client must not kill us */
    keep_freed_memory();      /* fastpath.c: malloc keeps what it frees, process-wide */

    struct mux m = {.opt = &o};
    TAILQ_INIT(&m.clients);
    TAILQ_INIT(&m.to_flush);
    if (o.loop.trace) {
        /* libevent reports every event it adds and every wait it makes;
         * trace.c prints them as register and detect lines on stderr. */
        trace_enable();
        event_enable_debug_logging(EVENT_DBG_ALL);
        event_set_log_callback(trace_libevent_log);
    }
    m.base = open_event_base(o.loop.backend);
    if (!m.base) {
        warnx_msg("cannot create the event base: %s",
                  o.loop.backend ? "that backend is not available here" : "out of memory");
        return EXIT_RUNTIME;
    }
    if (make_events(&m) != 0 || make_upstreams(&m) != 0 || make_listener(&m) != 0) {
        teardown(&m);
        return EXIT_RUNTIME;
    }
    char bound[ADDR_STRLEN], redis[ADDR_STRLEN];
    printf("backend: %s\n", event_base_get_method(m.base));
    printf("listening on %s\n",
           format_local_addr(evconnlistener_get_fd(m.listener), bound, sizeof bound));
    printf("multiplexing onto Redis at %s over %ld shared connection%s\n",
           format_addr((struct sockaddr *)&o.redis_addr, redis, sizeof redis), o.upstreams,
           o.upstreams == 1 ? "" : "s");
    if (o.loop.trace)
        trace_dump_events(m.base);

    event_base_dispatch(m.base);

    print_stats(&m, "summary");
    teardown(&m);
    return EXIT_CLEAN;
}
