/*
 * common/common.h — chores shared by every chapter, and nothing else.
 *
 * Program name and error messages, number and IPv4-address parsing for options,
 * millisecond clocks for log lines, and turning a socket address into
 * "127.0.0.1:54321". Each chapter's .c file shows every libevent call it
 * teaches, top to bottom; the libevent helper here is chapter 1's answer to
 * EMFILE (accept_pause), which later servers reuse without teaching it again.
 * common/ also holds trace.h (the --trace lines and --backend), server.h
 * (the wiring every server from chapter 5 on shares, built on both) and
 * server_args.h (the command line those servers share).
 */
#ifndef WORKBOOK_COMMON_H
#define WORKBOOK_COMMON_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <event2/event.h>
#include <event2/listener.h>

/* Exit codes used by every program of the workbook. */
enum {
    EXIT_CLEAN = 0,   /* work done, or clean shutdown */
    EXIT_RUNTIME = 1, /* could not do the work: port in use, peer gone, ... */
    EXIT_USAGE = 2    /* bad command line */
};

/* Enough for "[ffff:...:ffff]:65535" and a NUL. */
#define ADDR_STRLEN 64

/* Remember the program name for messages and make stdout line-buffered, so
 * tests and students see each line the moment it is printed. */
void common_init(const char *prog_name);
const char *prog_name(void);

/* "prog: message" on stderr. */
void warnx_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: message", a hint to try --help, then exit 2. */
void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* For getopt_long's '?': the option was unknown or lacked its value. Exits 2. */
void bad_option(char **argv) __attribute__((noreturn));

/* Parse a whole decimal number in [min, max]; on failure it exits through
 * usage_error naming the option: "prog: --port: 'abc' is not a number ...". */
long parse_long_option(const char *option, const char *text, long min, long max);
/* A TCP port, 0 (let the kernel choose) to 65535. */
int parse_port_option(const char *option, const char *text);
/* HOST (an IPv4 address such as 127.0.0.1) and PORT as a sockaddr_in; an
 * address that does not parse exits through usage_error naming the option. */
void parse_ipv4_option(struct sockaddr_in *sin, const char *option, const char *host, int port);

/* A duration in milliseconds as the struct timeval libevent's timeouts take. */
struct timeval ms_to_timeval(long ms);

/* Milliseconds since common_init() was called, from a monotonic clock. */
double elapsed_ms(void);
/* printf to stdout with the elapsed time in front: "   52.3 ms  message". */
void log_ms(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "127.0.0.1:54321" or "[::1]:54321" into buf (ADDR_STRLEN bytes). */
const char *format_addr(const struct sockaddr *sa, char *buf, size_t len);
/* The local address a socket is bound to, formatted as above (getsockname). */
const char *format_local_addr(int fd, char *buf, size_t len);

/* ---- accept_pause: the EMFILE pause, packaged -----------------------------
 *
 * When accept() fails (typically EMFILE/ENFILE: out of descriptors) the
 * connection stays in the backlog and the listening socket stays readable, so
 * retrying at once would spin at 100% CPU. accept_pause stops accepting for
 * ACCEPT_PAUSE_MS, then turns accepting back on — unless the server has said
 * it is done accepting (a draining server), in which case it stays off.
 * Chapter 1 (on_accept_error) teaches the same idea by hand.
 *
 *   struct accept_pause pause;       (in the server's struct)
 *   if (accept_pause_init(&pause, listener) != 0) ... (message printed)
 *   evconnlistener_set_error_cb(listener, on_accept_error);
 *   ... where on_accept_error(listener, ctx) calls:
 *   accept_pause_after_error(&server->pause);
 *   ... a graceful shutdown begins:
 *   accept_pause_stop_accepting(&pause);  (disables the listener for good)
 *   ... teardown, before evconnlistener_free:
 *   accept_pause_free(&pause);
 */
#define ACCEPT_PAUSE_MS 200

struct accept_pause {
    struct evconnlistener *listener;
    struct event *resume; /* timer: turns accepting back on after a pause */
    int stopped;          /* accepting is off for good: never resume */
};

/* Create the resume timer for LISTENER. Returns 0, or -1 after printing
 * "prog: cannot create the accept-pause timer: why". */
int accept_pause_init(struct accept_pause *pause, struct evconnlistener *listener);
/* From the listener's error callback: log the error, stop accepting, and
 * schedule the resume. */
void accept_pause_after_error(struct accept_pause *pause);
/* The server stops accepting for good (a drain): disable the listener and
 * cancel a resume still pending from an earlier pause. */
void accept_pause_stop_accepting(struct accept_pause *pause);
/* Free the timer; the listener is the caller's to free. Safe on a zeroed
 * struct that accept_pause_init never saw (a server that failed half-way). */
void accept_pause_free(struct accept_pause *pause);

#endif
