/*
 * 08_http_gateway/http_get.c — libevent's HTTP client (evhttp_connection):
 * fetch one URL and print its body, or follow a stream (a SUBSCRIBE) and
 * print each chunk the moment it arrives.
 *
 *   http_get http://127.0.0.1:8088/GET/greeting         the body, then exit 0
 *   http_get --chunks http://127.0.0.1:8088/SUBSCRIBE/news
 *                                                       "chunk 1: {...}" per chunk
 *
 * Its life: evhttp_connection_base_new (no connection yet), evhttp_request_new
 * with the callback for the complete response, evhttp_make_request (connects
 * and sends), and the loop. With --chunks, evhttp_request_set_chunked_cb gets
 * each piece as it arrives; the final callback runs when the reply is over.
 * --timeout bounds each step; --retries lets evhttp try the connection again.
 * Exit: 0 for a 2xx reply, 1 for another status or a failure, 2 for usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common.h"

#define DEFAULT_TIMEOUT_S 10

struct fetch {
    struct event_base *base;
    int chunks;      /* --chunks: print each chunk on its own line */
    int show_status; /* --status: "status 200 OK" first */
    long nchunks;
    int code;   /* the reply's status, 0 when none came */
    int failed; /* no reply at all (refused, timeout, ...) */
};

/* region: chunk */
static void on_chunk(struct evhttp_request *req, void *arg)
{
    struct fetch *f = arg;
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    printf("chunk %ld: %.*s\n", ++f->nchunks, (int)len, (const char *)evbuffer_pullup(in, -1));
    evbuffer_drain(in, len); /* printed: not kept for the end */
}
/* endregion */

static void on_response(struct evhttp_request *req, void *arg)
{
    struct fetch *f = arg;
    if (!req || evhttp_request_get_response_code(req) == 0) {
        /* NULL or code 0: no reply (refused, reset, timed out) */
        f->failed = 1;
    } else {
        f->code = evhttp_request_get_response_code(req);
        if (f->show_status)
            printf("status %d %s\n", f->code, evhttp_request_get_response_code_line(req));
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t len = evbuffer_get_length(in);
        if (len > 0)
            fwrite(evbuffer_pullup(in, -1), 1, len, stdout);
        if (f->chunks)
            printf("end of stream after %ld chunk%s\n", f->nchunks, f->nchunks == 1 ? "" : "s");
    }
    event_base_loopexit(f->base, NULL);
}

static void usage(void)
{
    printf("usage: %s [--chunks] [--status] [--timeout SEC] [--retries N] URL\n"
           "  Fetch URL (http://HOST:PORT/PATH) with libevent's evhttp client.\n"
           "  --chunks        print each chunk as it arrives (a SUBSCRIBE stream)\n"
           "  --status        print \"status CODE REASON\" before the body\n"
           "  --timeout SEC   give up a step after SEC seconds (default %d)\n"
           "  --retries N     try connecting N more times (default 0)\n",
           prog_name(), DEFAULT_TIMEOUT_S);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    static const struct option options[] = {
        {"chunks", no_argument, NULL, 'c'},        {"status", no_argument, NULL, 's'},
        {"timeout", required_argument, NULL, 't'}, {"retries", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    struct fetch f = {0};
    long timeout = DEFAULT_TIMEOUT_S, retries = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'c': f.chunks = 1; break;
        case 's': f.show_status = 1; break;
        case 't': timeout = parse_long_option("--timeout", optarg, 1, 3600); break;
        case 'r': retries = parse_long_option("--retries", optarg, 0, 100); break;
        case 'h': usage(); return EXIT_CLEAN;
        default: bad_option(argv);
        }
    }
    if (optind != argc - 1)
        usage_error("give exactly one URL");
    struct evhttp_uri *uri = evhttp_uri_parse(argv[optind]);
    const char *host = uri ? evhttp_uri_get_host(uri) : NULL;
    if (!host || !evhttp_uri_get_scheme(uri) || strcmp(evhttp_uri_get_scheme(uri), "http") != 0) {
        if (uri)
            evhttp_uri_free(uri);
        usage_error("'%s' is not an http://HOST[:PORT]/PATH URL", argv[optind]);
    }
    int port = evhttp_uri_get_port(uri) > 0 ? evhttp_uri_get_port(uri) : 80;
    const char *path = evhttp_uri_get_path(uri);
    const char *query = evhttp_uri_get_query(uri);
    char target[8192];
    snprintf(target, sizeof target, "%s%s%s", path && *path ? path : "/", query ? "?" : "",
             query ? query : "");

    int status = EXIT_RUNTIME;
    struct evhttp_connection *conn = NULL;
    f.base = event_base_new();
    if (!f.base) {
        warnx_msg("cannot create the event base: out of memory");
        goto done;
    }
    /* region: request */
    conn = evhttp_connection_base_new(f.base, NULL, host, (unsigned short)port);
    struct evhttp_request *req = conn ? evhttp_request_new(on_response, &f) : NULL;
    if (!req) {
        warnx_msg("cannot create the connection or the request: out of memory");
        goto done;
    }
    evhttp_connection_set_timeout(conn, (int)timeout);
    evhttp_connection_set_retries(conn, (int)retries);
    if (f.chunks)
        evhttp_request_set_chunked_cb(req, on_chunk);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", host);
    /* the request is the connection's now: evhttp frees it after on_response */
    if (evhttp_make_request(conn, req, EVHTTP_REQ_GET, target) != 0) {
        warnx_msg("cannot send the request to %s:%d", host, port);
        goto done;
    }
    event_base_dispatch(f.base);
    /* endregion */
    if (f.failed)
        warnx_msg("no reply from %s:%d: refused, reset or timed out", host, port);
    else if (f.code >= 200 && f.code < 300)
        status = EXIT_CLEAN;
done:
    if (conn)
        evhttp_connection_free(conn);
    if (f.base)
        event_base_free(f.base);
    evhttp_uri_free(uri);
    libevent_global_shutdown();
    return status;
}
