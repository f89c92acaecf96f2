/*
 * 03_timers/timers.c — chapter 3: timeout events, the notes' add_timer(expire, callback).
 *
 * What it teaches: a timer is an event with no fd. Register it with a
 * timeout; the loop computes epoll_wait's timeout from the earliest timer
 * (detect); when that time has passed, libevent calls its callback (dispatch).
 * Each demo is one small function:
 *   oneshot    evtimer_new + evtimer_add: fires once
 *   heartbeat  a persistent timer (EV_PERSIST) vs one re-added by hand: drift
 *   cancel     one timer deletes another before it fires (evtimer_del)
 *   once       fire-and-forget with event_base_once
 *   idle       a server that closes connections idle for --idle MS
 *   all        oneshot, heartbeat (both ways), cancel, once, one after another
 * and --bench N measures N timers on the min-heap vs a common-timeout queue.
 *
 * Run it:  make chapter3            (= 03_timers/timers --demo all)
 *          03_timers/timers --demo heartbeat --interval 200 --count 10
 *          03_timers/timers --demo idle --idle 3000, then: telnet 127.0.0.1 8083
 *          make bench-chapter3       (= 03_timers/timers --bench 1000000)
 *
 * Watch for: every line starts with the milliseconds since the program
 * started, so you can read the timing. Compare "scheduled" and "actual" in the
 * two heartbeat runs. Read docs/03-timers.md beside this file.
 */
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h> /* struct event's size, for the --bench array */
#include <event2/listener.h>

#include "common.h"

#define DEFAULT_DELAY_MS 50
#define DEFAULT_INTERVAL_MS 100
#define DEFAULT_COUNT 5
#define DEFAULT_WORK_MS 0
#define DEFAULT_IDLE_MS 5000
#define DEFAULT_PORT 8083
#define DEFAULT_BENCH_TIMERS 1000000
#define ALL_DEMO_WORK_MS 5   /* in `all`, each heartbeat tick "works" this long */
#define CANCEL_FIRST_MS 100  /* the cancelling timer ... */
#define CANCEL_SECOND_MS 200 /* ... fires before the one it cancels */
#define BENCH_TIMEOUT_MS 1

struct options {
    const char *demo;
    long delay_ms;
    long interval_ms;
    long count;
    long work_ms;
    int readd;
    long idle_ms;
    struct sockaddr_in sin; /* --host and --port, checked */
    long bench;
};

/* Pretend to work for a while, blocking the loop as real work would. */
static void busy_for_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- oneshot ------------------------------------------------------------- */

static double oneshot_registered_at;

static void on_oneshot(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    long delay_ms = *(long *)arg;
    log_ms("oneshot: fired %.1f ms after it was registered (asked for %ld ms)",
           elapsed_ms() - oneshot_registered_at, delay_ms);
}

static void demo_oneshot(struct event_base *base, const struct options *o)
{
    struct event *timer = evtimer_new(base, on_oneshot, (void *)&o->delay_ms);
    struct timeval delay = ms_to_timeval(o->delay_ms);
    oneshot_registered_at = elapsed_ms();
    evtimer_add(timer, &delay); /* register */
    log_ms("oneshot: registered a %ld ms timer", o->delay_ms);
    event_base_dispatch(base); /* detect + dispatch; returns when nothing is left */
    log_ms("oneshot: loop ended: no events left");
    event_free(timer);
}

/* ---- heartbeat ----------------------------------------------------------- */

/* The callback's argument is its own event (event_self_cbarg), so the
 * demo's counters live here. */
static struct {
    long interval_ms, count, work_ms, ticks;
    int readd;
    double started_ms;
} hb;

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct event *self = arg;
    double actual = elapsed_ms() - hb.started_ms;
    hb.ticks++;
    double scheduled = (double)(hb.ticks * hb.interval_ms);
    log_ms("heartbeat: tick %ld scheduled %7.1f ms actual %7.1f ms drift %+6.1f ms", hb.ticks,
           scheduled, actual, actual - scheduled);
    busy_for_ms(hb.work_ms);
    if (hb.ticks == hb.count) {
        evtimer_del(self); /* the last event: dispatch will return */
        log_ms("heartbeat: %ld ticks done, timer deleted", hb.count);
        return;
    }
    if (hb.readd) {
        /* A plain timer fires once. Re-adding it here counts the interval from
         * *now* — after this callback's work — so every tick adds its lateness. */
        struct timeval interval = ms_to_timeval(hb.interval_ms);
        evtimer_add(self, &interval);
    }
    /* An EV_PERSIST timer needs nothing here: libevent re-arms it relative to
     * when it was *scheduled*, so lateness does not accumulate. */
}

static void demo_heartbeat(struct event_base *base, const struct options *o, int readd,
                           long work_ms)
{
    hb.interval_ms = o->interval_ms;
    hb.count = o->count;
    hb.work_ms = work_ms;
    hb.readd = readd;
    hb.ticks = 0;
    short flags = readd ? 0 : EV_PERSIST;
    struct event *timer = event_new(base, -1, flags, on_tick, event_self_cbarg());
    struct timeval interval = ms_to_timeval(o->interval_ms);
    log_ms("heartbeat: every %ld ms, %ld ticks, %s, %ld ms of work per tick", o->interval_ms,
           o->count, readd ? "re-added in the callback" : "EV_PERSIST", work_ms);
    hb.started_ms = elapsed_ms();
    evtimer_add(timer, &interval);
    event_base_dispatch(base);
    log_ms("heartbeat: loop ended: no events left");
    event_free(timer);
}

/* ---- cancel -------------------------------------------------------------- */

static void on_cancelled(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    log_ms("cancel: second timer fired (this line must never appear)");
}

static void on_canceller(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct event *victim = arg;
    log_ms("cancel: first timer fired; second timer pending: %s",
           evtimer_pending(victim, NULL) ? "yes" : "no");
    evtimer_del(victim);
    log_ms("cancel: evtimer_del(second); second timer pending: %s",
           evtimer_pending(victim, NULL) ? "yes" : "no");
}

static void demo_cancel(struct event_base *base)
{
    struct event *second = evtimer_new(base, on_cancelled, NULL);
    struct event *first = evtimer_new(base, on_canceller, second);
    struct timeval second_delay = ms_to_timeval(CANCEL_SECOND_MS);
    struct timeval first_delay = ms_to_timeval(CANCEL_FIRST_MS);
    evtimer_add(second, &second_delay);
    evtimer_add(first, &first_delay);
    log_ms("cancel: first timer in %d ms will cancel the second, due in %d ms", CANCEL_FIRST_MS,
           CANCEL_SECOND_MS);
    event_base_dispatch(base);
    log_ms("cancel: loop ended: the second timer never ran");
    event_free(first);
    event_free(second);
}

/* ---- once ---------------------------------------------------------------- */

static void on_once(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    log_ms("once: fired after %ld ms; libevent frees its event after this callback", *(long *)arg);
}

static void demo_once(struct event_base *base, const struct options *o)
{
    struct timeval delay = ms_to_timeval(o->delay_ms);
    /* No struct event of ours: nothing to keep, nothing to free — and nothing
     * to cancel it with either. */
    if (event_base_once(base, -1, EV_TIMEOUT, on_once, (void *)&o->delay_ms, &delay) != 0) {
        warnx_msg("event_base_once failed");
        return;
    }
    log_ms("once: registered a %ld ms one-off timer", o->delay_ms);
    event_base_dispatch(base);
    log_ms("once: loop ended: no events left");
}

/* ---- idle: a server whose connections time out --------------------------- */

struct idle_server;

struct idle_conn {
    struct idle_server *server;
    struct bufferevent *bev;
    struct event *idle_timer; /* restarted on every input */
    char peer[ADDR_STRLEN];
    struct idle_conn *prev, *next;
};

struct idle_server {
    struct event_base *base;
    struct timeval idle;
    long idle_ms;
    struct idle_conn *conns;
};

static void idle_conn_free(struct idle_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        c->server->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    event_free(c->idle_timer);
    bufferevent_free(c->bev);
    free(c);
}

/* Input: echo it, and restart the idle timer. Adding a pending timer again
 * simply moves its deadline. */
static void on_idle_read(struct bufferevent *bev, void *arg)
{
    struct idle_conn *c = arg;
    evbuffer_add_buffer(bufferevent_get_output(bev), bufferevent_get_input(bev));
    evtimer_add(c->idle_timer, &c->server->idle);
}

static void on_idle_event(struct bufferevent *bev, short what, void *arg);

/* Only used once the connection timed out: free it when the goodbye is out. */
static void on_idle_flushed(struct bufferevent *bev, void *arg)
{
    (void)bev;
    idle_conn_free(arg);
}

static void on_idle_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct idle_conn *c = arg;
    log_ms("idle: closing %s: no input for %ld ms", c->peer, c->server->idle_ms);
    bufferevent_disable(c->bev, EV_READ);
    bufferevent_setcb(c->bev, NULL, on_idle_flushed, on_idle_event, c); /* flush, then close */
    evbuffer_add_printf(bufferevent_get_output(c->bev), "idle for %ld ms, bye\r\n",
                        c->server->idle_ms);
}

static void on_idle_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    (void)what;
    struct idle_conn *c = arg;
    log_ms("idle: %s left", c->peer);
    idle_conn_free(c);
}

static void on_idle_accept(struct evconnlistener *listener, evutil_socket_t fd,
                           struct sockaddr *peer, int peerlen, void *arg)
{
    (void)listener;
    (void)peerlen;
    struct idle_server *server = arg;
    struct idle_conn *c = calloc(1, sizeof *c);
    struct bufferevent *bev =
        c ? bufferevent_socket_new(server->base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
    struct event *timer = bev ? evtimer_new(server->base, on_idle_timeout, c) : NULL;
    if (!timer) {
        warnx_msg("out of memory: dropping a connection");
        if (bev)
            bufferevent_free(bev);
        else
            evutil_closesocket(fd);
        free(c);
        return;
    }
    c->server = server;
    c->bev = bev;
    c->idle_timer = timer;
    format_addr(peer, c->peer, sizeof c->peer);
    c->next = server->conns;
    if (c->next)
        c->next->prev = c;
    server->conns = c;
    log_ms("idle: %s connected; it will be closed after %ld ms without input", c->peer,
           server->idle_ms);
    bufferevent_setcb(bev, on_idle_read, NULL, on_idle_event, c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    evtimer_add(timer, &server->idle);
    /* The bufferevent way to do the same: bufferevent_set_timeouts(bev,
     * &idle, NULL) — on expiry on_idle_event gets BEV_EVENT_TIMEOUT. The
     * separate timer here keeps the mechanism visible. */
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    log_ms("idle: caught %s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    event_base_loopexit(arg, NULL);
}

static int demo_idle(struct event_base *base, const struct options *o)
{
    struct idle_server server = {.base = base, .idle_ms = o->idle_ms};
    server.idle = ms_to_timeval(o->idle_ms);
    signal(SIGPIPE, SIG_IGN); /* a peer that vanished must not kill us (chapter 4) */

    struct evconnlistener *listener = evconnlistener_new_bind(
        base, on_idle_accept, &server, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, -1,
        (const struct sockaddr *)&o->sin, sizeof o->sin);
    if (!listener) {
        char want[ADDR_STRLEN];
        warnx_msg("cannot listen on %s: %s",
                  format_addr((const struct sockaddr *)&o->sin, want, sizeof want),
                  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        return EXIT_RUNTIME;
    }
    evconnlistener_set_error_cb(listener, pause_accepting_after_error); /* EMFILE: ch. 1 */
    struct event *sigint = evsignal_new(base, SIGINT, on_stop_signal, base);
    struct event *sigterm = evsignal_new(base, SIGTERM, on_stop_signal, base);
    evsignal_add(sigint, NULL);
    evsignal_add(sigterm, NULL);
    char bound[ADDR_STRLEN];
    printf("listening on %s\n",
           format_local_addr(evconnlistener_get_fd(listener), bound, sizeof bound));

    event_base_dispatch(base);

    for (struct idle_conn *c = server.conns, *next; c; c = next) {
        next = c->next;
        idle_conn_free(c);
    }
    event_free(sigterm);
    event_free(sigint);
    evconnlistener_free(listener);
    return EXIT_CLEAN;
}

/* ---- bench: N timers on the heap vs in a common-timeout queue ------------- */

struct bench_result {
    double add_ms, fire_ms, peak_rss_mib;
    long fired;
};

static void on_bench_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (*(long *)arg)++;
}

static struct bench_result bench_run(long n, int common)
{
    struct bench_result r = {0};
    struct event_base *base = event_base_new();
    /* One array, event_assign'ed in place: we measure libevent, not malloc. */
    struct event *timers = calloc((size_t)n, sizeof *timers);
    if (!base || !timers) {
        warnx_msg("out of memory for %ld timers", n);
        exit(EXIT_RUNTIME);
    }
    struct timeval timeout = ms_to_timeval(BENCH_TIMEOUT_MS);
    /* For a common timeout libevent hands back a "magic" timeval: adding an
     * event with it appends to one queue instead of inserting into the heap. */
    const struct timeval *tv = common ? event_base_init_common_timeout(base, &timeout) : &timeout;

    double start = elapsed_ms();
    for (long i = 0; i < n; i++) {
        event_assign(&timers[i], base, -1, 0, on_bench_timer, &r.fired);
        event_add(&timers[i], tv);
    }
    double added = elapsed_ms();
    event_base_dispatch(base); /* returns once every timer has fired */
    double fired = elapsed_ms();

    r.add_ms = added - start;
    r.fire_ms = fired - added;
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    r.peak_rss_mib = (double)usage.ru_maxrss / 1024.0; /* ru_maxrss is in KiB */
    free(timers);
    event_base_free(base);
    return r;
}

/* Each run in a child process of its own, so its peak RSS is its own. */
static int bench_in_child(long n, int common, struct bench_result *out)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(fds[0]);
        struct bench_result r = bench_run(n, common);
        ssize_t wrote = write(fds[1], &r, sizeof r);
        _exit(wrote == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fds[1]);
    ssize_t got = read(fds[0], out, sizeof *out);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    return (got == (ssize_t)sizeof *out && WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 0 : -1;
}

static int run_bench(long n)
{
    struct bench_result heap, common;
    printf("bench: %ld timers, all with the same %d ms timeout, each run in its own process\n", n,
           BENCH_TIMEOUT_MS);
    if (bench_in_child(n, 0, &heap) != 0 || bench_in_child(n, 1, &common) != 0) {
        warnx_msg("a benchmark run failed");
        return EXIT_RUNTIME;
    }
    const struct {
        const char *name;
        const struct bench_result *r;
    } rows[] = {{"min-heap", &heap}, {"common timeout", &common}};
    for (int i = 0; i < 2; i++)
        printf("%-15s add %9.1f ms   fire %9.1f ms   fired %ld   peak RSS %7.1f MiB\n",
               rows[i].name, rows[i].r->add_ms, rows[i].r->fire_ms, rows[i].r->fired,
               rows[i].r->peak_rss_mib);
    printf("ratio heap/common: add %.2fx   fire %.2fx\n", heap.add_ms / common.add_ms,
           heap.fire_ms / common.fire_ms);
    return (heap.fired == n && common.fired == n) ? EXIT_CLEAN : EXIT_RUNTIME;
}

/* ---- command line and main ----------------------------------------------- */

static void usage(void)
{
    printf("usage: %s [--demo NAME] [options]   or   %s --bench [N]\n"
           "  --demo NAME     oneshot, heartbeat, cancel, once, idle, all (default all)\n"
           "  --delay MS      oneshot/once: the timer's delay (default %d)\n"
           "  --interval MS   heartbeat: time between ticks (default %d)\n"
           "  --count N       heartbeat: ticks before it stops (default %d)\n"
           "  --work MS       heartbeat: time each tick spends working (default %d)\n"
           "  --readd         heartbeat: re-add a plain timer instead of EV_PERSIST\n"
           "  --idle MS       idle: close connections silent this long (default %d)\n"
           "  --port PORT     idle: port to listen on, 0 = any free port (default %d)\n"
           "  --host ADDR     idle: IPv4 address to listen on (default 127.0.0.1)\n"
           "  --bench N       add N timers (default %d) on the heap, then as a common\n"
           "                  timeout; print the time to add and to fire them\n"
           "  --help          show this help\n",
           prog_name(), prog_name(), DEFAULT_DELAY_MS, DEFAULT_INTERVAL_MS, DEFAULT_COUNT,
           DEFAULT_WORK_MS, DEFAULT_IDLE_MS, DEFAULT_PORT, DEFAULT_BENCH_TIMERS);
}

static void parse_args(int argc, char **argv, struct options *o)
{
    static const struct option options[] = {
        {"demo", required_argument, NULL, 'd'},     {"delay", required_argument, NULL, 'D'},
        {"interval", required_argument, NULL, 'i'}, {"count", required_argument, NULL, 'c'},
        {"work", required_argument, NULL, 'w'},     {"readd", no_argument, NULL, 'r'},
        {"idle", required_argument, NULL, 'I'},     {"port", required_argument, NULL, 'p'},
        {"bench", optional_argument, NULL, 'b'},    {"host", required_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    *o = (struct options){.demo = "all",
                          .delay_ms = DEFAULT_DELAY_MS,
                          .interval_ms = DEFAULT_INTERVAL_MS,
                          .count = DEFAULT_COUNT,
                          .work_ms = DEFAULT_WORK_MS,
                          .idle_ms = DEFAULT_IDLE_MS};
    const char *host = "127.0.0.1";
    int port = DEFAULT_PORT;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'd': o->demo = optarg; break;
        case 'D': o->delay_ms = parse_long_option("--delay", optarg, 0, 3600000); break;
        case 'i': o->interval_ms = parse_long_option("--interval", optarg, 1, 3600000); break;
        case 'c': o->count = parse_long_option("--count", optarg, 1, 1000000); break;
        case 'w': o->work_ms = parse_long_option("--work", optarg, 0, 60000); break;
        case 'r': o->readd = 1; break;
        case 'I': o->idle_ms = parse_long_option("--idle", optarg, 1, 86400000); break;
        case 'p': port = parse_port_option("--port", optarg); break;
        case 'H': host = optarg; break;
        case 'b':
            /* "--bench 10000" as well as "--bench=10000" and a bare "--bench" */
            if (!optarg && optind < argc && argv[optind][0] != '-')
                optarg = argv[optind++];
            o->bench =
                optarg ? parse_long_option("--bench", optarg, 1, 100000000) : DEFAULT_BENCH_TIMERS;
            break;
        case 'h': usage(); exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    parse_ipv4_option(&o->sin, "--host", host, port);
    static const char *const demos[] = {"oneshot", "heartbeat", "cancel", "once", "idle", "all"};
    for (size_t i = 0; i < sizeof demos / sizeof demos[0]; i++)
        if (strcmp(o->demo, demos[i]) == 0) // NOLINT: getopt never leaves demo NULL
            return;
    usage_error("--demo: unknown demo '%s' (oneshot, heartbeat, cancel, once, idle, all)", o->demo);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct options o;
    parse_args(argc, argv, &o);
    if (o.bench) {
        int status = run_bench(o.bench);
        libevent_global_shutdown();
        return status;
    }

    /* By default libevent reads a coarse clock (CLOCK_MONOTONIC_COARSE, a few
     * ms per step): cheap, but a 50 ms timer may then fire at 47 ms by a
     * precise clock. The demos print times, so they ask for precision. */
    struct event_config *cfg = event_config_new();
    struct event_base *base = NULL;
    if (cfg) {
        event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
        base = event_base_new_with_config(cfg);
        event_config_free(cfg);
    }
    if (!base) {
        warnx_msg("cannot create an event base");
        return EXIT_RUNTIME;
    }
    int status = EXIT_CLEAN;
    const char *d = o.demo;
    int all = strcmp(d, "all") == 0;
    if (all || strcmp(d, "oneshot") == 0)
        demo_oneshot(base, &o);
    if (all) {
        /* the same heartbeat twice, with work in each tick, to show drift */
        demo_heartbeat(base, &o, 0, ALL_DEMO_WORK_MS);
        demo_heartbeat(base, &o, 1, ALL_DEMO_WORK_MS);
    } else if (strcmp(d, "heartbeat") == 0) {
        demo_heartbeat(base, &o, o.readd, o.work_ms);
    }
    if (all || strcmp(d, "cancel") == 0)
        demo_cancel(base);
    if (all || strcmp(d, "once") == 0)
        demo_once(base, &o);
    if (strcmp(d, "idle") == 0)
        status = demo_idle(base, &o);

    event_base_free(base);
    libevent_global_shutdown();
    return status;
}
