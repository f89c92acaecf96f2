/*
 * 07_redis_multiplexer/pinned.c — a client that needs a connection of its
 * own: MULTI/EXEC, WATCH, blocking pops, SUBSCRIBE, SELECT, CLIENT, ...
 *
 * These commands change or use the state of the connection they arrive on:
 * a transaction queued, a key watched, a subscription, a database chosen, a
 * client parked until a list gets an element. On a shared connection that
 * state would leak into every other client (or block them all). So the
 * client gets its own connection to Redis, for the rest of its session, and
 * from then on it is chapter 6's relay: bytes passed on unchanged both ways,
 * backpressure both ways, a close or half-close passed on at once.
 *
 * The switch must keep order. Replies to the client's earlier requests may
 * still be coming on the shared connection; if its own connection answered
 * first, the client would read them in the wrong order. So the client is not
 * read while it waits (CLIENT_PINNING), and the relay starts only when its
 * last shared reply has been delivered (client_reply_done calls
 * pinned_begin_relay).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "mux.h"

/* Per direction, as in chapter 6: stop reading the sender at this much. */
#define PINNED_HIGH (1024 * 1024)

void pinned_release(struct client *c)
{
    if (!c->pinned)
        return;
    bufferevent_free(c->pinned); /* Redis sees the close: it unblocks, unsubscribes */
    c->pinned = NULL;
    c->mux->stats.pinned_now--;
}

/* Once the client has half-closed and every byte it sent is out to Redis,
 * pass the FIN on (chapter 6's rule 2): Redis answers what it read, then
 * closes, and on_redis_event passes that close back. No timer decides. */
static void pass_fin_when_flushed(struct client *c)
{
    if (c->state != CLIENT_PINNED_EOF || !c->pinned_connected ||
        evbuffer_get_length(bufferevent_get_output(c->pinned)) > 0)
        return; /* on_redis_write or the connect calls again */
    shutdown(bufferevent_getfd(c->pinned), SHUT_WR);
    c->state = CLIENT_PINNED_FIN;
}

/* The client sent EOF: stop reading it and pass the half-close on. */
void pinned_client_done(struct client *c)
{
    if (c->state != CLIENT_PINNED)
        return; /* its EOF was seen already */
    c->state = CLIENT_PINNED_EOF;
    bufferevent_disable(c->bev, EV_READ);
    pass_fin_when_flushed(c);
}

/* ---- client side ------------------------------------------------------------ */

static void on_client_read(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;
    trace_dispatch(bufferevent_getfd(bev), "read", "pinned on_client_read");
    forward(bufferevent_get_input(bev), c->pinned, c->pinned_connected);
    if (evbuffer_get_length(bufferevent_get_output(c->pinned)) >= PINNED_HIGH)
        bufferevent_disable(bev, EV_READ); /* Redis is behind: resumed in on_redis_write */
}

static void on_client_write(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;
    trace_dispatch(bufferevent_getfd(bev), "write", "pinned on_client_write");
    bufferevent_enable(c->pinned, EV_READ); /* the client caught up */
}

static void on_client_event(struct bufferevent *bev, short what, void *arg)
{
    struct client *c = arg;
    trace_dispatch(bufferevent_getfd(bev), "event", "pinned on_client_event");
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR))
        pinned_client_done(c); /* a half-close: replies may still be coming */
    else
        client_drop(c); /* closes Redis's side too, at once */
}

/* ---- Redis side --------------------------------------------------------------- */

static void on_redis_read(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;
    trace_dispatch(bufferevent_getfd(bev), "read", "pinned on_redis_read");
    forward(bufferevent_get_input(bev), c->bev, 1);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) >= PINNED_HIGH)
        bufferevent_disable(bev, EV_READ); /* the client is behind: resumed in on_client_write */
}

static void on_redis_write(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;
    trace_dispatch(bufferevent_getfd(bev), "write", "pinned on_redis_write");
    if (c->state == CLIENT_PINNED_EOF)
        pass_fin_when_flushed(c); /* the client's last bytes are out */
    else if (c->state == CLIENT_PINNED)
        bufferevent_enable(c->bev, EV_READ); /* Redis caught up */
}

/* Its own connection failed or was closed by Redis (WHAT: BEV_EVENT_ERROR/EOF). */
static void redis_side_ended(struct client *c, short what)
{
    char line[sizeof c->farewell];
    snprintf(line, sizeof line, "-ERR upstream unavailable: %s\r\n",
             (what & BEV_EVENT_ERROR) ? evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR())
                                      : "connection closed by Redis");
    if (c->state == CLIENT_PINNING) { /* never got going: answer after the shared replies */
        client_finish(c, line);
        return;
    }
    /* Redis closed (after QUIT, CLIENT KILL, a timeout, our FIN) or failed:
     * the client gets every byte Redis sent, then the close — nothing added
     * (chapter 6's rule 4). */
    client_close_after_flush(c);
}

static void on_redis_event(struct bufferevent *bev, short what, void *arg)
{
    struct client *c = arg;
    trace_dispatch(bufferevent_getfd(bev), "event", "pinned on_redis_event");
    if (!(what & BEV_EVENT_CONNECTED)) {
        redis_side_ended(c, what);
        return;
    }
    c->pinned_connected = 1;
    set_nodelay(bufferevent_getfd(bev));
    pass_fin_when_flushed(c); /* the client may have half-closed before we got here */
}

/* ---- the switch ---------------------------------------------------------------- */

/* The request at the front of the client's input needs its own connection:
 * connect now, but relay nothing until the earlier replies are out. */
void pinned_start(struct client *c)
{
    struct mux *m = c->mux;
    c->state = CLIENT_PINNING;
    bufferevent_disable(c->bev, EV_READ);
    c->pinned = bufferevent_socket_new(m->srv.base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!c->pinned) {
        client_finish(c, "-ERR out of memory\r\n");
        return;
    }
    m->stats.pinned_now++;
    m->stats.pinned_total++;
    printf("client %s: %s needs a connection of its own: pinned\n", c->peer, c->req.words[0]);
    bufferevent_setcb(c->pinned, on_redis_read, on_redis_write, on_redis_event, c);
    bufferevent_setwatermark(c->pinned, EV_WRITE, PINNED_HIGH / 4, 0);
    bufferevent_enable(c->pinned, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(c->pinned, (struct sockaddr *)&m->opt->redis_addr,
                                   sizeof m->opt->redis_addr) != 0) {
        redis_side_ended(c, BEV_EVENT_ERROR); /* reports and finishes */
        return;
    }
    if (c->pending == 0)
        pinned_begin_relay(c);
}

/* Every shared reply is out: the client's bytes, from the request that asked
 * for its own connection on, now go to that connection unchanged. */
void pinned_begin_relay(struct client *c)
{
    c->state = CLIENT_PINNED;
    bufferevent_setcb(c->bev, on_client_read, on_client_write, on_client_event, c);
    bufferevent_setwatermark(c->bev, EV_WRITE, PINNED_HIGH / 4, 0);
    bufferevent_enable(c->bev, EV_READ);
    forward(bufferevent_get_input(c->bev), c->pinned, c->pinned_connected);
}
