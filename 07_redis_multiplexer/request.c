/*
 * 07_redis_multiplexer/request.c — a small request framer: RESP arrays and
 * inline lines, with limits. It only finds where a request ends and what its
 * first words are; the bytes of a RESP request go to Redis unchanged.
 *
 *   RESP:    *3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n   (what redis-cli sends)
 *   inline:  SET k v\r\n                                (what telnet and nc send)
 *
 * The framer keeps its place between calls (struct request), so a request
 * that arrives over many reads — a 5 MiB value comes in 4 KiB pieces — is
 * checked once, not rescanned from its start at every read.
 */
#include "request.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest "*N\r\n" or "$N\r\n" line we accept: a sign, 19 digits, CRLF. */
#define COUNT_LINE_MAX 24
/* Redis's own limits: an inline request up to 64 KiB, an array of up to
 * 1,048,576 arguments. */
#define INLINE_MAX (64 * 1024)
#define MAX_ARGS (1024 * 1024)

/* Commands that use or change the state of their connection. A client that
 * sends one gets a connection of its own (pinned.c). Sorted for bsearch. */
static const char *const own_connection_commands[] = {
    "ASKING",       "AUTH",      "BLMOVE",       "BLMPOP",   "BLPOP",       "BRPOP",
    "BRPOPLPUSH",   "BZMPOP",    "BZPOPMAX",     "BZPOPMIN", "CLIENT",      "DISCARD",
    "EXEC",         "HELLO",     "MONITOR",      "MULTI",    "PSUBSCRIBE",  "PSYNC",
    "PUNSUBSCRIBE", "READONLY",  "READWRITE",    "REPLCONF", "RESET",       "SELECT",
    "SSUBSCRIBE",   "SUBSCRIBE", "SUNSUBSCRIBE", "SYNC",     "UNSUBSCRIBE", "UNWATCH",
    "WAIT",         "WATCH",
};

void request_init(struct request *rq, size_t max_size)
{
    memset(rq, 0, sizeof *rq);
    rq->max_size = max_size;
    request_next(rq);
}

void request_release(struct request *rq)
{
    if (rq->resp)
        evbuffer_free(rq->resp);
    rq->resp = NULL;
}

void request_next(struct request *rq)
{
    rq->kind = 0;
    rq->nargs = -1;
    rq->argi = 0;
    rq->bulk_len = -1;
    rq->off = 0;
    rq->size = 0;
    rq->nwords = 0;
    if (rq->resp)
        evbuffer_drain(rq->resp, evbuffer_get_length(rq->resp));
}

static enum request_status bad(struct request *rq, const char *why)
{
    snprintf(rq->error, sizeof rq->error, "%s", why);
    return REQUEST_BAD;
}

/* Copy up to len bytes from offset off of in; returns how many were there. */
static size_t copy_at(struct evbuffer *in, size_t off, void *out, size_t len)
{
    struct evbuffer_ptr at;
    if (off >= evbuffer_get_length(in) || evbuffer_ptr_set(in, &at, off, EVBUFFER_PTR_SET) != 0)
        return 0;
    ev_ssize_t got = evbuffer_copyout_from(in, &at, out, len);
    return got > 0 ? (size_t)got : 0;
}

/* A whole decimal number, optionally negative, in text[0..len). */
static int parse_count(const char *text, size_t len, long long *value)
{
    size_t i = text[0] == '-' ? 1 : 0;
    if (len == i || len - i > 18)
        return -1;
    long long v = 0;
    for (; i < len; i++) {
        if (!isdigit((unsigned char)text[i]))
            return -1;
        v = v * 10 + (text[i] - '0');
    }
    *value = text[0] == '-' ? -v : v;
    return 0;
}

/* The "*N\r\n" or "$N\r\n" line at rq->off: *value and *line_len. */
static enum request_status read_count_line(struct request *rq, struct evbuffer *in, char type,
                                           long long *value, size_t *line_len)
{
    char line[COUNT_LINE_MAX];
    size_t got = copy_at(in, rq->off, line, sizeof line);
    if (got == 0)
        return REQUEST_INCOMPLETE;
    if (line[0] != type) {
        char why[64];
        snprintf(why, sizeof why, "Protocol error: expected '%c', got '%c'", type,
                 isprint((unsigned char)line[0]) ? line[0] : '?');
        return bad(rq, why);
    }
    const char *lf = memchr(line, '\n', got);
    if (!lf)
        return got == sizeof line ? bad(rq, "Protocol error: length line too long")
                                  : REQUEST_INCOMPLETE;
    if (lf - line < 3 || lf[-1] != '\r' ||
        parse_count(line + 1, (size_t)(lf - 1 - (line + 1)), value) != 0)
        return bad(rq, type == '*' ? "Protocol error: invalid multibulk length"
                                   : "Protocol error: invalid bulk length");
    *line_len = (size_t)(lf - line) + 1;
    return REQUEST_READY;
}

/* Keep argument number rq->argi (its bytes start at rq->off) if it is short. */
static void keep_word(struct request *rq, struct evbuffer *in)
{
    if (rq->argi >= REQUEST_WORDS)
        return;
    char *word = rq->words[rq->argi];
    size_t len = (size_t)rq->bulk_len;
    if (len > REQUEST_WORD_MAX)
        len = 0; /* too long to be a command name or BLOCK */
    copy_at(in, rq->off, word, len);
    word[len] = '\0';
    for (size_t i = 0; i < len; i++)
        word[i] = (char)toupper((unsigned char)word[i]);
    rq->nwords = (int)rq->argi + 1;
}

/* The "$N\r\n" line of the next argument, then its N bytes and CRLF. */
static enum request_status parse_argument(struct request *rq, struct evbuffer *in)
{
    if (rq->bulk_len < 0) {
        long long len;
        size_t line_len;
        enum request_status st = read_count_line(rq, in, '$', &len, &line_len);
        if (st != REQUEST_READY)
            return st;
        if (len < 0)
            return bad(rq, "Protocol error: invalid bulk length");
        if ((unsigned long long)len + rq->off + line_len + 2 > rq->max_size) {
            snprintf(rq->error, sizeof rq->error, "request larger than --max-request (%zu bytes)",
                     rq->max_size);
            return REQUEST_BAD;
        }
        rq->off += line_len;
        rq->bulk_len = len;
    }
    size_t end = rq->off + (size_t)rq->bulk_len;
    char crlf[2];
    if (copy_at(in, end, crlf, 2) < 2)
        return REQUEST_INCOMPLETE; /* the value is still arriving */
    if (crlf[0] != '\r' || crlf[1] != '\n')
        return bad(rq, "Protocol error: bulk string not followed by CRLF");
    keep_word(rq, in);
    rq->off = end + 2;
    rq->argi++;
    rq->bulk_len = -1;
    return REQUEST_READY;
}

static enum request_status parse_resp(struct request *rq, struct evbuffer *in)
{
    if (rq->nargs < 0) {
        size_t line_len;
        enum request_status st = read_count_line(rq, in, '*', &rq->nargs, &line_len);
        if (st != REQUEST_READY)
            return st;
        if (rq->nargs > MAX_ARGS)
            return bad(rq, "Protocol error: invalid multibulk length");
        rq->off = line_len;
        if (rq->nargs <= 0) { /* Redis ignores "*0" and "*-1" too */
            rq->size = rq->off;
            return REQUEST_EMPTY;
        }
    }
    while (rq->argi < rq->nargs) {
        enum request_status st = parse_argument(rq, in);
        if (st != REQUEST_READY)
            return st;
    }
    rq->size = rq->off;
    return REQUEST_READY;
}

/* One inline argument starting at line[*r]: unquoted, "double quoted" (with
 * \" \\ \n \r \t escapes) or 'single quoted'. Its bytes are written back at
 * line[*w] (never ahead of *r). Returns its length, or -1 for bad quotes. */
static long inline_word(char *line, size_t len, size_t *r, size_t *w)
{
    size_t start = *w;
    char quote = 0;
    if (line[*r] == '"' || line[*r] == '\'')
        quote = line[(*r)++];
    while (*r < len) {
        char ch = line[(*r)++];
        if (!quote && isspace((unsigned char)ch))
            return (long)(*w - start);
        if (quote && ch == quote) /* the closing quote must end the word */
            return (*r == len || isspace((unsigned char)line[*r])) ? (long)(*w - start) : -1;
        if (quote && ch == '\\' && *r < len) {
            ch = line[(*r)++];
            if (quote == '"' && ch == 'n')
                ch = '\n';
            else if (quote == '"' && ch == 'r')
                ch = '\r';
            else if (quote == '"' && ch == 't')
                ch = '\t';
        }
        line[(*w)++] = ch;
    }
    return quote ? -1 : (long)(*w - start);
}

/* Split an inline line into words and write them to rq->resp as one RESP
 * array: after this, a shared connection sees only RESP. */
static enum request_status encode_inline(struct request *rq, char *line, size_t len)
{
    size_t r = 0, w = 0, nargs = 0;
    struct evbuffer *words = evbuffer_new();
    if (!words)
        return bad(rq, "out of memory");
    while (r < len) {
        if (isspace((unsigned char)line[r])) {
            r++;
            continue;
        }
        size_t start = w;
        long n = inline_word(line, len, &r, &w);
        if (n < 0) {
            evbuffer_free(words);
            return bad(rq, "Protocol error: unbalanced quotes in request");
        }
        evbuffer_add_printf(words, "$%ld\r\n", n);
        evbuffer_add(words, line + start, (size_t)n);
        evbuffer_add(words, "\r\n", 2);
        if (nargs < REQUEST_WORDS) {
            size_t keep = (size_t)n <= REQUEST_WORD_MAX ? (size_t)n : 0;
            for (size_t i = 0; i < keep; i++)
                rq->words[nargs][i] = (char)toupper((unsigned char)line[start + i]);
            rq->words[nargs][keep] = '\0';
            rq->nwords = (int)nargs + 1;
        }
        nargs++;
    }
    if (nargs > 0) {
        evbuffer_add_printf(rq->resp, "*%zu\r\n", nargs);
        evbuffer_add_buffer(rq->resp, words);
    }
    evbuffer_free(words);
    return nargs > 0 ? REQUEST_READY : REQUEST_EMPTY;
}

static enum request_status parse_inline(struct request *rq, struct evbuffer *in)
{
    struct evbuffer_ptr from, eol;
    size_t eol_len;
    if (evbuffer_ptr_set(in, &from, rq->off, EVBUFFER_PTR_SET) != 0)
        return REQUEST_INCOMPLETE;
    eol = evbuffer_search_eol(in, &from, &eol_len, EVBUFFER_EOL_LF);
    if (eol.pos < 0) {
        rq->off = evbuffer_get_length(in); /* no newline so far: do not search these again */
        return rq->off > INLINE_MAX ? bad(rq, "Protocol error: too big inline request")
                                    : REQUEST_INCOMPLETE;
    }
    size_t len = (size_t)eol.pos;
    if (len > INLINE_MAX)
        return bad(rq, "Protocol error: too big inline request");
    if (!rq->resp && !(rq->resp = evbuffer_new()))
        return bad(rq, "out of memory");
    char *line = malloc(len + 1);
    if (!line)
        return bad(rq, "out of memory");
    evbuffer_copyout(in, line, len);
    if (len > 0 && line[len - 1] == '\r')
        len--;
    rq->size = (size_t)eol.pos + eol_len;
    enum request_status st = encode_inline(rq, line, len);
    free(line);
    return st;
}

enum request_status request_parse(struct request *rq, struct evbuffer *in)
{
    if (rq->kind == 0) {
        char first;
        if (copy_at(in, 0, &first, 1) == 0)
            return REQUEST_INCOMPLETE;
        rq->kind = first == '*' ? '*' : 'i'; /* Redis decides the same way */
    }
    return rq->kind == '*' ? parse_resp(rq, in) : parse_inline(rq, in);
}

int request_is_inline(const struct request *rq)
{
    return rq->kind == 'i';
}

int request_is(const struct request *rq, const char *command)
{
    return rq->nwords > 0 && strcmp(rq->words[0], command) == 0;
}

static int compare_names(const void *key, const void *entry)
{
    return strcmp(key, *(const char *const *)entry);
}

int request_needs_own_connection(const struct request *rq)
{
    if (rq->nwords == 0)
        return 0;
    if (bsearch(rq->words[0], own_connection_commands,
                sizeof own_connection_commands / sizeof own_connection_commands[0],
                sizeof own_connection_commands[0], compare_names))
        return 1;
    /* XREAD and XREADGROUP block only with a BLOCK option */
    if (request_is(rq, "XREAD") || request_is(rq, "XREADGROUP"))
        for (int i = 1; i < rq->nwords; i++)
            if (strcmp(rq->words[i], "BLOCK") == 0)
                return 1;
    return 0;
}
