/*
 * 10_dns/resolve.c — chapter 10: resolving many names without blocking the
 * loop, with libevent's own resolver (evdns) pointed at one DNS server.
 *
 *   on_kick ──evdns_getaddrinfo × N──▶ (all in flight at once) ──▶ on_resolved × N
 *   on_heartbeat every 10 ms: how late did I fire? (a frozen loop shows here)
 *
 * Three ways to run the same names:
 *   (default)   all at once: wall time is about one server delay
 *   --serial    the next lookup starts when the last one answered: N delays
 *   --blocking  a blocking lookup (blocking.c) inside a callback: N delays,
 *               and the heartbeat is late by a whole delay each time
 *
 * The command line is read in resolve_options.c (struct options: resolve.h).
 *
 * Run it:  build/10_dns/dns_server --port 5310 --delay 50 &
 *          build/10_dns/resolve --server 127.0.0.1:5310 redis.workbook.test www.workbook.test
 * nope.workbook.test build/10_dns/resolve --server 127.0.0.1:5310 --blocking redis.workbook.test
 * www.workbook.test Watch the summary's heartbeat_worst_late_ms: near 0 with evdns, a whole
 * --delay with --blocking.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "blocking.h"
#include "common.h"
#include "resolve.h"

#define HEARTBEAT_MS 10
#define LATE_REPORT_MS 5.0 /* a heartbeat later than this, and the worst so far, is printed */
#define DEADLINE_SLACK_MS 1000
#define SOCKET_RCVBUF "1048576" /* room for a burst of replies (dns_server.c says why) */

struct lookup {
    struct resolver *r;
    const char *name;
    double started_ms;
    struct evdns_getaddrinfo_request *req; /* NULL once answered */
    int done;
};

struct resolver {
    const struct options *opt;
    struct event_base *base;
    struct evdns_base *dns;
    struct event *kick;      /* starts the lookups (and, --blocking, each next one) */
    struct event *heartbeat; /* every HEARTBEAT_MS: measures the loop's lateness */
    struct event *deadline;  /* our own guard: evdns may wait forever (libevent #106) */
    struct event *on_sigint;
    struct lookup *lookups;
    int next, finished;
    long answers, nxdomain, failed, timeouts;
    double last_beat_ms, worst_late_ms;
};

/* ---- the heartbeat -------------------------------------------------------------- */

/* region: heartbeat */
static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct resolver *r = arg;
    double now = elapsed_ms(), late = now - r->last_beat_ms - HEARTBEAT_MS;
    r->last_beat_ms = now;
    if (late > r->worst_late_ms) {
        r->worst_late_ms = late;
        if (late > LATE_REPORT_MS)
            log_ms("heartbeat: %.1f ms late (the loop was busy elsewhere)", late);
    }
}
/* endregion */

/* ---- one lookup's end ------------------------------------------------------------ */

/* LINE += " " WORD, as far as it fits */
static void append_word(char *line, size_t cap, const char *word)
{
    size_t n = strlen(line);
    snprintf(line + n, cap - n, " %s", word);
}

static void print_addrs(const struct lookup *l, const struct evutil_addrinfo *ai)
{
    char line[1024] = "", addr[INET6_ADDRSTRLEN];
    for (; ai; ai = ai->ai_next) {
        const void *bytes = ai->ai_family == AF_INET
                                ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                                : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
        if (evutil_inet_ntop(ai->ai_family, bytes, addr, sizeof addr))
            append_word(line, sizeof line, addr);
    }
    log_ms("%s:%s", l->name, line);
}

static void start_next(struct resolver *r);

/* Every lookup, however it ended, comes here once. */
static void lookup_done(struct lookup *l)
{
    struct resolver *r = l->r;
    l->done = 1;
    l->req = NULL;
    if (++r->finished == r->opt->names.count)
        event_base_loopexit(r->base, NULL);
    else if (r->opt->mode == SERIAL)
        start_next(r);
}

/* A failure evdns_getaddrinfo reports as EVUTIL_EAI_FAIL: a timeout, or an
 * error rcode (REFUSED; SERVFAIL, which evdns 2.1 retries like a timeout,
 * libevent #1790). It does not say which; the time it took does. */
static int took_full_timeout(const struct resolver *r, const struct lookup *l)
{
    double budget = r->opt->timeout_ms * (double)r->opt->attempts;
    return elapsed_ms() - l->started_ms >= budget * 0.9;
}

/* region: on-resolved */
static void on_resolved(int result, struct evutil_addrinfo *res, void *arg)
{
    struct lookup *l = arg;
    struct resolver *r = l->r;
    if (result == EVUTIL_EAI_CANCEL) {
        l->done = 1; /* cancelled by us (the deadline) or by evdns_base_free */
        return;
    }
    if (result == 0) {
        r->answers++;
        if (!r->opt->quiet)
            print_addrs(l, res);
        evutil_freeaddrinfo(res); /* ours to free */
    } else if (result == EVUTIL_EAI_NONAME) {
        r->nxdomain++;
        if (!r->opt->quiet)
            log_ms("%s: NXDOMAIN (no such name)", l->name);
    } else if (result == EVUTIL_EAI_FAIL && took_full_timeout(r, l)) {
        r->timeouts++;
        log_ms("%s: no answer (timed out after %ld attempts)", l->name, r->opt->attempts);
    } else {
        r->failed++;
        log_ms("%s: failed: %s (the server answered with an error: SERVFAIL or REFUSED)", l->name,
               evutil_gai_strerror(result));
    }
    lookup_done(l);
}
/* endregion */

/* ---- starting lookups -------------------------------------------------------------- */

/* region: start-lookup */
static void start_lookup(struct resolver *r, struct lookup *l)
{
    struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    l->started_ms = elapsed_ms();
    struct evdns_getaddrinfo_request *req =
        evdns_getaddrinfo(r->dns, l->name, NULL, &hints, on_resolved, l);
    /* NULL: the callback has already run (a numeric address, a bad name) */
    if (!l->done)
        l->req = req;
}
/* endregion */

static void blocking_one(struct resolver *r, struct lookup *l)
{
    struct dns_reply reply;
    char addr[INET6_ADDRSTRLEN], line[1024] = "";
    l->started_ms = elapsed_ms();
    /* region: blocking-call */
    enum blocking_result result = blocking_lookup(
        &r->opt->server_addr, l->name, (long)r->opt->timeout_ms, (int)r->opt->attempts, &reply);
    /* endregion */
    if (result == BLOCKING_ANSWER) {
        r->answers++;
        for (int i = 0; i < reply.n_addrs; i++)
            if (evutil_inet_ntop(reply.family[i], reply.addr[i], addr, sizeof addr))
                append_word(line, sizeof line, addr);
        if (!r->opt->quiet)
            log_ms("%s:%s", l->name, line);
    } else if (result == BLOCKING_NXDOMAIN) {
        r->nxdomain++;
        if (!r->opt->quiet)
            log_ms("%s: NXDOMAIN (no such name)", l->name);
    } else if (result == BLOCKING_TIMEOUT || result == BLOCKING_REFUSED) {
        r->timeouts++;
        log_ms("%s: no answer (%s)", l->name,
               result == BLOCKING_REFUSED ? "port unreachable: nothing listens there"
                                          : "timed out");
    } else {
        r->failed++;
        log_ms("%s: failed: the server answered %s", l->name, dns_rcode_name(reply.rcode));
    }
    lookup_done(l);
}

static void start_next(struct resolver *r)
{
    if (r->next < r->opt->names.count)
        start_lookup(r, &r->lookups[r->next++]);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct resolver *r = arg;
    static const struct timeval now = {0, 0};
    switch (r->opt->mode) {
    case CONCURRENT:
        while (r->next < r->opt->names.count)
            start_next(r);
        break;
    case SERIAL: start_next(r); break;
    case BLOCKING:
        /* one blocking lookup per callback, like a server that blocks once
         * per request; then back to the loop, which runs the heartbeat late */
        blocking_one(r, &r->lookups[r->next++]);
        /* the loop's cached "now" is from before the blocking call: renew it,
         * or the next kick would be due before the late heartbeat */
        event_base_update_cache_time(r->base);
        if (r->next < r->opt->names.count)
            event_add(r->kick, &now);
        break;
    }
}

/* Our own timeout over evdns's: whatever is still pending is cancelled
 * (its callback then runs with EVUTIL_EAI_CANCEL) and counted as timed out. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct resolver *r = arg;
    for (int i = 0; i < r->opt->names.count; i++) {
        struct lookup *l = &r->lookups[i];
        if (l->req) {
            log_ms("%s: no answer (our deadline passed; evdns was still waiting)", l->name);
            r->timeouts++;
            evdns_getaddrinfo_cancel(l->req);
        }
    }
    event_base_loopexit(r->base, NULL);
}

static void on_sigint(evutil_socket_t sig, short what, void *arg)
{
    (void)sig, (void)what;
    struct resolver *r = arg;
    printf("interrupted: %d of %d lookups finished\n", r->finished, r->opt->names.count);
    event_base_loopexit(r->base, NULL);
}

/* ---- setting up and tearing down --------------------------------------------------- */

/* libevent's own messages (evdns: "Nameserver ... has failed"), named as
 * ours; its debug messages are not wanted here. */
static void on_libevent_log(int severity, const char *msg)
{
    if (severity >= EVENT_LOG_MSG)
        warnx_msg("libevent: %s", msg);
}

/* region: evdns-setup */
/* An evdns base that knows one nameserver — ours — and nothing from
 * /etc/resolv.conf, with our timeout, attempts and in-flight limit. */
static int setup_dns(struct resolver *r)
{
    char n[16];
    event_set_log_callback(on_libevent_log);
    r->dns = evdns_base_new(r->base, 0); /* 0: no resolv.conf, no nameservers yet */
    if (!r->dns) {
        warnx_msg("cannot create the evdns base: out of memory");
        return -1;
    }
    /* the options first: so-rcvbuf: applies to sockets made after it */
    int bad = evdns_base_set_option(r->dns, "timeout:", r->opt->timeout_s) != 0;
    snprintf(n, sizeof n, "%ld", r->opt->attempts);
    bad |= evdns_base_set_option(r->dns, "attempts:", n) != 0;
    snprintf(n, sizeof n, "%ld", r->opt->max_inflight);
    bad |= evdns_base_set_option(r->dns, "max-inflight:", n) != 0;
    bad |= evdns_base_set_option(r->dns, "so-rcvbuf:", SOCKET_RCVBUF) != 0;
    if (bad) {
        warnx_msg("evdns refused an option (timeout:, attempts:, max-inflight: or so-rcvbuf:)");
        return -1;
    }
    if (evdns_base_nameserver_ip_add(r->dns, r->opt->server) != 0) {
        warnx_msg("cannot use %s as a nameserver", r->opt->server);
        return -1;
    }
    return 0;
}
/* endregion */

static int add_events(struct resolver *r)
{
    static const struct timeval now = {0, 0};
    struct timeval beat = ms_to_timeval(HEARTBEAT_MS);
    const struct options *o = r->opt;
    double budget = o->timeout_ms * (double)o->attempts;
    long waves = o->mode == CONCURRENT ? 1 + 2L * o->names.count / o->max_inflight : o->names.count;
    struct timeval limit = ms_to_timeval((long)(budget * (double)waves) + DEADLINE_SLACK_MS);
    r->kick = evtimer_new(r->base, on_kick, r);
    r->heartbeat = event_new(r->base, -1, EV_PERSIST, on_heartbeat, r);
    r->deadline = evtimer_new(r->base, on_deadline, r);
    r->on_sigint = evsignal_new(r->base, SIGINT, on_sigint, r);
    if (!r->kick || !r->heartbeat || !r->deadline || !r->on_sigint ||
        event_add(r->kick, &now) != 0 || event_add(r->heartbeat, &beat) != 0 ||
        (o->mode != BLOCKING && event_add(r->deadline, &limit) != 0) ||
        evsignal_add(r->on_sigint, NULL) != 0) {
        warnx_msg("cannot create or add the timers: out of memory");
        return -1;
    }
    return 0;
}

/* region: teardown */
/* Newest first. Lookups may still be pending (Ctrl-C, our deadline):
 * evdns_base_free(dns, 1) fails each of them, but only schedules the callbacks
 * (EVUTIL_EAI_CANCEL) — run the loop once more so that they run and their
 * memory is freed, while the lookups they point to still exist. (With 0, or
 * without that last turn of the loop, the pending requests' memory is lost:
 * libevent #942.) */
static void resolver_close(struct resolver *r)
{
    struct event *events[] = {r->on_sigint, r->deadline, r->heartbeat, r->kick};
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
        if (events[i])
            event_free(events[i]);
    if (r->dns) {
        evdns_base_free(r->dns, 1);
        event_base_loop(r->base, EVLOOP_NONBLOCK); /* the cancelled callbacks run */
    }
    free(r->lookups);
    if (r->base)
        event_base_free(r->base);
    libevent_global_shutdown();
}
/* endregion */

static void print_summary(const struct resolver *r, double wall_ms)
{
    static const char *const modes[] = {"concurrent", "serial", "blocking"};
    printf("summary: mode=%s names=%d answers=%ld nxdomain=%ld failed=%ld timeouts=%ld "
           "wall_ms=%.1f heartbeat_worst_late_ms=%.1f\n",
           modes[r->opt->mode], r->opt->names.count, r->answers, r->nxdomain, r->failed,
           r->timeouts, wall_ms, r->worst_late_ms);
    if (r->timeouts > 0 && r->timeouts == r->opt->names.count)
        warnx_msg("no answer from %s: every lookup timed out (%s s x %ld attempts): is a DNS "
                  "server running there?",
                  r->opt->server, r->opt->timeout_s, r->opt->attempts);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct options o;
    parse_args(argc, argv, &o);

    struct resolver r = {.opt = &o};
    r.lookups = calloc((size_t)o.names.count, sizeof *r.lookups);
    r.base = event_base_new();
    if (!r.lookups || !r.base) {
        warnx_msg("cannot create the event base: out of memory");
        resolver_close(&r);
        names_free(&o.names);
        return EXIT_RUNTIME;
    }
    for (int i = 0; i < o.names.count; i++)
        r.lookups[i] = (struct lookup){.r = &r, .name = o.names.name[i]};
    if (setup_dns(&r) != 0 || add_events(&r) != 0) {
        resolver_close(&r);
        names_free(&o.names);
        return EXIT_RUNTIME;
    }

    double start = elapsed_ms();
    r.last_beat_ms = start;
    event_base_dispatch(r.base);
    print_summary(&r, elapsed_ms() - start);

    int ok = r.failed == 0 && r.timeouts == 0 && r.finished == o.names.count;
    resolver_close(&r);
    names_free(&o.names);
    return ok ? EXIT_CLEAN : EXIT_RUNTIME;
}
