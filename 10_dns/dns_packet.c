/*
 * 10_dns/dns_packet.c — reading and writing DNS messages (see dns_packet.h).
 *
 * The rule everywhere: before reading N bytes at POS, check POS + N <= LEN.
 * The peer is anyone who can send a UDP packet to the server, so every length
 * and pointer in a message is a claim to check, never a fact.
 */
#include "dns_packet.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define POINTER_BITS 0xc0 /* a length byte 11xxxxxx starts a pointer */

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* region: read-name */
int dns_read_name(const uint8_t *msg, size_t len, size_t *pos, char out[DNS_MAX_NAME + 1])
{
    size_t at = *pos, n = 0;
    int jumps = 0;
    for (;;) {
        if (at >= len)
            return -1; /* the name runs past the end of the packet */
        uint8_t label = msg[at];
        if ((label & POINTER_BITS) == POINTER_BITS) {
            if (at + 2 > len || ++jumps > DNS_MAX_POINTERS)
                return -1; /* cut short, or a loop of pointers */
            if (jumps == 1)
                *pos = at + 2; /* the name, as it appears here, ends after its pointer */
            at = (size_t)(get16(msg + at) & 0x3fff);
            continue;
        }
        if (label & POINTER_BITS)
            return -1; /* 01xxxxxx, 10xxxxxx: reserved label types */
        if (label == 0)
            break;
        if (at + 1 + label > len || n + (n > 0) + label > DNS_MAX_NAME)
            return -1;
        if (n > 0)
            out[n++] = '.';
        memcpy(out + n, msg + at + 1, label);
        for (size_t i = 0; i < label; i++)
            if (out[n + i] == '.' || out[n + i] == '\0')
                return -1; /* would not read back as the same labels */
        n += label;
        at += 1 + (size_t)label;
    }
    out[n] = '\0';
    if (jumps == 0)
        *pos = at + 1;
    return 0;
}
/* endregion */

int dns_parse_query(const uint8_t *msg, size_t len, struct dns_query *q)
{
    if (len < DNS_HEADER_LEN)
        return -1;
    q->id = get16(msg);
    q->flags = get16(msg + 2);
    if ((q->flags & DNS_FLAG_QR) || get16(msg + 4) != 1)
        return -1; /* a response, or not exactly one question */
    size_t pos = DNS_HEADER_LEN;
    if (dns_read_name(msg, len, &pos, q->name) != 0 || pos + 4 > len)
        return -1;
    q->qtype = get16(msg + pos);
    q->qclass = get16(msg + pos + 2);
    q->question_end = pos + 4;
    return 0;
}

int dns_write_name(uint8_t *out, size_t cap, size_t *pos, const char *name)
{
    size_t at = *pos, total = strlen(name);
    if (total > DNS_MAX_NAME)
        return -1;
    const char *label = name;
    while (*label) {
        const char *dot = strchr(label, '.');
        size_t n = dot ? (size_t)(dot - label) : strlen(label);
        if (n == 0 || n > DNS_MAX_LABEL || at + 1 + n > cap)
            return -1; /* "a..b", a label too long, or no room */
        out[at] = (uint8_t)n;
        memcpy(out + at + 1, label, n);
        at += 1 + n;
        label += n + (dot != NULL);
        if (dot && *label == '\0')
            break; /* a final dot: "name." */
    }
    if (at + 1 > cap)
        return -1;
    out[at++] = 0;
    *pos = at;
    return 0;
}

size_t dns_write_query(uint8_t *out, size_t cap, uint16_t id, const char *name, uint16_t qtype)
{
    if (cap < DNS_HEADER_LEN)
        return 0;
    memset(out, 0, DNS_HEADER_LEN);
    put16(out, id);
    put16(out + 2, DNS_FLAG_RD);
    put16(out + 4, 1);
    size_t pos = DNS_HEADER_LEN;
    if (dns_write_name(out, cap, &pos, name) != 0 || pos + 4 > cap)
        return 0;
    put16(out + pos, qtype);
    put16(out + pos + 2, DNS_CLASS_IN);
    return pos + 4;
}

/* region: reply-begin */
size_t dns_reply_begin(uint8_t *out, size_t cap, const uint8_t *query, const struct dns_query *q,
                       int rcode)
{
    if (cap < DNS_HEADER_LEN)
        return 0;
    memcpy(out, query, 4); /* the id; the flags are ours, below */
    uint16_t flags = DNS_FLAG_QR | DNS_FLAG_AA | (q->flags & (DNS_OPCODE_MASK | DNS_FLAG_RD));
    put16(out + 2, flags | (uint16_t)(rcode & DNS_RCODE_MASK));
    put16(out + 4, 1); /* the question, */
    put16(out + 6, 0); /* no answers yet, */
    put16(out + 8, 0);
    put16(out + 10, 0); /* and nothing else (the query's EDNS record is not copied) */
    /* The question is written again, not copied: its name may have used a
     * pointer to bytes after it, which the reply does not have. Same letters,
     * same case (evdns checks that the reply asks what it asked). */
    size_t len = DNS_HEADER_LEN;
    if (dns_write_name(out, cap, &len, q->name) != 0 || len + 4 > cap)
        return 0;
    put16(out + len, q->qtype);
    put16(out + len + 2, q->qclass);
    return len + 4;
}
/* endregion */

size_t dns_reply_add(uint8_t *out, size_t cap, size_t len, const char *name, uint16_t type,
                     uint32_t ttl, const void *rdata, size_t rdlen)
{
    size_t pos = len, at = DNS_HEADER_LEN;
    char question[DNS_MAX_NAME + 1];
    if (dns_read_name(out, len, &at, question) == 0 && strcmp(question, name) == 0) {
        if (pos + 2 > cap)
            goto full;
        put16(out + pos, 0xc000 | DNS_HEADER_LEN); /* compression: "the name at byte 12" */
        pos += 2;
    } else if (dns_write_name(out, cap, &pos, name) != 0) {
        goto full;
    }
    if (pos + 10 > cap)
        goto full;
    put16(out + pos, type);
    put16(out + pos + 2, DNS_CLASS_IN);
    put32(out + pos + 4, ttl);
    size_t rd = pos + 10;
    if (type == DNS_TYPE_CNAME) {
        if (dns_write_name(out, cap, &rd, rdata) != 0)
            goto full;
    } else {
        if (rd + rdlen > cap)
            goto full;
        memcpy(out + rd, rdata, rdlen);
        rd += rdlen;
    }
    put16(out + pos + 8, (uint16_t)(rd - pos - 10));
    put16(out + 6, (uint16_t)(get16(out + 6) + 1));
    return rd;
full:
    put16(out + 2, get16(out + 2) | DNS_FLAG_TC);
    return 0;
}

int dns_parse_reply(const uint8_t *msg, size_t len, struct dns_reply *r)
{
    char name[DNS_MAX_NAME + 1];
    if (len < DNS_HEADER_LEN)
        return -1;
    uint16_t flags = get16(msg + 2);
    if (!(flags & DNS_FLAG_QR))
        return -1;
    r->id = get16(msg);
    r->rcode = flags & DNS_RCODE_MASK;
    r->n_addrs = 0;
    size_t pos = DNS_HEADER_LEN;
    for (int i = get16(msg + 4); i > 0; i--) /* questions: name, type, class */
        if (dns_read_name(msg, len, &pos, name) != 0 || (pos += 4) > len)
            return -1;
    for (int i = get16(msg + 6); i > 0; i--) {
        if (dns_read_name(msg, len, &pos, name) != 0 || pos + 10 > len)
            return -1;
        uint16_t type = get16(msg + pos), rdlen = get16(msg + pos + 8);
        pos += 10;
        if (pos + rdlen > len)
            return -1;
        int family = type == DNS_TYPE_A && rdlen == 4       ? AF_INET
                     : type == DNS_TYPE_AAAA && rdlen == 16 ? AF_INET6
                                                            : 0;
        if (family && r->n_addrs < DNS_MAX_ADDRS) {
            r->family[r->n_addrs] = family;
            memcpy(r->addr[r->n_addrs++], msg + pos, rdlen);
        }
        pos += rdlen;
    }
    return 0;
}

const char *dns_rcode_name(int rcode)
{
    static const char *const names[] = {"NOERROR",  "FORMERR", "SERVFAIL",
                                        "NXDOMAIN", "NOTIMP",  "REFUSED"};
    static char other[16];
    if (rcode >= 0 && rcode < (int)(sizeof names / sizeof names[0]))
        return names[rcode];
    snprintf(other, sizeof other, "rcode %d", rcode);
    return other;
}
