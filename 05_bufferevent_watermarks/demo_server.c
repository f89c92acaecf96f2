/*
 * 05_bufferevent_watermarks/demo_server.c — the server skeleton of chapter 5's
 * programs: see demo_server.h. Nothing here is about watermarks.
 */
#include "demo_server.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

struct evconnlistener *demo_listen(struct event_base *base, const struct sockaddr_in *sin,
                                   evconnlistener_cb on_accept, void *arg, const char *what)
{
    struct evconnlistener *listener =
        evconnlistener_new_bind(base, on_accept, arg, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, -1,
                                (const struct sockaddr *)sin, sizeof *sin);
    if (!listener) {
        char want[ADDR_STRLEN];
        warnx_msg("cannot listen for %s on %s: %s", what,
                  format_addr((const struct sockaddr *)sin, want, sizeof want),
                  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    }
    return listener;
}

/* accept() failed, typically out of descriptors: pause (chapter 1). */
static void on_accept_error(struct evconnlistener *listener, void *arg)
{
    (void)listener;
    struct demo_server *s = arg;
    accept_pause_after_error(&s->pause);
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    trace_dispatch(sig, "signal", "on_stop_signal");
    log_ms("caught %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    event_base_loopexit(arg, NULL);
}

static int watch_stop_signals(struct demo_server *s)
{
    s->on_sigint = evsignal_new(s->base, SIGINT, on_stop_signal, s->base);
    s->on_sigterm = evsignal_new(s->base, SIGTERM, on_stop_signal, s->base);
    s->on_sigusr2 = evsignal_new(s->base, SIGUSR2, trace_on_sigusr2, s->base);
    if (!s->on_sigint || !s->on_sigterm || !s->on_sigusr2 ||
        evsignal_add(s->on_sigint, NULL) != 0 || evsignal_add(s->on_sigterm, NULL) != 0 ||
        evsignal_add(s->on_sigusr2, NULL) != 0) {
        warnx_msg("cannot watch SIGINT, SIGTERM and SIGUSR2: evsignal_new/evsignal_add failed");
        return -1;
    }
    return 0;
}

int demo_server_open(struct demo_server *s, const struct sockaddr_in *sin,
                     const struct loop_options *loop, evconnlistener_cb on_accept, void *app)
{
    memset(s, 0, sizeof *s);
    s->app = app;
    s->trace = loop->trace;
    signal(SIGPIPE, SIG_IGN); /* a vanished peer must not kill us (chapter 4) */
    if (loop->trace) {
        /* libevent reports every event it adds and every wait it makes;
         * trace.c prints them as register and detect lines on stderr. */
        trace_enable();
        event_enable_debug_logging(EVENT_DBG_ALL);
        event_set_log_callback(trace_libevent_log);
    }
    s->base = open_event_base(loop->backend);
    if (!s->base) {
        warnx_msg("cannot create the event base: %s",
                  loop->backend ? "that backend is not available here" : "out of memory");
        return -1;
    }
    s->listener = demo_listen(s->base, sin, on_accept, s, "clients");
    if (!s->listener || accept_pause_init(&s->pause, s->listener) != 0)
        return -1;
    evconnlistener_set_error_cb(s->listener, on_accept_error);
    return watch_stop_signals(s);
}

void demo_server_print_listening(const struct demo_server *s)
{
    char bound[ADDR_STRLEN];
    printf("backend: %s\n", event_base_get_method(s->base));
    printf("listening on %s\n",
           format_local_addr(evconnlistener_get_fd(s->listener), bound, sizeof bound));
    if (s->trace)
        trace_dump_events(s->base);
}

void demo_server_close(struct demo_server *s)
{
    if (s->on_sigusr2)
        event_free(s->on_sigusr2);
    if (s->on_sigterm)
        event_free(s->on_sigterm);
    if (s->on_sigint)
        event_free(s->on_sigint);
    accept_pause_free(&s->pause);
    if (s->listener)
        evconnlistener_free(s->listener);
    if (s->base)
        event_base_free(s->base);
}
