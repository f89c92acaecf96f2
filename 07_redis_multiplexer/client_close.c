/*
 * 07_redis_multiplexer/client_close.c — a client's end, every step of it in
 * this one file (mux.h draws the states): finish (the replies it is owed,
 * then a farewell), flush, half-close, linger, free — and the client's
 * bufferevent callbacks, which all serve that end: while a client shares a
 * connection its bufferevent only writes, and reads only once it is closing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mux.h"

/* After our last byte: how long to wait for the client to close its side. */
#define LINGER_MS 200

int client_is_closing(const struct client *c)
{
    return c->state == CLIENT_CLOSING || c->state == CLIENT_CLOSING_EOF ||
           c->state == CLIENT_LINGERING;
}

/* The one place a client's connection ends (-> GONE). Its struct stays while
 * replies are still owed to it on a shared upstream: they are dropped as they
 * come, and the last one frees it (client_reply_done). */
void client_drop(struct client *c)
{
    struct mux *m = c->mux;
    c->state = CLIENT_GONE;
    upstream_unpause_client(c->up, c);
    if (c->flush_listed)
        TAILQ_REMOVE(&m->to_flush, c, flush_link);
    c->flush_listed = 0;
    pinned_release(c);
    evbuffer_free(c->staged);
    c->staged = NULL;
    if (c->readable) /* before the bufferevent closes the socket it watches */
        event_free(c->readable);
    c->readable = NULL;
    bufferevent_free(c->bev);
    c->bev = NULL;
    if (c->linger_timer) /* made by finish_close, if it got that far */
        event_free(c->linger_timer);
    c->linger_timer = NULL;
    request_release(&c->req);
    TAILQ_REMOVE(&m->clients, c, link);
    m->stats.clients_now--;
    if (c->pending == 0)
        free(c);
    server_client_left(&m->srv); /* a draining multiplexer may be done */
}

static void on_linger(evutil_socket_t fd, short what, void *arg);

/* Everything is out: FIN after our last byte, then wait for the client's EOF
 * (a close() with unread input would send a reset; see chapter 6). */
static void finish_close(struct client *c)
{
    if (c->state == CLIENT_CLOSING_EOF) { /* it closed its side: nothing to wait for */
        client_drop(c);
        return;
    }
    c->state = CLIENT_LINGERING;
    shutdown(bufferevent_getfd(c->bev), SHUT_WR);
    if (!c->linger_timer) /* made here, the first time it is needed */
        c->linger_timer = evtimer_new(c->mux->srv.base, on_linger, c);
    struct timeval tv = ms_to_timeval(LINGER_MS);
    if (!c->linger_timer || evtimer_add(c->linger_timer, &tv) != 0)
        client_drop(c); /* no timer, no waiting: close now */
}

/* -> CLOSING: what it is owed goes out, then finish_close. */
void client_close_after_flush(struct client *c)
{
    c->state = CLIENT_CLOSING;
    if (c->flush_listed) { /* staged bytes go first, whatever the limit */
        TAILQ_REMOVE(&c->mux->to_flush, c, flush_link);
        c->flush_listed = 0;
    }
    evbuffer_add_buffer(bufferevent_get_output(c->bev), c->staged);
    client_read_requests(c, 0); /* from now on the bufferevent reads, to drop */
    upstream_unpause_client(c->up, c);
    pinned_release(c);
    client_set_callbacks(c);             /* pinned.c had its own */
    bufferevent_enable(c->bev, EV_READ); /* read and drop, so the close is not a reset */
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        finish_close(c);
}

/* FINISHING, and owed nothing more: the farewell, then CLOSING. */
void client_send_farewell(struct client *c)
{
    if (client_flush(c) != 0)
        return;
    evbuffer_add(bufferevent_get_output(c->bev), c->farewell, strlen(c->farewell));
    client_close_after_flush(c);
}

/* No more requests from this client. The farewell ("+OK" for QUIT, an error
 * line) goes out after the replies it is still owed, then the client is
 * closed. */
void client_finish(struct client *c, const char *farewell)
{
    pinned_release(c); /* from PINNING: its own connection never started */
    c->state = CLIENT_FINISHING;
    snprintf(c->farewell, sizeof c->farewell, "%s", farewell ? farewell : "");
    upstream_unpause_client(c->up, c);
    client_read_requests(c, 0);
    bufferevent_disable(c->bev, EV_READ);
    struct evbuffer *in = bufferevent_get_input(c->bev);
    evbuffer_drain(in, evbuffer_get_length(in));
    if (c->pending == 0)
        client_send_farewell(c);
}

/* The drain (SIGINT/SIGTERM): stop reading; deliver what is owed; then close. */
void client_stop(struct client *c)
{
    switch (c->state) {
    case CLIENT_SHARED:
    case CLIENT_PINNING: client_finish(c, NULL); return;
    case CLIENT_PINNED: pinned_client_done(c); return;
    default: return; /* finishing or closing already */
    }
}

/* ---- the client's bufferevent ------------------------------------------------ */

/* Only while closing (the bufferevent reads then): what the client sends now
 * is dropped, so that our close is not a reset. */
static void on_client_read(struct bufferevent *bev, void *arg)
{
    (void)arg;
    trace_dispatch(bufferevent_getfd(bev), "read", "on_client_read");
    struct evbuffer *in = bufferevent_get_input(bev);
    evbuffer_drain(in, evbuffer_get_length(in));
}

static void on_client_write(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;
    trace_dispatch(bufferevent_getfd(bev), "write", "on_client_write");
    if ((c->state == CLIENT_CLOSING || c->state == CLIENT_CLOSING_EOF) &&
        evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        finish_close(c);
}

static void on_client_event(struct bufferevent *bev, short what, void *arg)
{
    struct client *c = arg;
    trace_dispatch(bufferevent_getfd(bev), "event", "on_client_event");
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && !client_is_closing(c)) {
        /* a half-close (nc -N): answer what was asked, then close */
        client_finish(c, NULL); /* half a request is dropped unanswered, as Redis does */
        return;
    }
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
        evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
        c->state = CLIENT_CLOSING_EOF; /* it may still read: flush our last bytes first */
        bufferevent_disable(bev, EV_READ);
        return;
    }
    client_drop(c); /* an error, or the client closed while we said goodbye */
}

static void on_linger(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct client *c = arg;
    trace_dispatch(fd, "timeout", "on_linger");
    client_drop(c); /* we said goodbye; the client did not close its side in time: we do */
}

/* The callbacks above, for client_accept and for a client back from pinned.c. */
void client_set_callbacks(struct client *c)
{
    bufferevent_setcb(c->bev, on_client_read, on_client_write, on_client_event, c);
}
