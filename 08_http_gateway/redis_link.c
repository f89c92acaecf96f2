/*
 * 08_http_gateway/redis_link.c — the few connections to Redis that every
 * HTTP request shares: chapter 7's lesson applied to HTTP clients.
 *
 * Each request becomes one RESP command written to a link's output buffer,
 * and a `struct pending` at the tail of that link's FIFO. Redis answers the
 * commands of one connection in order, so each reply hiredis's redisReader
 * frames belongs to the pending request at the FIFO's head:
 *
 *   HTTP A: GET /GET/k      ─┐
 *   HTTP B: GET /INCR/n     ─┼─▶ link 0: "*2 GET k" "*2 INCR n" "*3 SET a b" ─▶ Redis
 *   HTTP C: PUT /SET/a  (b) ─┘    FIFO:   [A] [B] [C]
 *                                 replies: $1 v → A, :1 → B, +OK → C
 *
 * One read from Redis may carry many replies; one write may carry many
 * clients' commands — that is what makes a gateway faster than a connection
 * per client. A link that fails answers its whole FIFO with 503 and
 * reconnects on its own (100 ms, doubling up to 2 s).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "gateway.h"

#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS 2000
#define PEEK_CHUNKS 16

static void link_connect(struct redis_link *link);

/* region: encode */
/* "*3\r\n" or "$5\r\n": a RESP header line, the number written by hand —
 * evbuffer_add_printf costs more than the rest of the command together. */
static size_t resp_header_len(size_t n)
{
    size_t digits = 1;
    while ((n /= 10) > 0)
        digits++;
    return digits + 3;
}

/* The line for N at P; returns the byte after it. */
static char *resp_header(char *p, char kind, size_t n)
{
    size_t len = resp_header_len(n);
    p[0] = kind;
    for (size_t i = len - 3; i > 0; i--, n /= 10)
        p[i] = (char)('0' + n % 10);
    p[len - 2] = '\r';
    p[len - 1] = '\n';
    return p + len;
}

/* The whole command written into space reserved once: every evbuffer_add
 * runs the buffer's callbacks, and a GET was seven of them. */
int resp_encode(struct evbuffer *out, const struct command *cmd)
{
    size_t total = resp_header_len((size_t)cmd->argc);
    for (int i = 0; i < cmd->argc; i++)
        total += resp_header_len(cmd->argv_len[i]) + cmd->argv_len[i] + 2;
    struct evbuffer_iovec v;
    if (evbuffer_reserve_space(out, (ev_ssize_t)total, &v, 1) != 1 || !v.iov_base)
        return -1;
    char *p = resp_header(v.iov_base, '*', (size_t)cmd->argc);
    for (int i = 0; i < cmd->argc; i++) {
        p = resp_header(p, '$', cmd->argv_len[i]);
        memcpy(p, cmd->argv[i], cmd->argv_len[i]);
        p += cmd->argv_len[i];
        *p++ = '\r';
        *p++ = '\n';
    }
    v.iov_len = total;
    return evbuffer_commit_space(out, &v, 1);
}
/* endregion */

struct bufferevent *redis_connect(struct gateway *gw, bufferevent_data_cb readcb,
                                  bufferevent_event_cb eventcb, void *arg)
{
    struct bufferevent *bev = bufferevent_socket_new(gw->srv.base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        warnx_msg("cannot create a bufferevent for Redis: out of memory");
        return NULL;
    }
    bufferevent_setcb(bev, readcb, NULL, eventcb, arg);
    const struct sockaddr_in *a = &gw->opt->redis_addr;
    if (bufferevent_socket_connect(bev, (const struct sockaddr *)a, sizeof *a) != 0 ||
        bufferevent_enable(bev, EV_READ) != 0) {
        bufferevent_free(bev);
        return NULL;
    }
    return bev;
}

/* ---- a link going down, and coming back ------------------------------------ */

static void link_down(struct redis_link *link, const char *why)
{
    if (link->state == LINK_UP && !link->gw->closing)
        printf("redis link %d: down (%s); reconnecting\n", link->index, why);
    link->state = LINK_DOWN;
    if (link->bev) {
        bufferevent_free(link->bev);
        link->bev = NULL;
    }
    if (link->reader) {
        redisReaderFree(link->reader);
        link->reader = NULL;
    }
    struct pending *p;
    while ((p = STAILQ_FIRST(&link->pending)) != NULL) { /* every one waiting: 503 */
        STAILQ_REMOVE_HEAD(&link->pending, next);
        api_reply(link->gw, p, NULL);
    }
    if (link->gw->closing)
        return;
    struct timeval wait = ms_to_timeval(link->retry_ms);
    event_add(link->retry, &wait);
    link->retry_ms = link->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : link->retry_ms * 2;
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    trace_dispatch(fd, "timeout", "on_retry");
    link_connect(arg);
}

/* ---- replies --------------------------------------------------------------- */

/* region: replies */
static void on_link_read(struct bufferevent *bev, void *arg)
{
    struct redis_link *link = arg;
    trace_dispatch(bufferevent_getfd(bev), "read", "on_link_read");
    struct evbuffer *in = bufferevent_get_input(bev);
    struct evbuffer_iovec chunks[PEEK_CHUNKS];
    int n = evbuffer_peek(in, -1, NULL, chunks, PEEK_CHUNKS);
    if (n > PEEK_CHUNKS)
        n = PEEK_CHUNKS;
    size_t fed = 0;
    for (int i = 0; i < n; i++) {
        redisReaderFeed(link->reader, chunks[i].iov_base, chunks[i].iov_len);
        fed += chunks[i].iov_len;
    }
    evbuffer_drain(in, fed);
    void *reply;
    int rc;
    while ((rc = redisReaderGetReply(link->reader, &reply)) == REDIS_OK && reply) {
        struct pending *p = STAILQ_FIRST(&link->pending);
        if (!p) { /* a reply nobody asked for: the link is not what we think */
            freeReplyObject(reply);
            link_down(link, "a reply nobody asked for");
            return;
        }
        STAILQ_REMOVE_HEAD(&link->pending, next);
        api_reply(link->gw, p, reply);
        freeReplyObject(reply);
    }
    if (rc != REDIS_OK)
        link_down(link, "protocol error");
    else if (evbuffer_get_length(in) > 0) /* more than PEEK_CHUNKS chunks: go on */
        on_link_read(bev, arg);
}
/* endregion */

static void on_link_event(struct bufferevent *bev, short what, void *arg)
{
    struct redis_link *link = arg;
    trace_dispatch(bufferevent_getfd(bev), "event", "on_link_event");
    if (what & BEV_EVENT_CONNECTED) {
        if (link->state != LINK_UP)
            printf("redis link %d: connected\n", link->index);
        link->state = LINK_UP;
        link->retry_ms = RETRY_FIRST_MS;
        return;
    }
    link_down(link, what & BEV_EVENT_EOF ? "Redis closed" : "connection error");
}

static void link_connect(struct redis_link *link)
{
    link->state = LINK_CONNECTING;
    link->reader = redisReaderCreate();
    link->bev = link->reader ? redis_connect(link->gw, on_link_read, on_link_event, link) : NULL;
    if (!link->bev)
        link_down(link, "cannot connect");
}

/* region: send */
int links_send(struct gateway *gw, const struct command *cmd, struct evhttp_request *req)
{
    struct redis_link *link = NULL;
    for (int tries = 0; tries < gw->opt->links && !link; tries++) { /* round robin, up only */
        struct redis_link *l = &gw->links[gw->next_link];
        gw->next_link = (gw->next_link + 1) % gw->opt->links;
        if (l->state == LINK_UP)
            link = l;
    }
    struct pending *p = link ? malloc(sizeof *p + cmd->argv_len[0] + 1) : NULL; /* and its verb */
    if (!p || resp_encode(bufferevent_get_output(link->bev), cmd) != 0) {
        free(p);
        return -1;
    }
    *p = (struct pending){
        .req = req, .format = cmd->format, .mime = cmd->mime, .verb_len = cmd->argv_len[0]};
    memcpy(p->verb, cmd->argv[0], cmd->argv_len[0] + 1);
    STAILQ_INSERT_TAIL(&link->pending, p, next);
    return 0;
}
/* endregion */

int links_start(struct gateway *gw)
{
    for (int i = 0; i < gw->opt->links; i++) {
        struct redis_link *link = &gw->links[i];
        *link = (struct redis_link){.gw = gw, .index = i, .retry_ms = RETRY_FIRST_MS};
        STAILQ_INIT(&link->pending);
        link->retry = evtimer_new(gw->srv.base, on_retry, link);
        if (!link->retry) {
            warnx_msg("cannot create the reconnect timer: out of memory");
            return -1;
        }
        link_connect(link);
    }
    return 0;
}

void links_stop(struct gateway *gw)
{
    for (int i = 0; i < gw->opt->links; i++) {
        struct redis_link *link = &gw->links[i];
        if (!link->gw) /* not started: links_start failed, or never ran */
            break;
        link_down(link, "shutting down");
        if (link->retry)
            event_free(link->retry);
        link->retry = NULL;
    }
}
