/*
 * 08_http_gateway/gateway.h — what the gateway's files share: its options,
 * the server (struct gateway), the shared Redis links and their FIFO of
 * pending HTTP requests, the SUBSCRIBE streams and the connections we count.
 *
 *   http_gateway.c  options, stats, main: the wiring (common/server.h's skeleton)
 *   server.c        evhttp: the listener, the limits, counting connections,
 *                   replies written at once (server_send_reply)
 *   api.c           one HTTP request -> one Redis command -> one HTTP reply
 *   redis_link.c    the few Redis connections every request shares (pipelined)
 *   subscribe.c     GET /SUBSCRIBE/channel: a chunked stream, with backpressure
 *   static_files.c  --docs DIR: files with evbuffer_add_file (sendfile)
 *   file_cache.c    --docs DIR's small files kept in memory
 *   command.c reply.c md5.c   webdis's URL scheme, reply formats and ETag
 */
#ifndef GATEWAY_H
#define GATEWAY_H

#include <limits.h>
#include <netinet/in.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <time.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <hiredis/hiredis.h>

#include "command.h"
#include "common.h"
#include "server.h"
#include "trace.h"

#define MAX_LINKS 16
/* file_cache.c: at most FILE_CACHE_SLOTS × FILE_CACHE_MAX bytes (2 MiB) */
#define FILE_CACHE_SLOTS 64
#define FILE_CACHE_MAX (32 * 1024)
#define HTTP_DATE "%a, %d %b %Y %H:%M:%S GMT"

struct options {
    struct sockaddr_in listen_addr, redis_addr;
    int links;                   /* --redis-links: shared Redis connections */
    const char *docs;            /* --docs DIR, or NULL */
    const char *docs_prefix;     /* --docs-prefix: the URL path DIR is served at */
    long max_conns;              /* --max-conns: 0 = no limit */
    long max_header_bytes;       /* --max-header-bytes */
    long max_body_bytes;         /* --max-body-bytes (413 past it) */
    long idle_timeout_s;         /* --idle-timeout: evhttp_set_timeout */
    long header_timeout_ms;      /* --header-timeout: whole request head, or cut */
    long sub_buffer_bytes;       /* --sub-buffer: a stream's unsent bytes before pausing */
    struct server_config server; /* --trace, --backend */
};

/* A request sent to Redis, waiting for its reply (FIFO per link). */
struct pending {
    STAILQ_ENTRY(pending) next;
    struct evhttp_request *req; /* ours until we reply (evhttp frees it then) */
    enum reply_format format;
    const char *mime;
    size_t verb_len;
    char verb[]; /* the command name as the client wrote it (the JSON key) */
};
STAILQ_HEAD(pending_queue, pending);

enum link_state { LINK_DOWN, LINK_CONNECTING, LINK_UP };

/* One of the shared connections to Redis. */
struct redis_link {
    struct gateway *gw;
    int index;
    enum link_state state;
    struct bufferevent *bev;
    redisReader *reader;
    struct pending_queue pending;
    struct event *retry; /* reconnect timer */
    long retry_ms;
};

/* A GET /SUBSCRIBE/... stream: its own Redis connection, its HTTP reply. */
struct subscription {
    TAILQ_ENTRY(subscription) next;
    struct gateway *gw;
    struct evhttp_request *req;
    struct evhttp_connection *evcon;
    struct bufferevent *redis; /* this stream's own connection to Redis */
    redisReader *reader;
    struct command cmd;
    int started; /* evhttp_send_reply_start done */
    int paused;  /* Redis not read: the client is behind */
};
TAILQ_HEAD(subscription_list, subscription);

/* One client connection, as we count it (server.c says why it is needed). */
struct conn {
    TAILQ_ENTRY(conn) next;
    struct bufferevent *bev; /* we made it (bevcb) and hold a reference */
    int fd;                  /* -1 until its first request */
    int busy;                /* a request is being answered */
    double waiting_since;    /* ms: when it began waiting for a request head */
};
TAILQ_HEAD(conn_list, conn);

/* A small --docs file in memory (file_cache.c), and what it was on disk. */
struct cached_file {
    char *path; /* the key: the decoded path under DIR */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    const char *type;       /* its Content-Type */
    char last_modified[32]; /* its mtime as an HTTP date */
    char data[];            /* SIZE bytes */
};

struct stats {
    unsigned long requests, replies_503, denied, conns_total, sub_paused, sub_resumed, sub_messages,
        slow_cut, file_hits;
    long conns_now, streams_now;
    size_t sub_max_buffered; /* the most bytes a stream ever had unsent */
};

struct gateway {
    const struct options *opt;
    struct server srv; /* base, listener, signals: common/server.h */
    struct evhttp *http;
    int accepting_paused; /* at --max-conns */
    struct redis_link links[MAX_LINKS];
    int next_link;
    struct subscription_list streams;
    struct conn_list conns;
    struct conn **by_fd; /* conns by descriptor, for a request's lookup */
    int by_fd_size;
    struct event *sweep;
    struct stats stats;
    struct {
        time_t second;
        char text[32]; /* that second as an HTTP date */
    } date;
    int docs_fd; /* --docs DIR, opened once (static_files.c); -1 until then */
    struct cached_file *files[FILE_CACHE_SLOTS];
    int closing;
};

/* server.c */
int server_start(struct gateway *gw);
void server_stop(struct gateway *gw);
/* The request REQ has been read: mark its connection busy (no header deadline). */
void server_request_started(struct gateway *gw, struct evhttp_request *req);
/* evhttp_send_reply, then the reply written now rather than a loop turn later. */
void server_send_reply(struct evhttp_request *req, int code, const char *reason,
                       struct evbuffer *body);

/* api.c: evhttp's callback for every request. */
void api_handle(struct evhttp_request *req, void *gw);
/* A Redis reply R (NULL: the link broke) for the request P: reply and free P. */
void api_reply(struct gateway *gw, struct pending *p, const redisReply *r);
/* The CORS header every reply carries (api.c says which others go where). */
void api_common_headers(struct evhttp_request *req);
/* Date, formatted once a second rather than by evhttp for every reply. */
void api_date_header(struct gateway *gw, struct evhttp_request *req);

/* redis_link.c */
int links_start(struct gateway *gw);
void links_stop(struct gateway *gw);
/* Send CMD for REQ on a link that is up: 0, or -1 when none is (reply 503). */
int links_send(struct gateway *gw, const struct command *cmd, struct evhttp_request *req);
/* CMD as RESP ("*2\r\n$3\r\nGET\r\n...") at the end of OUT: 0, or -1 (out of memory). */
int resp_encode(struct evbuffer *out, const struct command *cmd);
/* A new nonblocking connection to Redis, or NULL (message printed). */
struct bufferevent *redis_connect(struct gateway *gw, bufferevent_data_cb readcb,
                                  bufferevent_event_cb eventcb, void *arg);

/* subscribe.c: takes CMD over (freed with the stream). */
void subscribe_start(struct gateway *gw, struct evhttp_request *req, struct command *cmd);
void subscribe_stop_all(struct gateway *gw);

/* static_files.c: 1 when PATH is under the docs prefix (and --docs is on). */
int static_wants(const struct gateway *gw, const char *path);
void static_serve(struct gateway *gw, struct evhttp_request *req);

/* file_cache.c: PATH's entry if the file there is still the one it holds, or NULL. */
const struct cached_file *file_cache_get(struct gateway *gw, const char *path);
/* Keep the file FD (opened for PATH, ST its fstat) if it is small enough:
 * its entry, or NULL (too big, out of memory, could not read it). */
const struct cached_file *file_cache_put(struct gateway *gw, const char *path, int fd,
                                         const struct stat *st, const char *type);
void file_cache_clear(struct gateway *gw);

#endif
