/*
 * 10_dns/resolve.h — what resolve's command line asked for (resolve_options.c
 * reads it; resolve.c does the lookups).
 */
#ifndef WORKBOOK_RESOLVE_H
#define WORKBOOK_RESOLVE_H

#include <netinet/in.h>

#include "names.h"

#define DEFAULT_TIMEOUT_S "5" /* evdns's own default */
#define DEFAULT_TIMEOUT_MS 5000.0
#define DEFAULT_ATTEMPTS 3
#define DEFAULT_INFLIGHT 64 /* evdns's own default */

enum mode { CONCURRENT, SERIAL, BLOCKING };

struct options {
    const char *server; /* "127.0.0.1:5310" */
    struct sockaddr_in server_addr;
    const char *timeout_s; /* as evdns's "timeout:" option takes it: "0.5" */
    double timeout_ms;     /* the same, as a number */
    long attempts, max_inflight;
    enum mode mode;
    int quiet;
    struct names names;
};

/* Fill O from the command line; a bad one exits 2 (usage_error). */
void parse_args(int argc, char **argv, struct options *o);

#endif
