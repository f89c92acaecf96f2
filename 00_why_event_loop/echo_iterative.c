/*
 * 00_why_event_loop/echo_iterative.c — design 1 of 5: the iterative server.
 *
 * What it teaches: the simplest server there is — accept one client, serve it
 * until it leaves, accept the next — and why it is not enough. While one
 * client is connected, everyone else waits in the kernel's accept queue: the
 * second client's first answer comes only after the first client's whole
 * session. Nothing is slow here; the server is simply busy waiting in read()
 * for the one client it has.
 *
 * Run it:  build/00_why_event_loop/echo_iterative --port 8000
 * Poke it: nc 127.0.0.1 8000 in two terminals; type in the second one: no
 *          echo until you leave the first (Ctrl-D or Ctrl-C there).
 * Read docs/00-why-event-loop.md beside this file.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "echo_shared.h"

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct sockaddr_in sin;
    parse_server_args(argc, argv, "Echo lines back, one client at a time (iterative).", &sin);

    int listen_fd = listen_tcp(&sin);
    if (listen_fd < 0)
        return EXIT_RUNTIME;
    /* To hear Ctrl-C while blocked, the server waits on two descriptors: the
     * socket it serves and a pipe the signal handler writes to. */
    int wake_fd = wake_pipe_open(0);
    if (wake_fd < 0) {
        close(listen_fd);
        return EXIT_RUNTIME;
    }
    print_listening(listen_fd);

    unsigned long served = 0;
    while (!stop_signal) {
        int ready = wait_readable(listen_fd, wake_fd, -1);
        if (ready < 0) {
            warnx_msg("poll: %s", strerror(errno));
            break;
        }
        if (ready == 0)
            continue; /* woken by a signal: the loop condition decides */
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0) {
            /* EMFILE cannot happen with one client; ECONNABORTED can. */
            warnx_msg("accept: %s", strerror(errno));
            continue;
        }
        served++;
        /* The whole server is inside this call until the client leaves. */
        echo_lines_blocking(fd, wake_fd);
        close(fd);
    }

    if (stop_signal)
        print_stop_signal();
    wake_pipe_close(wake_fd);
    close(listen_fd);
    printf("served %lu connection%s, bye\n", served, served == 1 ? "" : "s");
    return EXIT_CLEAN;
}
