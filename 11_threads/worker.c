/*
 * 11_threads/worker.c — one worker thread: memcached's LIBEVENT_THREAD.
 *
 * Each worker owns an event base that no other thread ever touches, so the
 * base is created with EVENT_BASE_FLAG_NOLOCK and libevent takes no lock on
 * this thread's hot path. Other threads reach it in exactly one way: they
 * push a CQ_ITEM on its queue (a mutex and a list) and write to its eventfd;
 * the base sees the eventfd readable and runs thread_libevent_process in the
 * worker's own thread, which pops the items: a new connection (its own
 * bufferevent, from now on served here alone) or "stop" (event_base_loopexit
 * on its own base).
 *
 *   memcached (thread.c)      here
 *   setup_thread              worker_setup
 *   worker_libevent           worker_main
 *   cq_push / cq_pop          cq_push / cq_pop
 *   notify_worker             worker_push's write to the eventfd
 *   thread_libevent_process   thread_libevent_process
 *
 * Watch for: no libevent call here is made on another thread's base, which
 * is why this file needs no evthread_use_pthreads (offload.c does).
 *
 * Why a worker's base is made here and not by common/server.h's server_open
 * (which the main thread's base uses): the skeleton's base is a process's
 * one server — it takes the signals (here blocked, they go to the main
 * thread), has no EVENT_BASE_FLAG_NOLOCK, and its server_close ends with
 * libevent_global_shutdown, which must run once, after every thread. A
 * worker's base is this chapter's lesson: one per thread, lock-free, stopped
 * by a queue item rather than a signal.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "threads.h"

/* Past this much unsent output we stop reading from the peer. */
#define MAX_PENDING_OUTPUT (4 * MAX_LINE)

struct conn {
    struct worker *worker;
    struct bufferevent *bev;
    int closing; /* the client sent FIN: flush its echo, then free */
    LIST_ENTRY(conn) link;
};

/* ---- the queue: the one structure two threads share ---------------------- */

static void cq_push(struct conn_queue *cq, struct cq_item *item)
{
    pthread_mutex_lock(&cq->lock);
    STAILQ_INSERT_TAIL(&cq->items, item, next);
    pthread_mutex_unlock(&cq->lock);
}

static struct cq_item *cq_pop(struct conn_queue *cq)
{
    pthread_mutex_lock(&cq->lock);
    struct cq_item *item = STAILQ_FIRST(&cq->items);
    if (item)
        STAILQ_REMOVE_HEAD(&cq->items, next);
    pthread_mutex_unlock(&cq->lock);
    return item;
}

/* Any thread: queue the item, then one write to the eventfd wakes the base
 * (several writes before the worker reads add up to one wake-up). */
int worker_push(struct worker *w, evutil_socket_t sfd, enum cq_mode mode)
{
    struct cq_item *item = malloc(sizeof *item);
    if (!item) {
        warnx_msg("thread %d: out of memory for a queue item", w->index);
        return -1;
    }
    item->sfd = sfd;
    item->mode = mode;
    cq_push(&w->new_conn_queue, item);
    uint64_t one = 1;
    if (write(w->notify_fd, &one, sizeof one) != sizeof one) {
        warnx_msg("thread %d: cannot notify: %s", w->index, strerror(errno));
        return -1; /* the item stays queued; worker_free closes its fd */
    }
    return 0;
}

/* ---- one echo connection, as in chapter 0 -------------------------------- */

static void conn_free(struct conn *c)
{
    struct worker *w = c->worker;
    LIST_REMOVE(c, link);
    bufferevent_free(c->bev); /* BEV_OPT_CLOSE_ON_FREE: closes the socket too */
    free(c);
    if (w->draining && LIST_EMPTY(&w->conns))
        event_base_loopexit(w->base, NULL); /* the last echo owed has gone */
}

static void echo_lines(struct bufferevent *bev, int at_eof)
{
    struct evbuffer *input = bufferevent_get_input(bev);
    struct evbuffer *output = bufferevent_get_output(bev);
    while (evbuffer_get_length(input) > 0) {
        struct evbuffer_ptr eol = evbuffer_search_eol(input, NULL, NULL, EVBUFFER_EOL_LF);
        if (eol.pos >= 0)
            evbuffer_remove_buffer(input, output, (size_t)eol.pos + 1);
        else if (at_eof || evbuffer_get_length(input) >= MAX_LINE)
            evbuffer_remove_buffer(input, output, MAX_LINE);
        else
            return;
    }
}

static void on_read(struct bufferevent *bev, void *ctx)
{
    (void)ctx;
    trace_dispatch(bufferevent_getfd(bev), "read", "on_read");
    echo_lines(bev, 0);
    if (evbuffer_get_length(bufferevent_get_output(bev)) >= MAX_PENDING_OUTPUT)
        bufferevent_disable(bev, EV_READ); /* backpressure: see on_write */
}

static void on_write(struct bufferevent *bev, void *ctx)
{
    struct conn *c = ctx;
    trace_dispatch(bufferevent_getfd(bev), "write", "on_write");
    if (c->closing)
        conn_free(c);
    else
        bufferevent_enable(bev, EV_READ);
}

static void on_conn_event(struct bufferevent *bev, short what, void *ctx)
{
    struct conn *c = ctx;
    trace_dispatch(bufferevent_getfd(bev), "event", "on_conn_event");
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
        echo_lines(bev, 1);
        if (evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
            c->closing = 1;
            bufferevent_disable(bev, EV_READ);
            bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
            return;
        }
    }
    conn_free(c);
}

void worker_add_conn(struct worker *w, evutil_socket_t fd)
{
    struct conn *c = calloc(1, sizeof *c);
    struct bufferevent *bev = c ? bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
    if (!bev) {
        warnx_msg("thread %d: out of memory: dropping a connection", w->index);
        evutil_closesocket(fd);
        free(c);
        return;
    }
    c->worker = w;
    c->bev = bev;
    LIST_INSERT_HEAD(&w->conns, c, link);
    atomic_fetch_add(&w->served, 1);
    bufferevent_setcb(bev, on_read, on_write, on_conn_event, c);
    bufferevent_setwatermark(bev, EV_WRITE, MAX_LINE, 0);
    if (bufferevent_enable(bev, EV_READ | EV_WRITE) != 0) {
        warnx_msg("thread %d: cannot watch a new client", w->index);
        conn_free(c);
    }
}

/* ---- the worker's loop --------------------------------------------------- */

/* QUEUE_STOP: read no more; a connection owing nothing closes now, one
 * owing echoes once they are sent (on_write, as after a FIN); the last one
 * ends the loop — or DRAIN_MS does, for clients that do not read. */
static void worker_drain(struct worker *w)
{
    static const struct timeval deadline = {DRAIN_MS / 1000, (DRAIN_MS % 1000) * 1000};
    w->draining = 1;
    for (struct conn *c = LIST_FIRST(&w->conns), *next; c; c = next) {
        next = LIST_NEXT(c, link);
        bufferevent_disable(c->bev, EV_READ);
        if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
            conn_free(c);
        } else {
            c->closing = 1;
            bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
        }
    }
    if (LIST_EMPTY(&w->conns) || evtimer_add(w->drain_deadline, &deadline) != 0)
        event_base_loopexit(w->base, NULL);
}

static void on_drain_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    trace_dispatch(-1, "timer", "on_drain_deadline");
    event_base_loopexit(w->base, NULL); /* worker_main closes the rest */
}

/* region: thread_libevent_process */
/* The eventfd is readable: some thread pushed items. Runs in this worker. */
static void thread_libevent_process(evutil_socket_t fd, short which, void *arg)
{
    (void)which;
    struct worker *w = arg;
    trace_dispatch(fd, "read", "thread_libevent_process");
    uint64_t pushed;
    if (read(fd, &pushed, sizeof pushed) != sizeof pushed)
        return; /* nothing new (another wake-up already took it) */
    struct cq_item *item;
    while ((item = cq_pop(&w->new_conn_queue)) != NULL) {
        if (item->mode == QUEUE_NEW_CONN)
            worker_add_conn(w, item->sfd);
        else
            worker_drain(w); /* stop: our own base, so no lock is needed */
        free(item);
    }
}
/* endregion */

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    event_base_dispatch(w->base); /* until QUEUE_STOP */
    /* Still in this thread: its connections are its own to close. */
    for (struct conn *c = LIST_FIRST(&w->conns), *next; c; c = next) {
        next = LIST_NEXT(c, link);
        conn_free(c);
    }
    return NULL;
}

/* region: setup_thread */
int worker_setup(struct worker *w, int index, const char *backend)
{
    w->index = index;
    w->notify_fd = -1;
    LIST_INIT(&w->conns);
    STAILQ_INIT(&w->new_conn_queue.items);
    pthread_mutex_init(&w->new_conn_queue.lock, NULL);
    atomic_init(&w->served, 0);

    /* One base per thread, never shared: no locks inside it. */
    struct event_config *cfg = event_config_new();
    if (!cfg) {
        warnx_msg("thread %d: cannot create an event config: out of memory", index);
        return -1;
    }
    event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
    for (int i = 0; backend && i < N_BACKENDS; i++)
        if (strcmp(backend_names[i], backend) != 0)
            event_config_avoid_method(cfg, backend_names[i]);
    w->base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (!w->base) {
        warnx_msg("thread %d: cannot create the event base: %s", index,
                  backend ? "that backend is not available here" : "out of memory");
        return -1;
    }
    w->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->notify_fd < 0) {
        warnx_msg("thread %d: eventfd: %s", index, strerror(errno));
        return -1;
    }
    w->notify_event =
        event_new(w->base, w->notify_fd, EV_READ | EV_PERSIST, thread_libevent_process, w);
    w->drain_deadline = evtimer_new(w->base, on_drain_deadline, w);
    if (!w->notify_event || !w->drain_deadline || event_add(w->notify_event, NULL) != 0) {
        warnx_msg("thread %d: cannot watch the notify fd", index);
        return -1;
    }
    return 0;
}
/* endregion */

int worker_start(struct worker *w)
{
    int err = pthread_create(&w->thread_id, NULL, worker_main, w);
    if (err != 0) {
        warnx_msg("thread %d: pthread_create: %s", w->index, strerror(err));
        return -1;
    }
    w->running = 1;
    return 0;
}

void worker_join(struct worker *w)
{
    if (!w->running)
        return;
    pthread_join(w->thread_id, NULL);
    w->running = 0;
}

void worker_free(struct worker *w)
{
    struct cq_item *item;
    while ((item = STAILQ_FIRST(&w->new_conn_queue.items)) != NULL) {
        STAILQ_REMOVE_HEAD(&w->new_conn_queue.items, next);
        if (item->mode == QUEUE_NEW_CONN)
            evutil_closesocket(item->sfd); /* handed over, never taken */
        free(item);
    }
    pthread_mutex_destroy(&w->new_conn_queue.lock);
    if (w->drain_deadline)
        event_free(w->drain_deadline);
    if (w->notify_event)
        event_free(w->notify_event);
    if (w->notify_fd >= 0)
        close(w->notify_fd);
    if (w->base)
        event_base_free(w->base);
}

void print_worker_count(struct worker *w)
{
    unsigned long served = atomic_load(&w->served);
    printf("thread %d: %lu connection%s\n", w->index, served, served == 1 ? "" : "s");
}
