/*
 * common/trace.c — turns libevent's debug messages into --trace lines.
 *
 * Which messages exist (read in libevent 2.1.12's event.c, epoll.c, poll.c,
 * select.c and signal.c), and what each becomes:
 *   register  "event_add: event: P (fd N), EV_READ ..."   an event is added
 *             "event_add: event P, timeout in S seconds U useconds"  its timeout
 *             "Epoll ADD(1) on fd N okay. ..."  what reaches the kernel (epoll_ctl);
 *                 poll and select have no such step: they pass the whole set
 *                 of fds to every call instead
 *             "evsig_add: N: changing signal handler"  sigaction for a signal event
 *             "event_del: P (fd N), callback P"  an event is removed
 *   detect    "epoll_dispatch: epoll_wait reports N"  (poll and select alike)
 *             "timeout_next: event: P, in S seconds, U useconds"  how long the
 *                 wait may last, because a timer is due
 *             "event_active: P (fd N), res R"  the wait found fd N ready (R says
 *                 how), so libevent marks its event active: a callback is due
 * libevent's own "event_process_active" lines name the callback only by its
 * address, so they are dropped: each callback prints its own dispatch line
 * (trace_dispatch) with its name instead. The other debug messages (events freed,
 * bufferevent internals) are dropped as noise, except the loop ending, tagged
 * "libevent". Warnings and errors are never dropped: they are what libevent
 * would have printed itself, tagged "libevent" and without addresses.
 * libevent's event_add message does not say EV_PERSIST, so neither do we.
 *
 * Threads (chapter 11): several loops may trace at once, and the line being
 * assembled (pending) is shared, so each trace line is printed under one
 * mutex. It is taken only when tracing is on: without --trace libevent never
 * calls trace_libevent_log, and trace_dispatch returns before locking.
 */
#define _GNU_SOURCE /* sigabbrev_np: "HUP" for SIGHUP */
#include "trace.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include <event2/event.h>

#include "common.h"

#define LINE_MAX_LEN 256
#define SUBJECT_LEN 48
#define MAX_SIGNAL_EVENTS 16 /* signal events remembered, to name their event_del */

const char *const backend_names[N_BACKENDS] = {"epoll", "poll", "select"};

static int tracing;
/* event_del says "fd N" for a signal event too (its fd is the signal number):
 * remember which events were added as signals. Addresses are compared only. */
static void *signal_events[MAX_SIGNAL_EVENTS];
/* An event_add with a timeout is followed at once by a second message with the
 * duration: hold the first line until then, to print one line. */
static char pending[LINE_MAX_LEN];
static double pending_ms;
/* Guards pending, signal_events and stderr's lines: one lock per trace line. */
static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;

const char *parse_backend_option(const char *text)
{
    for (int i = 0; i < N_BACKENDS; i++)
        if (strcmp(text, backend_names[i]) == 0)
            return backend_names[i];
    usage_error("--backend: '%s' is not one of epoll, poll, select", text);
}

/* event_config_avoid_method for every other backend, so BACKEND is the only
 * one libevent may choose; FLAGS go to event_config_set_flag. */
struct event_base *open_event_base_flags(const char *backend, int flags)
{
    struct event_config *cfg = event_config_new();
    if (!cfg) {
        warnx_msg("cannot create the event base: out of memory");
        return NULL;
    }
    for (int i = 0; backend && i < N_BACKENDS; i++)
        if (strcmp(backend_names[i], backend) != 0)
            event_config_avoid_method(cfg, backend_names[i]);
    struct event_base *base = NULL;
    if (flags && event_config_set_flag(cfg, flags) != 0)
        warnx_msg("cannot create the event base: libevent refused the flags %#x", (unsigned)flags);
    else if (!(base = event_base_new_with_config(cfg)))
        warnx_msg("cannot create the event base: %s",
                  backend ? "that backend is not available here" : "out of memory");
    event_config_free(cfg);
    return base;
}

struct event_base *open_event_base(const char *backend)
{
    return open_event_base_flags(backend, 0);
}

void trace_enable(void)
{
    tracing = 1;
}

/* libevent then reports every event it adds and every wait it makes;
 * trace_libevent_log prints them as register and detect lines on stderr. */
void trace_wire(int on)
{
    if (!on)
        return;
    trace_enable();
    event_enable_debug_logging(EVENT_DBG_ALL);
    event_set_log_callback(trace_libevent_log);
}

static void print_line(double ms, const char *step, const char *text)
{
    fprintf(stderr, "%7.1f ms  %-8s  %s\n", ms, step, text);
}

static void flush_pending(void)
{
    if (pending[0] != '\0')
        print_line(pending_ms, "register", pending);
    pending[0] = '\0';
}

static const char *signal_subject(int sig, char *buf)
{
    const char *abbrev = sigabbrev_np(sig);
    snprintf(buf, SUBJECT_LEN, "signal %d SIG%s", sig, abbrev ? abbrev : "?");
    return buf;
}

/* Is EV a signal event we saw added? FORGET removes it from the list. */
static int is_signal_event(void *ev, int forget)
{
    for (int i = 0; i < MAX_SIGNAL_EVENTS; i++)
        if (ev && signal_events[i] == ev) {
            if (forget)
                signal_events[i] = NULL;
            return 1;
        }
    return 0;
}

static void remember_signal_event(void *ev)
{
    for (int i = 0; i < MAX_SIGNAL_EVENTS; i++)
        if (!signal_events[i]) {
            signal_events[i] = ev;
            return;
        }
}

/* TEXT on OUT without its "0x55d0c4a1b2c0"-style addresses (and the space after
 * each): they change every run and mean nothing on a projector. */
static void put_without_addresses(const char *text, FILE *out)
{
    for (const char *p = text; *p; p++) {
        if (p[0] == '0' && p[1] == 'x') {
            for (p += 2; isxdigit((unsigned char)*p);)
                p++;
            if (*p != ' ')
                p--; /* keep what followed the address */
            continue;
        }
        fputc(*p, out);
    }
}

/* "event_add: event: P (fd N), EV_READ  EV_TIMEOUT call P" */
static void on_event_add(void *ev, int fd, const char *flags)
{
    char what[LINE_MAX_LEN] = "", subject[SUBJECT_LEN];
    const char *names[] = {"EV_READ", "EV_WRITE", "EV_CLOSED"};
    for (int i = 0; i < 3; i++)
        if (strstr(flags, names[i]))
            snprintf(what + strlen(what), sizeof what - strlen(what), "%s%s", what[0] ? "|" : "",
                     names[i]);
    is_signal_event(ev, 1);           /* a recycled address is no longer a signal event */
    if (fd >= 0 && what[0] == '\0') { /* no I/O flags: fd is a signal number */
        remember_signal_event(ev);
        snprintf(pending, sizeof pending, "%s  (event_add)", signal_subject(fd, subject));
    } else if (fd >= 0) {
        snprintf(pending, sizeof pending, "fd %d  %s  (event_add)", fd, what);
    } else if (what[0] != '\0') { /* a bufferevent before its socket exists */
        snprintf(pending, sizeof pending, "no fd yet  %s  (event_add)", what);
    } else {
        snprintf(pending, sizeof pending, "timer  (event_add)");
    }
    pending_ms = elapsed_ms();
    if (!strstr(flags, "EV_TIMEOUT"))
        flush_pending();
}

/* "Epoll ADD(5) on fd 7 okay. ...": the events are epoll_ctl's, as a number */
static void on_epoll_ctl(const char *op, int events, int fd)
{
    static const struct {
        int bit;
        const char *name;
    } names[] = {{EPOLLIN, "EPOLLIN"}, {EPOLLOUT, "EPOLLOUT"}, {EPOLLRDHUP, "EPOLLRDHUP"}};
    char what[LINE_MAX_LEN] = "", line[LINE_MAX_LEN];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (events & names[i].bit)
            snprintf(what + strlen(what), sizeof what - strlen(what), "%s%s", what[0] ? "|" : "",
                     names[i].name);
    snprintf(line, sizeof line, "fd %d  %s  (epoll %s)", fd,
             strcmp(op, "DEL") == 0 ? "removed" : what, op);
    print_line(elapsed_ms(), "register", line);
}

/* "event_add: event P, timeout in S seconds U useconds": the held line, with
 * its duration. */
static void on_event_timeout(int sec, int usec)
{
    char text[LINE_MAX_LEN];
    size_t len = strcspn(pending, "(");
    while (len > 0 && pending[len - 1] == ' ')
        len--;
    /* libevent re-adds an EV_PERSIST timer with an absolute deadline on
     * its monotonic clock (time since boot), not a delay: a "delay" past
     * the clock's reading is one of those. */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (sec >= (long)now.tv_sec - 1)
        snprintf(text, sizeof text, "%.*s  re-armed  (event_add, EV_PERSIST)", (int)len, pending);
    else
        snprintf(text, sizeof text, "%.*s  in %.1f ms  (event_add)", (int)len, pending,
                 sec * 1000.0 + usec / 1000.0);
    snprintf(pending, sizeof pending, "%s", text);
    flush_pending();
}

/* "fd 7", "signal 1 SIGHUP" or "timer": what event EV with fd FD is. */
static const char *event_subject(void *ev, int fd, int forget, char *buf)
{
    if (is_signal_event(ev, forget))
        return signal_subject(fd, buf);
    snprintf(buf, SUBJECT_LEN, fd >= 0 ? "fd %d" : "timer", fd);
    return buf;
}

/* sscanf reads libevent's own messages, whose numbers libevent printed with
 * %d: they cannot overflow, which is what cert-err34-c guards against. */
// NOLINTBEGIN(cert-err34-c)
static void log_message(int severity, const char *msg)
{
    char text[LINE_MAX_LEN], word[32], subject[SUBJECT_LEN];
    void *ev = NULL;
    int fd = 0, n = 0, sec = 0, usec = 0, used = 0;
    if (sscanf(msg, "event_add: event %p, timeout in %d seconds %d useconds", &ev, &sec, &usec) ==
            3 &&
        pending[0] != '\0') {
        on_event_timeout(sec, usec);
        return;
    }
    flush_pending();
    if (severity != EVENT_LOG_DEBUG) {
        fprintf(stderr, "%7.1f ms  %-8s  ", elapsed_ms(), "libevent");
        put_without_addresses(msg, stderr);
        fputc('\n', stderr);
    } else if (sscanf(msg, "event_add: event: %p (fd %d), %n", &ev, &fd, &used) == 2 && used > 0) {
        on_event_add(ev, fd, msg + used);
    } else if (sscanf(msg, "Epoll %3[A-Z](%d) on fd %d okay", word, &n, &fd) == 3) {
        on_epoll_ctl(word, n, fd);
    } else if (sscanf(msg, "%*[a-z_]: %31s reports %d", word, &n) == 2) {
        snprintf(text, sizeof text, n > 0 ? "%s: %d ready" : "%s: nothing ready (timed out)", word,
                 n);
        print_line(elapsed_ms(), "detect", text);
    } else if (sscanf(msg, "timeout_next: event: %p, in %d seconds, %d useconds", &ev, &sec,
                      &usec) == 3) {
        snprintf(text, sizeof text, "next timer due in %.1f ms: wait at most that long",
                 sec * 1000.0 + usec / 1000.0);
        print_line(elapsed_ms(), "detect", text);
    } else if (sscanf(msg, "evsig_add: %d: changing", &n) == 1) {
        snprintf(text, sizeof text, "%s  handler installed  (sigaction)",
                 signal_subject(n, subject));
        print_line(elapsed_ms(), "register", text);
    } else if (sscanf(msg, "event_del: %p (fd %d)", &ev, &fd) == 2) {
        snprintf(text, sizeof text, "%s  removed  (event_del)", event_subject(ev, fd, 1, subject));
        print_line(elapsed_ms(), "register", text);
    } else if (sscanf(msg, "event_active: %p (fd %d), res %d", &ev, &fd, &n) == 3) {
        snprintf(text, sizeof text, "%s  %s%s%s%s-> active", event_subject(ev, fd, 0, subject),
                 n & EV_READ ? "EV_READ " : "", n & EV_WRITE ? "EV_WRITE " : "",
                 n & EV_TIMEOUT ? "EV_TIMEOUT " : "", n & EV_SIGNAL ? "EV_SIGNAL " : "");
        print_line(elapsed_ms(), "detect", text);
    } else if (strncmp(msg, "event_base_loop: ", strlen("event_base_loop: ")) == 0) {
        snprintf(text, sizeof text, "loop ends: %s", msg + strlen("event_base_loop: "));
        print_line(elapsed_ms(), "libevent", text);
    }
}
// NOLINTEND(cert-err34-c)

void trace_libevent_log(int severity, const char *msg)
{
    pthread_mutex_lock(&trace_lock);
    log_message(severity, msg);
    pthread_mutex_unlock(&trace_lock);
}

void trace_dispatch(int fd, const char *why, const char *callback)
{
    char subject[SUBJECT_LEN], text[LINE_MAX_LEN];
    if (!tracing)
        return; /* --trace off: no lock, nothing to do */
    if (strcmp(why, "signal") == 0)
        snprintf(text, sizeof text, "%s -> %s", signal_subject(fd, subject), callback);
    else if (fd < 0)
        snprintf(text, sizeof text, "timer  %s -> %s", why, callback);
    else
        snprintf(text, sizeof text, "fd %d  %s -> %s", fd, why, callback);
    pthread_mutex_lock(&trace_lock);
    flush_pending();
    print_line(elapsed_ms(), "dispatch", text);
    pthread_mutex_unlock(&trace_lock);
}

/* The memory stream of trace_dump_begin: where it keeps the text. One dump at
 * a time (the thread that handles SIGUSR2); its printing takes the lock, the
 * dump itself does not (event_base_dump_events takes the base's lock, and a
 * thread holding that may be waiting for ours to log). */
static char *dump_text;
static size_t dump_len;

FILE *trace_dump_begin(void)
{
    FILE *dump = open_memstream(&dump_text, &dump_len);
    return dump ? dump : stderr; /* out of memory: dump as libevent writes it */
}

void trace_dump_end(FILE *dump)
{
    if (dump == stderr)
        return;
    fclose(dump); /* sets dump_text */
    pthread_mutex_lock(&trace_lock);
    flush_pending();
    print_line(elapsed_ms(), "dump", "event_base_dump_events: what is registered now");
    put_without_addresses(dump_text, stderr);
    pthread_mutex_unlock(&trace_lock);
    free(dump_text);
    dump_text = NULL;
}

void trace_dump_events(struct event_base *base)
{
    FILE *dump = trace_dump_begin();
    event_base_dump_events(base, dump);
    trace_dump_end(dump);
}

void trace_on_sigusr2(evutil_socket_t sig, short what, void *base)
{
    (void)what;
    trace_dispatch(sig, "signal", "on_sigusr2");
    trace_dump_events(base);
}
