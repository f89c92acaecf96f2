/* fuzz-links: 07_redis_multiplexer/reply.c */
/* fuzz-pkgs: hiredis */
/*
 * tests/fuzz/reply_framer.c — chapter 7's reply framer (reply.c) under
 * libFuzzer: `make fuzz` (scripts/ci/fuzz.sh) builds and runs it.
 *
 * Two properties, on any bytes:
 *   1. Split anywhere, framed the same: the reply ends and the verdict found
 *      when the stream comes in one piece are found when it comes in pieces
 *      cut at points chosen from the input itself.
 *   2. It agrees with hiredis's redisReader on every reply hiredis accepts:
 *      for each reply hiredis reads, the framer ends a reply at the same
 *      byte. Where hiredis stops (a RESP3 type hiredis 0.14.1 does not know,
 *      its depth limit, a bad type byte) the comparison stops. One deliberate
 *      difference: hiredis 0.14.1 reads a length loosely ("$abc" is a null
 *      to it; Redis never sends such a thing), the framer refuses any length
 *      that is not [-]digits; there, too, the comparison stops.
 * Watch for: a failing input is saved by libFuzzer; run the binary on it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "../../07_redis_multiplexer/reply.h"

#define MAX_ENDS 4096

/* Frame data[0..size) given in pieces ending at cuts[] (the last is size):
 * the reply ends in ends[], the verdict returned. */
static enum reply_status frame(const uint8_t *data, size_t size, const size_t *cuts, size_t ncuts,
                               size_t *ends, size_t *nends, const char **why)
{
    struct reply_framer f;
    reply_framer_init(&f);
    enum reply_status st = REPLY_PARTIAL;
    size_t from = 0;
    *nends = 0;
    for (size_t c = 0; c < ncuts && st != REPLY_BAD; c++) {
        size_t to = cuts[c];
        while (from < to) {
            size_t used;
            st = reply_frame(&f, (const char *)data + from, to - from, &used);
            if (st == REPLY_BAD)
                break;
            if (used == 0 || used > to - from)
                __builtin_trap(); /* must always make progress, within what it was given */
            from += used;
            if (st == REPLY_COMPLETE && *nends < MAX_ENDS)
                ends[(*nends)++] = from;
        }
    }
    *why = f.error;
    reply_framer_free(&f);
    return st == REPLY_BAD ? REPLY_BAD : REPLY_PARTIAL;
}

/* The ends of the replies hiredis reads from data in one piece. */
static size_t hiredis_ends(const uint8_t *data, size_t size, size_t *ends)
{
    redisReader *r = redisReaderCreateWithFunctions(NULL);
    if (!r)
        abort();
    size_t n = 0;
    if (size > 0 && redisReaderFeed(r, (const char *)data, size) != REDIS_OK)
        abort();
    void *reply;
    while (n < MAX_ENDS && redisReaderGetReply(r, &reply) == REDIS_OK && reply)
        ends[n++] = size - (r->len - r->pos);
    redisReaderFree(r);
    return n;
}

static int is_number_complaint(const char *why)
{
    return why && (strstr(why, "length") || strstr(why, "count"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static size_t ends1[MAX_ENDS], ends2[MAX_ENDS], ends_h[MAX_ENDS];
    size_t n1, n2;
    const char *why1, *why2;

    size_t whole[1] = {size};
    enum reply_status st1 = frame(data, size, whole, 1, ends1, &n1, &why1);

    /* cuts chosen from the bytes themselves: deterministic for an input */
    size_t cuts[64], ncuts = 0, at = 0;
    unsigned seed = 2166136261u;
    for (size_t i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 16777619u;
    while (ncuts < 63 && at < size) {
        seed = seed * 1103515245u + 12345u;
        at += 1 + (seed >> 16) % 9;
        if (at < size)
            cuts[ncuts++] = at;
    }
    cuts[ncuts++] = size;
    enum reply_status st2 = frame(data, size, cuts, ncuts, ends2, &n2, &why2);
    if (st1 != st2 || n1 != n2 || memcmp(ends1, ends2, n1 * sizeof ends1[0]) != 0)
        __builtin_trap(); /* property 1 */

    size_t nh = hiredis_ends(data, size, ends_h);
    for (size_t i = 0; i < nh; i++) {
        if (i < n1) {
            if (ends1[i] != ends_h[i])
                __builtin_trap(); /* property 2: a different end */
            continue;
        }
        /* hiredis read reply i, the framer did not: allowed only if the
         * framer refused a length hiredis read loosely */
        if (!(st1 == REPLY_BAD && is_number_complaint(why1)))
            __builtin_trap(); /* property 2: a reply the framer missed */
        break;
    }
    return 0;
}
