/*
 * 10_dns/zone.c — reading a zone file (see zone.h for its format).
 */
#include "zone.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"

#define LINE_MAX_LEN 1024

/* Fill R's type and data from TYPE and VALUE; 0, or -1 with WHY set. */
static int parse_record(struct zone_record *r, const char *type, const char *value,
                        const char **why)
{
    if (strcasecmp(type, "A") == 0) {
        r->type = DNS_TYPE_A;
        *why = "not an IPv4 address";
        return value && inet_pton(AF_INET, value, r->addr) == 1 ? 0 : -1;
    }
    if (strcasecmp(type, "AAAA") == 0) {
        r->type = DNS_TYPE_AAAA;
        *why = "not an IPv6 address";
        return value && inet_pton(AF_INET6, value, r->addr) == 1 ? 0 : -1;
    }
    if (strcasecmp(type, "CNAME") == 0) {
        r->type = DNS_TYPE_CNAME;
        *why = "a CNAME needs a target name";
        if (!value || strlen(value) > DNS_MAX_NAME)
            return -1;
        snprintf(r->target, sizeof r->target, "%s", value);
        return 0;
    }
    if (strcasecmp(type, "SERVFAIL") == 0) {
        r->type = ZONE_TYPE_SERVFAIL;
        return 0;
    }
    *why = "the type is not A, AAAA, CNAME or SERVFAIL";
    return -1;
}

/* One line: 1 a record (added), 0 blank or comment, -1 wrong (printed). */
static int load_line(struct zone *zone, char *line, const char *file, int lineno)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    char *save = NULL;
    char *name = strtok_r(line, " \t\r\n", &save);
    if (!name)
        return 0;
    char *type = strtok_r(NULL, " \t\r\n", &save);
    char *value = strtok_r(NULL, " \t\r\n", &save);
    const char *why = "a line is: NAME TYPE VALUE";
    struct zone_record *r = calloc(1, sizeof *r);
    size_t n = strlen(name);
    if (n > 1 && name[n - 1] == '.')
        name[--n] = '\0'; /* "redis.workbook.test." is the same name */
    uint8_t scratch[DNS_MAX_NAME + 2];
    size_t pos = 0;
    if (!r) {
        why = "out of memory";
    } else if (!type || strtok_r(NULL, " \t\r\n", &save)) {
        /* why stays: too few or too many words */
    } else if (dns_write_name(scratch, sizeof scratch, &pos, name) != 0) {
        why = "not a valid DNS name";
    } else {
        snprintf(r->name, sizeof r->name, "%s", name);
        if (parse_record(r, type, value, &why) == 0) {
            STAILQ_INSERT_TAIL(zone, r, next);
            return 1;
        }
    }
    free(r);
    warnx_msg("%s:%d: %s", file, lineno, why);
    return -1;
}

int zone_load(struct zone *zone, const char *file)
{
    STAILQ_INIT(zone);
    FILE *f = fopen(file, "r");
    if (!f) {
        warnx_msg("cannot read the zone file %s: %m", file);
        return -1;
    }
    char line[LINE_MAX_LEN];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        if (load_line(zone, line, file, lineno) < 0)
            rc = -1;
    }
    fclose(f);
    if (rc == 0 && STAILQ_EMPTY(zone)) {
        warnx_msg("%s: no records in the zone file", file);
        rc = -1;
    }
    if (rc != 0)
        zone_free(zone);
    return rc;
}

void zone_free(struct zone *zone)
{
    while (!STAILQ_EMPTY(zone)) {
        struct zone_record *r = STAILQ_FIRST(zone);
        STAILQ_REMOVE_HEAD(zone, next);
        free(r);
    }
}

int zone_count(const struct zone *zone)
{
    int n = 0;
    const struct zone_record *r;
    for (r = STAILQ_FIRST(zone); r; r = STAILQ_NEXT(r, next))
        n++;
    return n;
}

const struct zone_record *zone_find(const struct zone *zone, const char *name, uint16_t type)
{
    const struct zone_record *r;
    for (r = STAILQ_FIRST(zone); r; r = STAILQ_NEXT(r, next))
        if (strcasecmp(r->name, name) == 0 && (type == 0xffff || r->type == type))
            return r;
    return NULL;
}
