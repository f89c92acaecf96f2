/*
 * common/common.c — the chores declared in common.h. See there for what each does.
 */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/util.h>

static const char *the_prog_name = "workbook";
static struct timespec start_time;

void common_init(const char *name)
{
    const char *slash = strrchr(name, '/');
    the_prog_name = slash ? slash + 1 : name;
    /* A pipe or file makes stdout fully buffered by default: lines would show
     * up late, or never if the program is killed. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    opterr = 0; /* getopt's own messages name the full path; see bad_option() */
    clock_gettime(CLOCK_MONOTONIC, &start_time);
}

const char *prog_name(void)
{
    return the_prog_name;
}

static void vmessage(const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", the_prog_name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void warnx_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(fmt, ap);
    va_end(ap);
}

void usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try '%s --help' for more information.\n", the_prog_name);
    exit(EXIT_USAGE);
}

void bad_option(char **argv)
{
    usage_error("unknown option or missing value: '%s'", argv[optind - 1]);
}

long parse_long_option(const char *option, const char *text, long min, long max)
{
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (end == text || *end != '\0')
        usage_error("%s: '%s' is not a number", option, text);
    if (errno == ERANGE || value < min || value > max)
        usage_error("%s: %s is out of range (%ld to %ld)", option, text, min, max);
    return value;
}

int parse_port_option(const char *option, const char *text)
{
    return (int)parse_long_option(option, text, 0, 65535);
}

void parse_ipv4_option(struct sockaddr_in *sin, const char *option, const char *host, int port)
{
    memset(sin, 0, sizeof *sin);
    sin->sin_family = AF_INET;
    sin->sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
        usage_error("%s: '%s' is not an IPv4 address", option, host);
}

struct timeval ms_to_timeval(long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

double elapsed_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start_time.tv_sec) * 1000.0 +
           (double)(now.tv_nsec - start_time.tv_nsec) / 1e6;
}

void log_ms(const char *fmt, ...)
{
    va_list ap;
    printf("%7.1f ms  ", elapsed_ms());
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

const char *format_addr(const struct sockaddr *sa, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(buf, len, "%s:%u", host, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(buf, len, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else {
        snprintf(buf, len, "(address family %d)", sa->sa_family);
    }
    return buf;
}

const char *format_local_addr(int fd, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0) {
        snprintf(buf, len, "(unknown: %s)", strerror(errno));
        return buf;
    }
    return format_addr((struct sockaddr *)&ss, buf, len);
}

/* ---- accept_pause (see common.h; chapter 1's on_accept_error is the same idea) */

void accept_pause_after_error(struct accept_pause *pause)
{
    warnx_msg("accept failed: %s; pausing accepts for %d ms",
              evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()), ACCEPT_PAUSE_MS);
    evconnlistener_disable(pause->listener);
    struct timeval delay = ms_to_timeval(ACCEPT_PAUSE_MS);
    if (evtimer_add(pause->resume, &delay) != 0)
        warnx_msg("cannot schedule accepting again: evtimer_add failed");
}

static void on_resume_accepting(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct accept_pause *pause = arg;
    if (!pause->stopped) /* a draining server stays closed */
        evconnlistener_enable(pause->listener);
}

int accept_pause_init(struct accept_pause *pause, struct evconnlistener *listener)
{
    pause->listener = listener;
    pause->stopped = 0;
    pause->resume = evtimer_new(evconnlistener_get_base(listener), on_resume_accepting, pause);
    if (!pause->resume) {
        warnx_msg("cannot create the accept-pause timer: out of memory");
        return -1;
    }
    return 0;
}

void accept_pause_stop_accepting(struct accept_pause *pause)
{
    pause->stopped = 1;
    evtimer_del(pause->resume);
    evconnlistener_disable(pause->listener);
}

void accept_pause_free(struct accept_pause *pause)
{
    if (pause->resume)
        event_free(pause->resume);
    pause->resume = NULL;
}
