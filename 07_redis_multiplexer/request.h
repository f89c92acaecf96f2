/*
 * 07_redis_multiplexer/request.h — framing Redis requests: where one request
 * ends in a client's byte stream, and which command it is.
 *
 * A byte relay (chapter 6) never needs to know this: each client has its own
 * connection, so Redis frames the requests itself. Sharing one connection
 * between many clients, we must send whole requests only — half a request
 * from one client followed by another client's bytes would be one garbled
 * request to Redis, and every later reply would go to the wrong client.
 */
#ifndef REQUEST_H
#define REQUEST_H

#include <stddef.h>

#include <event2/buffer.h>

/* The first few words of a request, upper-cased, are kept to classify it
 * (XREAD ... BLOCK needs more than the command name). */
#define REQUEST_WORDS 8
#define REQUEST_WORD_MAX 16

enum request_status {
    REQUEST_INCOMPLETE, /* wait for more bytes */
    REQUEST_READY,      /* one whole request is at the front of the input */
    REQUEST_EMPTY,      /* an empty line or "*0": drop req.size bytes, no reply */
    REQUEST_BAD         /* malformed or too big: req.error says why */
};

struct request {
    size_t max_size; /* --max-request */
    /* progress through the request at the front of the input */
    char kind;          /* 0 before its first byte, '*' for RESP, 'i' for inline */
    long long nargs;    /* RESP: arguments announced, -1 before the "*N" line */
    long long argi;     /* RESP: arguments complete */
    long long bulk_len; /* RESP: length of the argument being read, -1 before its "$N" line */
    size_t off;         /* bytes at the front of the input already checked */
    size_t scanned;     /* bytes of the line at off already searched for its end */
    int nul_seen;       /* that line has a NUL byte: Redis never finds its end */
    /* once READY (or EMPTY) */
    size_t size; /* the request's bytes at the front of the input */
    int nwords;
    char words[REQUEST_WORDS][REQUEST_WORD_MAX + 1]; /* "" for a longer word */
    struct evbuffer *resp; /* an inline request re-encoded as RESP (NULL until needed) */
    char error[96];        /* once BAD */
};

void request_init(struct request *rq, size_t max_size);
void request_release(struct request *rq);
/* Look at the front of in (nothing is removed); call again after more bytes
 * arrived. After READY or EMPTY the caller removes req.size bytes and calls
 * request_next. */
enum request_status request_parse(struct request *rq, struct evbuffer *in);
void request_next(struct request *rq);
int request_is_inline(const struct request *rq);
int request_is(const struct request *rq, const char *command);
/* Does this command change or use the state of its connection (a
 * transaction, a subscription, a blocking wait, the selected database)? */
int request_needs_own_connection(const struct request *rq);

#endif
