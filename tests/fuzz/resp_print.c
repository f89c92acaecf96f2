/* fuzz-links: 02_redis_client/resp.c common/common.c */
/* fuzz-pkgs: hiredis */
/*
 * tests/fuzz/resp_print.c — chapter 2's RESP encoding and reply printing
 * (resp.c) under libFuzzer: `make fuzz` (scripts/ci/fuzz.sh) builds and runs it.
 *
 * The first byte picks what the rest is:
 *   even: a command's arguments (each: a length byte, then that many bytes).
 *         encode_command's RESP, read back by hiredis's reader, must be an
 *         array of exactly those arguments, byte for byte.
 *   odd:  bytes from a server. Every reply hiredis reads from them is printed
 *         both ways: never a crash, and a bulk string's quoted form, read
 *         back with redis-cli's escapes, is the string's bytes exactly; its
 *         raw form is the bytes and a newline.
 * Watch for: a failing input is saved by libFuzzer; run the binary on it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "../../02_redis_client/resp.h"

/* What print_reply wrote while stdout pointed at a memory stream. */
static char *printed(const redisReply *r, int raw, size_t *len)
{
    char *text = NULL;
    FILE *mem = open_memstream(&text, len);
    if (!mem)
        abort();
    FILE *real = stdout;
    stdout = mem;
    print_reply(r, raw);
    stdout = real;
    fclose(mem);
    return text;
}

static int hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Read back "quoted\n" as printed for a bulk string: its bytes into out. */
static size_t unquote(const char *s, size_t len, char *out)
{
    if (len < 3 || s[0] != '"' || s[len - 2] != '"' || s[len - 1] != '\n')
        __builtin_trap();
    size_t n = 0;
    for (size_t i = 1; i < len - 2; i++) {
        if (s[i] != '\\') {
            out[n++] = s[i];
            continue;
        }
        char e = s[++i];
        switch (e) {
        case '\\': out[n++] = '\\'; break;
        case '"': out[n++] = '"'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'a': out[n++] = '\a'; break;
        case 'b': out[n++] = '\b'; break;
        case 'x':
            if (i + 2 >= len - 2 || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0)
                __builtin_trap();
            out[n++] = (char)(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
            break;
        default: __builtin_trap(); /* an escape redis-cli would not read */
        }
    }
    return n;
}

static void check_printing(const redisReply *r)
{
    size_t len, raw_len;
    char *quoted = printed(r, 0, &len);
    char *raw = printed(r, 1, &raw_len);
    if (r->type == REDIS_REPLY_STRING) {
        char *back = malloc(len + 1);
        if (!back)
            abort();
        size_t n = unquote(quoted, len, back);
        if (n != r->len || (n > 0 && memcmp(back, r->str, n) != 0))
            __builtin_trap(); /* the quoted form is the bytes */
        if (raw_len != r->len + 1 || memcmp(raw, r->str, r->len) != 0 || raw[r->len] != '\n')
            __builtin_trap(); /* the raw form is the bytes */
        free(back);
    }
    free(quoted);
    free(raw);
}

static void encoding(const uint8_t *data, size_t size)
{
    struct args a = {0};
    size_t i = 0;
    while (i < size) {
        size_t n = data[i++];
        if (n > size - i)
            n = size - i;
        args_push(&a, (char *)data + i, n);
        i += n;
    }
    struct evbuffer *out = evbuffer_new();
    if (!out)
        abort();
    encode_command(out, &a);
    size_t len = evbuffer_get_length(out);
    redisReader *rd = redisReaderCreate();
    void *reply = NULL;
    if (!rd || redisReaderFeed(rd, (char *)evbuffer_pullup(out, -1), len) != REDIS_OK ||
        redisReaderGetReply(rd, &reply) != REDIS_OK)
        abort();
    redisReply *r = reply;
    /* an empty command is "*0": hiredis reads an empty array */
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != a.count)
        __builtin_trap();
    for (size_t k = 0; k < a.count; k++) {
        redisReply *e = r->element[k];
        if (e->type != REDIS_REPLY_STRING || e->len != a.len[k] ||
            (e->len > 0 && memcmp(e->str, a.v[k], e->len) != 0))
            __builtin_trap(); /* each argument, byte for byte */
    }
    if (rd->pos != rd->len)
        __builtin_trap(); /* nothing after the command */
    freeReplyObject(r);
    redisReaderFree(rd);
    evbuffer_free(out);
    args_free(&a);
}

static void printing(const uint8_t *data, size_t size)
{
    redisReader *rd = redisReaderCreate();
    if (!rd)
        abort();
    if (size > 0 && redisReaderFeed(rd, (const char *)data, size) != REDIS_OK)
        abort();
    void *reply;
    while (redisReaderGetReply(rd, &reply) == REDIS_OK && reply) {
        check_printing(reply);
        freeReplyObject(reply);
    }
    redisReaderFree(rd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] % 2 == 0)
        encoding(data + 1, size - 1);
    else
        printing(data + 1, size - 1);
    return 0;
}
