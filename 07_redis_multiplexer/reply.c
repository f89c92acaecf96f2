/*
 * 07_redis_multiplexer/reply.c — a small reply framer: every reply Redis can
 * send, RESP2 and RESP3, of any depth and size.
 *
 *   one line:      +OK\r\n  -ERR no\r\n  :42\r\n  _\r\n  #t\r\n  ,1.5\r\n  (12345\r\n
 *   length, bytes: $5\r\nhello\r\n  !3\r\nerr\r\n  =7\r\ntxt:abc\r\n
 *   aggregates:    *2 ~2 >2 (N elements)  %1 (N key-value pairs)  |1 (pairs, then the value)
 *
 * Why not hiredis's redisReader, as chapter 2: it copies every byte into its
 * own buffer, and hiredis 0.14.1 (Debian 12) refuses replies nested more than
 * 7 deep — COMMAND DOCS is 8 deep, and one refused reply took the shared
 * connection down for every client on it. Here an explicit stack says how
 * many elements each open aggregate is still owed, so depth costs 16 bytes a
 * level and nothing else; a bulk payload is skipped by its length, not read.
 *
 * Run it: it is part of mux; tests/fuzz/reply_framer.c checks it against
 * hiredis's reader. Watch for: a reply ends when the stack is empty again.
 */
#include "reply.h"

#include <stdlib.h>
#include <string.h>

/* What the next byte is. */
enum { AT_TYPE, IN_LINE, AT_LF, IN_BULK };
/* Digits in a length or count: more than any reply Redis can hold. */
#define NUMBER_DIGITS_MAX 18
#define STACK_FIRST_SIZE 8

void reply_framer_init(struct reply_framer *f)
{
    memset(f, 0, sizeof *f);
    reply_framer_reset(f);
}

void reply_framer_reset(struct reply_framer *f)
{
    f->state = AT_TYPE;
    f->depth = 0;
    f->error = NULL;
}

void reply_framer_free(struct reply_framer *f)
{
    free(f->stack);
    f->stack = NULL;
    f->cap = 0;
}

static enum reply_status bad(struct reply_framer *f, const char *why)
{
    f->error = why;
    return REPLY_BAD;
}

/* Lines that are a whole element: simple string, error, integer, null,
 * boolean, double, big number. */
static int is_plain_line(char type)
{
    return strchr("+-:_#,(", type) != NULL;
}

static int is_bulk(char type) /* bulk string, bulk error, verbatim string */
{
    return type == '$' || type == '!' || type == '=';
}

static int is_aggregate(char type) /* array, set, push, map, attribute */
{
    return type == '*' || type == '~' || type == '>' || type == '%' || type == '|';
}

/* region: element-done */
/* An element ended. Returns 1 if that completed the whole reply. */
static int element_done(struct reply_framer *f)
{
    f->state = AT_TYPE;
    while (f->depth > 0) {
        struct reply_level *top = &f->stack[f->depth - 1];
        if (--top->left > 0)
            return 0;
        f->depth--; /* the aggregate is complete: one element of its parent */
        if (top->attribute)
            return 0; /* ...except an attribute: the element it annotates follows */
    }
    return 1;
}
/* endregion */

static int push_level(struct reply_framer *f, long long elements, int attribute)
{
    if (f->depth == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : STACK_FIRST_SIZE;
        struct reply_level *stack = realloc(f->stack, cap * sizeof *stack);
        if (!stack)
            return -1;
        f->stack = stack;
        f->cap = cap;
    }
    f->stack[f->depth].left = elements;
    f->stack[f->depth].attribute = attribute;
    f->depth++;
    return 0;
}

/* The line of f->type ended (its CRLF read). Returns 1 if the reply is complete,
 * 0 if not, -1 if the line is bad (f->error). */
static int line_done(struct reply_framer *f)
{
    if (is_plain_line(f->type))
        return element_done(f);
    if (f->digits == 0)
        return f->error = "bad length or count in a reply", -1;
    long long n = f->negative ? -f->number : f->number;
    if (n < -1)
        return f->error = "negative length or count in a reply", -1;
    if (n == -1) /* RESP2's null bulk string and null array */
        return element_done(f);
    if (is_bulk(f->type)) {
        f->bulk_left = n + 2; /* the payload and its CRLF */
        f->state = IN_BULK;
        return 0;
    }
    if (n == 0) /* an empty aggregate is a whole element */
        return element_done(f);
    int pairs = f->type == '%' || f->type == '|';
    if (push_level(f, pairs ? 2 * n : n, f->type == '|') != 0)
        return f->error = "out of memory", -1;
    f->state = AT_TYPE;
    return 0;
}

/* region: reply-frame */
enum reply_status reply_frame(struct reply_framer *f, const char *p, size_t len, size_t *used)
{
    size_t i = 0;
    while (i < len) {
        switch (f->state) {
        case AT_TYPE:
            f->type = p[i++];
            if (!is_plain_line(f->type) && !is_bulk(f->type) && !is_aggregate(f->type))
                return bad(f, "unknown reply type");
            f->negative = f->digits = 0;
            f->number = 0;
            f->state = IN_LINE;
            break;
        case IN_LINE:
            if (is_plain_line(f->type)) { /* skip to the CR, without looking at the rest */
                const char *cr = memchr(p + i, '\r', len - i);
                if (!cr) {
                    i = len;
                    break;
                }
                i = (size_t)(cr - p) + 1;
                f->state = AT_LF;
                break;
            }
            /* a length or count: [-]digits */
            if (p[i] == '\r') {
                f->state = AT_LF;
            } else if (p[i] == '-' && f->digits == 0 && !f->negative) {
                f->negative = 1;
            } else if (p[i] >= '0' && p[i] <= '9' && f->digits < NUMBER_DIGITS_MAX) {
                f->number = f->number * 10 + (p[i] - '0');
                f->digits++;
            } else {
                return bad(f, "bad length or count in a reply");
            }
            i++;
            break;
        case AT_LF:
            if (p[i] != '\n') {
                if (!is_plain_line(f->type))
                    return bad(f, "length or count not followed by CRLF");
                /* a CR inside a simple line belongs to it */
                f->state = p[i] == '\r' ? AT_LF : IN_LINE;
                i++;
                break;
            }
            i++;
            switch (line_done(f)) {
            case 1: *used = i; return REPLY_COMPLETE;
            case -1: return REPLY_BAD;
            }
            break;
        case IN_BULK: { /* skipped by length: the payload is never looked at */
            size_t take = len - i;
            if ((unsigned long long)f->bulk_left < take)
                take = (size_t)f->bulk_left;
            i += take;
            f->bulk_left -= (long long)take;
            if (f->bulk_left == 0 && element_done(f)) {
                *used = i;
                return REPLY_COMPLETE;
            }
            break;
        }
        }
    }
    *used = len;
    return REPLY_PARTIAL;
}
/* endregion */
