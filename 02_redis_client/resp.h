/*
 * 02_redis_client/resp.h — RESP, Redis's protocol, as redis-cli speaks it (a
 * part, linked into the chapter's programs): encoding commands from argument
 * lists or redis-cli-style input lines, and printing replies the way
 * redis-cli prints them. Nothing here touches the network or libevent's loop.
 */
#ifndef REDIS_CLIENT_RESP_H
#define REDIS_CLIENT_RESP_H

#include <stddef.h>

#include <event2/buffer.h>
#include <hiredis/hiredis.h>

/* A command's arguments: pointers into someone else's memory, with lengths
 * (an argument may hold any byte, NUL included). */
struct args {
    char **v;
    size_t *len;
    size_t count, cap;
};

/* Append one argument; exits with "prog: out of memory" if it cannot grow. */
void args_push(struct args *a, char *arg, size_t len);
void args_free(struct args *a);

/* Append the command to OUT as a RESP array of bulk strings. */
void encode_command(struct evbuffer *out, const struct args *a);

/* Read stdin to the end, one command per line (redis-cli's quoting rules),
 * and encode each into OUT. Returns the number of commands; a line with
 * unbalanced quotes exits 2 naming the line. */
long encode_stdin(struct evbuffer *out);

/* Print a reply like redis-cli: "OK", "(integer) 1", "(nil)", "\"text\"",
 * numbered array elements. RAW: bulk strings as their bytes, unquoted. */
void print_reply(const redisReply *r, int raw);

#endif
