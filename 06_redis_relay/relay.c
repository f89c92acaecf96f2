/*
 * 06_redis_relay/relay.c — chapter 6: the notes' C <-> S <-> DB, as a working
 * relay between Redis clients and Redis. Every earlier chapter in one program.
 *
 *   client ──▶ [client fd: our read] ──forward──▶ [upstream bev] ──▶ Redis
 *   client ◀── [client bev] ◀──forward── [upstream fd: our read] ◀── Redis
 *
 * This file is the server around the pairs: options, the listener, signals,
 * stats and the drain, and main wiring them up. pair.c is one client and its
 * own connection to Redis — the data path and a connection's whole life.
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
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "relay.h"

#define DEFAULT_PORT 6380
#define DEFAULT_REDIS_HOST "127.0.0.1"
#define DEFAULT_REDIS_PORT 6379
#define DEFAULT_HIGH (1024 * 1024) /* per direction, per client */
#define DEFAULT_DRAIN_MS 5000
/* Connections the kernel may queue before we accept them. libevent's default
 * (-1) is 128: a burst of clients beyond that sees dropped SYNs and waits a
 * full second to retry. */
#define LISTEN_BACKLOG 4096

static void print_stats(const struct relay *r, const char *label)
{
    printf("%s: clients_now=%ld clients_total=%ld rejected=%ld bytes_to_redis=%llu "
           "bytes_to_clients=%llu upstream_errors=%ld\n",
           label, r->clients_now, r->clients_total, r->rejected, r->bytes_to_redis,
           r->bytes_to_clients, r->upstream_errors);
}

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

/* Out of descriptors (EMFILE): stop accepting for a moment instead of spinning
 * on a listening socket that stays readable — chapter 1's pause, packaged in
 * common's accept_pause, which stays off once the drain has begun. */
static void on_accept_error(struct evconnlistener *listener, void *arg)
{
    (void)listener;
    accept_pause_after_error(&((struct relay *)arg)->pause);
}

/* ---- shutdown and stats ----------------------------------------------------- */

void relay_pair_freed(struct relay *r)
{
    if (r->draining && r->clients_now == 0)
        event_base_loopexit(r->base, NULL);
}

static void on_drain_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct relay *r = arg;
    trace_dispatch(fd, "timeout", "on_drain_deadline");
    printf("shutdown: drain time is up; closing %ld client%s\n", r->clients_now,
           r->clients_now == 1 ? "" : "s");
    event_base_loopexit(r->base, NULL);
}

/* Stop accepting; the clients we have carry on until they leave (or Redis
 * closes them), for at most --drain-ms. A second signal exits at once. */
static void start_drain(struct relay *r, const char *why)
{
    if (r->draining) {
        printf("shutdown: second %s: exiting now\n", why);
        event_base_loopexit(r->base, NULL);
        return;
    }
    r->draining = 1;
    accept_pause_stop_accepting(&r->pause); /* and no pending EMFILE resume */
    printf("shutdown: caught %s; draining %ld client%s (up to %ld ms)\n", why, r->clients_now,
           r->clients_now == 1 ? "" : "s", r->opt->drain_ms);
    struct timeval deadline = ms_to_timeval(r->opt->drain_ms);
    if (r->clients_now == 0 || event_add(r->drain_deadline, &deadline) != 0)
        event_base_loopexit(r->base, NULL);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct relay *r = arg;
    trace_dispatch(sig, "signal", "on_signal");
    if (sig == SIGUSR1)
        print_stats(r, "stats");
    else
        start_drain(r, sig == SIGINT ? "SIGINT" : "SIGTERM");
}

static void on_stats_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    trace_dispatch(fd, "timeout", "on_stats_timer");
    print_stats(arg, "stats");
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
           prog_name(), DEFAULT_PORT, DEFAULT_REDIS_HOST, DEFAULT_REDIS_PORT, DEFAULT_HIGH,
           DEFAULT_DRAIN_MS);
}

static void parse_args(int argc, char **argv, struct options *o)
{
    static const struct option options[] = {
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"redis-host", required_argument, NULL, 'R'},
        {"redis-port", required_argument, NULL, 'P'},
        {"high", required_argument, NULL, 'w'},
        {"stats-interval", required_argument, NULL, 's'},
        {"max-clients", required_argument, NULL, 'm'},
        {"drain-ms", required_argument, NULL, 'd'},
        {"trace", no_argument, NULL, 't'},
        {"backend", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *host = "127.0.0.1", *redis_host = DEFAULT_REDIS_HOST;
    int port = DEFAULT_PORT, redis_port = DEFAULT_REDIS_PORT;
    *o = (struct options){.high = DEFAULT_HIGH, .drain_ms = DEFAULT_DRAIN_MS};
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'H': host = optarg; break;
        case 'p': port = parse_port_option("--port", optarg); break;
        case 'R': redis_host = optarg; break;
        case 'P': redis_port = (int)parse_long_option("--redis-port", optarg, 1, 65535); break;
        case 'w': o->high = parse_long_option("--high", optarg, 4096, 1L << 30); break;
        case 's':
            o->stats_interval_s = parse_long_option("--stats-interval", optarg, 1, 86400);
            break;
        case 'm': o->max_clients = parse_long_option("--max-clients", optarg, 1, 10000000); break;
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

/* ---- setting up and tearing down --------------------------------------------- */

static int made(const void *thing, const char *what)
{
    if (thing)
        return 1;
    warnx_msg("cannot create %s: out of memory", what);
    return 0;
}

static int listen_for_clients(struct relay *r)
{
    const struct sockaddr_in *addr = &r->opt->listen_addr;
    r->listener =
        evconnlistener_new_bind(r->base, on_accept, r, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE,
                                LISTEN_BACKLOG, (const struct sockaddr *)addr, sizeof *addr);
    if (!r->listener) {
        char want[ADDR_STRLEN];
        warnx_msg("cannot listen on %s: %s",
                  format_addr((const struct sockaddr *)addr, want, sizeof want),
                  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        return -1;
    }
    if (accept_pause_init(&r->pause, r->listener) != 0)
        return -1;
    evconnlistener_set_error_cb(r->listener, on_accept_error);
    return 0;
}

/* The timers and signal events, each made, then added; 0 when all are in. */
static int add_events(struct relay *r)
{
    r->drain_deadline = evtimer_new(r->base, on_drain_deadline, r);
    r->stats_timer = event_new(r->base, -1, EV_PERSIST, on_stats_timer, r);
    r->on_sigint = evsignal_new(r->base, SIGINT, on_signal, r);
    r->on_sigterm = evsignal_new(r->base, SIGTERM, on_signal, r);
    r->on_sigusr1 = evsignal_new(r->base, SIGUSR1, on_signal, r);
    r->on_sigusr2 = evsignal_new(r->base, SIGUSR2, trace_on_sigusr2, r->base);
    if (!made(r->on_sigusr2, "the SIGUSR2 event") || !made(r->drain_deadline, "the drain timer") ||
        !made(r->stats_timer, "the stats timer") || !made(r->on_sigint, "the SIGINT event") ||
        !made(r->on_sigterm, "the SIGTERM event") || !made(r->on_sigusr1, "the SIGUSR1 event"))
        return -1;
    struct timeval every = {r->opt->stats_interval_s, 0};
    if ((r->opt->stats_interval_s > 0 && event_add(r->stats_timer, &every) != 0) ||
        evsignal_add(r->on_sigint, NULL) != 0 || evsignal_add(r->on_sigterm, NULL) != 0 ||
        evsignal_add(r->on_sigusr1, NULL) != 0 || evsignal_add(r->on_sigusr2, NULL) != 0) {
        warnx_msg("cannot add the stats timer or the signal events");
        return -1;
    }
    return 0;
}

/* Everything, newest first; safe on a half-made relay (free(NULL) is fine). */
static void relay_close(struct relay *r)
{
    while (!LIST_EMPTY(&r->pairs))
        pair_free(LIST_FIRST(&r->pairs));
    struct event *events[] = {r->on_sigusr2, r->on_sigusr1,  r->on_sigterm,
                              r->on_sigint,  r->stats_timer, r->drain_deadline};
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
        if (events[i])
            event_free(events[i]);
    accept_pause_free(&r->pause);
    if (r->listener)
        evconnlistener_free(r->listener);
    if (r->scratch)
        evbuffer_free(r->scratch);
    if (r->base)
        event_base_free(r->base);
    libevent_global_shutdown();
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct options o;
    parse_args(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN); /* a vanished client must not kill the relay */

    struct relay r = {.opt = &o};
    LIST_INIT(&r.pairs);
    if (o.loop.trace) {
        /* libevent reports every event it adds and every wait it makes;
         * trace.c prints them as register and detect lines on stderr. */
        trace_enable();
        event_enable_debug_logging(EVENT_DBG_ALL);
        event_set_log_callback(trace_libevent_log);
    }
    r.base = open_event_base(o.loop.backend);
    if (!r.base) {
        warnx_msg("cannot create the event base: %s",
                  o.loop.backend ? "that backend is not available here" : "out of memory");
        return EXIT_RUNTIME;
    }
    r.scratch = evbuffer_new();
    if (!made(r.scratch, "the read buffer") || listen_for_clients(&r) != 0 || add_events(&r) != 0) {
        relay_close(&r);
        return EXIT_RUNTIME;
    }

    char bound[ADDR_STRLEN], redis[ADDR_STRLEN];
    printf("backend: %s\n", event_base_get_method(r.base));
    printf("listening on %s\n",
           format_local_addr(evconnlistener_get_fd(r.listener), bound, sizeof bound));
    printf("relaying to Redis at %s\n",
           format_addr((struct sockaddr *)&o.redis_addr, redis, sizeof redis));
    if (o.loop.trace)
        trace_dump_events(r.base);

    event_base_dispatch(r.base);

    print_stats(&r, "summary");
    relay_close(&r);
    return EXIT_CLEAN;
}
