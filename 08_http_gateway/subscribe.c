/*
 * 08_http_gateway/subscribe.c — GET /SUBSCRIBE/channel: the reply never ends.
 *
 * Each stream gets its own Redis connection (a subscribed connection can do
 * nothing else, so it cannot be one of the shared links). Every message Redis
 * pushes is formatted as webdis does it — {"SUBSCRIBE":["message","chan","hi"]}
 * — and sent as one chunk of a chunked reply:
 *
 *   evhttp_send_reply_start(req, 200, "OK")       headers, Transfer-Encoding: chunked
 *   evhttp_send_reply_chunk(req, buf)  ... x N     one per message
 *   evhttp_send_reply_end(req)                     when Redis goes away
 *
 * The trap: a chunk is appended to the connection's output evbuffer whether
 * or not the client reads (libevent issues #861/#862). A client that stops
 * reading would make us buffer every message forever. So after each chunk we
 * look at that buffer (evhttp_connection_get_bufferevent → its output) and,
 * past --sub-buffer bytes, stop reading this stream's Redis connection —
 * chapter 5's backpressure. The chunk callback (evhttp_send_reply_chunk_with_cb)
 * runs when the buffer has drained to empty, and we read Redis again. While
 * we pause, the messages wait in the kernel and then in Redis, whose own
 * client-output-buffer-limit for pubsub finally closes the subscription: then
 * the stream ends. Memory here stays at about --sub-buffer per stream.
 */
#include <stdio.h>
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "gateway.h"
#include "reply.h"

static void stream_free(struct subscription *sub)
{
    struct gateway *gw = sub->gw;
    TAILQ_REMOVE(&gw->streams, sub, next);
    gw->stats.streams_now--;
    if (sub->redis)
        bufferevent_free(sub->redis);
    if (sub->reader)
        redisReaderFree(sub->reader);
    command_free(&sub->cmd);
    free(sub);
}

/* Redis went away (or we stop): finish the reply; the connection lives on. */
static void stream_end(struct subscription *sub)
{
    if (sub->evcon) {
        evhttp_connection_set_closecb(sub->evcon, NULL, NULL);
        struct bufferevent *bev = evhttp_connection_get_bufferevent(sub->evcon);
        struct timeval idle = {sub->gw->opt->idle_timeout_s, 0};
        bufferevent_set_timeouts(bev, &idle, &idle);
    }
    if (sub->started)
        evhttp_send_reply_end(sub->req);
    else { /* Redis never answered the SUBSCRIBE itself */
        sub->gw->stats.replies_503++;
        api_common_headers(sub->req);
        evhttp_send_reply(sub->req, 503, "Service Unavailable", NULL);
    }
    stream_free(sub);
}

static void send_message(struct subscription *sub, const redisReply *r);

/* Send what the reader has framed, until the client falls behind. */
static void deliver(struct subscription *sub)
{
    void *reply;
    int rc = REDIS_OK;
    while (!sub->paused && (rc = redisReaderGetReply(sub->reader, &reply)) == REDIS_OK && reply) {
        send_message(sub, reply);
        freeReplyObject(reply);
    }
    if (!sub->paused && rc != REDIS_OK)
        stream_end(sub);
}

/* region: drained */
static void on_chunk_flushed(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    struct subscription *sub = arg;
    if (sub->paused) { /* the client caught up: read Redis again */
        sub->paused = 0;
        sub->gw->stats.sub_resumed++;
        bufferevent_enable(sub->redis, EV_READ);
        deliver(sub); /* replies framed before we paused */
    }
}
/* endregion */

/* region: chunk */
static void send_message(struct subscription *sub, const redisReply *r)
{
    struct gateway *gw = sub->gw;
    struct evbuffer *chunk = evbuffer_new();
    if (!chunk)
        return;
    reply_write(chunk, r, sub->cmd.argv[0], sub->cmd.argv_len[0], sub->cmd.format);
    if (!sub->started) {
        sub->started = 1;
        api_common_headers(sub->req);
        evhttp_add_header(evhttp_request_get_output_headers(sub->req), "Content-Type",
                          sub->cmd.mime);
        evhttp_send_reply_start(sub->req, 200, "OK");
    }
    evhttp_send_reply_chunk_with_cb(sub->req, chunk, on_chunk_flushed, sub);
    evbuffer_free(chunk);
    gw->stats.sub_messages++;
    /* how far behind is the client? */
    struct bufferevent *bev = evhttp_connection_get_bufferevent(sub->evcon);
    size_t unsent = evbuffer_get_length(bufferevent_get_output(bev));
    if (unsent > gw->stats.sub_max_buffered)
        gw->stats.sub_max_buffered = unsent;
    if (unsent > (size_t)gw->opt->sub_buffer_bytes && !sub->paused) {
        sub->paused = 1;
        gw->stats.sub_paused++;
        bufferevent_disable(sub->redis, EV_READ);
    }
}
/* endregion */

static void on_stream_read(struct bufferevent *bev, void *arg)
{
    struct subscription *sub = arg;
    trace_dispatch(bufferevent_getfd(bev), "read", "on_stream_read");
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = evbuffer_get_length(in);
    redisReaderFeed(sub->reader, (const char *)evbuffer_pullup(in, -1), len);
    evbuffer_drain(in, len);
    deliver(sub);
}

static void on_stream_event(struct bufferevent *bev, short what, void *arg)
{
    trace_dispatch(bufferevent_getfd(bev), "event", "on_stream_event");
    if (what & BEV_EVENT_CONNECTED)
        return;
    stream_end(arg); /* Redis closed it (its pubsub output limit, say) */
}

/* The client left: evhttp detached the request; ending it only frees it. */
static void on_stream_client_closed(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    struct subscription *sub = arg;
    sub->evcon = NULL;
    stream_end(sub);
}

void subscribe_start(struct gateway *gw, struct evhttp_request *req, struct command *cmd)
{
    struct subscription *sub = calloc(1, sizeof *sub);
    if (!sub) {
        command_free(cmd);
        evhttp_send_reply(req, 503, "Service Unavailable", NULL);
        return;
    }
    *sub = (struct subscription){
        .gw = gw, .req = req, .cmd = *cmd, .evcon = evhttp_request_get_connection(req)};
    TAILQ_INSERT_TAIL(&gw->streams, sub, next);
    gw->stats.streams_now++;
    sub->reader = redisReaderCreate();
    sub->redis = sub->reader ? redis_connect(gw, on_stream_read, on_stream_event, sub) : NULL;
    if (!sub->redis || resp_encode(bufferevent_get_output(sub->redis), &sub->cmd) != 0) {
        stream_end(sub);
        return;
    }
    evhttp_connection_set_closecb(sub->evcon, on_stream_client_closed, sub);
    /* a quiet channel is not an idle client: no read timeout while streaming */
    struct bufferevent *bev = evhttp_connection_get_bufferevent(sub->evcon);
    struct timeval idle = {gw->opt->idle_timeout_s, 0};
    bufferevent_set_timeouts(bev, NULL, &idle);
}

void subscribe_stop_all(struct gateway *gw)
{
    /* the analyzer loses track of TAILQ_REMOVE inside stream_free */
    while (!TAILQ_EMPTY(&gw->streams))
        stream_end(TAILQ_FIRST(&gw->streams)); // NOLINT(clang-analyzer-unix.Malloc)
}
