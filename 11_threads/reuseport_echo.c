/*
 * 11_threads/reuseport_echo.c — one loop per thread, the other way: no
 * acceptor. Each of N threads has its own listening socket on the same port
 * (SO_REUSEPORT, libevent's LEV_OPT_REUSEABLE_PORT) in its own base, and the
 * kernel spreads new connections over the N sockets (by a hash of the
 * connection's addresses and ports).
 *
 * Compared with threaded_echo: no hand-off (a connection is accepted by the
 * thread that serves it, no queue, no eventfd write per connection), but no
 * say in the balance either — the hash decides, and a busy thread keeps
 * getting its share. kill -USR1 PID prints each thread's count; so does the
 * exit.
 *
 * --port 0 works: the first listener binds port 0, the kernel picks a port,
 * and the other listeners bind that port.
 *
 * Run it:  build/11_threads/reuseport_echo --threads 4 --port 8012
 * Poke it: build/tools/loadgen --port 8012 --connections 1000, then
 *          kill -USR1 PID: "thread 0: 243 connections" ...
 * Watch for: ss -ltn shows N listening sockets on the one port.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "threads.h"

struct rp_thread {
    struct worker worker; /* its base, stop queue, connections (worker.c) */
    struct evconnlistener *listener;
    struct accept_pause pause;
};

struct reuseport {
    struct server srv; /* the main thread's base: signals only (common/server.h) */
    struct rp_thread *threads;
    long n_threads; /* how many worker_setup saw */
};

/* In the thread that owns this listener: the connection stays here. */
static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *peer,
                      int peerlen, void *ctx)
{
    (void)peer;
    (void)peerlen;
    trace_dispatch(evconnlistener_get_fd(listener), "accept", "on_accept");
    worker_add_conn(ctx, fd);
}

static void on_accept_error(struct evconnlistener *listener, void *ctx)
{
    (void)listener;
    accept_pause_after_error(&((struct rp_thread *)ctx)->pause);
}

/* region: reuseport_listen */
/* A listener on T's own base. With *SIN's port 0, the first call binds any
 * free port and writes it into *SIN, so the others bind the same one. */
static int listen_reuseport(struct rp_thread *t, struct sockaddr_in *sin)
{
    char want[ADDR_STRLEN];
    t->listener = evconnlistener_new_bind(t->worker.base, on_accept, &t->worker,
                                          LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT |
                                              LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
                                          LISTEN_BACKLOG, (struct sockaddr *)sin, sizeof *sin);
    if (!t->listener) {
        warnx_msg("thread %d: cannot listen on %s: %s", t->worker.index,
                  format_addr((struct sockaddr *)sin, want, sizeof want),
                  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        return -1;
    }
    struct sockaddr_in bound;
    socklen_t len = sizeof bound;
    if (getsockname(evconnlistener_get_fd(t->listener), (struct sockaddr *)&bound, &len) != 0) {
        warnx_msg("getsockname: %s", strerror(errno));
        return -1;
    }
    sin->sin_port = bound.sin_port; /* the port the kernel chose, if it chose */
    if (accept_pause_init(&t->pause, t->listener) != 0)
        return -1;
    evconnlistener_set_error_cb(t->listener, on_accept_error);
    return 0;
}
/* endregion */

static void print_counts(void *app, const char *label)
{
    (void)label;
    const struct reuseport *s = app;
    for (long i = 0; i < s->n_threads; i++)
        print_worker_count(&s->threads[i].worker);
}

/* SIGUSR1 prints each thread's count; SIGINT/SIGTERM end the main loop at
 * once (each thread drains itself: stop_threads). */
static const struct server_hooks reuseport_hooks = {.stats = print_counts};

/* Every thread's base and listener first (here, before any thread runs:
 * pthread_create orders these writes before anything the thread does), then
 * the threads. */
static int start_threads(struct reuseport *s, long n, struct sockaddr_in *sin, const char *backend)
{
    s->threads = calloc((size_t)n, sizeof *s->threads);
    if (!s->threads) {
        warnx_msg("out of memory for %ld threads", n);
        return -1;
    }
    for (; s->n_threads < n; s->n_threads++) {
        struct rp_thread *t = &s->threads[s->n_threads];
        if (worker_setup(&t->worker, (int)s->n_threads, backend) != 0 ||
            listen_reuseport(t, sin) != 0) {
            s->n_threads++;
            return -1;
        }
    }
    sigset_t old;
    block_signals(&old);
    int failed = 0;
    for (long i = 0; i < n && !failed; i++)
        failed = worker_start(&s->threads[i].worker) != 0;
    restore_signals(&old);
    return failed ? -1 : 0;
}

static void stop_threads(struct reuseport *s)
{
    for (long i = 0; i < s->n_threads; i++)
        if (s->threads[i].worker.running && worker_push(&s->threads[i].worker, -1, QUEUE_STOP))
            warnx_msg("thread %ld: cannot be told to stop", i);
    for (long i = 0; i < s->n_threads; i++)
        worker_join(&s->threads[i].worker);
}

/* The skeleton fits the main thread: a base with the signals and no
 * listener of its own (server_open without server_listen). It does not fit
 * the threads' listeners: each is on a worker's base, with
 * LEV_OPT_REUSEABLE_PORT, its own pause, and a port the first one chose —
 * that is this file's lesson, so listen_reuseport shows it by hand. */
static int reuseport_open(struct reuseport *s, struct thread_options *opt)
{
    *s = (struct reuseport){0};
    if (server_open(&s->srv, &opt->server, &reuseport_hooks, s) != 0)
        return -1;
    return start_threads(s, opt->threads, &opt->sin, opt->server.loop.backend);
}

/* In reverse: the threads (stopped, joined), their listeners and bases, then
 * the main thread's. */
static void reuseport_close(struct reuseport *s)
{
    stop_threads(s);
    for (long i = 0; i < s->n_threads; i++) {
        struct rp_thread *t = &s->threads[i];
        accept_pause_free(&t->pause);
        if (t->listener)
            evconnlistener_free(t->listener);
        worker_free(&t->worker);
    }
    free(s->threads);
    server_close(&s->srv);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct thread_options opt = {0};
    parse_thread_options(argc, argv, "Echo lines; N loops, each its own listener on one port.", 0,
                         &opt);

    struct reuseport s;
    if (reuseport_open(&s, &opt) != 0) {
        reuseport_close(&s);
        return EXIT_RUNTIME;
    }
    server_announce(&s.srv); /* "backend: ..."; the listeners are the threads' */
    printf("threads: %ld, each with a listener on the port\n", opt.threads);
    print_listening(evconnlistener_get_fd(s.threads[0].listener));

    server_run(&s.srv); /* until SIGINT/SIGTERM */

    stop_threads(&s);
    printf("joined %ld thread%s\n", s.n_threads, s.n_threads == 1 ? "" : "s");
    print_counts(&s, "summary");
    reuseport_close(&s);
    printf("bye\n");
    return EXIT_CLEAN;
}
