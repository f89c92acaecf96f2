/*
 * 10_dns/dns_packet.h — DNS messages on the wire (RFC 1035), the little of
 * them chapter 10 needs: read a query, write a reply, write a query and read a
 * reply (resolve --blocking's own lookup). No libevent here: bytes in, bytes out,
 * so that tests/fuzz/dns_packet.c can throw anything at it.
 *
 * A message is a 12-byte header, then the question, then answer records:
 *
 *   id(2) flags(2) qdcount(2) ancount(2) nscount(2) arcount(2)
 *   question:  name  type(2) class(2)
 *   answer:    name  type(2) class(2) ttl(4) rdlength(2) rdata(rdlength)
 *
 * A name is a list of labels, each a length byte and that many bytes, ended by
 * a zero byte ("\5redis\10workbook\4test\0"); or, anywhere in the list, two
 * bytes 11xxxxxx xxxxxxxx that point back to where the rest of the name is
 * (compression). Every reader here checks each length against the end of the
 * packet and follows at most DNS_MAX_POINTERS pointers, so a pointer to
 * itself cannot make it loop.
 */
#ifndef WORKBOOK_DNS_PACKET_H
#define WORKBOOK_DNS_PACKET_H

#include <stddef.h>
#include <stdint.h>

#define DNS_HEADER_LEN 12
#define DNS_MAX_UDP 512     /* a classic DNS message over UDP, no EDNS */
#define DNS_MAX_NAME 253    /* "a.b.c" text, without the final dot */
#define DNS_MAX_LABEL 63    /* one label's length */
#define DNS_MAX_POINTERS 16 /* compression pointers followed in one name */
#define DNS_MAX_ADDRS 16    /* addresses dns_parse_reply keeps */

enum dns_type { DNS_TYPE_A = 1, DNS_TYPE_CNAME = 5, DNS_TYPE_AAAA = 28 };
#define DNS_CLASS_IN 1

enum dns_rcode {
    DNS_RCODE_NOERROR = 0,
    DNS_RCODE_FORMERR = 1,
    DNS_RCODE_SERVFAIL = 2,
    DNS_RCODE_NXDOMAIN = 3,
    DNS_RCODE_NOTIMP = 4,
    DNS_RCODE_REFUSED = 5
};

/* The flag bits of the header's second 16-bit word. */
#define DNS_FLAG_QR 0x8000     /* 1: a response */
#define DNS_OPCODE_MASK 0x7800 /* 0: a standard query */
#define DNS_FLAG_AA 0x0400     /* authoritative answer */
#define DNS_FLAG_TC 0x0200     /* truncated */
#define DNS_FLAG_RD 0x0100     /* recursion desired (copied into the reply) */
#define DNS_RCODE_MASK 0x000f

/* One question, as read from a query. */
struct dns_query {
    uint16_t id;
    uint16_t flags;
    char name[DNS_MAX_NAME + 1]; /* as sent: evdns randomises its letters' case */
    uint16_t qtype;
    uint16_t qclass;
    size_t question_end; /* where the question ended */
};

/* What dns_parse_reply found in a reply. */
struct dns_reply {
    uint16_t id;
    int rcode;
    int n_addrs;
    int family[DNS_MAX_ADDRS]; /* AF_INET or AF_INET6 */
    uint8_t addr[DNS_MAX_ADDRS][16];
};

/* Read the name at *pos into OUT (dotted text, at most DNS_MAX_NAME chars),
 * following compression pointers; *pos moves past the name as it appears at
 * *pos. 0, or -1 if it runs past LEN, is too long, or points in a loop. */
int dns_read_name(const uint8_t *msg, size_t len, size_t *pos, char out[DNS_MAX_NAME + 1]);

/* Read a query with exactly one question. 0, or -1: malformed (too short, a
 * response, a bad name, more or fewer than one question). */
int dns_parse_query(const uint8_t *msg, size_t len, struct dns_query *q);

/* Write NAME as labels at out[*pos]; 0, or -1 if it does not fit in CAP or
 * is not a valid name. */
int dns_write_name(uint8_t *out, size_t cap, size_t *pos, const char *name);

/* A query for NAME/QTYPE with ID, recursion desired. Its length, or 0. */
size_t dns_write_query(uint8_t *out, size_t cap, uint16_t id, const char *name, uint16_t qtype);

/* Start a reply to Q (read from the bytes QUERY): header (id, QR, AA, RD
 * copied, RCODE, one question, no answers yet) and Q's question. Returns its
 * length so far, or 0 if it does not fit. */
size_t dns_reply_begin(uint8_t *out, size_t cap, const uint8_t *query, const struct dns_query *q,
                       int rcode);

/* Append one answer record (NAME, TYPE, TTL, RDATA of RDLEN bytes; for a
 * CNAME, RDATA is the target's dotted text and RDLEN 0) and count it in the
 * header. A NAME that is the question's, letter for letter, is written as a
 * pointer to it (two bytes, c0 0c). The new length, or 0 if it does not fit (the reply is then left
 * as it was, with its TC flag set). */
size_t dns_reply_add(uint8_t *out, size_t cap, size_t len, const char *name, uint16_t type,
                     uint32_t ttl, const void *rdata, size_t rdlen);

/* Read a reply: its id, rcode and the A/AAAA addresses of its answers
 * (CNAME records are stepped over). 0, or -1: malformed. */
int dns_parse_reply(const uint8_t *msg, size_t len, struct dns_reply *r);

/* "NOERROR", "NXDOMAIN", ... ("rcode 9" for the rest, in a static buffer). */
const char *dns_rcode_name(int rcode);

#endif
