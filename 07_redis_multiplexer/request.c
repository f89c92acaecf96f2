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
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Redis's own limits (networking.c): a line (inline request, "*N" or "$N")
 * must end within 64 KiB; an array of up to INT_MAX arguments; an argument of
 * up to 512 MiB (proto-max-bulk-len). Ours, --max-request, comes on top. */
#define INLINE_MAX (64 * 1024)
#define MAX_ARGS 2147483647LL
#define MAX_BULK (512LL * 1024 * 1024)
/* A number longer than this is no number to Redis (string2ll). */
#define NUMBER_CHARS_MAX 20

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
    rq->scanned = 0;
    rq->nul_seen = 0;
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

/* region: find-line-end */
/* Where the line starting at rq->off ends: the offset of its first `end` byte
 * ('\n' for an inline request, '\r' for "*N" and "$N"). Redis looks with
 * strchr, which stops at a NUL byte: a NUL before the end means the line never
 * ends, and, as for any line, past 64 KiB Redis gives up with too_big. Bytes
 * already looked at are not looked at again (rq->scanned). */
static enum request_status find_line_end(struct request *rq, struct evbuffer *in, char end,
                                         const char *too_big, size_t *at)
{
    size_t len = evbuffer_get_length(in), from = rq->off + rq->scanned;
    while (from < len && !rq->nul_seen) {
        struct evbuffer_ptr ptr;
        struct evbuffer_iovec chunk;
        if (evbuffer_ptr_set(in, &ptr, from, EVBUFFER_PTR_SET) != 0 ||
            evbuffer_peek(in, -1, &ptr, &chunk, 1) < 1)
            break;
        const char *p = chunk.iov_base;
        const char *hit = memchr(p, end, chunk.iov_len);
        size_t upto = hit ? (size_t)(hit - p) : chunk.iov_len;
        if (memchr(p, '\0', upto)) {
            rq->nul_seen = 1;
        } else if (hit) {
            *at = from + upto;
            rq->scanned = 0; /* for the next line */
            return REQUEST_READY;
        }
        from += chunk.iov_len;
    }
    rq->scanned = from - rq->off;
    if (len - rq->off > INLINE_MAX)
        return bad(rq, too_big);
    return REQUEST_INCOMPLETE;
}
/* endregion */

/* A number as Redis's string2ll reads it: [-]digits, no leading zero (but
 * "0"), no sign alone, nothing else, within a long long. */
static int parse_count(const char *text, size_t len, long long *value)
{
    size_t i = text[0] == '-' ? 1 : 0;
    if (len == 0 || len > NUMBER_CHARS_MAX || len == i)
        return -1;
    if (len == 1 && text[0] == '0') {
        *value = 0;
        return 0;
    }
    if (text[i] < '1' || text[i] > '9')
        return -1;
    unsigned long long v = 0;
    for (; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        unsigned digit = (unsigned)(text[i] - '0');
        if (v > (ULLONG_MAX - digit) / 10)
            return -1;
        v = v * 10 + digit;
    }
    if (text[0] == '-') {
        if (v > (unsigned long long)LLONG_MAX + 1)
            return -1;
        *value = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > LLONG_MAX)
            return -1;
        *value = (long long)v;
    }
    return 0;
}

/* The "*N" or "$N" line at rq->off, as Redis reads it: up to the first CR,
 * and one byte more (which Redis skips without looking: it should be LF).
 * Returns READY with *value and *line_len, or INCOMPLETE, or BAD. */
static enum request_status read_count_line(struct request *rq, struct evbuffer *in, char type,
                                           long long *value, size_t *line_len)
{
    size_t cr;
    enum request_status st =
        find_line_end(rq, in, '\r',
                      type == '*' ? "Protocol error: too big mbulk count string"
                                  : "Protocol error: too big bulk count string",
                      &cr);
    if (st != REQUEST_READY)
        return st;
    if (cr + 2 > evbuffer_get_length(in)) { /* the byte after CR: look again then */
        rq->scanned = cr - rq->off;
        return REQUEST_INCOMPLETE;
    }
    /* the type byte, a number, one byte more to tell it is longer; an empty
     * line's first byte is its CR */
    char line[NUMBER_CHARS_MAX + 2] = "\r";
    size_t want = cr - rq->off;
    size_t got =
        want == 0 ? 0 : copy_at(in, rq->off, line, want < sizeof line ? want : sizeof line);
    if (type == '$' && line[0] != '$') {
        char why[64]; /* Redis prints the byte as it is, CR and LF as spaces */
        char ch = line[0];
        if (ch == '\r' || ch == '\n')
            ch = ' ';
        snprintf(why, sizeof why, "Protocol error: expected '$', got '%c'", ch);
        return bad(rq, why);
    }
    if (got < 1 || parse_count(line + 1, got - 1, value) != 0 || got == sizeof line)
        return bad(rq, type == '*' ? "Protocol error: invalid multibulk length"
                                   : "Protocol error: invalid bulk length");
    *line_len = cr - rq->off + 2;
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
        if (len < 0 || len > MAX_BULK)
            return bad(rq, "Protocol error: invalid bulk length");
        if ((unsigned long long)len + rq->off + line_len + 2 > rq->max_size) {
            snprintf(rq->error, sizeof rq->error, "request larger than --max-request (%zu bytes)",
                     rq->max_size);
            return REQUEST_BAD;
        }
        rq->off += line_len;
        rq->bulk_len = len;
    }
    /* the value and two bytes more, which Redis skips without looking (CRLF) */
    size_t end = rq->off + (size_t)rq->bulk_len;
    if (evbuffer_get_length(in) < end + 2)
        return REQUEST_INCOMPLETE; /* the value is still arriving */
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

/* region: inline-word */
static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* What a backslash and the byte after it mean inside double quotes. */
static char escaped(char ch)
{
    switch (ch) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'b': return '\b';
    case 'a': return '\a';
    default: return ch; /* \" is ", \\ is \, \q is q */
    }
}

/* One inline argument starting at line[*r], split as Redis's sdssplitargs
 * splits it. Outside quotes a word ends at a space, tab, CR or LF, and a quote
 * starts a quoted part (a"b c" is the one word ab c). Inside "double quotes":
 * \xHH is a byte, \n \r \t \b \a as in C, a backslash before anything else
 * is that thing. Inside 'single quotes' only \' is an escape; every other
 * backslash stays. A closing quote must be followed by a blank or the end.
 * The bytes are written back at line[*w] (never ahead of *r). Returns the
 * word's length, or -1: unbalanced quotes. */
static long inline_word(char *line, size_t len, size_t *r, size_t *w)
{
    size_t start = *w;
    char quote = 0;
    while (*r < len) {
        char ch = line[*r];
        size_t left = len - *r - 1; /* bytes after ch */
        if (!quote) {
            if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
                break;
            (*r)++;
            if (ch == '"' || ch == '\'')
                quote = ch;
            else
                line[(*w)++] = ch;
        } else if (ch == quote) {
            (*r)++;
            if (left > 0 && !isspace((unsigned char)line[*r]))
                return -1;
            return (long)(*w - start);
        } else if (quote == '"' && ch == '\\' && left >= 3 && line[*r + 1] == 'x' &&
                   hex_value(line[*r + 2]) >= 0 && hex_value(line[*r + 3]) >= 0) {
            line[(*w)++] = (char)(hex_value(line[*r + 2]) * 16 + hex_value(line[*r + 3]));
            *r += 4;
        } else if (quote == '"' && ch == '\\' && left >= 1) {
            line[(*w)++] = escaped(line[*r + 1]);
            *r += 2;
        } else if (quote == '\'' && ch == '\\' && left >= 1 && line[*r + 1] == '\'') {
            line[(*w)++] = '\'';
            *r += 2;
        } else {
            line[(*w)++] = ch;
            (*r)++;
        }
    }
    return quote ? -1 : (long)(*w - start);
}
/* endregion */

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

/* An inline request: everything up to LF (a CR before it is dropped). */
static enum request_status parse_inline(struct request *rq, struct evbuffer *in)
{
    size_t lf;
    enum request_status st =
        find_line_end(rq, in, '\n', "Protocol error: too big inline request", &lf);
    if (st != REQUEST_READY)
        return st;
    if (!rq->resp && !(rq->resp = evbuffer_new()))
        return bad(rq, "out of memory");
    char *line = malloc(lf + 1);
    if (!line)
        return bad(rq, "out of memory");
    size_t len = lf;
    evbuffer_copyout(in, line, len);
    if (len > 0 && line[len - 1] == '\r')
        len--;
    rq->size = lf + 1;
    st = encode_inline(rq, line, len);
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
