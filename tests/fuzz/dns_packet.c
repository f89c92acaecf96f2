/* fuzz-links: 10_dns/dns_packet.c */
/*
 * tests/fuzz/dns_packet.c — libFuzzer harness for chapter 10's DNS packet
 * reader (10_dns/dns_packet.c), the code that reads whatever anyone sends to
 * dns_server's UDP port.
 *
 * Properties, each a trap when broken (ASan/UBSan catch reads out of bounds):
 *   - dns_parse_query and dns_parse_reply return 0 or -1 on any bytes, and a
 *     pointer loop ends (DNS_MAX_POINTERS) instead of spinning;
 *   - a parsed query's name is at most DNS_MAX_NAME characters, and its
 *     question ends inside the packet;
 *   - a parsed query, written again with dns_write_query, parses to the same
 *     id, name and type (parse(write(parse(x))) == parse(x));
 *   - a reply begun from it (dns_reply_begin), and with one answer added, is a reply that
 * dns_parse_reply reads, with the same id and rcode — even when the query's name pointed at bytes
 * after its question (found by this harness: the reply once copied the question raw, pointer and
 * all). Run by `make fuzz` (tests/fuzz/fuzz.mk), or by hand:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Icommon tests/fuzz/dns_packet.c \
 *       10_dns/dns_packet.c -I10_dns -o /tmp/dns_packet && /tmp/dns_packet
 * tests/fuzz/corpus/dns_packet
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../10_dns/dns_packet.h"

static void check(int ok)
{
    if (!ok)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dns_query q, again;
    struct dns_reply reply;
    /* a copy of exactly SIZE bytes: ASan flags any read past them */
    uint8_t *msg = malloc(size ? size : 1);
    if (!msg)
        return 0;
    memcpy(msg, data, size);

    int rc = dns_parse_reply(msg, size, &reply);
    check(rc == 0 || rc == -1);
    if (rc == 0)
        check(reply.n_addrs >= 0 && reply.n_addrs <= DNS_MAX_ADDRS);

    rc = dns_parse_query(msg, size, &q);
    check(rc == 0 || rc == -1);
    if (rc == 0) {
        check(strlen(q.name) <= DNS_MAX_NAME && q.question_end <= size);
        uint8_t out[DNS_MAX_UDP];
        size_t len = dns_write_query(out, sizeof out, q.id, q.name, q.qtype);
        check(len > 0); /* any name we read, we can write */
        check(dns_parse_query(out, len, &again) == 0);
        check(again.id == q.id && again.qtype == q.qtype && strcmp(again.name, q.name) == 0);

        size_t rlen = dns_reply_begin(out, sizeof out, msg, &q, DNS_RCODE_NXDOMAIN);
        check(rlen > 0); /* a name we read always fits in a reply */
        check(dns_parse_reply(out, rlen, &reply) == 0);
        check(reply.id == q.id && reply.rcode == DNS_RCODE_NXDOMAIN && reply.n_addrs == 0);
        /* an answer for the question's own name (written as a pointer) */
        static const uint8_t addr[4] = {10, 0, 0, 1};
        rlen = dns_reply_add(out, sizeof out, rlen, q.name, DNS_TYPE_A, 60, addr, sizeof addr);
        check(rlen > 0);
        check(dns_parse_reply(out, rlen, &reply) == 0);
        check(reply.n_addrs == 1 && reply.family[0] == AF_INET &&
              memcmp(reply.addr[0], addr, 4) == 0);
    }
    free(msg);
    return 0;
}
