/*
 * 04_signals/signals.c — chapter 4: signal events. Graceful shutdown, config
 * reload and a stats dump, while the server keeps serving.
 *
 * What it teaches: a Unix signal interrupts whatever the process is doing, so
 * a classic handler may do almost nothing safely. libevent's evsignal_new turns
 * a signal into an ordinary event: register it, the loop detects it next to the
 * sockets, and the callback runs in the loop like any other — where real work
 * is safe. signals_raw.c does the same by hand (the self-pipe trick) to show how.
 *
 * The server itself (signal_server.c, shared by both programs) greets each
 * client with the greeting from --config FILE ("greeting = hello") and echoes
 * every line. Signals:
 *   SIGINT, SIGTERM  graceful shutdown: stop accepting, tell every client
 *                    "server shutting down", wait (up to --drain-ms), exit 0.
 *                    A second one: exit now.
 *   SIGHUP           reload the config file; a broken file keeps the old settings
 *   SIGUSR1          print one stats line
 *
 * Run it:  make chapter4       then, in a second terminal:
 *          telnet 127.0.0.1 8084
 *          kill -USR1 <pid>        (stats; the server prints its pid)
 *          edit the config, kill -HUP <pid>        (reload)
 *          kill -INT <pid> or Ctrl-C               (graceful shutdown)
 *
 * Watch for: every signal is handled by an ordinary function, handle_signal,
 * running inside the loop. Read docs/04-signals.md beside this file.
 *
 * The signal events are wired by hand here on purpose: they are this chapter's
 * lesson. From chapter 5 on, servers get the same wiring (and the drain) from
 * common/server.h.
 */
#include <stdio.h>

#include <event2/event.h>

#include "common.h"
#include "signal_server.h"

/* Called by the loop, not by the kernel: any code is fine here. */
static void on_signal_event(evutil_socket_t signo, short what, void *arg)
{
    (void)what;
    trace_dispatch(signo, "signal", "on_signal_event");
    handle_signal(arg, (int)signo);
}

/* One signal event per handled signal: register (evsignal_new + evsignal_add);
 * the loop will detect and dispatch them like any socket. */
/* region: register_signal_events */
static int register_signal_events(struct server *s, struct event *events[N_SIGNALS])
{
    for (size_t i = 0; i < N_SIGNALS; i++) {
        events[i] = evsignal_new(s->base, handled_signals[i], on_signal_event, s);
        if (!events[i] || evsignal_add(events[i], NULL) != 0) {
            warnx_msg("cannot watch signal %d: evsignal_new/evsignal_add failed",
                      handled_signals[i]);
            return -1;
        }
    }
    return 0;
}
/* endregion */

static void free_signal_events(struct event *events[N_SIGNALS])
{
    for (size_t i = 0; i < N_SIGNALS; i++)
        if (events[i])
            event_free(events[i]);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct server_options o;
    server_parse_args(argc, argv, &o);

    struct server s;
    struct event *signal_events[N_SIGNALS] = {NULL};
    int status = EXIT_RUNTIME;
    if (signal_server_open(&s, &o) == 0 && register_signal_events(&s, signal_events) == 0) {
        server_print_banner(&s, "evsignal_new");
        event_base_dispatch(s.base);
        server_print_summary(&s);
        status = EXIT_CLEAN;
    }

    free_signal_events(signal_events);
    signal_server_close(&s);
    libevent_global_shutdown();
    return status;
}
