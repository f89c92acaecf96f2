/*
 * 08_http_gateway/api.c — one HTTP request in, one Redis command out, one
 * HTTP reply back, as webdis does it:
 *
 *   GET  /SET/k/v        SET k v        200 {"SET":[true,"OK"]}
 *   PUT  /SET/k  (body)  SET k <body>   the body is the last argument
 *   POST /  (body GET/k) GET k          the body is the whole command path
 *   GET  /FLUSHALL       -              403, empty (the deny list)
 *   Redis down           -              503, empty
 *   OPTIONS ...          -              200, empty; HEAD, DELETE ... 405
 *
 * The evhttp_request is evhttp's object, lent to us from this callback until
 * we call evhttp_send_reply (or _end for a stream): then evhttp writes the
 * reply and frees it. Until then it waits in a link's FIFO (redis_link.c); if
 * the client leaves first, evhttp detaches the request from its connection
 * and our later reply only frees it.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "gateway.h"
#include "md5.h"
#include "reply.h"

/* CORS as browsers read it (the Fetch standard): Access-Control-Allow-Origin
 * on every reply, since a page's script may only read a reply that carries
 * it; the allowed methods and headers on the preflight (OPTIONS) reply alone,
 * the only one a browser looks for them in; Allow where HTTP asks for it
 * (OPTIONS, 405). webdis sends all four on every reply, and each header line
 * costs evhttp three allocations and a printf (the page measures it). */
void api_common_headers(struct evhttp_request *req)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Access-Control-Allow-Origin", "*");
}

static void preflight_headers(struct evhttp_request *req)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Allow", "GET,POST,PUT,OPTIONS");
    evhttp_add_header(h, "Access-Control-Allow-Methods", "GET,POST,PUT,OPTIONS");
    evhttp_add_header(h, "Access-Control-Allow-Headers",
                      "X-Requested-With, Content-Type, Authorization");
}

void api_date_header(struct gateway *gw, struct evhttp_request *req)
{
    struct timeval now;
    event_base_gettimeofday_cached(gw->srv.base, &now); /* the loop's clock: no system call */
    if (now.tv_sec != gw->date.second) {
        struct tm tm;
        gw->date.second = now.tv_sec;
        strftime(gw->date.text, sizeof gw->date.text, HTTP_DATE, gmtime_r(&now.tv_sec, &tm));
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Date", gw->date.text);
}

/* A reply without a body (403, 404, 405, 503): webdis sends Content-Length: 0
 * and no Content-Type. */
static void reply_empty(struct gateway *gw, struct evhttp_request *req, int code,
                        const char *reason)
{
    api_common_headers(req);
    api_date_header(gw, req);
    if (code == 405)
        preflight_headers(req);
    evbuffer_drain(evhttp_request_get_output_buffer(req), (size_t)-1);
    server_send_reply(req, code, reason, NULL);
}

/* region: reply */
void api_reply(struct gateway *gw, struct pending *p, const redisReply *r)
{
    struct evhttp_request *req = p->req;
    /* the body goes straight into the request's own output buffer */
    struct evbuffer *body = evhttp_request_get_output_buffer(req);
    enum reply_status status = r ? reply_write(body, r, p->verb, p->verb_len, p->format) : 0;
    if (!r) {
        gw->stats.replies_503++;
        reply_empty(gw, req, 503, "Service Unavailable");
    } else if (status == REPLY_NOT_FOUND) {
        reply_empty(gw, req, 404, "Not found");
    } else {
        /* webdis's ETag: the body's MD5; If-None-Match with it gives 304 */
        char etag[ETAG_LEN];
        size_t len = evbuffer_get_length(body);
        etag_of(evbuffer_pullup(body, -1), len, etag);
        const char *match =
            evhttp_find_header(evhttp_request_get_input_headers(req), "If-None-Match");
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        api_common_headers(req);
        api_date_header(gw, req);
        if (match && strcmp(match, etag) == 0) {
            evbuffer_drain(body, len);
            server_send_reply(req, 304, "Not Modified", NULL);
        } else {
            evhttp_add_header(h, "Content-Type", p->mime);
            evhttp_add_header(h, "ETag", etag);
            server_send_reply(req, 200, "OK", NULL);
        }
    }
    free(p);
}
/* endregion */

/* The command: the path for GET, the path and the body for PUT, the body alone
 * for POST. 0, or -1 (no command: 403). */
static int read_command(struct evhttp_request *req, struct command *cmd)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t body_len = evbuffer_get_length(in);
    const char *body = body_len ? (const char *)evbuffer_pullup(in, -1) : NULL;
    const char *uri = evhttp_request_get_uri(req);
    const char *path = uri[0] == '/' ? uri + 1 : uri;
    switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_POST: return command_parse(cmd, body ? body : "", body_len, NULL, 0);
    case EVHTTP_REQ_PUT: return command_parse(cmd, path, strlen(path), body, body_len);
    default: return command_parse(cmd, path, strlen(path), NULL, 0);
    }
}

/* region: handle */
void api_handle(struct evhttp_request *req, void *arg)
{
    struct gateway *gw = arg;
    gw->stats.requests++;
    server_request_started(gw, req);
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    if ((method == EVHTTP_REQ_GET || method == EVHTTP_REQ_HEAD) && static_wants(gw, path)) {
        static_serve(gw, req);
        return;
    }
    if (method == EVHTTP_REQ_OPTIONS) {
        api_common_headers(req);
        api_date_header(gw, req);
        preflight_headers(req);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/html");
        server_send_reply(req, 200, "OK", NULL);
        return;
    }
    if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_POST && method != EVHTTP_REQ_PUT) {
        reply_empty(gw, req, 405, "Method Not Allowed");
        return;
    }
    struct command cmd;
    if (read_command(req, &cmd) != 0 || command_denied(cmd.argv[0], cmd.argv_len[0])) {
        if (cmd.argv)
            command_free(&cmd);
        gw->stats.denied++;
        reply_empty(gw, req, 403, "Forbidden");
        return;
    }
    if (command_is_subscribe(&cmd)) {
        subscribe_start(gw, req, &cmd); /* the stream owns cmd now */
        return;
    }
    if (links_send(gw, &cmd, req) != 0) {
        gw->stats.replies_503++;
        reply_empty(gw, req, 503, "Service Unavailable");
    }
    command_free(&cmd);
}
/* endregion */
