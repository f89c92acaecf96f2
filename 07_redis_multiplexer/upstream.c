/*
 * 07_redis_multiplexer/upstream.c — the few connections to Redis that every
 * client shares, and the FIFO that says whose reply comes next.
 *
 * Redis answers the requests of one connection in the order it read them.
 * So each shared connection keeps a queue of the clients whose requests it
 * sent, oldest first; each reply that comes back belongs to the client at the
 * front:
 *
 *   sent:     A:GET  B:SET  A:INCR  C:GET        (one write, four clients' requests)
 *   pending:  [A] [B] [A] [C]  <- front is A
 *   replies:  $3 foo | +OK | :7 | $-1            (one read, framed by reply.c)
 *             to A     to B  to A  to C
 *
 * The reply framer (reply.c) finds where each reply ends, in the bytes as
 * they lie in our input buffer; the very same bytes go to the client
 * (nothing is re-encoded or copied into a parser's buffer). Every reply
 * Redis can send must be framed here: one we could not frame would leave
 * every later reply on this connection without an owner.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mux.h"
#include "reply.h"

/* Requests queued for Redis before clients of that connection stop being
 * read (chapter 5's backpressure), and where reading resumes. */
#define UPSTREAM_HIGH (4 * 1024 * 1024)
#define UPSTREAM_RESUME (1024 * 1024)
/* Reconnecting: wait 100 ms after the first failure, doubling up to 2 s. */
#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS 2000
/* libevent writes at most 16 KiB per write by default: a 16 KiB SET would
 * straddle two writes, and a batch of them would leave in 16 KiB pieces. */
#define UPSTREAM_MAX_WRITE (256 * 1024)
#define FIFO_FIRST_SIZE 64

enum upstream_state { UPSTREAM_CONNECTING, UPSTREAM_CONNECTED, UPSTREAM_DOWN };

struct upstream {
    struct mux *mux;
    int index;
    enum upstream_state state;
    struct bufferevent *bev;    /* writes requests; NULL while down */
    struct event *readable;     /* replies are read by our own read (read_some) */
    struct evbuffer *in;        /* replies read, not yet handed to their clients */
    size_t last_read;           /* read_some's guess of how much the next read brings */
    struct evbuffer *batch;     /* requests taken in this turn of the loop, not yet written */
    struct event *flush;        /* runs once the turn's callbacks are done: writes batch */
    struct reply_framer framer; /* where the reply at the front of in has got to */
    /* the FIFO of pending replies: a ring of the clients owed one */
    struct client **fifo;
    size_t fifo_size, head, len;
    int head_started; /* part of the front reply already went to its client */
    struct event *retry_timer;
    long retry_ms;
    struct client_list paused; /* clients not read while Redis is behind */
};

static void upstream_connect(struct upstream *up);

/* ---- the FIFO of pending replies ----------------------------------------- */

/* region: fifo */
static int fifo_push(struct upstream *up, struct client *c)
{
    if (up->len == up->fifo_size) { /* full: a ring twice the size, oldest first */
        size_t size = up->fifo_size ? up->fifo_size * 2 : FIFO_FIRST_SIZE;
        struct client **ring = malloc(size * sizeof(struct client *));
        if (!ring)
            return -1;
        for (size_t i = 0; i < up->len; i++)
            ring[i] = up->fifo[(up->head + i) % up->fifo_size];
        free(up->fifo);
        up->fifo = ring;
        up->fifo_size = size;
        up->head = 0;
    }
    up->fifo[(up->head + up->len) % up->fifo_size] = c;
    up->len++;
    return 0;
}

static struct client *fifo_pop(struct upstream *up)
{
    struct client *c = up->fifo[up->head];
    up->head = (up->head + 1) % up->fifo_size;
    up->len--;
    up->head_started = 0;
    return c;
}
/* endregion */

/* ---- clients waiting for Redis to catch up -------------------------------- */

void upstream_pause_client(struct upstream *up, struct client *c)
{
    client_read_requests(c, 0);
    TAILQ_INSERT_TAIL(&up->paused, c, paused_link);
    c->paused = 1;
}

void upstream_unpause_client(struct upstream *up, struct client *c)
{
    if (!c->paused)
        return;
    TAILQ_REMOVE(&up->paused, c, paused_link);
    c->paused = 0;
}

/* Read the paused clients again, oldest first, while there is room. Their
 * input may already hold whole requests: process it now, since libevent calls
 * the read callback only when new bytes arrive. */
static void resume_clients(struct upstream *up)
{
    struct client *c;
    while (!upstream_is_full(up) && (c = TAILQ_FIRST(&up->paused))) {
        upstream_unpause_client(up, c);
        client_read_requests(c, 1);
        client_process_input(c);
    }
}

/* ---- failure and reconnection ---------------------------------------------- */

/* Redis went away (or never answered). Whatever it had not answered will
 * never be answered on a new connection — a new connection is a new session,
 * and a write may or may not have happened — so every request in flight gets
 * an error, in FIFO order, and the connection is tried again later. */
static void upstream_fail(struct upstream *up, const char *reason)
{
    struct mux *m = up->mux;
    client_flush_all(m); /* replies taken before the failure go out first */
    up->retry_ms = up->retry_ms ? up->retry_ms * 2 : RETRY_FIRST_MS;
    if (up->retry_ms > RETRY_MAX_MS)
        up->retry_ms = RETRY_MAX_MS;
    warnx_msg("upstream %d: %s; %zu request%s in flight answered with -ERR upstream unavailable; "
              "reconnecting in %ld ms",
              up->index, reason, up->len, up->len == 1 ? "" : "s", up->retry_ms);
    if (up->readable)
        event_free(up->readable);
    up->readable = NULL;
    if (up->bev)
        bufferevent_free(up->bev);
    up->bev = NULL;
    up->state = UPSTREAM_DOWN;
    /* half a reply, and requests never written: their clients get errors below */
    evbuffer_drain(up->in, evbuffer_get_length(up->in));
    evbuffer_drain(up->batch, evbuffer_get_length(up->batch));
    reply_framer_reset(&up->framer); /* it may be half-way through a reply */
    while (up->len > 0) {
        int cut = up->head_started;
        struct client *c = fifo_pop(up);
        m->stats.unavailable++;
        client_reply_failed(c, cut);
        client_reply_done(c);
    }
    struct timeval wait = ms_to_timeval(up->retry_ms);
    evtimer_add(up->retry_timer, &wait);
    resume_clients(up); /* they now get errors at once, instead of waiting */
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    trace_dispatch(fd, "timeout", "on_retry");
    upstream_connect(arg);
}

/* ---- replies ---------------------------------------------------------------- */

/* The first n bytes of in are the front client's: the rest of its reply
 * (complete) or the part of it that has arrived so far. */
static int deliver(struct upstream *up, struct evbuffer *in, size_t n, int complete)
{
    if (up->len == 0) {
        upstream_fail(up, "Redis sent a reply nobody asked for");
        return -1;
    }
    struct client *c = up->fifo[up->head];
    client_take_reply(c, in, n);
    if (!complete) {
        up->head_started = 1;
        return 0;
    }
    fifo_pop(up);
    up->mux->stats.replies++;
    client_reply_done(c);
    return 0;
}

/* region: handle-replies */
/* Frame what arrived in up->in and hand each reply to its client. The framer
 * reads the bytes where they lie, one chunk of the buffer at a time; off
 * counts the bytes of the front reply it has read so far. */
static void handle_replies(struct upstream *up)
{
    struct evbuffer *in = up->in;
    size_t off = 0;
    while (off < evbuffer_get_length(in)) {
        struct evbuffer_ptr at;
        struct evbuffer_iovec chunk;
        if (evbuffer_ptr_set(in, &at, off, EVBUFFER_PTR_SET) != 0 ||
            evbuffer_peek(in, -1, &at, &chunk, 1) < 1)
            break;
        size_t used;
        enum reply_status st = reply_frame(&up->framer, chunk.iov_base, chunk.iov_len, &used);
        if (st == REPLY_BAD) {
            char why[160];
            snprintf(why, sizeof why, "bad reply from Redis: %s", up->framer.error);
            upstream_fail(up, why);
            return;
        }
        off += used;
        if (st == REPLY_COMPLETE) {
            if (deliver(up, in, off, 1) != 0)
                return;
            off = 0; /* the next reply starts at the front */
        }
    }
    /* The rest is the start of the front client's reply: pass it on now, so a
     * 5 MiB value is not held here until its last byte. */
    size_t rest = evbuffer_get_length(in);
    if (rest > 0 && deliver(up, in, rest, 0) != 0)
        return;
    client_flush_all(up->mux); /* one write per client for all its replies */
}
/* endregion */

/* Redis's socket is readable: one read (read_some, docs/06 says why). */
static void on_upstream_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct upstream *up = arg;
    trace_dispatch(fd, "read", "on_upstream_readable");
    ev_ssize_t n = read_some(fd, up->in, &up->last_read);
    if (n > 0)
        handle_replies(up);
    else if (n == 0)
        upstream_fail(up, "connection closed by Redis");
    else if (errno != EAGAIN && errno != EINTR)
        upstream_fail(up, strerror(errno));
}

/* ---- requests --------------------------------------------------------------- */

int upstream_send(struct upstream *up, struct client *c, struct evbuffer *src, size_t n)
{
    if (fifo_push(up, c) != 0)
        return -1;
    /* Queued, not written: every request that arrives in this turn of the
     * loop joins the same write (that is the batching). event_active puts
     * the flush at the end of the callbacks this turn already has to run:
     * it runs after every client read in the turn, before epoll_wait. */
    evbuffer_remove_buffer(src, up->batch, n);
    event_active(up->flush, 0, 0);
    c->pending++;
    up->mux->stats.requests++;
    return 0;
}

/* Called by libevent whenever the output changes; bytes deleted means a
 * write to Redis's socket went out. */
static void on_output_change(struct evbuffer *out, const struct evbuffer_cb_info *info, void *arg)
{
    (void)out;
    struct upstream *up = arg;
    if (info->n_deleted > 0)
        up->mux->stats.upstream_writes++;
}

/* The end of a turn of the loop: write the turn's requests at once, when
 * nothing is queued ahead of them. Only what the socket did not take goes to
 * the bufferevent, which then waits for EV_WRITE. Letting the bufferevent
 * write everything would cost two epoll_ctl per write (watch for EV_WRITE,
 * then stop) and a trip through epoll_wait in between. */
static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct upstream *up = arg;
    if (!up->bev) /* went down in this turn: the batch was answered with errors */
        return;
    trace_dispatch(bufferevent_getfd(up->bev), "active", "on_flush");
    struct evbuffer *out = bufferevent_get_output(up->bev);
    evutil_socket_t sock = bufferevent_getfd(up->bev);
    while (up->state == UPSTREAM_CONNECTED && evbuffer_get_length(out) == 0 &&
           evbuffer_get_length(up->batch) > 0 && evbuffer_write(up->batch, sock) > 0)
        up->mux->stats.upstream_writes++; /* a write takes up to 128 pieces: loop */
    evbuffer_add_buffer(out, up->batch);
    if (!upstream_is_full(up))
        resume_clients(up); /* the direct write may have made room */
}

static void on_upstream_write(struct bufferevent *bev, void *arg)
{
    trace_dispatch(bufferevent_getfd(bev), "write", "on_upstream_write");
    resume_clients(arg); /* the output drained below UPSTREAM_RESUME */
}

static void on_upstream_event(struct bufferevent *bev, short what, void *arg)
{
    struct upstream *up = arg;
    trace_dispatch(bufferevent_getfd(bev), "event", "on_upstream_event");
    if (what & BEV_EVENT_CONNECTED) {
        up->readable = event_new(up->mux->srv.base, bufferevent_getfd(bev), EV_READ | EV_PERSIST,
                                 on_upstream_readable, up);
        if (!up->readable || event_add(up->readable, NULL) != 0) {
            upstream_fail(up, "cannot watch for replies: out of memory");
            return;
        }
        up->state = UPSTREAM_CONNECTED;
        up->retry_ms = 0;
        set_nodelay(bufferevent_getfd(bev));
        printf("upstream %d: connected to Redis\n", up->index);
        return;
    }
    upstream_fail(up, (what & BEV_EVENT_ERROR)
                          ? evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR())
                          : "connection closed by Redis");
}

static void upstream_connect(struct upstream *up)
{
    struct mux *m = up->mux;
    up->bev = bufferevent_socket_new(m->srv.base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!up->bev || !evbuffer_add_cb(bufferevent_get_output(up->bev), on_output_change, up)) {
        upstream_fail(up, "out of memory");
        return;
    }
    bufferevent_setcb(up->bev, NULL, on_upstream_write, on_upstream_event, up);
    bufferevent_setwatermark(up->bev, EV_WRITE, UPSTREAM_RESUME, 0);
    bufferevent_set_max_single_write(up->bev, UPSTREAM_MAX_WRITE);
    bufferevent_enable(up->bev, EV_WRITE); /* reading is on_upstream_readable's */
    up->state = UPSTREAM_CONNECTING;       /* requests queue until connected */
    if (bufferevent_socket_connect(up->bev, (struct sockaddr *)&m->opt->redis_addr,
                                   sizeof m->opt->redis_addr) != 0)
        upstream_fail(up, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

/* ---- the pool's life ---------------------------------------------------------- */

struct upstream *upstream_new(struct mux *m, int index)
{
    struct upstream *up = calloc(1, sizeof *up);
    if (!up) {
        warnx_msg("cannot create upstream %d: out of memory", index);
        return NULL;
    }
    up->mux = m;
    up->index = index;
    TAILQ_INIT(&up->paused);
    reply_framer_init(&up->framer);
    up->retry_timer = evtimer_new(m->srv.base, on_retry, up);
    up->in = evbuffer_new();
    up->batch = evbuffer_new();
    up->flush = event_new(m->srv.base, -1, 0, on_flush, up); /* only ever made active */
    if (!up->retry_timer || !up->in || !up->batch || !up->flush) {
        warnx_msg("cannot create upstream %d: out of memory", index);
        upstream_free(up);
        return NULL;
    }
    upstream_connect(up);
    return up;
}

/* At exit. Every client was dropped already; the ones still owed replies
 * are released as their FIFO entries go. */
void upstream_free(struct upstream *up)
{
    if (up->readable)
        event_free(up->readable);
    if (up->bev)
        bufferevent_free(up->bev);
    while (up->len > 0)
        client_reply_done(fifo_pop(up));
    free(up->fifo);
    if (up->retry_timer)
        event_free(up->retry_timer);
    if (up->flush)
        event_free(up->flush);
    if (up->batch)
        evbuffer_free(up->batch);
    if (up->in)
        evbuffer_free(up->in);
    reply_framer_free(&up->framer);
    free(up);
}

int upstream_is_down(const struct upstream *up)
{
    return up->state == UPSTREAM_DOWN;
}

int upstream_is_connected(const struct upstream *up)
{
    return up->state == UPSTREAM_CONNECTED;
}

int upstream_is_full(const struct upstream *up)
{
    return up->bev &&
           evbuffer_get_length(bufferevent_get_output(up->bev)) + evbuffer_get_length(up->batch) >=
               UPSTREAM_HIGH;
}

size_t upstream_in_flight(const struct upstream *up)
{
    return up->len;
}
