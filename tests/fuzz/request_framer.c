/* fuzz-links: 07_redis_multiplexer/request.c */
/*
 * tests/fuzz/request_framer.c — chapter 7's request framer (request.c) under
 * libFuzzer: `make fuzz` (scripts/ci/fuzz.sh) builds and runs it.
 *
 * Property: framing a client's byte stream in one piece gives the same
 * requests as framing it split at points chosen from the input — the same
 * sizes, the same first words, the same bytes for Redis (a RESP request's
 * own bytes, an inline one's RESP encoding), the same empty requests, the
 * same refusal with the same error — and a request never claims more bytes
 * than have arrived. That is what lets a 5 MiB value arrive in 4 KiB reads.
 * Watch for: a failing input is saved by libFuzzer; run the binary on it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "../../07_redis_multiplexer/request.h"

#define MAX_REQUEST (1024 * 1024)

static void record_request(struct evbuffer *log, const char *what, struct request *rq,
                           struct evbuffer *bytes, size_t n)
{
    evbuffer_add_printf(log, "%s %zu %d", what, rq->size, rq->nwords);
    for (int i = 0; i < rq->nwords; i++)
        evbuffer_add_printf(log, " [%s]", rq->words[i]);
    evbuffer_add_printf(log, " %zu:", n);
    if (n > 0)
        evbuffer_add(log, evbuffer_pullup(bytes, (ev_ssize_t)n), n);
    evbuffer_add(log, "\n", 1);
}

/* Frame data given in pieces ending at cuts[]; what was framed goes to log. */
static void frame(const uint8_t *data, const size_t *cuts, size_t ncuts, struct evbuffer *log)
{
    struct request rq;
    request_init(&rq, MAX_REQUEST);
    struct evbuffer *in = evbuffer_new();
    if (!in)
        abort();
    size_t from = 0;
    int stopped = 0;
    for (size_t c = 0; c < ncuts && !stopped; c++) {
        evbuffer_add(in, data + from, cuts[c] - from);
        from = cuts[c];
        for (;;) {
            enum request_status st = request_parse(&rq, in);
            if (st == REQUEST_INCOMPLETE)
                break;
            if (st == REQUEST_BAD) {
                evbuffer_add_printf(log, "BAD %s\n", rq.error);
                stopped = 1;
                break;
            }
            if (rq.size == 0 || rq.size > evbuffer_get_length(in))
                __builtin_trap(); /* a request of the bytes that have arrived */
            if (st == REQUEST_EMPTY)
                record_request(log, "EMPTY", &rq, in, 0);
            else if (request_is_inline(&rq))
                record_request(log, "INLINE", &rq, rq.resp, evbuffer_get_length(rq.resp));
            else
                record_request(log, "RESP", &rq, in, rq.size);
            evbuffer_drain(in, rq.size);
            request_next(&rq);
        }
    }
    request_release(&rq);
    evbuffer_free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct evbuffer *whole_log = evbuffer_new(), *split_log = evbuffer_new();
    if (!whole_log || !split_log)
        abort();
    size_t whole[1] = {size};
    frame(data, whole, 1, whole_log);

    size_t cuts[64], ncuts = 0, at = 0;
    unsigned seed = 2166136261u;
    for (size_t i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 16777619u;
    while (ncuts < 63 && at < size) {
        seed = seed * 1103515245u + 12345u;
        at += 1 + (seed >> 16) % 7;
        if (at < size)
            cuts[ncuts++] = at;
    }
    cuts[ncuts++] = size;
    frame(data, cuts, ncuts, split_log);

    size_t n = evbuffer_get_length(whole_log);
    if (n != evbuffer_get_length(split_log) ||
        (n > 0 && memcmp(evbuffer_pullup(whole_log, -1), evbuffer_pullup(split_log, -1), n) != 0))
        __builtin_trap(); /* the property */
    evbuffer_free(whole_log);
    evbuffer_free(split_log);
    return 0;
}
