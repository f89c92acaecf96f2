/*
 * 11_threads/threads.h — what the chapter's three servers share.
 *
 *   struct worker   one thread with its own event base, its own notify fd
 *                   and its own connections: memcached's LIBEVENT_THREAD
 *                   (worker.c). threaded_echo hands it connections through
 *                   its CQ_ITEM queue; reuseport_echo gives it a listener of
 *                   its own; both stop it through the same queue.
 *   the options     --port, --threads, --trace, --backend, and offload's
 *                   --inline (threads_cli.c). --trace is safe from several
 *                   threads at once: common's trace.c locks each line.
 *
 * Line echo as in chapter 0: each complete line comes back whole; a line
 * longer than MAX_LINE comes back in MAX_LINE pieces; after the client's FIN
 * the rest comes back, then the connection closes.
 */
#ifndef THREADS_H
#define THREADS_H

#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <event2/util.h>

#include "common.h"
#include "server.h"
#include "trace.h"

#define DEFAULT_THREADS 4
#define MAX_THREADS 64
#define LISTEN_BACKLOG 4096
#define MAX_LINE 4096
/* How long a stopping worker waits for its clients to take their echoes. */
#define DRAIN_MS 2000

/* ---- the command line (threads_cli.c) ------------------------------------ */

struct thread_options {
    struct sockaddr_in sin;
    long threads;                /* --threads N: workers (or the pool's size) */
    int inline_work;             /* --inline (offload only): do slow work on the loop */
    struct server_config server; /* --trace, --backend (no drain, no stats timer) */
};

/* Fill OPT from the command line; DESCRIPTION goes in --help; WITH_INLINE
 * accepts --inline. Exits 0 on --help, 2 on a bad command line. */
void parse_thread_options(int argc, char **argv, const char *description, int with_inline,
                          struct thread_options *opt);

/* "listening on 127.0.0.1:PORT" */
void print_listening(evutil_socket_t fd);

/* Block SIGINT, SIGTERM, SIGUSR1, SIGUSR2 in the calling thread (a thread
 * created meanwhile inherits the mask), or restore OLD. Signals then go to
 * the main thread, whose base watches them. */
void block_signals(sigset_t *old);
void restore_signals(const sigset_t *old);

/* ---- the worker thread (worker.c) ---------------------------------------- */

/* What the queue carries to a worker (memcached: CQ_ITEM, and its
 * queue_new_conn / queue_stop modes). */
enum cq_mode { QUEUE_NEW_CONN, QUEUE_STOP };

struct cq_item {
    evutil_socket_t sfd;
    enum cq_mode mode;
    STAILQ_ENTRY(cq_item) next;
};
STAILQ_HEAD(cq_list, cq_item);

/* The only thing two threads share: the lock keeps it consistent. */
struct conn_queue {
    pthread_mutex_t lock;
    struct cq_list items;
};

LIST_HEAD(conn_list, conn);

struct worker {
    int index;
    pthread_t thread_id;
    int running;                  /* the thread was created and not yet joined */
    int draining;                 /* told to stop: flushing what it owes, then out */
    struct event *drain_deadline; /* DRAIN_MS after the stop: out anyway */
    struct event_base *base;      /* this thread's alone: EVENT_BASE_FLAG_NOLOCK */
    int notify_fd;                /* eventfd: "look at your queue" */
    struct event *notify_event;   /* persistent EV_READ on notify_fd */
    struct conn_queue new_conn_queue;
    struct conn_list conns; /* touched by this thread only */
    atomic_ulong served;    /* read by the main thread for SIGUSR1 */
};

/* memcached's setup_thread: the base, the notify fd and its event, the
 * queue. 0, or -1 after a message (worker_free cleans up either way). */
int worker_setup(struct worker *w, int index, const char *backend);
/* pthread_create: the thread runs its base until it is told to stop. */
int worker_start(struct worker *w);
/* From another thread: queue an item and wake the worker (memcached:
 * cq_push + notify_worker). 0, or -1 after a message. */
int worker_push(struct worker *w, evutil_socket_t sfd, enum cq_mode mode);
/* In the worker's own thread: wrap FD in a bufferevent of its base. */
void worker_add_conn(struct worker *w, evutil_socket_t fd);
/* pthread_join, if it is running. */
void worker_join(struct worker *w);
/* After the join: free what worker_setup made. */
void worker_free(struct worker *w);
/* "thread 2: 250 connections" */
void print_worker_count(struct worker *w);

#endif
