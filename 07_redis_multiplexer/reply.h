/*
 * 07_redis_multiplexer/reply.h — framing Redis replies: where one reply ends
 * in the bytes a shared connection receives. Nothing is decoded or copied;
 * the bytes go to their client unchanged (upstream.c).
 *
 * The framer keeps its place between calls, like request.c: a 5 MiB value or
 * a reply nested 100 deep that arrives over many reads is looked at once.
 */
#ifndef REPLY_H
#define REPLY_H

#include <stddef.h>

enum reply_status {
    REPLY_PARTIAL,  /* every byte given was used: the reply goes on */
    REPLY_COMPLETE, /* a whole reply ended: *used says where */
    REPLY_BAD       /* not RESP: framer.error says why */
};

/* One aggregate still open: how many elements it is still owed. */
struct reply_level {
    long long left;
    int attribute; /* RESP3 "|": annotates the element after it, is not one */
};

struct reply_framer {
    int state;                 /* what the next byte is (reply.c) */
    char type;                 /* the type byte of the line being read */
    int negative;              /* the line's number: "-" seen */
    int digits;                /* the line's number: digits seen */
    long long number;          /* the line's number so far */
    long long bulk_left;       /* a bulk string's payload and CRLF still to skip */
    struct reply_level *stack; /* the open aggregates, outermost first */
    size_t depth, cap;
    const char *error; /* once REPLY_BAD */
};

void reply_framer_init(struct reply_framer *f);
/* Forget a half-read reply (the connection it came on is gone). */
void reply_framer_reset(struct reply_framer *f);
void reply_framer_free(struct reply_framer *f);
/* Read bytes p[0..len) of the stream. PARTIAL: all used, call again with the
 * next bytes. COMPLETE: a reply ended after the first *used bytes; call again
 * with the rest (the next reply). BAD: stop; the stream cannot be framed. */
enum reply_status reply_frame(struct reply_framer *f, const char *p, size_t len, size_t *used);

#endif
