/*
 * 04_signals/signals_raw.c — chapter 4: the same server as signals.c, but the
 * signals reach the loop through a self-pipe built by hand.
 *
 * What it teaches: what evsignal_new does for you. A sigaction handler runs in
 * signal context, where it may interrupt anything (even malloc or printf
 * half-way), so it does one async-signal-safe thing: write the signal number
 * into a pipe. The pipe's read end is an ordinary event in the loop; its
 * callback reads the bytes and calls handle_signal — back in normal code.
 * libevent's signal events work the same way inside (with a socketpair).
 *
 * Run it:  build/04_signals/signals_raw --port 8084 --config 04_signals/greeting.conf
 *          then send it signals exactly as for signals (see signals.c).
 *
 * Watch for: "signals via sigaction + self-pipe" at start; then everything
 * behaves as with signals. Read docs/04-signals.md beside this file.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common.h"
#include "signal_server.h"

#define PIPE_READ_CHUNK 64

static int signal_pipe[2] = {-1, -1}; /* [0] read end in the loop, [1] write end */

/* Runs in signal context. Rule 1: call only async-signal-safe functions —
 * write() is one. Rule 2: save and restore errno, or the interrupted code may
 * see ours. */
static void raw_signal_handler(int signo)
{
    int saved_errno = errno;
    unsigned char byte = (unsigned char)signo;
    ssize_t ignored = write(signal_pipe[1], &byte, 1); /* full pipe: dropped */
    (void)ignored;
    errno = saved_errno;
}

/* Back in the loop: each byte in the pipe is one delivered signal. */
static void on_signal_pipe(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    trace_dispatch(fd, "read", "on_signal_pipe");
    unsigned char bytes[PIPE_READ_CHUNK];
    ssize_t n;
    while ((n = read(fd, bytes, sizeof bytes)) > 0)
        for (ssize_t i = 0; i < n; i++)
            handle_signal(arg, bytes[i]);
}

static int set_nonblocking_cloexec(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* The pipe, its event in the loop, then the handlers; -1 after saying why. */
static int register_raw_signals(struct server *s, struct event **pipe_event)
{
    /* Both ends non-blocking: the handler must never block on a full pipe,
     * and the loop reads until EAGAIN. */
    if (pipe(signal_pipe) != 0 || set_nonblocking_cloexec(signal_pipe[0]) != 0 ||
        set_nonblocking_cloexec(signal_pipe[1]) != 0) {
        warnx_msg("cannot create the signal pipe: %s", strerror(errno));
        return -1;
    }
    *pipe_event = event_new(s->base, signal_pipe[0], EV_READ | EV_PERSIST, on_signal_pipe, s);
    if (!*pipe_event || event_add(*pipe_event, NULL) != 0) {
        warnx_msg("cannot watch the signal pipe: event_new/event_add failed");
        return -1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = raw_signal_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; /* interrupted system calls resume instead of failing with EINTR */
    for (size_t i = 0; i < N_SIGNALS; i++) {
        if (sigaction(handled_signals[i], &sa, NULL) != 0) {
            warnx_msg("cannot handle signal %d: %s", handled_signals[i], strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* Default handlers back first, so no handler writes into a closed pipe. */
static void unregister_raw_signals(struct event *pipe_event)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (size_t i = 0; i < N_SIGNALS; i++)
        sigaction(handled_signals[i], &sa, NULL);
    if (pipe_event)
        event_free(pipe_event);
    for (int i = 0; i < 2; i++)
        if (signal_pipe[i] >= 0)
            close(signal_pipe[i]);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct server_options o;
    server_parse_args(argc, argv, &o);

    struct server s;
    struct event *pipe_event = NULL;
    int status = EXIT_RUNTIME;
    if (signal_server_open(&s, &o) == 0 && register_raw_signals(&s, &pipe_event) == 0) {
        server_print_banner(&s, "sigaction + self-pipe");
        event_base_dispatch(s.base);
        server_print_summary(&s);
        status = EXIT_CLEAN;
    }

    unregister_raw_signals(pipe_event);
    signal_server_close(&s);
    libevent_global_shutdown();
    return status;
}
