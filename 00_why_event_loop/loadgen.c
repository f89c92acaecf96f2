/*
 * 00_why_event_loop/loadgen.c — the load generator for chapter 0's benchmark,
 * itself a libevent program: N client connections from one thread.
 *
 * What it does: opens --connections N connections to an echo server on the
 * loopback interface; each sends --lines M lines of --bytes B bytes, one at a
 * time, and waits for each line's echo (checking it byte for byte) before
 * sending the next. It reports throughput, latency percentiles and errors.
 * It is bounded: N x M is capped, and --timeout ends any run.
 *
 * What it teaches on the way: a client is an event-driven program too. Each
 * connection is a bufferevent that connects without blocking
 * (bufferevent_socket_connect), and one loop drives all N of them — which is
 * why a single loadgen can stand in for 10,000 users.
 *
 * For the benchmark script, --pause stops twice and waits for SIGUSR1: once
 * all connections are up (so the server can be measured holding N idle
 * clients) and once all lines are echoed (measured again before it closes).
 *
 * Run it:  00_why_event_loop/loadgen --port 8000 --connections 100 --lines 10
 * Read docs/00-why-event-loop.md beside this file.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "common.h"
#include "echo_shared.h"

#define MAX_CONNECTIONS 50000
#define MAX_REQUESTS 10000000L /* N x M: the latency table is 4 bytes each */
#define SPARE_FDS 32           /* descriptors besides the connections */
#define DEFAULT_CONNECTIONS 10
#define DEFAULT_LINES 10
#define DEFAULT_BYTES 64
#define DEFAULT_TIMEOUT_S 30

struct config {
    struct sockaddr_in server;
    long connections, lines, bytes, timeout_s, think_ms;
    int pause;
};

enum client_state { CONNECTING, WAITING, RUNNING, DONE, FAILED };

struct loadgen;

struct client {
    struct loadgen *lg;
    struct bufferevent *bev;
    struct event *think; /* --think: the pause before the next line */
    long index;
    long echoed; /* lines whose echo came back */
    enum client_state state;
    double sent_at;    /* when the line in flight was sent (ms) */
    double started_at; /* when the first line was sent */
    double first_echo_ms, session_ms;
};

struct loadgen {
    struct config cfg;
    struct event_base *base;
    struct client *clients;
    float *latency_ms; /* one per echoed line */
    long latencies;
    long connecting, running; /* clients still in those states */
    long errors;
    char first_error[160];
    double start_ms, end_ms;
    int paused_at; /* 0: not paused; 1: after connecting; 2: after the run */
    struct event *on_usr1, *on_deadline, *on_sigint, *on_sigterm;
};

static void start_client(struct client *c);
static void finish_run(struct loadgen *lg);

/* ---- lines --------------------------------------------------------------- */

/* Line SEQ of client INDEX, exactly B bytes with its '\n': "c12 l3 xxxx...\n". */
static void make_line(char *buf, long bytes, long index, long seq)
{
    int n = snprintf(buf, (size_t)bytes, "c%ld l%ld ", index, seq);
    if (n < 0 || n > bytes - 1)
        n = (int)bytes - 1;
    memset(buf + n, 'x', (size_t)(bytes - 1 - n));
    buf[bytes - 1] = '\n';
}

static void send_line(struct client *c)
{
    char line[MAX_LINE];
    make_line(line, c->lg->cfg.bytes, c->index, c->echoed);
    c->sent_at = elapsed_ms();
    if (c->echoed == 0)
        c->started_at = c->sent_at;
    bufferevent_write(c->bev, line, (size_t)c->lg->cfg.bytes);
}

/* ---- one client ---------------------------------------------------------- */

static void client_error(struct client *c, const char *what)
{
    struct loadgen *lg = c->lg;
    if (lg->errors++ == 0)
        snprintf(lg->first_error, sizeof lg->first_error, "connection %ld: %s", c->index, what);
    if (c->state == CONNECTING || c->state == WAITING || c->state == RUNNING)
        lg->running--;
    c->state = FAILED;
    bufferevent_free(c->bev);
    c->bev = NULL;
}

static void client_done(struct client *c)
{
    c->state = DONE;
    c->session_ms = elapsed_ms() - c->started_at;
    if (!c->lg->cfg.pause) { /* else it stays open until the second SIGUSR1 */
        bufferevent_free(c->bev);
        c->bev = NULL;
    }
    if (--c->lg->running == 0)
        finish_run(c->lg);
}

static void on_think_over(evutil_socket_t fd, short what, void *ctx)
{
    (void)fd;
    (void)what;
    send_line(ctx);
}

/* Echoes arrive; a full line's worth is checked against what we sent. */
static void on_read(struct bufferevent *bev, void *ctx)
{
    struct client *c = ctx;
    struct loadgen *lg = c->lg;
    struct evbuffer *input = bufferevent_get_input(bev);
    size_t bytes = (size_t)lg->cfg.bytes;
    char got[MAX_LINE], want[MAX_LINE];
    while (c->state == RUNNING && evbuffer_get_length(input) >= bytes) {
        double now = elapsed_ms();
        evbuffer_remove(input, got, bytes);
        make_line(want, lg->cfg.bytes, c->index, c->echoed);
        if (memcmp(got, want, bytes) != 0) {
            client_error(c, "the echo differs from the line sent");
            return;
        }
        lg->latency_ms[lg->latencies++] = (float)(now - c->sent_at);
        if (c->echoed++ == 0)
            c->first_echo_ms = now - c->sent_at;
        if (c->echoed == lg->cfg.lines) {
            client_done(c);
            return;
        }
        if (c->think) {
            struct timeval tv = ms_to_timeval(lg->cfg.think_ms);
            evtimer_add(c->think, &tv);
        } else {
            send_line(c);
        }
    }
    if (evbuffer_get_length(input) > 0 && c->state != RUNNING)
        client_error(c, "the server sent bytes nobody asked for");
}

/* One more connection attempt ended, either way. After the last one, --pause
 * stops here until SIGUSR1, so the server can be measured holding N idle
 * clients. */
static void connect_finished(struct loadgen *lg)
{
    if (--lg->connecting > 0 || !lg->cfg.pause)
        return;
    printf("connected %ld of %ld; paused: send SIGUSR1 to start\n",
           lg->cfg.connections - lg->errors, lg->cfg.connections);
    lg->paused_at = 1;
}

static void on_event(struct bufferevent *bev, short what, void *ctx)
{
    (void)bev;
    struct client *c = ctx;
    struct loadgen *lg = c->lg;
    int was_connecting = c->state == CONNECTING;
    if (what & BEV_EVENT_CONNECTED) {
        c->state = WAITING;
        if (!lg->cfg.pause)
            start_client(c);
        connect_finished(lg);
        return;
    }
    char why[128];
    snprintf(why, sizeof why, "%s%s",
             (what & BEV_EVENT_EOF) ? "the server closed the connection"
                                    : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()),
             was_connecting ? " (while connecting)" : "");
    client_error(c, why);
    if (was_connecting)
        connect_finished(lg);
    if (lg->running == 0)
        finish_run(lg);
}

static void start_client(struct client *c)
{
    c->state = RUNNING;
    send_line(c);
}

/* Create client I and start connecting it (without waiting). 0, or -1. */
static int open_client(struct loadgen *lg, long i)
{
    struct client *c = &lg->clients[i];
    c->lg = lg;
    c->index = i;
    c->state = CONNECTING;
    c->bev = bufferevent_socket_new(lg->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!c->bev)
        return -1;
    if (lg->cfg.think_ms > 0 && !(c->think = evtimer_new(lg->base, on_think_over, c)))
        return -1;
    bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
    bufferevent_enable(c->bev, EV_READ);
    lg->connecting++;
    lg->running++;
    if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&lg->cfg.server,
                                   sizeof lg->cfg.server) != 0) {
        client_error(c, strerror(errno)); /* no socket for it: counted, not fatal */
        connect_finished(lg);
    }
    return 0;
}

/* ---- the run ------------------------------------------------------------- */

static void finish_run(struct loadgen *lg)
{
    lg->end_ms = elapsed_ms();
    if (!lg->cfg.pause) {
        event_base_loopexit(lg->base, NULL);
        return;
    }
    printf("done; paused: send SIGUSR1 to close\n");
    lg->paused_at = 2;
}

static void on_usr1(evutil_socket_t fd, short what, void *ctx)
{
    (void)fd;
    (void)what;
    struct loadgen *lg = ctx;
    if (lg->paused_at == 1) {
        /* The run starts now, with its own --timeout: the pause (however
         * long the server took to take N clients) does not eat into it. */
        struct timeval deadline = ms_to_timeval(lg->cfg.timeout_s * 1000);
        evtimer_add(lg->on_deadline, &deadline);
        lg->paused_at = 0;
        lg->start_ms = elapsed_ms();
        for (long i = 0; i < lg->cfg.connections; i++)
            if (lg->clients[i].state == WAITING)
                start_client(&lg->clients[i]);
        if (lg->running == 0)
            finish_run(lg);
    } else if (lg->paused_at == 2) {
        event_base_loopexit(lg->base, NULL);
    }
}

/* --timeout, SIGINT or SIGTERM: what has not finished counts as an error. */
static void on_stop(evutil_socket_t fd, short what, void *ctx)
{
    struct loadgen *lg = ctx;
    if (what & EV_SIGNAL)
        warnx_msg("interrupted by %s", fd == SIGINT ? "SIGINT" : "SIGTERM");
    else if (lg->running > 0)
        warnx_msg("timed out after %ld s with %ld connection%s unfinished", lg->cfg.timeout_s,
                  lg->running, lg->running == 1 ? "" : "s");
    if (lg->errors == 0 && lg->running > 0)
        snprintf(lg->first_error, sizeof lg->first_error, "unfinished when the run stopped");
    lg->errors += lg->running;
    if (lg->end_ms == 0)
        lg->end_ms = elapsed_ms();
    event_base_loopexit(lg->base, NULL);
}

/* ---- the report ---------------------------------------------------------- */

static int by_value(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The nearest-rank percentile P (1 to 100) of the N sorted values: the
 * smallest value at least P% of them do not exceed. */
static double percentile(const float *sorted, long n, long p)
{
    if (n == 0)
        return 0;
    long rank = (p * n + 99) / 100; /* ceil(p / 100 * n) in whole numbers */
    return sorted[rank < 1 ? 0 : rank - 1];
}

static void report(struct loadgen *lg)
{
    const struct config *cfg = &lg->cfg;
    long expected = cfg->connections * cfg->lines;
    double seconds = (lg->end_ms - lg->start_ms) / 1000.0;
    qsort(lg->latency_ms, (size_t)lg->latencies, sizeof *lg->latency_ms, by_value);
    printf("requests %ld of %ld in %.3f s: %.0f req/s\n", lg->latencies, expected, seconds,
           seconds > 0 ? (double)lg->latencies / seconds : 0.0);
    printf("latency ms: p50 %.3f p99 %.3f max %.3f\n",
           percentile(lg->latency_ms, lg->latencies, 50),
           percentile(lg->latency_ms, lg->latencies, 99),
           percentile(lg->latency_ms, lg->latencies, 100));
    /* The iterative server's lesson: a later client's first echo waits for
     * an earlier client's whole session. */
    float *first = calloc((size_t)cfg->connections, sizeof *first);
    float *session = calloc((size_t)cfg->connections, sizeof *session);
    long done = 0;
    for (long i = 0; first && session && i < cfg->connections; i++) {
        if (lg->clients[i].state != DONE)
            continue;
        first[done] = (float)lg->clients[i].first_echo_ms;
        session[done++] = (float)lg->clients[i].session_ms;
    }
    if (done > 0) {
        qsort(first, (size_t)done, sizeof *first, by_value);
        qsort(session, (size_t)done, sizeof *session, by_value);
    }
    printf("first echo ms: max %.3f; session ms: min %.3f p50 %.3f max %.3f\n",
           percentile(first, done, 100), done ? session[0] : 0.0, percentile(session, done, 50),
           percentile(session, done, 100));
    free(session);
    free(first);
    if (lg->errors)
        printf("errors %ld (the first: %s)\n", lg->errors, lg->first_error);
    else
        printf("errors 0\n");
}

/* ---- command line -------------------------------------------------------- */

static void usage(void)
{
    printf("usage: %s --port PORT [--host ADDR] [--connections N] [--lines M] [--bytes B]\n"
           "       [--think MS] [--timeout S] [--pause]\n"
           "  Open N connections to an echo server; each sends M lines of B bytes (the\n"
           "  newline included), one at a time, waiting for each echo.\n"
           "  --host ADDR       the server, a loopback address (default %s)\n"
           "  --port PORT       the server's port (required)\n"
           "  --connections N   concurrent connections, 1 to %d (default %d)\n"
           "  --lines M         lines per connection (default %d; N x M <= %ld)\n"
           "  --bytes B         bytes per line, 2 to %d (default %d)\n"
           "  --think MS        wait MS between an echo and the next line (default 0)\n"
           "  --timeout S       give up after S seconds (default %d); with --pause,\n"
           "                    the run after the first SIGUSR1 gets S seconds again\n"
           "  --pause           wait for SIGUSR1 once connected and once done\n"
           "  --help            show this help\n",
           prog_name(), DEFAULT_HOST, MAX_CONNECTIONS, DEFAULT_CONNECTIONS, DEFAULT_LINES,
           MAX_REQUESTS, MAX_LINE, DEFAULT_BYTES, DEFAULT_TIMEOUT_S);
}

static void parse_args(int argc, char **argv, struct config *cfg)
{
    static const struct option options[] = {
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"connections", required_argument, NULL, 'n'},
        {"lines", required_argument, NULL, 'm'},
        {"bytes", required_argument, NULL, 'b'},
        {"think", required_argument, NULL, 't'},
        {"timeout", required_argument, NULL, 'T'},
        {"pause", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *host = DEFAULT_HOST;
    int port = 0, opt;
    *cfg = (struct config){.connections = DEFAULT_CONNECTIONS,
                           .lines = DEFAULT_LINES,
                           .bytes = DEFAULT_BYTES,
                           .timeout_s = DEFAULT_TIMEOUT_S};
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'H': host = optarg; break;
        case 'p': port = (int)parse_long_option("--port", optarg, 1, 65535); break;
        case 'n':
            cfg->connections = parse_long_option("--connections", optarg, 1, MAX_CONNECTIONS);
            break;
        case 'm': cfg->lines = parse_long_option("--lines", optarg, 1, MAX_REQUESTS); break;
        case 'b': cfg->bytes = parse_long_option("--bytes", optarg, 2, MAX_LINE); break;
        case 't': cfg->think_ms = parse_long_option("--think", optarg, 0, 60000); break;
        case 'T': cfg->timeout_s = parse_long_option("--timeout", optarg, 1, 3600); break;
        case 'P': cfg->pause = 1; break;
        case 'h': usage(); exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (port == 0)
        usage_error("--port is required");
    if (cfg->connections * cfg->lines > MAX_REQUESTS)
        usage_error("--connections x --lines is %ld; the limit is %ld",
                    cfg->connections * cfg->lines, MAX_REQUESTS);
    parse_ipv4_option(&cfg->server, "--host", host, port);
    /* A load generator aimed at someone else's machine is an attack tool. */
    if ((ntohl(cfg->server.sin_addr.s_addr) >> 24) != 127)
        usage_error("--host: %s is not a loopback address (127.x.x.x)", host);
}

/* N connections need N descriptors: raise the soft limit toward the hard
 * one if we must. 0, or -1 after a message. */
static int raise_fd_limit(long connections)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)connections + SPARE_FDS;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_cur >= need)
        return 0;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur >= need)
        return 0;
    warnx_msg("%ld connections need %lu descriptors; the limit is %lu (ulimit -n)", connections,
              (unsigned long)need, (unsigned long)rl.rlim_cur);
    return -1;
}

/* ---- main: wire things up in the order they happen ----------------------- */

/* The deadline, SIGINT/SIGTERM and (with --pause) SIGUSR1. 0, or -1. */
static int watch_stops(struct loadgen *lg)
{
    struct timeval deadline = ms_to_timeval(lg->cfg.timeout_s * 1000);
    lg->on_deadline = evtimer_new(lg->base, on_stop, lg);
    lg->on_sigint = evsignal_new(lg->base, SIGINT, on_stop, lg);
    lg->on_sigterm = evsignal_new(lg->base, SIGTERM, on_stop, lg);
    lg->on_usr1 = evsignal_new(lg->base, SIGUSR1, on_usr1, lg);
    if (!lg->on_deadline || !lg->on_sigint || !lg->on_sigterm || !lg->on_usr1)
        return -1;
    if (evtimer_add(lg->on_deadline, &deadline) != 0 || evsignal_add(lg->on_sigint, NULL) != 0 ||
        evsignal_add(lg->on_sigterm, NULL) != 0 || evsignal_add(lg->on_usr1, NULL) != 0)
        return -1;
    return 0;
}

static void teardown(struct loadgen *lg)
{
    for (long i = 0; lg->clients && i < lg->cfg.connections; i++) {
        if (lg->clients[i].think)
            event_free(lg->clients[i].think);
        if (lg->clients[i].bev)
            bufferevent_free(lg->clients[i].bev);
    }
    struct event *events[] = {lg->on_usr1, lg->on_sigterm, lg->on_sigint, lg->on_deadline};
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
        if (events[i])
            event_free(events[i]);
    free(lg->latency_ms);
    free(lg->clients);
    if (lg->base)
        event_base_free(lg->base);
    libevent_global_shutdown(); /* so valgrind sees only our own leaks */
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct loadgen lg = {0};
    parse_args(argc, argv, &lg.cfg);
    signal(SIGPIPE, SIG_IGN);
    if (raise_fd_limit(lg.cfg.connections) != 0)
        return EXIT_RUNTIME;

    long n = lg.cfg.connections;
    lg.base = event_base_new();
    lg.clients = calloc((size_t)n, sizeof *lg.clients);
    lg.latency_ms = malloc((size_t)(n * lg.cfg.lines) * sizeof *lg.latency_ms);
    if (!lg.base || !lg.clients || !lg.latency_ms || watch_stops(&lg) != 0) {
        warnx_msg("cannot set up: out of memory");
        teardown(&lg);
        return EXIT_RUNTIME;
    }
    char target[ADDR_STRLEN];
    printf("%ld connection%s x %ld lines of %ld bytes to %s\n", n, n == 1 ? "" : "s", lg.cfg.lines,
           lg.cfg.bytes, format_addr((struct sockaddr *)&lg.cfg.server, target, sizeof target));

    lg.start_ms = elapsed_ms();
    for (long i = 0; i < n; i++) {
        if (open_client(&lg, i) != 0) {
            warnx_msg("cannot create connection %ld: out of memory", i);
            teardown(&lg);
            return EXIT_RUNTIME;
        }
    }
    if (lg.running == 0)
        finish_run(&lg);
    event_base_dispatch(lg.base); /* until the last echo, --timeout or a signal */

    report(&lg);
    long errors = lg.errors;
    teardown(&lg);
    return errors ? EXIT_RUNTIME : EXIT_CLEAN;
}
