/*
 * 10_dns/blocking.h — one DNS lookup the old way: send a query, then wait in
 * poll() for the reply. What getaddrinfo() does inside, against the server we
 * name (the C library's resolver reads /etc/resolv.conf; ours takes an address).
 * resolve --blocking calls it from inside a callback to show what that costs.
 */
#ifndef WORKBOOK_BLOCKING_H
#define WORKBOOK_BLOCKING_H

#include <netinet/in.h>

#include "dns_packet.h"

enum blocking_result {
    BLOCKING_ANSWER,
    BLOCKING_NXDOMAIN,
    BLOCKING_FAILED,  /* the server answered another rcode (SERVFAIL, REFUSED) */
    BLOCKING_TIMEOUT, /* no reply within TIMEOUT_MS, ATTEMPTS times */
    BLOCKING_REFUSED  /* the port is closed: the kernel said so (ICMP) */
};

/* Ask SERVER for NAME's A records; wait up to TIMEOUT_MS for each of ATTEMPTS
 * tries. REPLY gets what came back (its addresses when BLOCKING_ANSWER). */
enum blocking_result blocking_lookup(const struct sockaddr_in *server, const char *name,
                                     long timeout_ms, int attempts, struct dns_reply *reply);

#endif
