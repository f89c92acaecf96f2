/*
 * 12_rate_limits_and_filters/meter.c — chapter 12's measuring client: N
 * connections to a server, each reading as fast as it is allowed, the
 * achieved rates printed as CSV, then the totals and Jain's fairness index.
 *
 *   meter --port 8092 --connections 10 --seconds 5
 *   second,c1,c2,...,c10,total          one line per --interval-ms, in B/s
 *   conn 1: 327680 bytes = 65536 B/s    then one line per connection,
 *   total: 655360 B/s                   the sum of their rates,
 *   jain: 0.9998                        (Σx)² / (n·Σx²): 1 is perfectly fair
 *   jain per interval: min 0.99 mean 0.99   the same, for each CSV line
 *
 * Jain's index is 1 when every connection got the same rate and 1/n when one
 * took everything. The clock starts once every connection is up (or
 * --warmup-ms later), and so do the byte counts: a bucket's first tick, and
 * what the first connections got while the others were connecting, do not
 * hide in the average.
 * Exit: 0 measured, 1 a connection failed or closed early, 2 usage.
 */
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "common.h"

#define MAX_CONNECTIONS 1000

struct meter;
struct reader {
    struct meter *m;
    struct bufferevent *bev;
    int up;              /* connected */
    uint64_t total;      /* bytes since the clock started */
    uint64_t this_round; /* bytes since the last CSV line */
};

struct meter {
    struct event_base *base;
    struct event *tick, *stop, *warmup;
    struct reader *readers;
    long n, n_up, rounds;
    long interval_ms, seconds, warmup_ms;
    double started_ms;         /* 0 until every connection is up */
    double jain_min, jain_sum; /* over the CSV lines: how fair each second was */
    int failed;
};

/* region: jain */
/* Jain's fairness index of n rates: (sum x)^2 / (n * sum x^2). */
static double jain(const double *x, long n)
{
    double sum = 0, squares = 0;
    for (long i = 0; i < n; i++) {
        sum += x[i];
        squares += x[i] * x[i];
    }
    return squares > 0 ? sum * sum / ((double)n * squares) : 1.0;
}
/* endregion */

static void on_read(struct bufferevent *bev, void *arg)
{
    struct reader *r = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = evbuffer_get_length(in);
    if (r->m->started_ms > 0) {
        r->total += len;
        r->this_round += len;
    }
    evbuffer_drain(in, len);
}

static void start_clock(struct meter *m)
{
    struct timeval every = ms_to_timeval(m->interval_ms), end = {m->seconds, 0};
    m->started_ms = elapsed_ms();
    printf("second");
    for (long i = 0; i < m->n; i++)
        printf(",c%ld", i + 1);
    printf(",total\n");
    if (event_add(m->tick, &every) != 0 || event_add(m->stop, &end) != 0) {
        warnx_msg("cannot add the timers");
        m->failed = 1;
        event_base_loopexit(m->base, NULL);
    }
}

static void on_warmed_up(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    start_clock(arg);
}

/* Every connection is up: start the clock now, or after --warmup-ms (what
 * the server sent while the others were still connecting arrives meanwhile). */
static void warm_up(struct meter *m)
{
    struct timeval wait = ms_to_timeval(m->warmup_ms);
    if (m->warmup_ms == 0) {
        start_clock(m);
    } else if (event_add(m->warmup, &wait) != 0) {
        warnx_msg("cannot add the warm-up timer");
        m->failed = 1;
        event_base_loopexit(m->base, NULL);
    }
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct reader *r = arg;
    struct meter *m = r->m;
    if (what & BEV_EVENT_CONNECTED) {
        r->up = 1;
        if (++m->n_up == m->n)
            warm_up(m);
        return;
    }
    warnx_msg("connection %ld: %s", (long)(r - m->readers) + 1,
              what & BEV_EVENT_EOF ? "closed by the server"
                                   : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    m->failed = 1;
    event_base_loopexit(m->base, NULL);
}

/* One CSV line: each connection's bytes this round, as B/s. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct meter *m = arg;
    double secs = (double)m->interval_ms / 1000.0, total = 0;
    double *rates = calloc((size_t)m->n, sizeof *rates);
    if (!rates)
        return;
    printf("%.2f", (double)++m->rounds * secs);
    for (long i = 0; i < m->n; i++) {
        rates[i] = (double)m->readers[i].this_round / secs;
        printf(",%.0f", rates[i]);
        total += rates[i];
        m->readers[i].this_round = 0;
    }
    printf(",%.0f\n", total);
    double j = jain(rates, m->n);
    m->jain_sum += j;
    if (m->rounds == 1 || j < m->jain_min)
        m->jain_min = j;
    free(rates);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    event_base_loopexit(((struct meter *)arg)->base, NULL);
}

static void print_summary(struct meter *m)
{
    double secs = (elapsed_ms() - m->started_ms) / 1000.0, total = 0;
    double *rates = calloc((size_t)m->n, sizeof *rates);
    if (!rates)
        return;
    for (long i = 0; i < m->n; i++) {
        rates[i] = (double)m->readers[i].total / secs;
        total += rates[i];
        printf("conn %ld: %llu bytes = %.0f B/s\n", i + 1, (unsigned long long)m->readers[i].total,
               rates[i]);
    }
    printf("total: %.0f B/s over %.2f s\n", total, secs);
    printf("jain: %.4f\n", jain(rates, m->n));
    if (m->rounds > 0)
        printf("jain per interval: min %.4f mean %.4f\n", m->jain_min,
               m->jain_sum / (double)m->rounds);
    free(rates);
}

static void usage(void)
{
    printf("usage: %s --port PORT [options]\n"
           "  Read from N connections as fast as allowed; print the rates each gets.\n"
           "  --host ADDR          the server's IPv4 address (default 127.0.0.1)\n"
           "  --port PORT          the server's port\n"
           "  --connections N      how many connections (default 1)\n"
           "  --seconds S          how long to measure (default 10)\n"
           "  --interval-ms MS     one CSV line this often (default 1000)\n"
           "  --warmup-ms MS       once all are up, wait this long before counting (default 0)\n",
           prog_name());
}

static void parse_args(int argc, char **argv, struct meter *m, struct sockaddr_in *sin)
{
    static const struct option options[] = {
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"connections", required_argument, NULL, 'n'},
        {"seconds", required_argument, NULL, 's'},
        {"interval-ms", required_argument, NULL, 'i'},
        {"warmup-ms", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *host = "127.0.0.1";
    int port = 0, opt;
    m->n = 1, m->seconds = 10, m->interval_ms = 1000;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'H': host = optarg; break;
        case 'p': port = (int)parse_long_option("--port", optarg, 1, 65535); break;
        case 'n': m->n = parse_long_option("--connections", optarg, 1, MAX_CONNECTIONS); break;
        case 's': m->seconds = parse_long_option("--seconds", optarg, 1, 3600); break;
        case 'i': m->interval_ms = parse_long_option("--interval-ms", optarg, 10, 60000); break;
        case 'w': m->warmup_ms = parse_long_option("--warmup-ms", optarg, 0, 60000); break;
        case 'h': usage(); exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (port == 0)
        usage_error("--port is required");
    parse_ipv4_option(sin, "--host", host, port);
}

static int connect_all(struct meter *m, const struct sockaddr_in *sin)
{
    for (long i = 0; i < m->n; i++) {
        struct reader *r = &m->readers[i];
        r->m = m;
        r->bev = bufferevent_socket_new(m->base, -1, BEV_OPT_CLOSE_ON_FREE);
        if (!r->bev) {
            warnx_msg("cannot create connection %ld: out of memory", i + 1);
            return -1;
        }
        bufferevent_setcb(r->bev, on_read, NULL, on_event, r);
        if (bufferevent_enable(r->bev, EV_READ) != 0 ||
            bufferevent_socket_connect(r->bev, (const struct sockaddr *)sin, sizeof *sin) != 0) {
            warnx_msg("cannot connect connection %ld: %s", i + 1,
                      evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
            return -1;
        }
    }
    return 0;
}

static void meter_close(struct meter *m)
{
    for (long i = 0; m->readers && i < m->n; i++)
        if (m->readers[i].bev)
            bufferevent_free(m->readers[i].bev);
    free(m->readers);
    if (m->warmup)
        event_free(m->warmup);
    if (m->stop)
        event_free(m->stop);
    if (m->tick)
        event_free(m->tick);
    if (m->base)
        event_base_free(m->base);
    libevent_global_shutdown();
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct meter m = {0};
    struct sockaddr_in sin;
    parse_args(argc, argv, &m, &sin);
    signal(SIGPIPE, SIG_IGN);

    m.base = event_base_new();
    m.readers = calloc((size_t)m.n, sizeof *m.readers);
    if (m.base) {
        m.tick = event_new(m.base, -1, EV_PERSIST, on_tick, &m);
        m.stop = evtimer_new(m.base, on_stop, &m);
        m.warmup = evtimer_new(m.base, on_warmed_up, &m);
    }
    if (!m.base || !m.readers || !m.tick || !m.stop || !m.warmup) {
        warnx_msg("cannot set up: out of memory");
        meter_close(&m);
        return EXIT_RUNTIME;
    }
    if (connect_all(&m, &sin) != 0) {
        meter_close(&m);
        return EXIT_RUNTIME;
    }

    event_base_dispatch(m.base);

    if (!m.failed)
        print_summary(&m);
    meter_close(&m);
    return m.failed ? EXIT_RUNTIME : EXIT_CLEAN;
}
