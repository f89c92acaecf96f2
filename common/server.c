/*
 * common/server.c — the wiring every server from chapter 5 on shares: the
 * event base, the trace, the listener with chapter 1's EMFILE pause, the
 * signal events (chapter 4) and the drain (chapter 6). See server.h for the
 * order of the calls and what each signal does.
 */
#include "server.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/queue.h>

int made(const void *thing, const char *what)
{
    if (thing)
        return 1;
    warnx_msg("cannot create %s: out of memory", what);
    return 0;
}

static const char *plural(long n)
{
    return n == 1 ? "" : "s";
}

static long clients_now(const struct server *s)
{
    return s->hooks->clients ? s->hooks->clients(s->app) : 0;
}

static void print_stats(const struct server *s, const char *label)
{
    if (s->hooks->stats)
        s->hooks->stats(s->app, label);
}

/* ---- the drain: SIGINT/SIGTERM ------------------------------------------------ */

static void on_drain_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct server *s = arg;
    trace_dispatch(fd, "timeout", "on_drain_deadline");
    long n = clients_now(s);
    printf("shutdown: drain time is up; closing %ld client%s\n", n, plural(n));
    event_base_loopexit(s->base, NULL);
}

/* Stop accepting; the clients we have carry on until they leave, for at most
 * cfg.drain_ms. A second signal (or no drain time at all) leaves at once. */
static void start_drain(struct server *s, const char *why)
{
    if (s->draining) {
        printf("shutdown: second %s: exiting now\n", why);
        event_base_loopexit(s->base, NULL);
        return;
    }
    s->draining = 1;
    if (s->listener)
        accept_pause_stop_accepting(&s->pause); /* and no pending EMFILE resume */
    long n = clients_now(s);
    if (s->cfg->drain_ms <= 0) {
        if (s->hooks->clients)
            printf("shutdown: caught %s; closing %ld client%s\n", why, n, plural(n));
        else
            printf("shutdown: caught %s\n", why);
        event_base_loopexit(s->base, NULL);
        return;
    }
    printf("shutdown: caught %s; draining %ld client%s (up to %ld ms)\n", why, n, plural(n),
           s->cfg->drain_ms);
    if (n == 0) {
        event_base_loopexit(s->base, NULL);
        return;
    }
    if (s->hooks->drain)
        s->hooks->drain(s->app);
    struct timeval deadline = ms_to_timeval(s->cfg->drain_ms);
    if (event_add(s->drain_deadline, &deadline) != 0) {
        warnx_msg("cannot add the drain timer: exiting now");
        event_base_loopexit(s->base, NULL);
    }
}

void server_client_left(struct server *s)
{
    if (s->draining && clients_now(s) == 0)
        event_base_loopexit(s->base, NULL);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct server *s = arg;
    trace_dispatch(sig, "signal", "on_signal");
    if (sig == SIGUSR1)
        print_stats(s, "stats");
    else
        start_drain(s, sig == SIGINT ? "SIGINT" : "SIGTERM");
}

static void on_stats_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    trace_dispatch(fd, "timeout", "on_stats_timer");
    print_stats(arg, "stats");
}

/* ---- opening ------------------------------------------------------------------ */

static int add_signal(struct server *s, enum server_signal which, int signo, event_callback_fn cb,
                      void *arg, const char *name)
{
    s->signals[which] = evsignal_new(s->base, signo, cb, arg);
    if (!made(s->signals[which], name))
        return -1;
    if (evsignal_add(s->signals[which], NULL) != 0) {
        warnx_msg("cannot add %s: evsignal_add failed", name);
        return -1;
    }
    return 0;
}

static int add_timers(struct server *s)
{
    s->drain_deadline = evtimer_new(s->base, on_drain_deadline, s);
    s->stats_timer = event_new(s->base, -1, EV_PERSIST, on_stats_timer, s);
    if (!made(s->drain_deadline, "the drain timer") || !made(s->stats_timer, "the stats timer"))
        return -1;
    struct timeval every = {s->cfg->stats_interval_s, 0};
    if (s->cfg->stats_interval_s > 0 && event_add(s->stats_timer, &every) != 0) {
        warnx_msg("cannot add the stats timer: event_add failed");
        return -1;
    }
    return 0;
}

int server_open(struct server *s, const struct server_config *cfg, const struct server_hooks *hooks,
                void *app)
{
    static const struct server_hooks no_hooks;
    *s = (struct server){.cfg = cfg, .hooks = hooks ? hooks : &no_hooks, .app = app};
    signal(SIGPIPE, SIG_IGN); /* a vanished peer is an error to handle, not a death */
    trace_wire(cfg->loop.trace);
    s->base = open_event_base_flags(cfg->loop.backend, cfg->base_flags); /* says why if it cannot */
    if (!s->base)
        return -1;
    if (add_signal(s, SERVER_SIGINT, SIGINT, on_signal, s, "the SIGINT event") != 0 ||
        add_signal(s, SERVER_SIGTERM, SIGTERM, on_signal, s, "the SIGTERM event") != 0 ||
        add_signal(s, SERVER_SIGUSR1, SIGUSR1, on_signal, s, "the SIGUSR1 event") != 0 ||
        add_signal(s, SERVER_SIGUSR2, SIGUSR2, trace_on_sigusr2, s->base, "the SIGUSR2 event") != 0)
        return -1;
    return add_timers(s);
}

/* The servers with a listener, so that the error callback can find its pause.
 * libevent passes that callback the accept callback's argument, which is the
 * program's (or evhttp's, once evhttp_bind_listener took the listener over),
 * not ours; the listener itself is what we can look up. */
LIST_HEAD(server_list, server);
static struct server_list listening = LIST_HEAD_INITIALIZER(listening);

/* Out of descriptors (EMFILE): stop accepting for a moment instead of spinning
 * on a listening socket that stays readable — chapter 1's pause, packaged in
 * common's accept_pause, which stays off once the drain has begun. */
static void on_accept_error(struct evconnlistener *listener, void *arg)
{
    (void)arg;
    struct server *s;
    LIST_FOREACH(s, &listening, link)
    if (s->listener == listener)
        accept_pause_after_error(&s->pause);
}

struct evconnlistener *server_bind(struct server *s, const struct sockaddr_in *addr,
                                   evconnlistener_cb on_accept, void *arg)
{
    struct evconnlistener *listener =
        evconnlistener_new_bind(s->base, on_accept, arg, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE,
                                SERVER_LISTEN_BACKLOG, (const struct sockaddr *)addr, sizeof *addr);
    if (!listener) {
        char want[ADDR_STRLEN];
        warnx_msg("cannot listen on %s: %s",
                  format_addr((const struct sockaddr *)addr, want, sizeof want),
                  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    }
    return listener;
}

int server_listen(struct server *s, const struct sockaddr_in *addr, evconnlistener_cb on_accept,
                  void *arg)
{
    s->listener = server_bind(s, addr, on_accept, arg);
    if (!s->listener)
        return -1;
    if (accept_pause_init(&s->pause, s->listener) != 0)
        return -1;
    LIST_INSERT_HEAD(&listening, s, link);
    evconnlistener_set_error_cb(s->listener, on_accept_error);
    return 0;
}

void server_listener_given_away(struct server *s)
{
    s->listener_given_away = 1;
}

/* ---- running and closing ------------------------------------------------------ */

void server_announce(const struct server *s)
{
    printf("backend: %s\n", event_base_get_method(s->base));
    if (s->listener) {
        char bound[ADDR_STRLEN];
        printf("listening on %s\n",
               format_local_addr(evconnlistener_get_fd(s->listener), bound, sizeof bound));
    }
}

void server_run(struct server *s)
{
    if (s->cfg->loop.trace)
        trace_dump_events(s->base);
    event_base_dispatch(s->base);
}

void server_close(struct server *s)
{
    for (int i = SERVER_NSIG - 1; i >= 0; i--)
        if (s->signals[i])
            event_free(s->signals[i]);
    if (s->stats_timer)
        event_free(s->stats_timer);
    if (s->drain_deadline)
        event_free(s->drain_deadline);
    accept_pause_free(&s->pause);
    if (s->listener) {
        if (s->pause.listener) /* in the list since accept_pause_init */
            LIST_REMOVE(s, link);
        if (!s->listener_given_away)
            evconnlistener_free(s->listener);
    }
    if (s->base)
        event_base_free(s->base);
    libevent_global_shutdown();
    *s = (struct server){0};
}
