/*
 * 11_threads/tally.c — exercise 11.3's starting point: a race, on purpose.
 *
 * N threads, each with its own event base (no base is shared, so no
 * evthread_use_pthreads is needed) and an event that runs TICKS times (an
 * EV_WRITE on a socket that is always writable: one turn of the loop, one
 * run). Each run adds one to the thread's own count — and to ticks_total, one plain
 * counter shared by every thread. Two threads can read the same old value
 * and both write it back plus one: an update lost. The total often comes
 * out a little short — or right, by luck; ThreadSanitizer shows the race
 * whatever the total says:
 *
 *   make tsan-test builds it as build/tsan/11_threads/tally, then:
 *   build/tsan/11_threads/tally --threads 4
 *   WARNING: ThreadSanitizer: data race ... in on_tick ... ticks_total
 *
 * Run it:  build/11_threads/tally --threads 4 --ticks 1000
 * Watch for: "total 4000 ticks (4 x 1000)" — right by luck, not by design,
 * until exercise 11.3 makes it so.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "common.h"

#define MAX_TALLY_THREADS 64

struct ticker {
    int index;
    pthread_t thread_id;
    struct event_base *base; /* this thread's alone */
    evutil_socket_t pair[2]; /* pair[0] is always writable: the loop never waits */
    struct event *tick;      /* EV_WRITE | EV_PERSIST on pair[0] */
    long ticks, wanted;
};

static long ticks_total;             /* every thread adds to it: the race */
static pthread_barrier_t start_line; /* every thread starts ticking at once */

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct ticker *t = arg;
    t->ticks++;    /* this thread's own: fine */
    ticks_total++; /* shared, unsynchronised: a data race */
    if (t->ticks == t->wanted)
        event_del(t->tick); /* nothing left: event_base_dispatch returns */
}

static void *ticker_main(void *arg)
{
    struct ticker *t = arg;
    pthread_barrier_wait(&start_line);
    event_base_dispatch(t->base);
    return NULL;
}

static int ticker_setup(struct ticker *t, int index, long wanted)
{
    t->index = index;
    t->wanted = wanted;
    t->base = event_base_new();
    if (!t->base || evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, t->pair) != 0) {
        warnx_msg("thread %d: cannot create its base and socket pair", index);
        return -1;
    }
    t->tick = event_new(t->base, t->pair[0], EV_WRITE | EV_PERSIST, on_tick, t);
    if (!t->tick || event_add(t->tick, NULL) != 0) {
        warnx_msg("thread %d: cannot watch its socket", index);
        return -1;
    }
    return 0;
}

static void parse_args(int argc, char **argv, long *threads, long *ticks)
{
    static const struct option options[] = {
        {"threads", required_argument, NULL, 'n'},
        {"ticks", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (o) {
        case 'n': *threads = parse_long_option("--threads", optarg, 1, MAX_TALLY_THREADS); break;
        case 'k': *ticks = parse_long_option("--ticks", optarg, 1, 10000000); break;
        case 'h':
            printf("usage: %s [--threads N] [--ticks M]\n"
                   "  N threads (default 4), each its own base and an event run M times\n"
                   "  (default 1000); prints each thread's count and the shared total\n",
                   prog_name());
            exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    long n = 4, wanted = 1000;
    parse_args(argc, argv, &n, &wanted);
    struct ticker *tickers = calloc((size_t)n, sizeof *tickers);
    if (!tickers) {
        warnx_msg("out of memory");
        return EXIT_RUNTIME;
    }
    int status = EXIT_CLEAN;
    long made = 0, started = 0;
    pthread_barrier_init(&start_line, NULL, (unsigned)n);
    for (; made < n && status == EXIT_CLEAN; made++)
        if (ticker_setup(&tickers[made], (int)made, wanted) != 0)
            status = EXIT_RUNTIME;
    for (; started < n && status == EXIT_CLEAN; started++) {
        int err = pthread_create(&tickers[started].thread_id, NULL, ticker_main, &tickers[started]);
        if (err != 0) {
            warnx_msg("pthread_create: %s", strerror(err));
            status = EXIT_RUNTIME;
            break;
        }
    }
    for (long i = 0; i < started; i++)
        pthread_join(tickers[i].thread_id, NULL);
    if (status == EXIT_CLEAN) {
        for (long i = 0; i < n; i++)
            printf("thread %d: %ld ticks\n", tickers[i].index, tickers[i].ticks);
        printf("total %ld ticks (%ld x %ld)\n", ticks_total, n, wanted);
    }
    for (long i = 0; i < made; i++) {
        if (tickers[i].tick)
            event_free(tickers[i].tick);
        if (tickers[i].base)
            event_base_free(tickers[i].base);
        if (tickers[i].pair[0] > 0) {
            evutil_closesocket(tickers[i].pair[0]);
            evutil_closesocket(tickers[i].pair[1]);
        }
    }
    pthread_barrier_destroy(&start_line);
    free(tickers);
    libevent_global_shutdown();
    return status;
}
