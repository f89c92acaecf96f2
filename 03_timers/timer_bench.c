/*
 * 03_timers/timer_bench.c — chapter 3: N timers on libevent's min-heap vs in
 * a common-timeout queue.
 *
 * What it teaches: a plain timer goes into a min-heap (O(log n) to add and to
 * pop). Timers that all share one duration can go into a "common timeout"
 * queue instead — a list in expiry order, with one heap entry for the whole
 * list (event_base_init_common_timeout). This program measures both with N
 * timers of the same 1 ms timeout, each run in a child process of its own so
 * its peak memory is its own.
 *
 * Run it:  make bench-chapter3      (= build/03_timers/timer_bench 1000000)
 *          build/03_timers/timer_bench 100000
 *
 * Watch for: the "fire" column and the ratio line. Read docs/03-timers.md.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h> /* struct event's size, for one array of them */

#include "common.h"

#define DEFAULT_BENCH_TIMERS 1000000
#define MAX_BENCH_TIMERS 100000000
#define BENCH_TIMEOUT_MS 1

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

/* Add N timers (into the heap, or the common queue), let them all fire. */
static struct bench_result bench_run(long n, int common)
{
    struct bench_result r = {0};
    struct event_base *base = event_base_new();
    /* One array, event_assign'ed in place: we measure libevent, not malloc. */
    struct event *timers = calloc((size_t)n, sizeof *timers);
    if (!base || !timers) {
        warnx_msg("cannot set up %ld timers: out of memory", n);
        exit(EXIT_RUNTIME);
    }
    struct timeval timeout = ms_to_timeval(BENCH_TIMEOUT_MS);
    /* For a common timeout libevent hands back a "magic" timeval: adding an
     * event with it appends to one queue instead of inserting into the heap. */
    const struct timeval *tv = common ? event_base_init_common_timeout(base, &timeout) : &timeout;
    if (!tv) {
        warnx_msg("cannot set up a common timeout: event_base_init_common_timeout failed");
        exit(EXIT_RUNTIME);
    }

    double start = elapsed_ms();
    for (long i = 0; i < n; i++) {
        event_assign(&timers[i], base, -1, 0, on_bench_timer, &r.fired);
        if (event_add(&timers[i], tv) != 0) {
            warnx_msg("cannot add timer %ld: event_add failed", i);
            exit(EXIT_RUNTIME);
        }
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

static void print_row(const char *name, const struct bench_result *r)
{
    printf("%-15s add %9.1f ms   fire %9.1f ms   fired %ld   peak RSS %7.1f MiB\n", name, r->add_ms,
           r->fire_ms, r->fired, r->peak_rss_mib);
}

static int run_bench(long n)
{
    struct bench_result heap, common;
    printf("bench: %ld timers, all with the same %d ms timeout, each run in its own process\n", n,
           BENCH_TIMEOUT_MS);
    if (bench_in_child(n, 0, &heap) != 0 || bench_in_child(n, 1, &common) != 0) {
        warnx_msg("a benchmark run failed: see the message above");
        return EXIT_RUNTIME;
    }
    print_row("min-heap", &heap);
    print_row("common timeout", &common);
    printf("ratio heap/common: add %.2fx   fire %.2fx\n", heap.add_ms / common.add_ms,
           heap.fire_ms / common.fire_ms);
    return (heap.fired == n && common.fired == n) ? EXIT_CLEAN : EXIT_RUNTIME;
}

static void usage(void)
{
    printf("usage: %s [N]\n"
           "  Add N timers (default %d) on the heap, then as a common timeout;\n"
           "  print the time to add and to fire them, and the ratio.\n"
           "  --help          show this help\n",
           prog_name(), DEFAULT_BENCH_TIMERS);
}

static long parse_args(int argc, char **argv)
{
    static const struct option options[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'h': usage(); exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (optind + 1 < argc)
        usage_error("unexpected argument '%s'", argv[optind + 1]);
    if (optind == argc)
        return DEFAULT_BENCH_TIMERS;
    return parse_long_option("N", argv[optind], 1, MAX_BENCH_TIMERS);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    long n = parse_args(argc, argv);
    int status = run_bench(n);
    libevent_global_shutdown();
    return status;
}
