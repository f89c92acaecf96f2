/*
 * 07_redis_multiplexer/client.c — one client while it shares a connection:
 * frame its requests, send each whole one to its shared upstream, take its
 * replies back. Its goodbye, in order, is client_close.c's.
 *
 * Two rules keep clients from hurting each other:
 *   - Only whole requests reach a shared connection. A malformed or oversized
 *     one is answered with -ERR and the client is closed; nothing of it is
 *     ever sent, so Redis and the other clients never notice.
 *   - A client that does not read its replies is not allowed to slow the
 *     shared connection down: its replies wait in its own output buffer, and
 *     past --client-output-limit the client is disconnected.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mux.h"

#define UNAVAILABLE_REPLY "-ERR upstream unavailable\r\n"
#define QUIT_REPLY "+OK\r\n"

/* The client is gone, or past its farewell: its replies are dropped. */
static int takes_replies(const struct client *c)
{
    return c->state != CLIENT_GONE && !client_is_closing(c);
}

/* ---- replies, from upstream.c ------------------------------------------------ */

/* n bytes of this client's reply are at the front of src. They wait in
 * c->staged until the upstream's read is fully handled (client_flush_all):
 * a client that pipelines 16 requests then gets its 16 replies in one write,
 * not 16. */
void client_take_reply(struct client *c, struct evbuffer *src, size_t n)
{
    if (!takes_replies(c)) {
        evbuffer_drain(src, n); /* the client is gone or cut off */
        return;
    }
    evbuffer_remove_buffer(src, c->staged, n);
    if (!c->flush_listed) {
        TAILQ_INSERT_TAIL(&c->mux->to_flush, c, flush_link);
        c->flush_listed = 1;
    }
}

/* Write c's staged replies: straight from c->staged to the socket when
 * nothing is queued ahead (no copy, no waiting for the next loop turn), the
 * rest into its output. Returns -1 if that put the client over its limit:
 * then it was dropped (and freed, if it was owed nothing more). */
int client_flush(struct client *c)
{
    if (c->flush_listed) {
        TAILQ_REMOVE(&c->mux->to_flush, c, flush_link);
        c->flush_listed = 0;
    }
    if (evbuffer_get_length(c->staged) == 0)
        return 0;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (evbuffer_get_length(out) == 0)
        evbuffer_write(c->staged, bufferevent_getfd(c->bev));
    evbuffer_add_buffer(out, c->staged);
    size_t held = evbuffer_get_length(out);
    if (held <= (size_t)c->mux->opt->client_output_limit)
        return 0;
    c->mux->stats.output_limit_closes++;
    printf("client %s: %zu bytes of replies unread, over --client-output-limit %ld: "
           "disconnecting\n",
           c->peer, held, c->mux->opt->client_output_limit);
    client_drop(c);
    return -1;
}

void client_flush_all(struct mux *m)
{
    struct client *c;
    while ((c = TAILQ_FIRST(&m->to_flush)))
        client_flush(c);
}

/* Redis went away before answering. If part of the reply already went out,
 * an error line now would corrupt it: close instead. */
void client_reply_failed(struct client *c, int cut)
{
    if (!takes_replies(c) || client_flush(c) != 0)
        return;
    if (cut)
        client_close_after_flush(c);
    else
        evbuffer_add(bufferevent_get_output(c->bev), UNAVAILABLE_REPLY, strlen(UNAVAILABLE_REPLY));
}

/* One reply owed to c was delivered (or dropped). */
void client_reply_done(struct client *c)
{
    c->pending--;
    if (c->pending > 0)
        return;
    if (c->state == CLIENT_GONE) { /* dropped earlier: the last reply it was owed passed */
        free(c);
        return;
    }
    if (c->state == CLIENT_PINNING) {
        if (client_flush(c) == 0) /* every earlier reply is out: now it may go */
            pinned_begin_relay(c);
    } else if (c->state == CLIENT_FINISHING) {
        client_send_farewell(c);
    }
}

/* ---- requests ---------------------------------------------------------------- */

static void refuse(struct client *c, const char *why)
{
    char line[sizeof c->farewell];
    c->mux->stats.bad_requests++;
    printf("client %s: bad request: %s: closing\n", c->peer, why);
    snprintf(line, sizeof line, "-ERR %s\r\n", why);
    client_finish(c, line);
}

/* A whole request is at the front of in: send it, pin, or answer it here. */
static void dispatch(struct client *c, struct evbuffer *in)
{
    struct request *rq = &c->req;
    if (request_is(rq, "QUIT")) { /* on a shared connection, Redis would close it */
        client_finish(c, QUIT_REPLY);
        return;
    }
    if (request_needs_own_connection(rq)) {
        request_next(rq); /* the request stays in in: it goes to Redis unchanged */
        pinned_start(c);
        return;
    }
    int sent = 0;
    if (upstream_is_down(c->up)) { /* nothing of this client is in flight: answer now */
        c->mux->stats.unavailable++;
        evbuffer_add(bufferevent_get_output(c->bev), UNAVAILABLE_REPLY, strlen(UNAVAILABLE_REPLY));
    } else if (request_is_inline(rq)) {
        sent = upstream_send(c->up, c, rq->resp, evbuffer_get_length(rq->resp)) == 0;
    } else {
        sent = upstream_send(c->up, c, in, rq->size) == 0;
        rq->size = 0; /* already moved */
    }
    evbuffer_drain(in, rq->size);
    request_next(rq);
    if (!sent && !upstream_is_down(c->up))
        client_finish(c, "-ERR out of memory\r\n");
}

/* Frame and send every whole request in the client's input. */
void client_process_input(struct client *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    while (c->state == CLIENT_SHARED) {
        if (upstream_is_full(c->up)) { /* Redis is behind: read this client later */
            upstream_pause_client(c->up, c);
            return;
        }
        switch (request_parse(&c->req, in)) {
        case REQUEST_INCOMPLETE: return;
        case REQUEST_BAD: refuse(c, c->req.error); return;
        case REQUEST_EMPTY:
            evbuffer_drain(in, c->req.size);
            request_next(&c->req);
            break;
        case REQUEST_READY: dispatch(c, in); break;
        }
    }
    /* Pinned or finished: what it sends next is not ours to read. */
    client_read_requests(c, 0);
}

/* ---- reading requests: our own read (chapter 6's read_some) ---------------- */

/* Requests are read (on) or not: paused by a full upstream, finished, pinned. */
void client_read_requests(struct client *c, int on)
{
    if (!c->readable) /* the connection is already gone */
        return;
    if (!on) {
        event_del(c->readable);
        return;
    }
    if (event_add(c->readable, NULL) != 0)
        warnx_msg("client %s: cannot watch for requests: event_add failed", c->peer);
}

/* While a client shares a connection, its bufferevent only writes: a plain
 * event says the socket is readable, and read_some reads what is waiting. */
static void on_client_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct client *c = arg;
    trace_dispatch(fd, "read", "on_client_readable");
    /* A bufferevent freezes the end of its input (only it may add there);
     * we unfreeze it for the moment of adding, as libevent's own read does.
     * The bytes belong there: the framer, and pinned.c if the client is
     * pinned later, look for them in the bufferevent's input. */
    struct evbuffer *in = bufferevent_get_input(c->bev);
    evbuffer_unfreeze(in, 0);
    ev_ssize_t n = read_some(fd, in, &c->last_read);
    evbuffer_freeze(in, 0);
    if (n > 0)
        client_process_input(c);
    else if (n == 0)
        /* a half-close (nc -N): answer what was asked, then close; half a
         * request is dropped unanswered, as Redis does */
        client_finish(c, NULL);
    else if (errno != EAGAIN && errno != EINTR)
        client_drop(c); /* a reset: nobody will read our replies */
}

void client_accept(struct mux *m, evutil_socket_t fd, struct sockaddr *sa)
{
    struct client *c = calloc(1, sizeof *c);
    if (!c) {
        warnx_msg("out of memory: dropping a client");
        evutil_closesocket(fd);
        return;
    }
    c->bev = bufferevent_socket_new(m->srv.base, fd, BEV_OPT_CLOSE_ON_FREE);
    c->readable = event_new(m->srv.base, fd, EV_READ | EV_PERSIST, on_client_readable, c);
    c->staged = evbuffer_new();
    if (!c->bev || !c->readable || !c->staged) {
        warnx_msg("out of memory: dropping a client");
        if (c->bev)
            bufferevent_free(c->bev);
        else
            evutil_closesocket(fd); /* nobody else owns it: never leak the fd */
        if (c->readable)
            event_free(c->readable);
        if (c->staged)
            evbuffer_free(c->staged);
        free(c);
        return;
    }
    c->mux = m;
    request_init(&c->req, (size_t)m->opt->max_request);
    /* All of a client's requests use one connection: replies on two
     * connections could overtake each other. */
    c->up = m->upstreams[m->next_upstream++ % m->opt->upstreams];
    format_addr(sa, c->peer, sizeof c->peer);
    TAILQ_INSERT_TAIL(&m->clients, c, link);
    m->stats.clients_now++;
    m->stats.clients_total++;
    set_nodelay(fd);
    client_set_callbacks(c);              /* client_close.c: they serve the client's end */
    bufferevent_enable(c->bev, EV_WRITE); /* reading is on_client_readable's */
    client_read_requests(c, 1);
}
