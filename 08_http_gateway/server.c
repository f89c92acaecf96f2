/*
 * 08_http_gateway/server.c — the HTTP side: common's listener handed to
 * evhttp, evhttp's limits, counting connections, and sending a reply at once.
 *
 * Limits, and what each defends against:
 *   evhttp_set_max_headers_size  a client sending endless headers (evhttp: 400)
 *   evhttp_set_max_body_size     a huge PUT body (evhttp: 413)
 *   evhttp_set_timeout           a connection that goes quiet (idle timeout)
 *   --header-timeout             slowloris: a request head sent a byte a second
 *                                keeps resetting an idle timeout; this is a
 *                                deadline for the whole head
 *   --max-conns                  too many connections: at the limit we stop
 *                                accepting (evconnlistener_disable) and new ones
 *                                wait in the kernel's backlog, as chapter 1's
 *                                accept pause does; libevent 2.1 has no
 *                                evhttp_set_max_connections.
 *
 * Counting connections needs a trick in libevent 2.1: evhttp tells us when a
 * connection starts (it asks evhttp_set_bevcb's callback for its bufferevent)
 * but not when it ends — evhttp_connection_set_closecb needs the connection,
 * which we only see with a complete request. So we make each bufferevent
 * ourselves and keep one reference to it (bufferevent_incref): when evhttp
 * frees the connection, its bufferevent_free clears the callbacks but the
 * object stays ours. A sweep every SWEEP_MS finds those (no event callback
 * left), drops our reference and counts the connection gone.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "gateway.h"

#define SWEEP_MS 100
/* evbuffer_write stops where a file segment begins: one call for the head,
 * one more for the file's first part (sendfile). */
#define WRITE_NOW_CALLS 2

static void conn_free(struct gateway *gw, struct conn *c)
{
    TAILQ_REMOVE(&gw->conns, c, next);
    if (c->fd >= 0 && c->fd < gw->by_fd_size && gw->by_fd[c->fd] == c)
        gw->by_fd[c->fd] = NULL;
    bufferevent_decref(c->bev);
    free(c);
    gw->stats.conns_now--;
}

static void set_accepting(struct gateway *gw)
{
    long max = gw->opt->max_conns;
    if (gw->closing || max == 0)
        return;
    if (gw->stats.conns_now >= max) { /* again too: the EMFILE pause may have resumed it */
        gw->accepting_paused = 1;
        evconnlistener_disable(gw->srv.listener);
    } else if (gw->accepting_paused && gw->stats.conns_now < max) {
        gw->accepting_paused = 0;
        evconnlistener_enable(gw->srv.listener);
    }
}

/* region: bevcb */
/* evhttp asks for the bufferevent of each connection it accepts. */
static struct bufferevent *make_bev(struct event_base *base, void *arg)
{
    struct gateway *gw = arg;
    struct conn *c = calloc(1, sizeof *c);
    struct bufferevent *bev = c ? bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE) : NULL;
    if (!bev) {
        free(c);
        return NULL; /* evhttp makes one itself; that connection goes uncounted */
    }
    bufferevent_incref(bev); /* ours too: see the top of this file */
    *c = (struct conn){.bev = bev, .fd = -1, .waiting_since = elapsed_ms()};
    TAILQ_INSERT_TAIL(&gw->conns, c, next);
    gw->stats.conns_now++;
    gw->stats.conns_total++;
    set_accepting(gw);
    return bev;
}
/* endregion */

/* region: sweep */
static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gateway *gw = arg;
    double now = elapsed_ms();
    struct conn *c, *next;
    for (c = TAILQ_FIRST(&gw->conns); c; c = next) {
        next = TAILQ_NEXT(c, next);
        bufferevent_event_cb eventcb;
        bufferevent_getcb(c->bev, NULL, NULL, &eventcb, NULL);
        if (!eventcb) { /* evhttp has freed this connection */
            conn_free(gw, c);
        } else if (!c->busy && now - c->waiting_since > (double)gw->opt->header_timeout_ms) {
            /* no complete request head in time: close it; evhttp sees EOF */
            gw->stats.slow_cut++;
            shutdown(bufferevent_getfd(c->bev), SHUT_RDWR);
            c->busy = 1; /* cut once */
        }
    }
    set_accepting(gw);
}
/* endregion */

static struct conn *conn_of(struct gateway *gw, struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    int fd = bev ? bufferevent_getfd(bev) : -1;
    if (fd < 0)
        return NULL;
    if (fd < gw->by_fd_size && gw->by_fd[fd] && gw->by_fd[fd]->bev == bev)
        return gw->by_fd[fd];
    if (fd >= gw->by_fd_size) { /* grow the table to hold FD */
        int size = gw->by_fd_size ? gw->by_fd_size : 64;
        while (size <= fd)
            size *= 2;
        struct conn **t = realloc(gw->by_fd, (size_t)size * sizeof(struct conn *));
        if (!t)
            return NULL;
        memset(t + gw->by_fd_size, 0, (size_t)(size - gw->by_fd_size) * sizeof(struct conn *));
        gw->by_fd = t;
        gw->by_fd_size = size;
    }
    struct conn *c = TAILQ_FIRST(&gw->conns); /* its first request: find it once */
    while (c && c->bev != bev)
        c = TAILQ_NEXT(c, next);
    if (c) {
        c->fd = fd;
        gw->by_fd[fd] = c;
        /* A file reply is two sends, the head (writev) and the file (sendfile);
         * with Nagle's algorithm the second waits for the client's delayed ACK
         * of the first: 40 ms per small file. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return c;
}

static void on_request_done(struct evhttp_request *req, void *arg)
{
    (void)req;
    struct conn *c = arg;
    c->busy = 0; /* waiting for the next request head, from now */
    c->waiting_since = elapsed_ms();
}

void server_request_started(struct gateway *gw, struct evhttp_request *req)
{
    struct conn *c = conn_of(gw, req);
    if (!c)
        return;
    c->busy = 1;
    evhttp_request_set_on_complete_cb(req, on_request_done, c);
}

/* region: send */
/* evhttp_send_reply, and the reply written at once.
 *
 * evhttp only puts a reply in the connection's output buffer and turns
 * EV_WRITE on; libevent writes it one loop turn later, when epoll reports the
 * socket writable (which a socket with room always is), then turns EV_WRITE
 * off again: an extra turn and two epoll_ctl for every reply. nginx writes at
 * once and waits for writability only when the socket is full; so do we. The
 * output buffer is "frozen at the front" so that only the bufferevent drains
 * it: we unfreeze, write and freeze as its own write callback does, then
 * bufferevent_trigger runs evhttp's "all written" callback now (it readies
 * the connection for its next request). EV_WRITE went on and off within this
 * turn, and the changelist makes no epoll_ctl of it. Whatever the socket does
 * not take (a full socket, a big file) goes out the usual way. */
void server_send_reply(struct evhttp_request *req, int code, const char *reason,
                       struct evbuffer *body)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    evhttp_send_reply(req, code, reason, body); /* without a connection it frees REQ */
    if (!bev)
        return;
    struct evbuffer *out = bufferevent_get_output(bev);
    evbuffer_unfreeze(out, 1);
    for (int i = 0; i < WRITE_NOW_CALLS && evbuffer_get_length(out) > 0; i++)
        if (evbuffer_write(out, bufferevent_getfd(bev)) <= 0)
            break; /* full (EAGAIN) or failed: the write event sees to it */
    evbuffer_freeze(out, 1);
    if (evbuffer_get_length(out) == 0)
        bufferevent_trigger(bev, EV_WRITE, 0);
}
/* endregion */

/* common's listener (with chapter 1's EMFILE pause), handed to evhttp: evhttp
 * becomes its accept callback and frees it in evhttp_free. */
static int listen_for_clients(struct gateway *gw)
{
    if (server_listen(&gw->srv, &gw->opt->listen_addr, NULL, NULL) != 0)
        return -1;
    if (!evhttp_bind_listener(gw->http, gw->srv.listener)) {
        warnx_msg("cannot hand the listener to evhttp: out of memory");
        return -1;
    }
    server_listener_given_away(&gw->srv);
    return 0;
}

/* region: setup */
int server_start(struct gateway *gw)
{
    const struct options *o = gw->opt;
    gw->http = evhttp_new(gw->srv.base);
    if (!gw->http) {
        warnx_msg("cannot create the HTTP server: out of memory");
        return -1;
    }
    evhttp_set_allowed_methods(gw->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                             EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS |
                                             EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH);
    evhttp_set_default_content_type(gw->http, NULL); /* webdis sends none on errors */
    evhttp_set_max_headers_size(gw->http, o->max_header_bytes);
    evhttp_set_max_body_size(gw->http, o->max_body_bytes);
    evhttp_set_timeout(gw->http, (int)o->idle_timeout_s);
    evhttp_set_bevcb(gw->http, make_bev, gw);
    evhttp_set_gencb(gw->http, api_handle, gw);
    if (listen_for_clients(gw) != 0)
        return -1;
    gw->sweep = event_new(gw->srv.base, -1, EV_PERSIST, on_sweep, gw);
    struct timeval every = ms_to_timeval(SWEEP_MS);
    if (!gw->sweep || event_add(gw->sweep, &every) != 0) {
        warnx_msg("cannot start the connection sweep");
        return -1;
    }
    return 0;
}
/* endregion */

void server_stop(struct gateway *gw)
{
    gw->closing = 1;
    if (gw->sweep)
        event_free(gw->sweep);
    if (gw->http)
        evhttp_free(gw->http); /* the listener and every connection with it */
    /* the analyzer loses track of TAILQ_REMOVE inside conn_free */
    while (!TAILQ_EMPTY(&gw->conns))
        conn_free(gw, TAILQ_FIRST(&gw->conns)); // NOLINT(clang-analyzer-unix.Malloc)
    free(gw->by_fd);
    if (gw->docs_fd >= 0)
        close(gw->docs_fd);
    file_cache_clear(gw);
}
