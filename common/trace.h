/*
 * common/trace.h — the formatting chore behind every program's --trace.
 *
 * Chapter 1 turns libevent's debug log on and hands it to us by hand:
 *     trace_enable();
 *     event_enable_debug_logging(EVENT_DBG_ALL);
 *     event_set_log_callback(trace_libevent_log);
 * and every other program makes the same three calls as one: trace_wire().
 * trace_libevent_log turns each message into one line on stderr, tagged with
 * the notes' three steps (注册 → 检测 → 触发):
 *        12.3 ms  register  fd 6  EV_READ  (event_add)
 *        12.3 ms  register  fd 6  EPOLLIN  (epoll ADD)
 *        15.0 ms  detect    epoll_wait: 1 ready
 *        15.1 ms  dispatch  fd 7  read -> on_read
 * libevent does not say which callback it runs, so each callback starts with
 * trace_dispatch(fd, "read", "on_read"); it prints nothing unless trace_enable()
 * was called. Also here: the --backend option's check, the event base it asks
 * for, and a way to print event_base_dump_events() without its pointers.
 * Any thread may trace (chapter 11): each line is printed under one lock,
 * taken only when tracing is on.
 */
#ifndef WORKBOOK_TRACE_H
#define WORKBOOK_TRACE_H

#include <stdio.h>

#include <event2/util.h> /* evutil_socket_t */

/* What a program's --trace and --backend asked for. */
struct loop_options {
    int trace;           /* --trace: one line per register/detect/dispatch step */
    const char *backend; /* --backend NAME, or NULL: libevent's own choice */
};

/* The backends --backend may name, in libevent's own order of preference. */
#define N_BACKENDS 3
extern const char *const backend_names[N_BACKENDS];

/* --backend NAME: NAME if it is one of backend_names, else a usage error
 * (exit 2): "prog: --backend: 'x' is not one of epoll, poll, select". */
const char *parse_backend_option(const char *text);

struct event_base;
/* A new event base that may only use BACKEND (one of backend_names; NULL:
 * libevent's own choice), or NULL after "prog: cannot create the event base:
 * that backend is not available here" (or "out of memory"). Chapter 1 teaches
 * it by hand (listener.c's open_base); the later servers call this one
 * without teaching it again. */
struct event_base *open_event_base(const char *backend);
/* The same with FLAGS (enum event_base_config_flag) for event_config_set_flag:
 * chapter 8 asks for EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST (server.c there
 * says why only it). */
struct event_base *open_event_base_flags(const char *backend, int flags);

/* Turn on trace_dispatch's lines (chapter 1 calls it beside
 * event_enable_debug_logging; everyone else through trace_wire). */
void trace_enable(void);

/* --trace, wired: with ON, trace_enable(), libevent's debug log on, and handed
 * to trace_libevent_log — chapter 1's three calls, as one. Nothing without ON.
 * Call it before the event base is made, so its first events are seen too. */
void trace_wire(int on);

/* libevent's log callback for event_set_log_callback: one tagged line on
 * stderr per message it understands (trace.c says which, and why the rest go). */
void trace_libevent_log(int severity, const char *msg);

/* A callback has started: "dispatch  fd 7  read -> on_read". FD < 0 reads as
 * "timer"; WHY "signal" makes FD a signal number ("signal 1 SIGHUP").
 * Nothing at all when tracing is off. */
void trace_dispatch(int fd, const char *why, const char *callback);

/* For event_base_dump_events: trace_dump_begin() gives a stream to dump into,
 * trace_dump_end() prints what was written on stderr without the "0x..."
 * event addresses, and closes it. */
FILE *trace_dump_begin(void);
void trace_dump_end(FILE *dump);

/* event_base_dump_events(BASE) through the two above: "what is registered
 * now". Chapter 1 teaches it by hand (listener.c's dump_events); the later
 * servers call this one, at start with --trace. */
void trace_dump_events(struct event_base *base);

/* The later servers' SIGUSR2 callback, registered in their own files:
 *     evsignal_new(base, SIGUSR2, trace_on_sigusr2, base)
 * Each SIGUSR2 dumps what is registered (trace_dump_events). */
void trace_on_sigusr2(evutil_socket_t sig, short what, void *base);

#endif
