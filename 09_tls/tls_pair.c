/*
 * 09_tls/tls_pair.c — one TLS client and its own plaintext connection to
 * Redis: the terminator's data path and the whole life of a connection.
 *
 *   client ══TLS══▶ [client bev: socket → OpenSSL → plaintext] ──▶ [upstream bev] ──▶ Redis
 *   client ◀══TLS══ [client bev]  ◀── plaintext ─────────────────── [upstream bev] ◀── Redis
 *
 * The client's bufferevent is an OpenSSL one: its input holds what OpenSSL
 * decrypted, what we put in its output OpenSSL encrypts. Past the handshake
 * the pair is chapter 6's relay, with the same four rules:
 *   1. bytes go through unchanged, both ways — nothing added, nothing held;
 *   2. the client's end (close_notify, or a bare FIN) goes on to Redis as a
 *      FIN once the bytes before it are out (pass_fin);
 *   3. a client's reset or a TLS error after the handshake ends both sides;
 *   4. when Redis's side ends, the client gets every byte Redis sent, then
 *      our close_notify and a FIN (close_client).
 * Before the handshake is done there is no Redis connection at all, and the
 * one timer of the terminator runs: --handshake-timeout. Whatever goes wrong
 * in a handshake costs that connection only, with one log line (handshake_failed).
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>

#include "terminator.h"
#include "tls_util.h"

/* Closing a client (close_client): after our close_notify and FIN, wait at
 * most this long for its own end before closing the socket. */
#define GOODBYE_MS 1000

struct tls_pair {
    struct terminator *t;
    struct bufferevent *client;   /* TLS: owns the SSL and the socket */
    struct bufferevent *upstream; /* plaintext; NULL before the handshake, after Redis's end */
    struct event *ended; /* the client's end, handled after its last bytes (client_ended) */
    int handshaken, upstream_connected;
    int client_eof; /* the client ended its side: Redis gets a FIN after its bytes */
    int fin_sent;
    int closing; /* Redis's side is gone: flush to the client, then close_client */
    int goodbye; /* our close_notify is sent: waiting for the client's end */
    char peer[ADDR_STRLEN];
    LIST_ENTRY(tls_pair) link;
};

/* The one place a pair ends. bufferevent_free of the client frees its SSL
 * and closes its socket (BEV_OPT_CLOSE_ON_FREE). */
void pair_free(struct tls_pair *p)
{
    LIST_REMOVE(p, link);
    if (p->upstream)
        bufferevent_free(p->upstream);
    event_free(p->ended);
    bufferevent_free(p->client);
    p->t->clients_now--;
    free(p);
}

static void handshake_failed(struct tls_pair *p, const char *why)
{
    p->t->handshakes_failed++;
    warnx_msg("%s: TLS handshake failed: %s", p->peer, why);
    pair_free(p);
}

/* Rule 2: once everything the client sent is out, Redis gets our FIN. */
static void pass_fin(struct tls_pair *p)
{
    if (!p->client_eof || p->fin_sent || !p->upstream || !p->upstream_connected)
        return;
    if (evbuffer_get_length(bufferevent_get_output(p->upstream)) > 0)
        return; /* on_upstream_write calls again once it is empty */
    p->fin_sent = 1;
    shutdown(bufferevent_getfd(p->upstream), SHUT_WR);
}

/* region: close_client */
/* Rule 4, the end: every byte for the client has gone to the kernel. TLS
 * says "that was all" with a close_notify alert — SSL_shutdown writes it to
 * the socket — then TCP says it with a FIN. A client that has ended its side
 * already is done; otherwise we wait (GOODBYE_MS at most) for its own end,
 * so that close() does not meet unread bytes and send a reset. */
static void close_client(struct tls_pair *p)
{
    if (p->goodbye)
        return;
    p->goodbye = 1;
    SSL *ssl = bufferevent_openssl_get_ssl(p->client);
    if (SSL_shutdown(ssl) < 0)
        ERR_clear_error(); /* the client is gone already: nothing to say it to */
    shutdown(bufferevent_getfd(p->client), SHUT_WR);
    if (p->client_eof) {
        pair_free(p);
        return;
    }
    struct timeval quiet = ms_to_timeval(GOODBYE_MS);
    bufferevent_set_timeouts(p->client, &quiet, NULL);
    bufferevent_enable(p->client, EV_READ);
}
/* endregion */

/* Rule 4: Redis's side has ended. What is queued for the client still goes. */
static void upstream_gone(struct tls_pair *p)
{
    bufferevent_free(p->upstream);
    p->upstream = NULL;
    p->closing = 1;
    bufferevent_disable(p->client, EV_READ);
    if (evbuffer_get_length(bufferevent_get_output(p->client)) == 0)
        close_client(p);
    /* else on_client_write calls close_client once the output is empty */
}

/* Redis cannot be reached: the nearest thing to a refused connect is a
 * reset (SO_LINGER 0 makes close() send RST), as in chapter 6. */
static void reset_client(struct tls_pair *p)
{
    struct linger reset = {.l_onoff = 1, .l_linger = 0};
    setsockopt(bufferevent_getfd(p->client), SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    pair_free(p);
}

/* ---- Redis's side ---------------------------------------------------------- */

static void on_upstream_read(struct bufferevent *bev, void *arg)
{
    struct tls_pair *p = arg;
    trace_dispatch(bufferevent_getfd(bev), "read", "on_upstream_read");
    struct evbuffer *out = bufferevent_get_output(p->client);
    evbuffer_add_buffer(out, bufferevent_get_input(bev)); /* OpenSSL encrypts it on the way out */
    if (evbuffer_get_length(out) >= (size_t)p->t->opt->high)
        bufferevent_disable(bev, EV_READ); /* the client is behind: on_client_write resumes */
}

static void on_upstream_write(struct bufferevent *bev, void *arg)
{
    struct tls_pair *p = arg;
    trace_dispatch(bufferevent_getfd(bev), "write", "on_upstream_write");
    if (p->client_eof)
        pass_fin(p);
    else if (!p->goodbye)
        bufferevent_enable(p->client, EV_READ); /* Redis caught up */
}

static void on_upstream_event(struct bufferevent *bev, short what, void *arg)
{
    struct tls_pair *p = arg;
    trace_dispatch(bufferevent_getfd(bev), "event", "on_upstream_event");
    if (what & BEV_EVENT_CONNECTED) {
        int one = 1; /* no Nagle, as on the client's side */
        setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        p->upstream_connected = 1;
        pass_fin(p); /* the client may have ended already */
        return;
    }
    if (p->upstream_connected) {
        upstream_gone(p);
        return;
    }
    char redis[ADDR_STRLEN];
    p->t->upstream_errors++;
    warnx_msg("cannot reach Redis at %s for %s: %s",
              format_addr((const struct sockaddr *)&p->t->opt->redis_addr, redis, sizeof redis),
              p->peer, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    reset_client(p);
}

/* The handshake is done: only now does the client cost a Redis connection. */
static int connect_upstream(struct tls_pair *p)
{
    struct terminator *t = p->t;
    p->upstream = bufferevent_socket_new(t->srv.base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!p->upstream) {
        warnx_msg("cannot make a connection to Redis for %s: out of memory", p->peer);
        return -1;
    }
    bufferevent_setcb(p->upstream, on_upstream_read, on_upstream_write, on_upstream_event, p);
    bufferevent_setwatermark(p->upstream, EV_WRITE, (size_t)t->opt->high / 4, 0);
    bufferevent_enable(p->upstream, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(p->upstream, (const struct sockaddr *)&t->opt->redis_addr,
                                   sizeof t->opt->redis_addr) != 0) {
        warnx_msg("cannot connect to Redis for %s: %s", p->peer, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- the client's side ------------------------------------------------------ */

static void on_client_read(struct bufferevent *bev, void *arg)
{
    struct tls_pair *p = arg;
    trace_dispatch(bufferevent_getfd(bev), "read", "on_client_read");
    struct evbuffer *in = bufferevent_get_input(bev); /* already decrypted */
    if (p->goodbye || !p->upstream) {
        evbuffer_drain(in, evbuffer_get_length(in)); /* Redis has ended: nowhere to go */
        return;
    }
    struct evbuffer *out = bufferevent_get_output(p->upstream);
    evbuffer_add_buffer(out, in);
    if (evbuffer_get_length(out) >= (size_t)p->t->opt->high)
        bufferevent_disable(bev, EV_READ); /* Redis is behind: on_upstream_write resumes */
}

static void on_client_write(struct bufferevent *bev, void *arg)
{
    struct tls_pair *p = arg;
    trace_dispatch(bufferevent_getfd(bev), "write", "on_client_write");
    if (p->closing) {
        if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
            close_client(p);
    } else if (p->upstream) {
        bufferevent_enable(p->upstream, EV_READ); /* the client caught up */
    }
}

/* region: client_ended */
/* The client ended its side, with a close_notify or with a bare FIN (a
 * "dirty shutdown"; tls_terminator.c's SSL_OP_IGNORE_UNEXPECTED_EOF makes
 * OpenSSL 3 report it as an end too, so the two look alike here). It may
 * still read: Redis gets a FIN, answers what it read, and closes (rule 4).
 *
 * A trap: libevent 2.1.12 reports the end *before* the bytes that came just
 * ahead of it, when one read brought both (do_read calls the event callback
 * before it commits the bytes and calls the read callback). Passing the FIN
 * on at once would put it in front of those bytes. So on_client_event only
 * activates p->ended; it runs once the current callbacks, on_client_read
 * included, are done. And a second one: at the end, libevent also stops
 * writing (conn_closed's stop_writing), even with replies still queued for
 * the client; disabling and enabling EV_WRITE starts it again. */
static void client_ended(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct tls_pair *p = arg;
    trace_dispatch(bufferevent_getfd(p->client), "event", "client_ended");
    if (p->goodbye) {
        pair_free(p);
        return;
    }
    p->client_eof = 1;
    bufferevent_disable(p->client, EV_WRITE);
    bufferevent_enable(p->client, EV_WRITE); /* what is queued still goes out */
    pass_fin(p);
    if (!p->upstream && evbuffer_get_length(bufferevent_get_output(p->client)) == 0)
        close_client(p); /* Redis had ended too, and all is sent: we are done */
}
/* endregion */

/* region: on_client_event */
static void on_client_event(struct bufferevent *bev, short what, void *arg)
{
    struct tls_pair *p = arg;
    trace_dispatch(bufferevent_getfd(bev), "event", "on_client_event");
    char why[TLS_REASON_LEN];
    if (what & BEV_EVENT_CONNECTED) {
        p->handshaken = 1;
        bufferevent_set_timeouts(bev, NULL, NULL); /* no timer decides its fate from here */
        if (connect_upstream(p) != 0)
            reset_client(p);
    } else if (what & BEV_EVENT_TIMEOUT) {
        if (p->handshaken) /* the goodbye's wait is over */
            pair_free(p);
        else
            handshake_failed(p, "timed out");
    } else if (what & BEV_EVENT_EOF) {
        if (p->handshaken)
            event_active(p->ended, EV_TIMEOUT, 1);
        else if (EVUTIL_SOCKET_ERROR() == ECONNRESET) /* a reset, read as an end (dirty) */
            handshake_failed(p, evutil_socket_error_to_string(ECONNRESET));
        else
            handshake_failed(p, "the client closed the connection");
    } else if (!p->handshaken) {
        int err = EVUTIL_SOCKET_ERROR();
        if (tls_reason(bev, why, sizeof why))
            handshake_failed(p, why);
        else
            handshake_failed(p, err ? evutil_socket_error_to_string(err) : "connection lost");
    } else {
        /* Rule 3: a reset, or records OpenSSL would not accept. */
        if (tls_reason(bev, why, sizeof why))
            warnx_msg("%s: TLS error: %s", p->peer, why);
        pair_free(p);
    }
}
/* endregion */

/* region: pair_start */
void pair_start(struct terminator *t, evutil_socket_t fd, const struct sockaddr *sa)
{
    struct tls_pair *p = calloc(1, sizeof *p);
    if (p)
        p->ended = evtimer_new(t->srv.base, client_ended, p);
    SSL *ssl = p && p->ended ? SSL_new(t->ctx) : NULL;
    /* BUFFEREVENT_SSL_ACCEPTING: we are the server; the handshake starts
     * with the client's first bytes. */
    struct bufferevent *bev =
        ssl ? bufferevent_openssl_socket_new(t->srv.base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                             BEV_OPT_CLOSE_ON_FREE)
            : NULL;
    if (!bev) {
        warnx_msg("cannot take a client: out of memory");
        SSL_free(ssl);
        if (p && p->ended)
            event_free(p->ended);
        free(p);
        evutil_closesocket(fd);
        return;
    }
    int one = 1; /* no Nagle on either side: a small reply must not wait for an ACK */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    p->t = t;
    p->client = bev;
    format_addr(sa, p->peer, sizeof p->peer);
    LIST_INSERT_HEAD(&t->pairs, p, link);
    t->clients_now++;
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    bufferevent_setcb(bev, on_client_read, on_client_write, on_client_event, p);
    bufferevent_setwatermark(bev, EV_WRITE, (size_t)t->opt->high / 4, 0);
    if (t->opt->handshake_timeout_ms > 0) {
        struct timeval limit = ms_to_timeval(t->opt->handshake_timeout_ms);
        bufferevent_set_timeouts(bev, &limit, &limit);
    }
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}
/* endregion */
