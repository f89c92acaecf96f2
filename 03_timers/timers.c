/*
 * 03_timers/timers.c — chapter 3: timeout events, the notes' add_timer(expire, callback).
 *
 * What it teaches: a timer is an event with no fd. Register it with a
 * timeout; the loop computes epoll_wait's timeout from the earliest timer
 * (detect); when that time has passed, libevent calls its callback (dispatch).
 * Each demo is one small function, listed once in demos[] below:
 *   oneshot    evtimer_new + evtimer_add: fires once
 *   heartbeat  a persistent timer (EV_PERSIST) vs one re-added by hand: drift
 *   cancel     one timer deletes another before it fires (evtimer_del)
 *   once       fire-and-forget with event_base_once
 *   all        oneshot, heartbeat (both ways), cancel, once, one after another
 * The chapter's other programs: idle_server.c (connections that time out) and
 * timer_bench.c (a million timers, heap vs common-timeout queue).
 *
 * Run it:  make chapter3            (= build/03_timers/timers --demo all)
 *          build/03_timers/timers --demo heartbeat --interval 200 --count 10
 *
 * Watch for: every line starts with the milliseconds since the program
 * started, so you can read the timing. Compare "scheduled" and "actual" in the
 * two heartbeat runs. Read docs/03-timers.md beside this file.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "common.h"
#include "trace.h"

#define DEFAULT_DELAY_MS 50
#define DEFAULT_INTERVAL_MS 100
#define DEFAULT_COUNT 5
#define DEFAULT_WORK_MS 0
#define ALL_DEMO_WORK_MS 5   /* in `all`, each heartbeat tick "works" this long */
#define CANCEL_FIRST_MS 100  /* the cancelling timer ... */
#define CANCEL_SECOND_MS 200 /* ... fires before the one it cancels */

struct demo;

struct options {
    const struct demo *demo; /* from --demo NAME, checked */
    long delay_ms;
    long interval_ms;
    long count;
    long work_ms;
    int readd;
    int trace; /* --trace: each register/detect/dispatch step on stderr */
};

/* Pretend to work for a while, blocking the loop as real work would. */
static void busy_for_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The notes' add_timer(expire, callback): register TIMER to fire in MS. */
static int add_timer(struct event *timer, long ms, const char *what)
{
    struct timeval tv = ms_to_timeval(ms);
    if (evtimer_add(timer, &tv) != 0) {
        warnx_msg("cannot add the %s timer: evtimer_add failed", what);
        return -1;
    }
    return 0;
}

/* evtimer_new, with the failure said out loud. */
static struct event *new_timer(struct event_base *base, event_callback_fn cb, void *arg,
                               const char *what)
{
    struct event *timer = evtimer_new(base, cb, arg);
    if (!timer)
        warnx_msg("cannot create the %s timer: out of memory", what);
    return timer;
}

/* ---- oneshot ------------------------------------------------------------- */

static double oneshot_registered_at;

static void on_oneshot(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    trace_dispatch(fd, "timeout", "on_oneshot");
    long delay_ms = *(long *)arg;
    log_ms("oneshot: fired %.1f ms after it was registered (asked for %ld ms)",
           elapsed_ms() - oneshot_registered_at, delay_ms);
}

static int demo_oneshot(struct event_base *base, const struct options *o)
{
    struct event *timer = new_timer(base, on_oneshot, (void *)&o->delay_ms, "oneshot");
    if (!timer)
        return EXIT_RUNTIME;
    oneshot_registered_at = elapsed_ms();
    if (add_timer(timer, o->delay_ms, "oneshot") != 0) { /* register */
        event_free(timer);
        return EXIT_RUNTIME;
    }
    log_ms("oneshot: registered a %ld ms timer", o->delay_ms);
    event_base_dispatch(base); /* detect + dispatch; returns when nothing is left */
    log_ms("oneshot: loop ended: no events left");
    event_free(timer);
    return EXIT_CLEAN;
}

/* ---- heartbeat ----------------------------------------------------------- */

/* The callback's argument is its own event (event_self_cbarg), so the
 * demo's counters live here. */
static struct {
    long interval_ms, count, work_ms, ticks;
    int readd;
    double started_ms;
} hb;

/* region: on_tick */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    trace_dispatch(fd, "timeout", "on_tick");
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
    /* A plain timer fires once. Re-adding it here counts the interval from
     * *now* — after this callback's work — so every tick adds its lateness.
     * An EV_PERSIST timer needs nothing here: libevent re-arms it relative to
     * when it was *scheduled*, so lateness does not accumulate. */
    if (hb.readd && add_timer(self, hb.interval_ms, "heartbeat") != 0)
        evtimer_del(self); /* cannot go on: let the loop end */
}
/* endregion */

static int run_heartbeat(struct event_base *base, const struct options *o, int readd, long work_ms)
{
    hb.interval_ms = o->interval_ms;
    hb.count = o->count;
    hb.work_ms = work_ms;
    hb.readd = readd;
    hb.ticks = 0;
    short flags = readd ? 0 : EV_PERSIST;
    struct event *timer = event_new(base, -1, flags, on_tick, event_self_cbarg());
    if (!timer) {
        warnx_msg("cannot create the heartbeat timer: out of memory");
        return EXIT_RUNTIME;
    }
    log_ms("heartbeat: every %ld ms, %ld ticks, %s, %ld ms of work per tick", o->interval_ms,
           o->count, readd ? "re-added in the callback" : "EV_PERSIST", work_ms);
    hb.started_ms = elapsed_ms();
    int status = EXIT_RUNTIME;
    if (add_timer(timer, o->interval_ms, "heartbeat") == 0) {
        event_base_dispatch(base);
        log_ms("heartbeat: loop ended: no events left");
        status = EXIT_CLEAN;
    }
    event_free(timer);
    return status;
}

static int demo_heartbeat(struct event_base *base, const struct options *o)
{
    return run_heartbeat(base, o, o->readd, o->work_ms);
}

/* ---- cancel -------------------------------------------------------------- */

static void on_cancelled(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    trace_dispatch(fd, "timeout", "on_cancelled");
    (void)arg;
    log_ms("cancel: second timer fired (this line must never appear)");
}

static void on_canceller(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    trace_dispatch(fd, "timeout", "on_canceller");
    struct event *victim = arg;
    log_ms("cancel: first timer fired; second timer pending: %s",
           evtimer_pending(victim, NULL) ? "yes" : "no");
    evtimer_del(victim);
    log_ms("cancel: evtimer_del(second); second timer pending: %s",
           evtimer_pending(victim, NULL) ? "yes" : "no");
}

static int demo_cancel(struct event_base *base, const struct options *o)
{
    (void)o;
    int status = EXIT_RUNTIME;
    struct event *second = new_timer(base, on_cancelled, NULL, "second");
    struct event *first = second ? new_timer(base, on_canceller, second, "first") : NULL;
    if (first && add_timer(second, CANCEL_SECOND_MS, "second") == 0 &&
        add_timer(first, CANCEL_FIRST_MS, "first") == 0) {
        log_ms("cancel: first timer in %d ms will cancel the second, due in %d ms", CANCEL_FIRST_MS,
               CANCEL_SECOND_MS);
        event_base_dispatch(base);
        log_ms("cancel: loop ended: the second timer never ran");
        status = EXIT_CLEAN;
    }
    if (first)
        event_free(first);
    if (second)
        event_free(second);
    return status;
}

/* ---- once ---------------------------------------------------------------- */

static void on_once(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    trace_dispatch(fd, "timeout", "on_once");
    log_ms("once: fired after %ld ms; libevent frees its event after this callback", *(long *)arg);
}

static int demo_once(struct event_base *base, const struct options *o)
{
    struct timeval delay = ms_to_timeval(o->delay_ms);
    /* No struct event of ours: nothing to keep, nothing to free — and nothing
     * to cancel it with either. */
    if (event_base_once(base, -1, EV_TIMEOUT, on_once, (void *)&o->delay_ms, &delay) != 0) {
        warnx_msg("cannot register the once timer: event_base_once failed");
        return EXIT_RUNTIME;
    }
    log_ms("once: registered a %ld ms one-off timer", o->delay_ms);
    event_base_dispatch(base);
    log_ms("once: loop ended: no events left");
    return EXIT_CLEAN;
}

/* ---- all ----------------------------------------------------------------- */

static int demo_all(struct event_base *base, const struct options *o)
{
    /* the same heartbeat twice, with work in each tick, to show drift */
    if (demo_oneshot(base, o) != EXIT_CLEAN ||
        run_heartbeat(base, o, 0, ALL_DEMO_WORK_MS) != EXIT_CLEAN ||
        run_heartbeat(base, o, 1, ALL_DEMO_WORK_MS) != EXIT_CLEAN ||
        demo_cancel(base, o) != EXIT_CLEAN)
        return EXIT_RUNTIME;
    return demo_once(base, o);
}

/* Every demo, once: --demo NAME, --help and the error message read this. */
static const struct demo {
    const char *name;
    int (*run)(struct event_base *base, const struct options *o);
    const char *what;
} demos[] = {
    {"oneshot", demo_oneshot, "evtimer_new + evtimer_add: fires once"},
    {"heartbeat", demo_heartbeat, "EV_PERSIST vs re-added by hand: drift"},
    {"cancel", demo_cancel, "one timer deletes another (evtimer_del)"},
    {"once", demo_once, "fire-and-forget with event_base_once"},
    {"all", demo_all, "all of the above, one after another (default)"},
};
#define N_DEMOS (sizeof demos / sizeof demos[0])

static const struct demo *find_demo(const char *name)
{
    for (size_t i = 0; i < N_DEMOS; i++)
        if (strcmp(name, demos[i].name) == 0)
            return &demos[i];
    return NULL;
}

/* ---- command line and main ----------------------------------------------- */

static void usage(void)
{
    printf("usage: %s [--demo NAME] [options]\n", prog_name());
    for (size_t i = 0; i < N_DEMOS; i++)
        printf("  --demo %-10s %s\n", demos[i].name, demos[i].what);
    printf("  --delay MS      oneshot/once: the timer's delay (default %d)\n"
           "  --interval MS   heartbeat: time between ticks (default %d)\n"
           "  --count N       heartbeat: ticks before it stops (default %d)\n"
           "  --work MS       heartbeat: time each tick spends working (default %d)\n"
           "  --readd         heartbeat: re-add a plain timer instead of EV_PERSIST\n"
           "  --trace         print each register/detect/dispatch step on stderr\n"
           "  --help          show this help\n",
           DEFAULT_DELAY_MS, DEFAULT_INTERVAL_MS, DEFAULT_COUNT, DEFAULT_WORK_MS);
}

__attribute__((noreturn)) static void unknown_demo(const char *name)
{
    char names[128] = "";
    for (size_t i = 0; i < N_DEMOS; i++) {
        if (i > 0)
            strncat(names, ", ", sizeof names - strlen(names) - 1);
        strncat(names, demos[i].name, sizeof names - strlen(names) - 1);
    }
    usage_error("--demo: unknown demo '%s' (%s)", name, names);
}

static void parse_args(int argc, char **argv, struct options *o)
{
    static const struct option options[] = {
        {"demo", required_argument, NULL, 'd'},
        {"delay", required_argument, NULL, 'D'},
        {"interval", required_argument, NULL, 'i'},
        {"count", required_argument, NULL, 'c'},
        {"work", required_argument, NULL, 'w'},
        {"readd", no_argument, NULL, 'r'},
        {"trace", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *demo = "all";
    *o = (struct options){.delay_ms = DEFAULT_DELAY_MS,
                          .interval_ms = DEFAULT_INTERVAL_MS,
                          .count = DEFAULT_COUNT,
                          .work_ms = DEFAULT_WORK_MS};
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'd': demo = optarg; break;
        case 'D': o->delay_ms = parse_long_option("--delay", optarg, 0, 3600000); break;
        case 'i': o->interval_ms = parse_long_option("--interval", optarg, 1, 3600000); break;
        case 'c': o->count = parse_long_option("--count", optarg, 1, 1000000); break;
        case 'w': o->work_ms = parse_long_option("--work", optarg, 0, 60000); break;
        case 'r': o->readd = 1; break;
        case 't': o->trace = 1; break;
        case 'h': usage(); exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    o->demo = find_demo(demo);
    if (!o->demo)
        unknown_demo(demo);
}

/* By default libevent reads a coarse clock (CLOCK_MONOTONIC_COARSE, a few ms
 * per step): cheap, but a 50 ms timer may then fire at 47 ms by a precise
 * clock. The demos print times, so they ask for precision. */
static struct event_base *precise_base_new(void)
{
    struct event_config *cfg = event_config_new();
    struct event_base *base = NULL;
    if (cfg) {
        event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
        base = event_base_new_with_config(cfg);
        event_config_free(cfg);
    }
    if (!base)
        warnx_msg("cannot create an event base: out of memory");
    return base;
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct options o;
    parse_args(argc, argv, &o);
    trace_wire(o.trace); /* --trace: register, detect, dispatch lines */
    struct event_base *base = precise_base_new();
    if (!base)
        return EXIT_RUNTIME;

    int status = o.demo->run(base, &o);

    event_base_free(base);
    libevent_global_shutdown();
    return status;
}
