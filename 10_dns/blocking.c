/*
 * 10_dns/blocking.c — a blocking DNS lookup over UDP (see blocking.h).
 *
 * The whole cost of this function is the poll() below: for as long as the
 * server takes to answer, the thread that called it — the event loop's, if a
 * callback called it — does nothing else.
 */
#include "blocking.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"

/* region: blocking-lookup */
enum blocking_result blocking_lookup(const struct sockaddr_in *server, const char *name,
                                     long timeout_ms, int attempts, struct dns_reply *reply)
{
    uint8_t query[DNS_MAX_UDP], in[DNS_MAX_UDP];
    uint16_t id = (uint16_t)random();
    size_t len = dns_write_query(query, sizeof query, id, name, DNS_TYPE_A);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (len == 0 || fd < 0) {
        if (fd >= 0)
            close(fd);
        return BLOCKING_FAILED;
    }
    /* connect: only this server's datagrams reach us, and a closed port is
     * reported (ECONNREFUSED) instead of waited for */
    enum blocking_result result = BLOCKING_TIMEOUT;
    if (connect(fd, (const struct sockaddr *)server, sizeof *server) != 0)
        attempts = 0;
    for (int i = 0; i < attempts && result == BLOCKING_TIMEOUT; i++) {
        if (send(fd, query, len, 0) < 0)
            break;
        double deadline = elapsed_ms() + (double)timeout_ms;
        for (;;) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            int wait_ms = (int)(deadline - elapsed_ms());
            if (wait_ms < 0 || poll(&p, 1, wait_ms) <= 0)
                break; /* this try timed out: send again */
            ssize_t n = recv(fd, in, sizeof in, 0);
            if (n < 0 && errno == ECONNREFUSED) {
                result = BLOCKING_REFUSED; /* nothing listens there: no point trying again */
                break;
            }
            if (n < 0 || dns_parse_reply(in, (size_t)n, reply) != 0 || reply->id != id)
                continue; /* not our reply: keep waiting */
            result = reply->rcode == DNS_RCODE_NXDOMAIN  ? BLOCKING_NXDOMAIN
                     : reply->rcode == DNS_RCODE_NOERROR ? BLOCKING_ANSWER
                                                         : BLOCKING_FAILED;
            break;
        }
    }
    close(fd);
    return result;
}
/* endregion */
