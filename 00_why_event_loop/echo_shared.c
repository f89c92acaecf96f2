/*
 * 00_why_event_loop/echo_shared.c — the chores of echo_shared.h. The servers
 * of this chapter differ in how they wait for many clients; everything here
 * is the part that stays the same.
 */
#define _GNU_SOURCE /* pipe2 */
#include "echo_shared.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "trace.h"

volatile sig_atomic_t stop_signal;
volatile sig_atomic_t child_exited;
static int wake_write_fd = -1;

/* ---- command line -------------------------------------------------------- */

static void usage(const char *description, int libevent)
{
    printf("usage: %s [--host ADDR] [--port PORT]%s\n"
           "  %s\n"
           "  --host ADDR  IPv4 address to listen on (default %s)\n"
           "  --port PORT  port to listen on, 0 = any free port (default %d)\n"
           "%s"
           "  --help       show this help\n",
           prog_name(), libevent ? " [--trace] [--backend NAME]" : "", description, DEFAULT_HOST,
           DEFAULT_PORT,
           libevent ? "  --trace      print each register/detect/dispatch step on stderr\n"
                      "  --backend NAME  epoll, poll or select (default: libevent's choice)\n"
                    : "");
}

void parse_server_args(int argc, char **argv, const char *description, struct sockaddr_in *sin)
{
    parse_libevent_server_args(argc, argv, description, sin, NULL);
}

/* LOOP NULL: the servers without libevent, which have no --trace/--backend. */
void parse_libevent_server_args(int argc, char **argv, const char *description,
                                struct sockaddr_in *sin, struct loop_options *loop)
{
    static const struct option options[] = {
        {"host", required_argument, NULL, 'H'}, {"port", required_argument, NULL, 'p'},
        {"trace", no_argument, NULL, 't'},      {"backend", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    const char *host = DEFAULT_HOST;
    int port = DEFAULT_PORT;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'H': host = optarg; break;
        case 'p': port = parse_port_option("--port", optarg); break;
        case 't':
            if (!loop)
                bad_option(argv);
            loop->trace = 1;
            break;
        case 'b':
            if (!loop)
                bad_option(argv);
            loop->backend = parse_backend_option(optarg);
            break;
        case 'h': usage(description, loop != NULL); exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    parse_ipv4_option(sin, "--host", host, port);
}

/* ---- the listening socket ------------------------------------------------ */

void warn_cannot_listen(const struct sockaddr_in *sin, const char *why)
{
    char want[ADDR_STRLEN];
    warnx_msg("cannot listen on %s: %s",
              format_addr((const struct sockaddr *)sin, want, sizeof want), why);
}

int listen_tcp(const struct sockaddr_in *sin)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        warnx_msg("socket: %s", strerror(errno));
        return -1;
    }
    /* Restarting the server must not wait for old connections' TIME_WAIT. */
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)sin, sizeof *sin) != 0 ||
        listen(fd, LISTEN_BACKLOG) != 0) {
        warn_cannot_listen(sin, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

void print_listening(int listen_fd)
{
    char bound[ADDR_STRLEN];
    printf("listening on %s\n", format_local_addr(listen_fd, bound, sizeof bound));
}

/* ---- signals as a readable descriptor ------------------------------------ */

/* A signal handler may do almost nothing safely: set a flag, write(). */
static void on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGCHLD)
        child_exited = 1;
    else
        stop_signal = sig;
    char byte = (char)sig;
    /* The pipe is non-blocking: when it is full, a wake-up is pending anyway. */
    if (write(wake_write_fd, &byte, 1) < 0) {
        /* nothing to do */
    }
    errno = saved;
}

int wake_pipe_open(int watch_children)
{
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
        warnx_msg("pipe: %s", strerror(errno));
        return -1;
    }
    wake_write_fd = fds[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: a blocking call the signal interrupts returns EINTR. */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (watch_children) {
        sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
        sigaction(SIGCHLD, &sa, NULL);
    }
    return fds[0];
}

void wake_pipe_drain(int wake_fd)
{
    char junk[64];
    while (read(wake_fd, junk, sizeof junk) > 0) {
    }
}

void wake_pipe_close(int wake_fd)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    close(wake_fd);
    close(wake_write_fd);
    wake_write_fd = -1;
}

void print_stop_signal(void)
{
    printf("caught %s, shutting down\n", stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
}

int wait_readable(int fd, int wake_fd, int timeout_ms)
{
    struct pollfd fds[2] = {{.fd = fd, .events = POLLIN}, {.fd = wake_fd, .events = POLLIN}};
    int n = poll(fds, 2, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    if (stop_signal || fds[1].revents)
        return 0;
    return fds[0].revents ? 1 : 0;
}

/* ---- the blocking echo loop ---------------------------------------------- */

size_t complete_lines_length(const char *buf, size_t len)
{
    while (len > 0 && buf[len - 1] != '\n')
        len--;
    return len;
}

int send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        /* MSG_NOSIGNAL: a vanished peer gives EPIPE, not a fatal SIGPIPE. */
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR && !stop_signal)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

void echo_lines_blocking(int fd, int wake_fd)
{
    /* The connection's whole state lives on this stack: a thread (or a
     * process) per client keeps it here for as long as the client stays. */
    char buf[MAX_LINE];
    size_t held = 0;
    ssize_t n;
    for (;;) {
        if (wake_fd >= 0 && wait_readable(fd, wake_fd, -1) != 1)
            return; /* stop signal, or poll failed */
        n = read(fd, buf + held, sizeof buf - held);
        if (n < 0 && errno == EINTR && !stop_signal)
            continue;
        if (n <= 0)
            break; /* 0: the peer's FIN; < 0: reset or stop */
        held += (size_t)n;
        size_t lines = complete_lines_length(buf, held);
        if (lines == 0 && held == sizeof buf)
            lines = held; /* a line longer than MAX_LINE goes back in pieces */
        if (send_all(fd, buf, lines) != 0)
            return;
        memmove(buf, buf + lines, held - lines);
        held -= lines;
    }
    if (n == 0 && held > 0)
        send_all(fd, buf, held); /* the peer closed mid-line: its tail comes back */
}
