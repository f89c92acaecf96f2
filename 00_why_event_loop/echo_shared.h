/*
 * 00_why_event_loop/echo_shared.h — what the five echo servers of chapter 0
 * share, so that each server's own file shows only its way of handling many
 * clients: the command line, a plain listening socket, the line-echo loop of
 * the three blocking servers, and a "wake-up pipe" that turns SIGINT/SIGTERM
 * (and SIGCHLD) into a readable descriptor.
 *
 * The protocol, the same for every server: the client sends lines ending in
 * '\n'; the server sends each complete line back, whole. A line longer than
 * MAX_LINE comes back in MAX_LINE pieces (no server buffers without bound).
 * When the client closes its sending side (FIN), the server sends back what
 * is left, then closes.
 */
#ifndef ECHO_SHARED_H
#define ECHO_SHARED_H

#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 8000
/* Connections the kernel may complete before we accept() them (SOMAXCONN). */
#define LISTEN_BACKLOG 4096
/* The longest line a server holds before echoing it anyway. */
#define MAX_LINE 4096

/* --host/--port/--help for server DESCRIPTION; exits 0 on --help, 2 on a
 * bad command line. */
void parse_server_args(int argc, char **argv, const char *description, struct sockaddr_in *sin);
/* The same for echo_libevent, which also takes --trace and --backend NAME. */
struct loop_options;
void parse_libevent_server_args(int argc, char **argv, const char *description,
                                struct sockaddr_in *sin, struct loop_options *loop);

/* socket + bind + listen on SIN, with plain system calls. Returns the
 * listening descriptor, or -1 after printing "prog: cannot listen on ...". */
int listen_tcp(const struct sockaddr_in *sin);
/* "prog: cannot listen on 127.0.0.1:PORT: WHY" (listen_tcp's, echo_libevent's). */
void warn_cannot_listen(const struct sockaddr_in *sin, const char *why);
/* "listening on 127.0.0.1:PORT": the line the tests and scripts wait for. */
void print_listening(int listen_fd);

/* The wake-up pipe. wake_pipe_open() installs handlers for SIGINT and
 * SIGTERM (and SIGCHLD when watch_children is set) that set the flags below
 * and write one byte into a pipe; it returns the pipe's read end, to wait on
 * beside the sockets. libevent's evsignal does the same thing inside. */
extern volatile sig_atomic_t stop_signal;  /* SIGINT or SIGTERM once caught, else 0 */
extern volatile sig_atomic_t child_exited; /* a SIGCHLD arrived since the last reap */
int wake_pipe_open(int watch_children);
void wake_pipe_drain(int wake_fd);
void wake_pipe_close(int wake_fd);
/* "caught SIGINT, shutting down" */
void print_stop_signal(void);

/* Block in poll() until FD is readable or the wake-up pipe is, or TIMEOUT_MS
 * passes (-1: no timeout). 1: FD is readable; 0: woken or timed out; -1:
 * poll failed. */
int wait_readable(int fd, int wake_fd, int timeout_ms);

/* The blocking echo loop of one connection: read, send back every complete
 * line, until the peer closes (then its unterminated tail goes back too) or
 * fails. With WAKE_FD >= 0 it also returns as soon as a signal wakes it;
 * with -1 it blocks in read() alone. The caller closes FD. */
void echo_lines_blocking(int fd, int wake_fd);

/* send() all LEN bytes, waiting as long as it takes. 0, or -1 when the peer
 * is gone or a stop signal interrupted it. */
int send_all(int fd, const char *buf, size_t len);

/* How many bytes of BUF[0..LEN) up to and including its last '\n' (0: none). */
size_t complete_lines_length(const char *buf, size_t len);

#endif
