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

struct server {
    struct event_base *base; /* the main thread's: signals only */
    struct event *on_sigint, *on_sigterm, *on_sigusr1, *on_sigusr2;
    struct rp_thread *threads;
    long n_threads; /* how many worker_setup saw */
    int stop_signal;
};

/* In the thread that owns this listener: the connection stays here. */
static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *peer,
                      int peerlen, void *ctx)
{
    (void)peer;
    (void)peerlen;
    trace_dispatch_locked(evconnlistener_get_fd(listener), "accept", "on_accept");
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

static void on_signal(evutil_socket_t sig, short what, void *ctx)
{
    (void)what;
    struct server *s = ctx;
    trace_dispatch_locked(sig, "signal", "on_signal");
    s->stop_signal = (int)sig;
    event_base_loopexit(s->base, NULL);
}

static void print_counts(struct server *s)
{
    for (long i = 0; i < s->n_threads; i++)
        print_worker_count(&s->threads[i].worker);
}

static void on_sigusr1(evutil_socket_t sig, short what, void *ctx)
{
    (void)what;
    struct server *s = ctx;
    trace_dispatch_locked(sig, "signal", "on_sigusr1");
    print_counts(s);
}

/* Every thread's base and listener first (here, before any thread runs:
 * pthread_create orders these writes before anything the thread does), then
 * the threads. */
static int start_threads(struct server *s, long n, struct sockaddr_in *sin, const char *backend)
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

static void stop_threads(struct server *s)
{
    for (long i = 0; i < s->n_threads; i++)
        if (s->threads[i].worker.running && worker_push(&s->threads[i].worker, -1, QUEUE_STOP))
            warnx_msg("thread %ld: cannot be told to stop", i);
    for (long i = 0; i < s->n_threads; i++)
        worker_join(&s->threads[i].worker);
}

static int setup_signals(struct server *s)
{
    s->on_sigint = evsignal_new(s->base, SIGINT, on_signal, s);
    s->on_sigterm = evsignal_new(s->base, SIGTERM, on_signal, s);
    s->on_sigusr1 = evsignal_new(s->base, SIGUSR1, on_sigusr1, s);
    s->on_sigusr2 = evsignal_new(s->base, SIGUSR2, on_sigusr2_locked, s->base);
    if (!s->on_sigint || !s->on_sigterm || !s->on_sigusr1 || !s->on_sigusr2 ||
        evsignal_add(s->on_sigint, NULL) != 0 || evsignal_add(s->on_sigterm, NULL) != 0 ||
        evsignal_add(s->on_sigusr1, NULL) != 0 || evsignal_add(s->on_sigusr2, NULL) != 0) {
        warnx_msg("cannot watch SIGINT/SIGTERM/SIGUSR1/SIGUSR2");
        return -1;
    }
    return 0;
}

static void teardown(struct server *s)
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
    struct event *signals[] = {s->on_sigusr2, s->on_sigusr1, s->on_sigterm, s->on_sigint};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (signals[i])
            event_free(signals[i]);
    if (s->base)
        event_base_free(s->base);
    libevent_global_shutdown();
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct thread_options opt = {0};
    parse_thread_options(argc, argv, "Echo lines; N loops, each its own listener on one port.", 0,
                         &opt);
    signal(SIGPIPE, SIG_IGN);
    if (opt.loop.trace)
        trace_setup_threads();

    struct server s = {0};
    s.base = open_event_base(opt.loop.backend);
    if (!s.base) {
        warnx_msg("cannot create the event base: %s",
                  opt.loop.backend ? "that backend is not available here" : "out of memory");
        return EXIT_RUNTIME;
    }
    if (setup_signals(&s) != 0 || start_threads(&s, opt.threads, &opt.sin, opt.loop.backend)) {
        teardown(&s);
        return EXIT_RUNTIME;
    }
    printf("backend: %s\n", event_base_get_method(s.base));
    printf("threads: %ld, each with a listener on the port\n", opt.threads);
    print_listening(evconnlistener_get_fd(s.threads[0].listener));
    if (opt.loop.trace)
        trace_dump_events_locked(s.base);

    event_base_dispatch(s.base); /* until SIGINT/SIGTERM */

    if (s.stop_signal)
        printf("caught %s, shutting down\n", s.stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
    stop_threads(&s);
    printf("joined %ld thread%s\n", s.n_threads, s.n_threads == 1 ? "" : "s");
    print_counts(&s);
    teardown(&s);
    printf("bye\n");
    return EXIT_CLEAN;
}
