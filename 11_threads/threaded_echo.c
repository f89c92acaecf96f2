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
    struct server srv; /* the main thread's base, listener, signals: common/server.h */
    struct worker *workers;
    long n_workers;   /* how many worker_setup saw (worker_free frees those) */
    long last_thread; /* memcached's last_thread: round-robin */
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
    trace_dispatch(evconnlistener_get_fd(listener), "accept", "on_accept");
    dispatch_conn_new(ctx, fd);
}

static void print_counts(void *app, const char *label)
{
    (void)label;
    const struct acceptor *a = app;
    for (long i = 0; i < a->n_workers; i++)
        print_worker_count(&a->workers[i]);
}

/* SIGUSR1 prints each thread's count; SIGINT/SIGTERM end the acceptor's loop
 * at once (the workers drain themselves: stop_workers). */
static const struct server_hooks acceptor_hooks = {.stats = print_counts};

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

/* The skeleton fits the acceptor: its base is an ordinary server's, with the
 * listener and the signals. The workers' bases are not (worker.c says why):
 * they are made by worker_setup, before the listener, so that no connection
 * is accepted before there is a thread to take it. */
static int acceptor_open(struct acceptor *a, const struct thread_options *opt)
{
    *a = (struct acceptor){0};
    if (server_open(&a->srv, &opt->server, &acceptor_hooks, a) != 0 ||
        start_workers(a, opt->threads, opt->server.loop.backend) != 0)
        return -1;
    return server_listen(&a->srv, &opt->sin, on_accept, a);
}

/* In reverse: the threads first (stopped and joined), then what they used. */
static void acceptor_close(struct acceptor *a)
{
    stop_workers(a);
    for (long i = 0; i < a->n_workers; i++)
        worker_free(&a->workers[i]);
    free(a->workers);
    server_close(&a->srv);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct thread_options opt = {0};
    parse_thread_options(argc, argv, "Echo lines; an acceptor hands connections to N loops.", 0,
                         &opt);

    struct acceptor a;
    if (acceptor_open(&a, &opt) != 0) {
        acceptor_close(&a);
        return EXIT_RUNTIME;
    }
    server_announce(&a.srv);
    printf("threads: 1 acceptor + %ld worker%s\n", opt.threads, opt.threads == 1 ? "" : "s");

    server_run(&a.srv); /* until SIGINT/SIGTERM; then it accepts no more */

    stop_workers(&a);
    printf("joined %ld worker thread%s\n", a.n_workers, a.n_workers == 1 ? "" : "s");
    print_counts(&a, "summary");
    acceptor_close(&a);
    printf("bye\n");
    return EXIT_CLEAN;
}
