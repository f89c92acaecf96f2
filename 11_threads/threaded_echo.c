/*
 * 11_threads/threaded_echo.c — one loop per thread, memcached's way: an
 * acceptor thread hands each new connection to a worker thread.
 *
 * The main thread is the acceptor: its base has the evconnlistener and the
 * signals. For each accepted socket, dispatch_conn_new picks the next worker
 * round-robin, pushes a CQ_ITEM on that worker's queue and writes to its
 * eventfd (worker.c). The worker, woken in its own thread, wraps the socket
 * in a bufferevent of its own base; from then on the connection lives on
 * that thread alone. No base is ever touched by two threads, so nothing here
 * calls evthread_use_pthreads.
 *
 *   memcached                 here
 *   memcached_thread_init     start_workers
 *   dispatch_conn_new         dispatch_conn_new
 *   stop_threads              stop_workers
 *
 * Run it:  make chapter11   (or: build/11_threads/threaded_echo --threads 4 --port 8011)
 * Poke it: nc 127.0.0.1 8011 — lines come back; load it with chapter 0's
 *          loadgen; kill -USR1 PID prints each thread's connection count.
 * Watch for: SIGINT stops accepting, queues "stop" behind any connection
 * still in a queue, joins every thread, frees everything, exits 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "threads.h"

struct acceptor {
    struct event_base *base; /* the main thread's: listener and signals */
    struct evconnlistener *listener;
    struct accept_pause pause;
    struct event *on_sigint, *on_sigterm, *on_sigusr1, *on_sigusr2;
    struct worker *workers;
    long n_workers;   /* how many worker_setup saw (worker_free frees those) */
    long last_thread; /* memcached's last_thread: round-robin */
    int stop_signal;
};

/* region: dispatch_conn_new */
/* The acceptor's only job: choose a worker and hand the socket over. */
static void dispatch_conn_new(struct acceptor *a, evutil_socket_t sfd)
{
    long tid = (a->last_thread + 1) % a->n_workers;
    a->last_thread = tid;
    if (worker_push(&a->workers[tid], sfd, QUEUE_NEW_CONN) != 0)
        evutil_closesocket(sfd);
}
/* endregion */

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *peer,
                      int peerlen, void *ctx)
{
    (void)peer;
    (void)peerlen;
    trace_dispatch_locked(evconnlistener_get_fd(listener), "accept", "on_accept");
    dispatch_conn_new(ctx, fd);
}

static void on_accept_error(struct evconnlistener *listener, void *ctx)
{
    (void)listener;
    accept_pause_after_error(&((struct acceptor *)ctx)->pause);
}

static void on_signal(evutil_socket_t sig, short what, void *ctx)
{
    (void)what;
    struct acceptor *a = ctx;
    trace_dispatch_locked(sig, "signal", "on_signal");
    a->stop_signal = (int)sig;
    event_base_loopexit(a->base, NULL);
}

static void print_counts(struct acceptor *a)
{
    for (long i = 0; i < a->n_workers; i++)
        print_worker_count(&a->workers[i]);
}

static void on_sigusr1(evutil_socket_t sig, short what, void *ctx)
{
    (void)what;
    struct acceptor *a = ctx;
    trace_dispatch_locked(sig, "signal", "on_sigusr1");
    print_counts(a);
}

/* Each worker its own base, eventfd and queue; then its thread. */
static int start_workers(struct acceptor *a, long n, const char *backend)
{
    a->workers = calloc((size_t)n, sizeof *a->workers);
    if (!a->workers) {
        warnx_msg("out of memory for %ld workers", n);
        return -1;
    }
    for (; a->n_workers < n; a->n_workers++)
        if (worker_setup(&a->workers[a->n_workers], (int)a->n_workers, backend) != 0) {
            a->n_workers++; /* half made: worker_free cleans it up */
            return -1;
        }
    a->last_thread = n - 1; /* the first connection goes to thread 0 */
    sigset_t old;
    block_signals(&old); /* the workers inherit the mask: signals come here */
    int failed = 0;
    for (long i = 0; i < n && !failed; i++)
        failed = worker_start(&a->workers[i]) != 0;
    restore_signals(&old);
    return failed ? -1 : 0;
}

/* region: stop_workers */
/* "stop" goes behind anything still queued, so every handed-over socket is
 * taken before the worker drains: it reads no more, sends what it owes
 * (up to DRAIN_MS), closes, and leaves its loop. */
static void stop_workers(struct acceptor *a)
{
    for (long i = 0; i < a->n_workers; i++)
        if (a->workers[i].running && worker_push(&a->workers[i], -1, QUEUE_STOP) != 0)
            warnx_msg("thread %ld: cannot be told to stop", i);
    for (long i = 0; i < a->n_workers; i++)
        worker_join(&a->workers[i]);
}
/* endregion */

static int setup_acceptor(struct acceptor *a, const struct sockaddr_in *sin)
{
    char want[ADDR_STRLEN];
    a->listener = evconnlistener_new_bind(
        a->base, on_accept, a, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
        LISTEN_BACKLOG, (const struct sockaddr *)sin, sizeof *sin);
    if (!a->listener) {
        warnx_msg("cannot listen on %s: %s",
                  format_addr((const struct sockaddr *)sin, want, sizeof want),
                  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        return -1;
    }
    if (accept_pause_init(&a->pause, a->listener) != 0)
        return -1;
    evconnlistener_set_error_cb(a->listener, on_accept_error);
    a->on_sigint = evsignal_new(a->base, SIGINT, on_signal, a);
    a->on_sigterm = evsignal_new(a->base, SIGTERM, on_signal, a);
    a->on_sigusr1 = evsignal_new(a->base, SIGUSR1, on_sigusr1, a);
    a->on_sigusr2 = evsignal_new(a->base, SIGUSR2, on_sigusr2_locked, a->base);
    if (!a->on_sigint || !a->on_sigterm || !a->on_sigusr1 || !a->on_sigusr2 ||
        evsignal_add(a->on_sigint, NULL) != 0 || evsignal_add(a->on_sigterm, NULL) != 0 ||
        evsignal_add(a->on_sigusr1, NULL) != 0 || evsignal_add(a->on_sigusr2, NULL) != 0) {
        warnx_msg("cannot watch SIGINT/SIGTERM/SIGUSR1/SIGUSR2");
        return -1;
    }
    return 0;
}

/* In reverse: the threads first (stopped and joined), then what they used. */
static void teardown(struct acceptor *a)
{
    stop_workers(a);
    for (long i = 0; i < a->n_workers; i++)
        worker_free(&a->workers[i]);
    free(a->workers);
    struct event *signals[] = {a->on_sigusr2, a->on_sigusr1, a->on_sigterm, a->on_sigint};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (signals[i])
            event_free(signals[i]);
    accept_pause_free(&a->pause);
    if (a->listener)
        evconnlistener_free(a->listener);
    if (a->base)
        event_base_free(a->base);
    libevent_global_shutdown();
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct thread_options opt = {0};
    parse_thread_options(argc, argv, "Echo lines; an acceptor hands connections to N loops.", 0,
                         &opt);
    signal(SIGPIPE, SIG_IGN);
    if (opt.loop.trace)
        trace_setup_threads();

    struct acceptor a = {0};
    a.base = open_event_base(opt.loop.backend);
    if (!a.base) {
        warnx_msg("cannot create the event base: %s",
                  opt.loop.backend ? "that backend is not available here" : "out of memory");
        return EXIT_RUNTIME;
    }
    if (start_workers(&a, opt.threads, opt.loop.backend) != 0 ||
        setup_acceptor(&a, &opt.sin) != 0) {
        teardown(&a);
        return EXIT_RUNTIME;
    }
    printf("backend: %s\n", event_base_get_method(a.base));
    printf("threads: 1 acceptor + %ld worker%s\n", opt.threads, opt.threads == 1 ? "" : "s");
    print_listening(evconnlistener_get_fd(a.listener));
    if (opt.loop.trace)
        trace_dump_events_locked(a.base);

    event_base_dispatch(a.base); /* until SIGINT/SIGTERM */

    if (a.stop_signal)
        printf("caught %s, shutting down\n", a.stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
    evconnlistener_disable(a.listener); /* stop accepting */
    stop_workers(&a);
    printf("joined %ld worker thread%s\n", a.n_workers, a.n_workers == 1 ? "" : "s");
    print_counts(&a);
    teardown(&a);
    printf("bye\n");
    return EXIT_CLEAN;
}
