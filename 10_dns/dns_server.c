/*
 * 10_dns/dns_server.c — chapter 10: a small DNS server to resolve against.
 * One UDP socket, one read event; every query is a datagram in, a datagram out.
 *
 *   dig / evdns ──query──▶ [udp fd: on_readable] ──parse, look up the zone──▶ reply
 *                                    └─ --delay MS: a timer sends it later (the loop never waits)
 *
 * It answers A, AAAA and CNAME from a zone file (zone.h), NXDOMAIN for names
 * it does not have, SERVFAIL for names the zone marks so, REFUSED for what it
 * does not serve (another class or type, an opcode other than QUERY), and
 * ignores malformed packets — counted, never answered. --delay plays a slow
 * resolver and --drop a lossy one, so that chapter 10's resolver has something
 * to wait for.
 *
 * Run it:  make chapter10            (listens on 127.0.0.1:5310)
 *          dig @127.0.0.1 -p 5310 redis.workbook.test
 *          kill -USR1 PID            (a stats line)
 * Watch: with --delay 500, a second dig is answered as fast as the first —
 * each delayed reply is a timer, not a sleep.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/event.h>

#include "common.h"
#include "dns_packet.h"
#include "server.h"
#include "trace.h"
#include "zone.h"

#define DEFAULT_PORT 5310
#define DEFAULT_ZONE "10_dns/workbook.zone"
#define RECV_BUF 4096 /* larger than any query: a longer packet is still read whole */
#define READ_BATCH 64 /* datagrams read per callback, so timers get their turn */
#define ANSWER_TTL 60
/* The socket's receive buffer. Linux's default (rmem_default, ~208 KiB) holds
 * only a few hundred small datagrams: a resolver sending 2,000 queries at once
 * would see most of them dropped by the kernel before we read them. */
#define SOCKET_RCVBUF (1024 * 1024)

struct options {
    struct sockaddr_in addr;
    const char *zone_file;
    long delay_ms;
    long drop_percent;
    int verbose;
    struct server_config server; /* --trace, --backend */
};

struct stats {
    long queries, answered, nxdomain, servfail, refused, dropped, malformed, send_errors;
};

/* A reply waiting for --delay to pass. */
struct delayed {
    TAILQ_ENTRY(delayed) next;
    struct dns_server *server;
    struct event *timer;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    size_t len;
    uint8_t bytes[DNS_MAX_UDP];
};

struct dns_server {
    const struct options *opt;
    struct server srv; /* base, signals (no listener: UDP): common/server.h */
    struct zone zone;
    evutil_socket_t fd;
    struct event *readable;
    TAILQ_HEAD(delayed_list, delayed) delayed;
    long delayed_now;
    struct stats st;
};

static void print_stats(void *app, const char *label)
{
    const struct dns_server *s = app;
    const struct stats *st = &s->st;
    printf("%s: queries=%ld answered=%ld nxdomain=%ld servfail=%ld refused=%ld dropped=%ld "
           "malformed=%ld delayed_now=%ld send_errors=%ld\n",
           label, st->queries, st->answered, st->nxdomain, st->servfail, st->refused, st->dropped,
           st->malformed, s->delayed_now, st->send_errors);
}

/* ---- answering from the zone ---------------------------------------------------- */

static int served_type(uint16_t t)
{
    return t == DNS_TYPE_A || t == DNS_TYPE_AAAA || t == DNS_TYPE_CNAME;
}

/* Append NAME's records of TYPE, following CNAMEs (each one in the answer) */
static size_t add_answers(const struct zone *zone, uint8_t *out, size_t len, const char *asked,
                          uint16_t type)
{
    const char *name = asked;
    for (int step = 0; step <= ZONE_MAX_CNAMES; step++) {
        const struct zone_record *cname = zone_find(zone, name, DNS_TYPE_CNAME);
        if (cname) {
            size_t n = dns_reply_add(out, DNS_MAX_UDP, len, name, DNS_TYPE_CNAME, ANSWER_TTL,
                                     cname->target, 0);
            if (n == 0 || type == DNS_TYPE_CNAME)
                return n ? n : len;
            len = n;
            name = cname->target;
            continue;
        }
        const struct zone_record *r;
        for (r = STAILQ_FIRST(zone); r; r = STAILQ_NEXT(r, next)) {
            if (r->type != type || strcasecmp(r->name, name) != 0)
                continue;
            size_t n = dns_reply_add(out, DNS_MAX_UDP, len, name, type, ANSWER_TTL, r->addr,
                                     type == DNS_TYPE_A ? 4 : 16);
            if (n == 0)
                break; /* full: TC is set, the client may ask over TCP (we do not serve it) */
            len = n;
        }
        break;
    }
    return len;
}

/* region: answer */
/* The reply to Q (the bytes QUERY) in OUT; its length. Counts its rcode. */
static size_t answer(struct dns_server *s, const uint8_t *query, const struct dns_query *q,
                     uint8_t *out)
{
    int rcode = DNS_RCODE_NOERROR;
    const struct zone_record *any = zone_find(&s->zone, q->name, 0xffff);
    if ((q->flags & DNS_OPCODE_MASK) || q->qclass != DNS_CLASS_IN || !served_type(q->qtype))
        rcode = DNS_RCODE_REFUSED, s->st.refused++;
    else if (!any)
        rcode = DNS_RCODE_NXDOMAIN, s->st.nxdomain++;
    else if (any->type == ZONE_TYPE_SERVFAIL)
        rcode = DNS_RCODE_SERVFAIL, s->st.servfail++;
    else
        s->st.answered++;
    size_t len = dns_reply_begin(out, DNS_MAX_UDP, query, q, rcode);
    if (len > 0 && rcode == DNS_RCODE_NOERROR)
        len = add_answers(&s->zone, out, len, q->name, q->qtype);
    return len;
}
/* endregion */

/* ---- the socket ----------------------------------------------------------------- */

static void send_reply(struct dns_server *s, const uint8_t *bytes, size_t len,
                       const struct sockaddr_storage *peer, socklen_t peer_len)
{
    if (sendto(s->fd, bytes, len, 0, (const struct sockaddr *)peer, peer_len) < 0)
        s->st.send_errors++; /* a full socket buffer: the client will ask again */
}

static void on_delay_done(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct delayed *d = arg;
    struct dns_server *s = d->server;
    trace_dispatch(fd, "timeout", "on_delay_done");
    send_reply(s, d->bytes, d->len, &d->peer, d->peer_len);
    TAILQ_REMOVE(&s->delayed, d, next);
    s->delayed_now--;
    event_free(d->timer);
    free(d);
}

/* region: delay */
/* --delay: keep the reply and let a timer send it. Nothing here waits. */
static void send_later(struct dns_server *s, const uint8_t *bytes, size_t len,
                       const struct sockaddr_storage *peer, socklen_t peer_len)
{
    struct delayed *d = calloc(1, sizeof *d);
    struct timeval later = ms_to_timeval(s->opt->delay_ms);
    if (!d || !(d->timer = evtimer_new(s->srv.base, on_delay_done, d)) ||
        evtimer_add(d->timer, &later) != 0) {
        if (d && d->timer)
            event_free(d->timer);
        free(d);
        s->st.send_errors++;
        return;
    }
    d->server = s;
    memcpy(d->bytes, bytes, len);
    d->len = len;
    d->peer = *peer;
    d->peer_len = peer_len;
    TAILQ_INSERT_TAIL(&s->delayed, d, next);
    s->delayed_now++;
}
/* endregion */

static void log_query(const struct dns_query *q, const struct sockaddr_storage *peer,
                      const uint8_t *reply, const char *fate)
{
    char from[ADDR_STRLEN];
    format_addr((const struct sockaddr *)peer, from, sizeof from);
    printf("query %s type %u from %s: %s\n", q->name, q->qtype, from,
           fate ? fate : dns_rcode_name(reply[3] & DNS_RCODE_MASK));
}

/* region: on-readable */
static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct dns_server *s = arg;
    trace_dispatch(fd, "read", "on_readable");
    for (int i = 0; i < READ_BATCH; i++) {
        uint8_t in[RECV_BUF], out[DNS_MAX_UDP];
        struct sockaddr_storage peer;
        socklen_t peer_len = sizeof peer;
        ssize_t n = recvfrom(fd, in, sizeof in, 0, (struct sockaddr *)&peer, &peer_len);
        if (n < 0)
            return; /* EAGAIN: read everything there was; anything else: next time */
        struct dns_query q;
        if (n > DNS_MAX_UDP || dns_parse_query(in, (size_t)n, &q) != 0) {
            s->st.malformed++; /* ignored: no reply to what is not a query */
            continue;
        }
        s->st.queries++;
        if (random() % 100 < s->opt->drop_percent) {
            s->st.dropped++; /* --drop: as if lost on the way */
            if (s->opt->verbose)
                log_query(&q, &peer, NULL, "dropped");
            continue;
        }
        size_t len = answer(s, in, &q, out);
        if (len == 0)
            continue;
        if (s->opt->verbose)
            log_query(&q, &peer, out, NULL);
        if (s->opt->delay_ms > 0)
            send_later(s, out, len, &peer, peer_len);
        else
            send_reply(s, out, len, &peer, peer_len);
    }
}
/* endregion */

/* SIGUSR1 prints the stats; SIGINT/SIGTERM leave at once (a reply still
 * waiting for --delay is never sent: the client has its own timeout). */
static const struct server_hooks dns_hooks = {.stats = print_stats};

/* ---- command line --------------------------------------------------------------- */

static void usage(void)
{
    printf("usage: %s [options]\n"
           "  Answer DNS queries over UDP from a zone file.\n"
           "  --port PORT       UDP port on 127.0.0.1, 0 = any free port (default %d)\n"
           "  --zone FILE       the records (default %s)\n"
           "  --delay MS        send each reply MS milliseconds late (a timer; default 0)\n"
           "  --drop PERCENT    ignore this share of the queries, at random (default 0)\n"
           "  --verbose         one line per query: name, type, client, rcode\n"
           "  --trace           print each register/detect/dispatch step on stderr\n"
           "  --backend NAME    epoll, poll or select (default: libevent's choice)\n"
           "  --help            show this help; SIGUSR1 prints stats, SIGUSR2 the events\n",
           prog_name(), DEFAULT_PORT, DEFAULT_ZONE);
}

static void parse_args(int argc, char **argv, struct options *o)
{
    static const struct option options[] = {
        {"port", required_argument, NULL, 'p'},
        {"zone", required_argument, NULL, 'z'},
        {"delay", required_argument, NULL, 'd'},
        {"drop", required_argument, NULL, 'D'},
        {"verbose", no_argument, NULL, 'v'},
        {"trace", no_argument, NULL, 't'},
        {"backend", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int port = DEFAULT_PORT, opt;
    *o = (struct options){.zone_file = DEFAULT_ZONE};
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'p': port = parse_port_option("--port", optarg); break;
        case 'z': o->zone_file = optarg; break;
        case 'd': o->delay_ms = parse_long_option("--delay", optarg, 0, 60000); break;
        case 'D': o->drop_percent = parse_long_option("--drop", optarg, 0, 100); break;
        case 'v': o->verbose = 1; break;
        case 't': o->server.loop.trace = 1; break;
        case 'b': o->server.loop.backend = parse_backend_option(optarg); break;
        case 'h': usage(); exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    parse_ipv4_option(&o->addr, "--port", "127.0.0.1", port);
}

/* ---- opening and closing ---------------------------------------------------------- */

static int open_socket(struct dns_server *s)
{
    char want[ADDR_STRLEN];
    s->fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (s->fd < 0 || evutil_make_socket_nonblocking(s->fd) != 0 ||
        evutil_make_socket_closeonexec(s->fd) != 0 ||
        setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &(int){SOCKET_RCVBUF}, sizeof(int)) != 0 ||
        bind(s->fd, (const struct sockaddr *)&s->opt->addr, sizeof s->opt->addr) != 0) {
        warnx_msg("cannot listen on UDP %s: %s",
                  format_addr((const struct sockaddr *)&s->opt->addr, want, sizeof want),
                  strerror(errno));
        return -1;
    }
    return 0;
}

/* The skeleton without server_listen: a UDP server has no listener, only a
 * socket whose readable event is ours. */
static int dns_open(struct dns_server *s, const struct options *o)
{
    *s = (struct dns_server){.opt = o, .fd = -1};
    TAILQ_INIT(&s->delayed);
    if (zone_load(&s->zone, o->zone_file) != 0 ||
        server_open(&s->srv, &o->server, &dns_hooks, s) != 0 || open_socket(s) != 0)
        return -1;
    s->readable = event_new(s->srv.base, s->fd, EV_READ | EV_PERSIST, on_readable, s);
    if (!made(s->readable, "the socket's event"))
        return -1;
    if (event_add(s->readable, NULL) != 0) {
        warnx_msg("cannot add the socket's event: event_add failed");
        return -1;
    }
    return 0;
}

/* Everything, newest first; safe on a half-made server. */
static void dns_close(struct dns_server *s)
{
    while (!TAILQ_EMPTY(&s->delayed)) {
        struct delayed *d = TAILQ_FIRST(&s->delayed);
        TAILQ_REMOVE(&s->delayed, d, next);
        event_free(d->timer); /* never sent: the client has its own timeout */
        free(d);
    }
    if (s->readable)
        event_free(s->readable);
    if (s->fd >= 0)
        evutil_closesocket(s->fd);
    server_close(&s->srv);
    zone_free(&s->zone);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct options o;
    parse_args(argc, argv, &o);
    srandom((unsigned)getpid());

    struct dns_server s;
    if (dns_open(&s, &o) != 0) {
        dns_close(&s);
        return EXIT_RUNTIME;
    }
    char bound[ADDR_STRLEN];
    server_announce(&s.srv); /* "backend: ..." (no listener to announce) */
    printf("zone: %s, %d records\n", o.zone_file, zone_count(&s.zone));
    if (o.delay_ms > 0 || o.drop_percent > 0)
        printf("playing a slow resolver: delay %ld ms, drop %ld%%\n", o.delay_ms, o.drop_percent);
    printf("listening on %s\n", format_local_addr(s.fd, bound, sizeof bound));

    server_run(&s.srv); /* until SIGINT/SIGTERM */

    print_stats(&s, "summary");
    dns_close(&s);
    return EXIT_CLEAN;
}
