/*
 * tools/loadgen.c — the load generator for chapter 0's benchmark,
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
 * Its command line and the arithmetic of its report are in loadgen_cli.c.
 *
 * Run it:  build/tools/loadgen --port 8000 --connections 100 --lines 10
 * Read docs/00-why-event-loop.md beside this file.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "../00_why_event_loop/echo_shared.h" /* the protocol: MAX_LINE, DEFAULT_HOST */
#include "common.h"
#include "loadgen.h"

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

/* Gather what the run measured; loadgen_cli.c prints it. */
static void report(struct loadgen *lg)
{
    long n = lg->cfg.connections;
    float *first = calloc((size_t)n, sizeof *first);
    float *session = calloc((size_t)n, sizeof *session);
    struct run_figures f = {.expected = n * lg->cfg.lines,
                            .seconds = (lg->end_ms - lg->start_ms) / 1000.0,
                            .latency_ms = lg->latency_ms,
                            .latencies = lg->latencies,
                            .first_ms = first,
                            .session_ms = session,
                            .errors = lg->errors,
                            .first_error = lg->first_error};
    for (long i = 0; first && session && i < n; i++) {
        if (lg->clients[i].state != DONE)
            continue;
        first[f.finished] = (float)lg->clients[i].first_echo_ms;
        session[f.finished++] = (float)lg->clients[i].session_ms;
    }
    print_report(&f);
    free(session);
    free(first);
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
    parse_loadgen_args(argc, argv, &lg.cfg);
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
