/*
 * 02_redis_client/resp.c — RESP encoding and redis-cli-style printing; see
 * resp.h.
 */
#include "resp.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "common.h"

#define ARGS_FIRST_CAP 8

void args_push(struct args *a, char *arg, size_t len)
{
    if (a->count == a->cap) {
        a->cap = a->cap ? 2 * a->cap : ARGS_FIRST_CAP;
        a->v = realloc(a->v, a->cap * sizeof *a->v);
        a->len = realloc(a->len, a->cap * sizeof *a->len);
        if (!a->v || !a->len) {
            warnx_msg("cannot hold %zu arguments: out of memory", a->cap);
            exit(EXIT_RUNTIME);
        }
    }
    a->v[a->count] = arg;
    a->len[a->count] = len;
    a->count++;
}

void args_free(struct args *a)
{
    free(a->v);
    free(a->len);
    *a = (struct args){0};
}

/* A command is an array of bulk strings: "*<count>\r\n" then "$<len>\r\n<bytes>\r\n"
 * per argument. Lengths in front make it binary-safe: any byte may appear. */
void encode_command(struct evbuffer *out, const struct args *a)
{
    evbuffer_add_printf(out, "*%zu\r\n", a->count);
    for (size_t i = 0; i < a->count; i++) {
        evbuffer_add_printf(out, "$%zu\r\n", a->len[i]);
        evbuffer_add(out, a->v[i], a->len[i]);
        evbuffer_add(out, "\r\n", 2);
    }
}

/* ---- splitting an input line the way redis-cli does ------------------------ */

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* One escape inside "double quotes", P just past the backslash: write the byte
 * it stands for at *W. Returns how many input bytes it used. */
static int unescape(const char *p, char **w)
{
    switch (*p) {
    case 'n': *(*w)++ = '\n'; return 1;
    case 'r': *(*w)++ = '\r'; return 1;
    case 't': *(*w)++ = '\t'; return 1;
    case 'x': {
        int hi = hex_value((unsigned char)p[1]);
        int lo = hi < 0 ? -1 : hex_value((unsigned char)p[2]);
        if (lo < 0) {
            *(*w)++ = 'x'; /* not two hex digits: a plain x, as redis-cli does */
            return 1;
        }
        *(*w)++ = (char)(hi * 16 + lo);
        return 3;
    }
    default: *(*w)++ = *p; return 1;
    }
}

/* One word starting at *PP, unquoted in place; *PP ends past it. Returns its
 * length, or -1 on unbalanced quotes. */
static long split_word(char **pp)
{
    char *p = *pp, *start = p, *w = p;
    char quote = '\0';
    if (*p == '"' || *p == '\'')
        quote = *p++;
    for (;;) {
        if (!*p) {
            if (quote)
                return -1; /* the closing quote never came */
            break;
        }
        if (quote && *p == quote) {
            p++;
            if (*p && !isspace((unsigned char)*p))
                return -1; /* a closing quote must be followed by a blank */
            break;
        }
        if (!quote && isspace((unsigned char)*p))
            break;
        if (quote == '"' && *p == '\\' && p[1]) {
            p += 1 + unescape(p + 1, &w);
            continue;
        }
        if (quote == '\'' && *p == '\\' && p[1] == '\'')
            p++;
        *w++ = *p++;
    }
    *pp = p;
    return w - start;
}

/* Split one --pipe line into arguments, in place, the way redis-cli reads
 * its input: words split on blanks; "double quotes" group words and know the
 * escapes \n \r \t \" \\ \xHH (so NUL is "\x00"); 'single quotes' know only \'.
 * Returns 0, or -1 on unbalanced quotes. */
static int split_line(char *p, struct args *a)
{
    for (;;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            return 0;
        char *start = p;
        long len = split_word(&p);
        if (len < 0)
            return -1;
        int at_end = (*p == '\0');
        args_push(a, start, (size_t)len);
        if (at_end)
            return 0;
        p++; /* past the blank that ended the word */
    }
}

long encode_stdin(struct evbuffer *out)
{
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0, commands = 0;
    struct args a = {0};
    while (getline(&line, &cap, stdin) != -1) {
        lineno++;
        a.count = 0;
        if (split_line(line, &a) != 0) {
            warnx_msg("stdin line %ld: unbalanced quotes", lineno);
            exit(EXIT_USAGE);
        }
        if (a.count == 0)
            continue; /* blank line */
        encode_command(out, &a);
        commands++;
    }
    free(line);
    args_free(&a);
    return commands;
}

/* ---- printing replies the way redis-cli does ------------------------------- */

static void print_quoted(const char *s, size_t len)
{
    putchar('"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '\\': fputs("\\\\", stdout); break;
        case '"': fputs("\\\"", stdout); break;
        case '\n': fputs("\\n", stdout); break;
        case '\r': fputs("\\r", stdout); break;
        case '\t': fputs("\\t", stdout); break;
        case '\a': fputs("\\a", stdout); break;
        case '\b': fputs("\\b", stdout); break;
        default:
            if (isprint(c))
                putchar(c);
            else
                printf("\\x%02x", c);
        }
    }
    putchar('"');
}

/* indent: the spaces that line up nested array elements under their parent */
static void print_indented(const redisReply *r, int raw, int indent)
{
    switch (r->type) {
    case REDIS_REPLY_STATUS: printf("%s\n", r->str); break;
    case REDIS_REPLY_ERROR: printf("(error) %s\n", r->str); break;
    case REDIS_REPLY_INTEGER: printf("(integer) %lld\n", r->integer); break;
    case REDIS_REPLY_NIL: printf("(nil)\n"); break;
    case REDIS_REPLY_STRING:
        if (raw)
            fwrite(r->str, 1, r->len, stdout);
        else
            print_quoted(r->str, r->len);
        putchar('\n');
        break;
    case REDIS_REPLY_ARRAY:
        if (r->elements == 0) {
            printf("(empty array)\n");
            break;
        }
        int width = snprintf(NULL, 0, "%zu", r->elements);
        for (size_t i = 0; i < r->elements; i++) {
            if (i > 0)
                printf("%*s", indent, "");
            printf("%*zu) ", width, i + 1);
            print_indented(r->element[i], raw, indent + width + 2);
        }
        break;
    default: printf("(unknown reply type %d)\n", r->type);
    }
}

void print_reply(const redisReply *r, int raw)
{
    print_indented(r, raw, 0);
}
