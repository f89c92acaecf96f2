/*
 * 08_http_gateway/reply.c — webdis's three reply formats, byte for byte
 * (its src/formats/json.c, custom-type.c and raw.c; gateway.bats compares our
 * bodies with webdis's own for the same requests on the same Redis).
 *
 * webdis builds its JSON with jansson, and jansson's habits are part of the
 * output: a string ends at its first NUL byte; a string that is not valid
 * UTF-8 cannot be made, so it is left out (an array loses the element, an
 * object the member); control characters become \n, \t or \u001B; nothing
 * else is escaped. Inside an array, strings, statuses and integers are kept, a
 * nested array is an array and a nil is null, as webdis 0.1.22 (Debian 13)
 * writes them; 0.1.9 (Debian 12) wrote null for a status or a nested array, a
 * bug later fixed. HGETALL's flat list becomes an object.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "reply.h"

/* ---- JSON ------------------------------------------------------------------ */

int utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        uint64_t eight;
        if (i + 8 <= len) { /* ASCII, the common case, eight bytes a test */
            memcpy(&eight, p + i, 8);
            if ((eight & 0x8080808080808080u) == 0) {
                i += 8;
                continue;
            }
        }
        unsigned c = p[i];
        size_t size;
        unsigned value;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            size = 2;
            value = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            size = 3;
            value = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            size = 4;
            value = c & 0x07;
        } else {
            return 0;
        }
        if (i + size > len)
            return 0;
        for (size_t k = 1; k < size; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return 0;
            value = (value << 6) | (p[i + k] & 0x3F);
        }
        if (value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF) ||
            (size == 3 && value < 0x800) || (size == 4 && value < 0x10000))
            return 0;
        i += size;
    }
    return 1;
}

/* A jansson string: up to the first NUL; 0 (nothing written) if not UTF-8. */
static int json_string(struct evbuffer *out, const char *s, size_t len)
{
    const char *nul = memchr(s, '\0', len);
    if (nul)
        len = (size_t)(nul - s);
    if (!utf8_valid(s, len))
        return 0;
    evbuffer_add(out, "\"", 1);
    size_t run = 0; /* bytes copied as they are, waiting to be added */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') { /* most bytes: kept as they are */
            run++;
            continue;
        }
        const char *esc = NULL;
        char code[8];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (c < 0x20) {
                snprintf(code, sizeof code, "\\u%04X", c);
                esc = code;
            }
        }
        if (!esc) {
            run++;
            continue;
        }
        evbuffer_add(out, s + i - run, run);
        run = 0;
        evbuffer_add(out, esc, strlen(esc));
    }
    evbuffer_add(out, s + len - run, run);
    evbuffer_add(out, "\"", 1);
    return 1;
}

/* A string jansson can make: valid UTF-8 up to its first NUL. */
static int json_can_string(const char *s, size_t len)
{
    const char *nul = memchr(s, '\0', len);
    return utf8_valid(s, nul ? (size_t)(nul - s) : len);
}

/* An element of an array is left out when jansson could not make it. */
static int json_element_kept(const redisReply *e)
{
    return e->type != REDIS_REPLY_STRING || json_can_string(e->str, e->len);
}

static void json_array(struct evbuffer *out, const redisReply *r);

/* One element of an array: strings, statuses and integers, and a nested array
 * as an array (webdis 0.1.22, Debian 13; 0.1.9 wrote null for a nested array
 * or a status, a bug it fixed); anything else (a nil) is null. */
static void json_element(struct evbuffer *out, const redisReply *e)
{
    switch (e->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS: json_string(out, e->str, e->len); break;
    case REDIS_REPLY_INTEGER: evbuffer_add_printf(out, "%lld", e->integer); break;
    case REDIS_REPLY_ARRAY: json_array(out, e); break;
    default: evbuffer_add(out, "null", 4);
    }
}

static void json_array(struct evbuffer *out, const redisReply *r)
{
    const char *sep = "";
    evbuffer_add(out, "[", 1);
    for (size_t i = 0; i < r->elements; i++) {
        if (!json_element_kept(r->element[i]))
            continue;
        evbuffer_add(out, sep, strlen(sep));
        json_element(out, r->element[i]);
        sep = ",";
    }
    evbuffer_add(out, "]", 1);
}

/* HGETALL's [k1, v1, k2, v2 ...] as {"k1":"v1",...}: only when the list has
 * pairs of strings; otherwise webdis writes it as an array. */
static int json_hgetall(struct evbuffer *out, const redisReply *r)
{
    if (r->elements % 2 != 0)
        return 0;
    for (size_t i = 0; i < r->elements; i++)
        if (r->element[i]->type != REDIS_REPLY_STRING)
            return 0;
    const char *sep = "";
    evbuffer_add(out, "{", 1);
    for (size_t i = 0; i < r->elements; i += 2) {
        const redisReply *k = r->element[i], *v = r->element[i + 1];
        if (!json_can_string(k->str, k->len) || !json_can_string(v->str, v->len))
            continue;
        evbuffer_add(out, sep, strlen(sep));
        json_string(out, k->str, k->len);
        evbuffer_add(out, ":", 1);
        json_string(out, v->str, v->len);
        sep = ",";
    }
    evbuffer_add(out, "}", 1);
    return 1;
}

/* INFO's "key:value\r\n" lines as an object, read as webdis reads them: a
 * key runs from the end of the last value to the next ':', section headers
 * ("# Server\r\n") and blank lines included. */
static void json_info(struct evbuffer *out, const char *s, size_t len)
{
    const char *nul = memchr(s, '\0', len);
    const char *p = s, *end = nul ? nul : s + len, *sep = "";
    evbuffer_add(out, "{", 1);
    while (p < end) {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        if (!colon)
            break;
        const char *value = colon + 1;
        const char *cr = memchr(value, '\r', (size_t)(end - value));
        if (!cr)
            break;
        if (json_can_string(p, (size_t)(colon - p)) &&
            json_can_string(value, (size_t)(cr - value))) {
            evbuffer_add(out, sep, strlen(sep));
            json_string(out, p, (size_t)(colon - p));
            evbuffer_add(out, ":", 1);
            json_string(out, value, (size_t)(cr - value));
            sep = ",";
        }
        p = cr + 1;
        if (p < end && *p == '\n')
            p++;
    }
    evbuffer_add(out, "}", 1);
}

/* region: json */
static void write_json(struct evbuffer *out, const redisReply *r, const char *verb, size_t verb_len)
{
    if (!json_can_string(verb, verb_len) ||
        (r->type == REDIS_REPLY_STRING && !json_can_string(r->str, r->len))) {
        evbuffer_add(out, "{}", 2); /* jansson could not make the member */
        return;
    }
    evbuffer_add(out, "{", 1);
    json_string(out, verb, verb_len);
    evbuffer_add(out, ":", 1);
    switch (r->type) {
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        if (r->type == REDIS_REPLY_ERROR)
            evbuffer_add(out, "[false", 6);
        else
            evbuffer_add(out, "[true", 5);
        if (json_can_string(r->str, r->len)) { /* else just [false]: jansson left it out */
            evbuffer_add(out, ",", 1);
            json_string(out, r->str, r->len);
        }
        evbuffer_add(out, "]", 1);
        break;
    case REDIS_REPLY_STRING:
        if (verb_len == 4 && strncasecmp(verb, "INFO", 4) == 0)
            json_info(out, r->str, r->len);
        else
            json_string(out, r->str, r->len);
        break;
    case REDIS_REPLY_INTEGER: evbuffer_add_printf(out, "%lld", r->integer); break;
    case REDIS_REPLY_ARRAY:
        if (!(verb_len == 7 && strncasecmp(verb, "HGETALL", 7) == 0 && json_hgetall(out, r)))
            json_array(out, r);
        break;
    default: evbuffer_add(out, "null", 4);
    }
    evbuffer_add(out, "}", 1);
}
/* endregion */

/* ---- text (.txt and the other typed suffixes) --------------------------------- */

static enum reply_status write_text(struct evbuffer *out, const redisReply *r)
{
    switch (r->type) {
    case REDIS_REPLY_NIL: return REPLY_NOT_FOUND;
    case REDIS_REPLY_STRING: evbuffer_add(out, r->str, r->len); break;
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        evbuffer_add(out, r->type == REDIS_REPLY_STATUS ? "+" : "-", 1);
        evbuffer_add(out, r->str, r->len);
        break;
    case REDIS_REPLY_INTEGER: evbuffer_add_printf(out, "%lld", r->integer); break;
    case REDIS_REPLY_ARRAY: /* the strings, end to end; nothing else */
        for (size_t i = 0; i < r->elements; i++)
            if (r->element[i]->type == REDIS_REPLY_STRING)
                evbuffer_add(out, r->element[i]->str, r->element[i]->len);
        break;
    default: break;
    }
    return REPLY_OK;
}

/* ---- raw: RESP written again (not the bytes Redis sent) ----------------------- */

static void write_raw(struct evbuffer *out, const redisReply *r)
{
    switch (r->type) {
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        evbuffer_add(out, r->type == REDIS_REPLY_STATUS ? "+" : "-", 1);
        evbuffer_add(out, r->str, r->len);
        evbuffer_add(out, "\r\n", 2);
        break;
    case REDIS_REPLY_STRING:
        evbuffer_add_printf(out, "$%zu\r\n", r->len);
        evbuffer_add(out, r->str, r->len);
        evbuffer_add(out, "\r\n", 2);
        break;
    case REDIS_REPLY_INTEGER: evbuffer_add_printf(out, ":%lld\r\n", r->integer); break;
    case REDIS_REPLY_ARRAY: /* the count of all, then only strings and integers, as bulk */
        evbuffer_add_printf(out, "*%zu\r\n", r->elements);
        for (size_t i = 0; i < r->elements; i++) {
            const redisReply *e = r->element[i];
            char digits[32];
            if (e->type == REDIS_REPLY_STRING) {
                evbuffer_add_printf(out, "$%zu\r\n", e->len);
                evbuffer_add(out, e->str, e->len);
                evbuffer_add(out, "\r\n", 2);
            } else if (e->type == REDIS_REPLY_INTEGER) {
                int n = snprintf(digits, sizeof digits, "%lld", e->integer);
                evbuffer_add_printf(out, "$%d\r\n%s\r\n", n, digits);
            }
        }
        break;
    default: evbuffer_add(out, "$-1\r\n", 5);
    }
}

enum reply_status reply_write(struct evbuffer *out, const redisReply *r, const char *verb,
                              size_t verb_len, enum reply_format format)
{
    switch (format) {
    case FORMAT_TEXT: return write_text(out, r);
    case FORMAT_RAW: write_raw(out, r); return REPLY_OK;
    default: write_json(out, r, verb, verb_len); return REPLY_OK;
    }
}
