/*
 * 08_http_gateway/reply.h — a Redis reply written as webdis writes it:
 * JSON ({"GET":"v"}, {"SET":[true,"OK"]}, errors as [false,"ERR ..."]),
 * text (the bare value) or raw (RESP again).
 */
#ifndef GATEWAY_REPLY_H
#define GATEWAY_REPLY_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "command.h"

struct evbuffer;

/* What to send: a status and, for 200, a body. */
enum reply_status {
    REPLY_OK = 200,       /* body written to OUT */
    REPLY_NOT_FOUND = 404 /* a typed suffix (.txt, ...) on a nil reply: no body */
};

/* Write R, the reply to the command named VERB (VERB_LEN bytes, as the client
 * spelled it), into OUT in FORMAT. */
enum reply_status reply_write(struct evbuffer *out, const redisReply *r, const char *verb,
                              size_t verb_len, enum reply_format format);

/* 1 when S (LEN bytes) is valid UTF-8 as jansson checks it (webdis drops a
 * string that is not: {"GET":...} becomes {}). */
int utf8_valid(const char *s, size_t len);

#endif
