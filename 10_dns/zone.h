/*
 * 10_dns/zone.h — the records dns_server answers from, read from a zone file.
 *
 * One record a line, `#` starts a comment:
 *     redis.workbook.test     A      127.0.0.1
 *     v6.workbook.test        AAAA   ::1
 *     www.workbook.test       CNAME  redis.workbook.test
 *     broken.workbook.test    SERVFAIL
 * SERVFAIL is not a record type: such a name is answered with rcode SERVFAIL,
 * to play a resolver whose upstream is broken. Names match without regard to
 * case ("REDIS.workbook.test" is the same name), as DNS says.
 */
#ifndef WORKBOOK_ZONE_H
#define WORKBOOK_ZONE_H

#include <stdint.h>
#include <sys/queue.h>

#include "dns_packet.h"

#define ZONE_TYPE_SERVFAIL 0 /* the pseudo-type above */
#define ZONE_MAX_CNAMES 8    /* CNAME steps followed for one answer */

struct zone_record {
    STAILQ_ENTRY(zone_record) next;
    char name[DNS_MAX_NAME + 1];
    uint16_t type;                 /* DNS_TYPE_A, _AAAA, _CNAME or ZONE_TYPE_SERVFAIL */
    uint8_t addr[16];              /* A: 4 bytes, AAAA: 16 */
    char target[DNS_MAX_NAME + 1]; /* CNAME */
};

STAILQ_HEAD(zone, zone_record);

/* Read FILE into ZONE (initialised here). 0, or -1 after printing
 * "prog: FILE:LINE: what is wrong" (the zone is then freed). */
int zone_load(struct zone *zone, const char *file);
void zone_free(struct zone *zone);
int zone_count(const struct zone *zone);

/* The first record named NAME (any case) of TYPE, or of any type if TYPE is
 * 0xffff; NULL if none. */
const struct zone_record *zone_find(const struct zone *zone, const char *name, uint16_t type);

#endif
