/*
 * 06_redis_relay/pair.c — one client and its own connection to Redis: the
 * relay's data path and the whole life of a connection.
 *
 *   client ──on_client_readable──read_some──forward──▶ upstream bev ──▶ Redis
 *   client ◀── client bev ◀──forward──read_some──on_upstream_readable── Redis
 *
 * Each socket has two watchers: an EV_READ event of our own that reads
 * (read_some), and a bufferevent that writes, connects, and tells us through
 * its write watermark when a paused direction may go on. Why read ourselves?
 * libevent 2.1's bufferevent reads at most 4096 bytes per trip through the
 * loop (EVBUFFER_MAX_READ in buffer.c), so a 16 KiB value took four trips.
 *
 * The life of a pair is four rules; a client cannot tell the relay from Redis:
 *   1. bytes go through unchanged, both ways — nothing added, nothing held;
 *   2. the client's FIN goes on to Redis once the bytes before it are out
 *      (pass_fin); Redis answers what it read, then closes — rule 4;
 *   3. a client's reset or a failed write to it ends both sides at once;
 *   4. when Redis's side ends, the client gets every byte Redis sent, then a
 *      close (upstream_gone, close_client).
 * And at connect time: Redis cannot be reached -> the client gets a reset
 * (report_unreachable, reset_client). No timer ends a connection (the only
 * timeout is close_client's goodbye, after Redis has ended it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "relay.h"
#include "relay_io.h" /* read_some, forward, set_nodelay */

/* Closing a client (close_client): after our FIN, read away at most this
 * much of what it still sends, for at most GOODBYE_MS of quiet. */
#define DISCARD_MAX (16 * 1024 * 1024)
#define GOODBYE_MS 1000
/* What Redis itself answers when it has maxclients clients already. */
#define MAX_CLIENTS_REPLY "-ERR max number of clients reached\r\n"

struct pair {
    struct relay *relay;
    struct bufferevent *client;   /* writes to the client; reading is ours */
    struct bufferevent *upstream; /* writes to Redis; NULL once Redis's side is gone */
    struct event *client_reader, *upstream_reader;
    int upstream_connected;
    int client_eof; /* the client sent its FIN: Redis gets one after its bytes */
    int fin_sent;
    int closing; /* Redis's side is gone (or never was): flush to the client, close */
    int goodbye; /* our FIN is sent: what the client sends now is discarded */
    size_t discarded;
    size_t client_read, upstream_read; /* each side's last read: read_some's guess */
    char peer[ADDR_STRLEN];
    LIST_ENTRY(pair) link;
};

/* Backpressure (chapter 5): more than --high waits for dst's peer. */
static int over_high(const struct pair *p, struct bufferevent *dst)
{
    return evbuffer_get_length(bufferevent_get_output(dst)) >= (size_t)p->relay->opt->high;
}

static int start_reading(struct pair *p, struct event *reader, const char *side)
{
    if (event_add(reader, NULL) == 0)
        return 0;
    warnx_msg("cannot watch the %s of %s: %s", side, p->peer, strerror(errno));
    return -1;
}

/* The one place a pair ends. Freeing a bufferevent or an event removes it
 * from the loop, so no callback of this pair runs after this (libevent #689:
 * free each side once, and return right after). */
void pair_free(struct pair *p)
{
    struct relay *r = p->relay;
    LIST_REMOVE(p, link);
    if (p->upstream_reader)
        event_free(p->upstream_reader);
    if (p->upstream)
        bufferevent_free(p->upstream);
    event_free(p->client_reader);
    bufferevent_free(p->client);
    free(p);
    r->clients_now--;
    server_client_left(&r->srv); /* a draining relay may be done */
}

/* Rule 2. Redis answers the commands it has read, then frees the client
 * when it reads the FIN — just as it would for a direct client. */
static void pass_fin(struct pair *p)
{
    if (!p->client_eof || p->fin_sent || !p->upstream || !p->upstream_connected)
        return;
    if (evbuffer_get_length(bufferevent_get_output(p->upstream)) > 0)
        return; /* on_upstream_write calls again once it is empty */
    p->fin_sent = 1;
    shutdown(bufferevent_getfd(p->upstream), SHUT_WR);
}

/* Rule 4, the end: everything for the client is in the kernel. close() with
 * unread input would send a reset, and a reset may destroy the reply still in
 * flight (the peer's kernel may drop what its program has not read yet). So:
 * a FIN after the last byte, then read away what the client still sends
 * until it closes too (discard_input) — chapter 4's goodbye. This wait
 * starts only after Redis ended the connection; it decides nothing. */
static void close_client(struct pair *p)
{
    if (p->goodbye)
        return;
    p->goodbye = 1;
    shutdown(bufferevent_getfd(p->client), SHUT_WR);
    struct timeval quiet = ms_to_timeval(GOODBYE_MS);
    if (event_add(p->client_reader, &quiet) != 0)
        pair_free(p);
}

/* After close_client: the client's bytes go nowhere. Its EOF or reset, a
 * quiet GOODBYE_MS, or DISCARD_MAX bytes end the pair. */
static void discard_input(struct pair *p, evutil_socket_t fd, short what)
{
    ev_ssize_t n = (what & EV_TIMEOUT) ? 0 : read_some(fd, p->relay->scratch, &p->client_read);
    if (n > 0) {
        evbuffer_drain(p->relay->scratch, (size_t)n);
        p->discarded += (size_t)n;
        if (p->discarded < DISCARD_MAX)
            return;
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    pair_free(p);
}

/* Rule 4: Redis's side has ended (it closed, or reset). Nothing more goes
 * either way; what is queued for the client still goes out. */
static void upstream_gone(struct pair *p)
{
    event_free(p->upstream_reader);
    p->upstream_reader = NULL;
    bufferevent_free(p->upstream);
    p->upstream = NULL;
    p->closing = 1;
    event_del(p->client_reader);
    if (evbuffer_get_length(bufferevent_get_output(p->client)) == 0)
        close_client(p);
    /* else on_client_write calls close_client once the output is empty */
}

/* A write to Redis failed: Redis closed, perhaps with a last reply (an inline
 * request over 64 KiB gets "-ERR Protocol error" and a reset). libevent runs
 * the failed write before our read event, yet the reply waits in the kernel
 * (Linux hands out bytes that came before a reset): take it for the client. */
static void rescue_last_reply(struct pair *p)
{
    struct evbuffer *out = bufferevent_get_output(p->client);
    evutil_socket_t fd = bufferevent_getfd(p->upstream);
    ev_ssize_t n;
    while ((n = read_some(fd, out, &p->upstream_read)) > 0)
        p->relay->bytes_to_clients += (size_t)n;
}

/* At connect time, Redis cannot be reached: say why on our stderr. */
static void report_unreachable(struct pair *p, int err)
{
    struct relay *r = p->relay;
    char redis[ADDR_STRLEN];
    r->upstream_errors++;
    warnx_msg("cannot reach Redis at %s: %s",
              format_addr((const struct sockaddr *)&r->opt->redis_addr, redis, sizeof redis),
              evutil_socket_error_to_string(err));
}

/* A direct client would have been refused; the nearest thing a server that
 * has accepted can say is a reset: SO_LINGER with a zero timeout makes
 * close() send RST, not FIN. Client libraries then report a connection
 * error, as they would directly. */
static void reset_client(struct pair *p)
{
    struct linger reset = {.l_onoff = 1, .l_linger = 0};
    setsockopt(bufferevent_getfd(p->client), SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    pair_free(p);
}

/* ---- the client's side ----------------------------------------------------- */

static void on_client_readable(evutil_socket_t fd, short what, void *arg)
{
    struct pair *p = arg;
    trace_dispatch(fd, "read", "on_client_readable");
    if (p->goodbye) {
        discard_input(p, fd, what);
        return;
    }
    struct evbuffer *scratch = p->relay->scratch;
    ev_ssize_t n = read_some(fd, scratch, &p->client_read);
    if (n > 0) {
        p->relay->bytes_to_redis += (size_t)n;
        forward(scratch, p->upstream, p->upstream_connected);
        if (over_high(p, p->upstream))
            event_del(p->client_reader); /* Redis is behind: on_upstream_write resumes */
    } else if (n == 0) {
        /* A half-close (nc -N) or a close: they look the same. Either way it
         * is Redis's business, not ours: pass it on. */
        p->client_eof = 1;
        event_del(p->client_reader);
        pass_fin(p);
    } else if (errno != EAGAIN && errno != EINTR) {
        pair_free(p); /* rule 3: a reset */
    }
}

static void on_client_write(struct bufferevent *bev, void *arg)
{
    struct pair *p = arg;
    trace_dispatch(bufferevent_getfd(bev), "write", "on_client_write");
    if (p->closing) {
        if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
            close_client(p);
        return;
    }
    /* The client caught up: read Redis again (a no-op if we never stopped). */
    if (p->upstream_connected && start_reading(p, p->upstream_reader, "Redis side") < 0)
        pair_free(p);
}

static void on_client_event(struct bufferevent *bev, short what, void *arg)
{
    (void)what;
    trace_dispatch(bufferevent_getfd(bev), "event", "on_client_event");
    pair_free(arg); /* rule 3: a write to the client failed, it is gone */
}

/* ---- Redis's side ---------------------------------------------------------- */

static void on_upstream_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct pair *p = arg;
    trace_dispatch(fd, "read", "on_upstream_readable");
    struct evbuffer *scratch = p->relay->scratch;
    ev_ssize_t n = read_some(fd, scratch, &p->upstream_read);
    if (n > 0) {
        p->relay->bytes_to_clients += (size_t)n;
        forward(scratch, p->client, 1);
        if (over_high(p, p->client))
            event_del(p->upstream_reader); /* client is behind: on_client_write resumes */
    } else if (n == 0) {
        upstream_gone(p);
    } else if (errno != EAGAIN && errno != EINTR) {
        warnx_msg("Redis side of %s: %s", p->peer, strerror(errno));
        upstream_gone(p);
    }
}

static void on_upstream_write(struct bufferevent *bev, void *arg)
{
    struct pair *p = arg;
    trace_dispatch(bufferevent_getfd(bev), "write", "on_upstream_write");
    if (p->client_eof)
        pass_fin(p);
    else if (start_reading(p, p->client_reader, "client side") < 0)
        pair_free(p); /* Redis caught up, but we cannot read the client again */
}

static void on_upstream_connected(struct pair *p)
{
    p->upstream_connected = 1;
    set_nodelay(bufferevent_getfd(p->upstream));
    if (start_reading(p, p->upstream_reader, "Redis side") < 0) {
        pair_free(p);
        return;
    }
    pass_fin(p); /* the client may have come and gone already */
}

/* The connect's error is the socket's pending error; an immediately refused
 * connect has consumed it, and then errno still holds it. */
static int connect_error(evutil_socket_t fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err == 0)
        err = EVUTIL_SOCKET_ERROR();
    return err;
}

static void on_upstream_event(struct bufferevent *bev, short what, void *arg)
{
    struct pair *p = arg;
    trace_dispatch(bufferevent_getfd(bev), "event", "on_upstream_event");
    if (what & BEV_EVENT_CONNECTED) {
        on_upstream_connected(p);
    } else if (!p->upstream_connected) {
        report_unreachable(p, connect_error(bufferevent_getfd(bev)));
        reset_client(p);
    } else {
        rescue_last_reply(p); /* a write failed: Redis is gone */
        upstream_gone(p);
    }
}

/* ---- a new client ------------------------------------------------------------ */

/* The client's half: a bufferevent to write, an event to read, on the list. */
static struct pair *pair_new(struct relay *r, evutil_socket_t fd, const struct sockaddr *sa)
{
    struct pair *p = calloc(1, sizeof *p);
    struct bufferevent *client =
        p ? bufferevent_socket_new(r->srv.base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
    struct event *reader =
        client ? event_new(r->srv.base, fd, EV_READ | EV_PERSIST, on_client_readable, p) : NULL;
    if (!reader) {
        warnx_msg("cannot take a client: out of memory");
        if (client)
            bufferevent_free(client);
        else
            evutil_closesocket(fd); /* nobody else owns it: never leak the fd */
        free(p);
        return NULL;
    }
    *p = (struct pair){.relay = r, .client = client, .client_reader = reader};
    format_addr(sa, p->peer, sizeof p->peer);
    LIST_INSERT_HEAD(&r->pairs, p, link);
    r->clients_now++;
    set_nodelay(fd);
    bufferevent_setcb(client, NULL, on_client_write, on_client_event, p);
    /* A paused direction resumes once its output drained to a quarter of high. */
    bufferevent_setwatermark(client, EV_WRITE, (size_t)r->opt->high / 4, 0);
    return p;
}

/* Redis's half: a bufferevent that connects, and an event to read it (added
 * once connected). The client may talk before the connect completes: its
 * bytes wait in the upstream's output and leave once connected. */
static int connect_upstream(struct pair *p)
{
    struct relay *r = p->relay;
    p->upstream = bufferevent_socket_new(r->srv.base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!p->upstream) {
        warnx_msg("cannot make a connection to Redis for %s: out of memory", p->peer);
        return -1;
    }
    bufferevent_setcb(p->upstream, NULL, on_upstream_write, on_upstream_event, p);
    bufferevent_setwatermark(p->upstream, EV_WRITE, (size_t)r->opt->high / 4, 0);
    /* A refused connect is reported later, through on_upstream_event. */
    if (bufferevent_socket_connect(p->upstream, (struct sockaddr *)&r->opt->redis_addr,
                                   sizeof r->opt->redis_addr) != 0) {
        report_unreachable(p, errno);
        return -1;
    }
    p->upstream_reader = event_new(r->srv.base, bufferevent_getfd(p->upstream),
                                   EV_READ | EV_PERSIST, on_upstream_readable, p);
    if (!p->upstream_reader) {
        warnx_msg("cannot watch Redis's side of %s: out of memory", p->peer);
        return -1;
    }
    return start_reading(p, p->client_reader, "client side");
}

void pair_start(struct relay *r, evutil_socket_t fd, const struct sockaddr *sa, int refuse)
{
    struct pair *p = pair_new(r, fd, sa);
    if (!p)
        return;
    if (refuse) {
        /* Like a full Redis: one error line, then a close (rule 4's path). */
        p->closing = 1;
        if (bufferevent_write(p->client, MAX_CLIENTS_REPLY, strlen(MAX_CLIENTS_REPLY)) != 0)
            pair_free(p); /* out of memory: just close */
        return;
    }
    if (connect_upstream(p) != 0)
        reset_client(p);
}
