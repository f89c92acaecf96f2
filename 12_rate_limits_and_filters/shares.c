/*
 * 12_rate_limits_and_filters/shares.c — the token buckets behind shaper:
 * one per connection, libevent's group shared by all, and our own equal share.
 *
 * A token bucket holds at most BURST bytes' worth of tokens. Every tick
 * libevent adds RATE-PER-TICK tokens (never above BURST); reading or writing N
 * bytes spends N tokens, and an empty bucket suspends the bufferevent until
 * the next tick. libevent's rates are per tick, not per second: we turn
 * --rate BYTES/s into BYTES × tick / 1000 per tick, so --tick-ms decides how
 * smooth the flow is (small ticks: small steady steps; big ticks: bursts).
 *
 * What libevent refuses (ev_token_bucket_cfg_new returns NULL): a rate per
 * tick below 1, or above the burst (a bucket that cannot hold one refill).
 * What it does not refuse but cannot survive: a tick of 0 ms (it divides the
 * clock by the tick's milliseconds) — we refuse that ourselves.
 *
 * Read it beside docs/12-rate-limits-and-filters.md.
 */
#include <stdio.h>
#include <stdlib.h>

#include <event2/bufferevent.h>

#include "shaper.h"

/* A bucket that holds only one tick's refill loses a tick's tokens whenever
 * its refill timer fires a little late and two ticks have passed; the group's
 * and --fair's buckets hold this many ticks' worth instead. */
#define LATE_TICKS 2

/* --rate BYTES/s as libevent wants it: bytes per tick. */
static long per_tick(long rate, long tick_ms)
{
    return (long)((long long)rate * tick_ms / 1000);
}

/* region: make_bucket */
/* ev_token_bucket_cfg_new, with libevent's reasons for a NULL spelled out. */
static struct ev_token_bucket_cfg *make_bucket(const char *what, long rate, long burst,
                                               long tick_ms)
{
    long tokens = per_tick(rate, tick_ms);
    struct timeval tick = ms_to_timeval(tick_ms);
    /* The same bucket size and refill for reading and for writing. */
    struct ev_token_bucket_cfg *cfg = ev_token_bucket_cfg_new(tokens, burst, tokens, burst, &tick);
    if (cfg)
        return cfg;
    if (tokens < 1)
        usage_error("%s %ld B/s at --tick-ms %ld is %ld bytes per tick: libevent needs at least 1 "
                    "(raise the rate or the tick)",
                    what, rate, tick_ms, tokens);
    if (tokens > burst)
        usage_error("--burst %ld is less than one tick's refill (%ld B/s x %ld ms = %ld bytes): "
                    "libevent refuses a bucket that cannot hold what one tick adds",
                    burst, rate, tick_ms, tokens);
    usage_error("%s %ld B/s: libevent refused the bucket (out of memory?)", what, rate);
}
/* endregion */

void shares_create(struct shaper *s)
{
    const struct options *o = s->opt;
    if (o->fair && o->group_rate == 0)
        usage_error("--fair splits --group-rate: give --group-rate too");
    if (o->min_share >= 0 && (o->group_rate == 0 || o->fair))
        usage_error("--min-share belongs to libevent's group: give --group-rate (without --fair)");
    if (o->rate > 0)
        s->conn_cfg = make_bucket("--rate", o->rate, o->burst, o->tick_ms);
    if (o->group_rate == 0)
        return;
    /* The group's bucket holds two ticks' refill: a refill timer that fires
     * late loses nothing, and the total never runs far ahead. */
    long group_tokens = per_tick(o->group_rate, o->tick_ms);
    s->group_cfg =
        make_bucket("--group-rate", o->group_rate, LATE_TICKS * group_tokens, o->tick_ms);
}

int shares_open_group(struct shaper *s)
{
    if (!s->group_cfg || s->opt->fair)
        return 0; /* no group, or --fair: our shares are made as connections come and go */
    /* region: group */
    s->group = bufferevent_rate_limit_group_new(s->srv.base, s->group_cfg);
    if (!s->group) {
        warnx_msg("cannot create the rate-limit group: out of memory");
        return -1;
    }
    /* A member may always move at least min_share bytes at a time (libevent's
     * default: 64), even when the group's tokens / members is smaller. */
    long min_share = s->opt->min_share;
    if (min_share >= 0 && bufferevent_rate_limit_group_set_min_share(s->group, min_share) != 0) {
        warnx_msg("--min-share %ld: libevent refused it", min_share);
        return -1;
    }
    /* endregion */
    return 0;
}

/* region: fair */
/* --fair: every connection gets its own bucket of group-rate / N per tick,
 * made again whenever N changes. Each bucket refills every tick, so each
 * connection gets exactly its share — no member can take another's. The
 * price: a connection that does not use its share leaves it unused. */
static int fair_split(struct shaper *s, long members)
{
    if (members == 0)
        return 0;
    long tokens = per_tick(s->opt->group_rate, s->opt->tick_ms) / members;
    if (s->conn_cfg && tokens > per_tick(s->opt->rate, s->opt->tick_ms))
        tokens = per_tick(s->opt->rate, s->opt->tick_ms); /* --rate caps it */
    if (tokens < 1)
        tokens = 1; /* more members than bytes per tick: a byte each */
    struct timeval tick = ms_to_timeval(s->opt->tick_ms);
    long burst = LATE_TICKS * tokens; /* a late refill timer loses nothing */
    struct ev_token_bucket_cfg *cfg = ev_token_bucket_cfg_new(tokens, burst, tokens, burst, &tick);
    if (!cfg)
        return -1;
    /* bufferevent_set_rate_limit keeps a pointer to cfg: switch everyone
     * over before freeing the old one. */
    for (struct conn *c = LIST_FIRST(&s->conns); c; c = LIST_NEXT(c, next)) {
        if (bufferevent_set_rate_limit(c->bev, cfg) != 0) {
            warnx_msg("conn %ld: cannot set its share", c->id);
            return -1;
        }
    }
    if (s->fair_cfg)
        ev_token_bucket_cfg_free(s->fair_cfg);
    s->fair_cfg = cfg;
    return 0;
}
/* endregion */

int shares_join(struct shaper *s, struct conn *c)
{
    if (s->opt->fair)
        return fair_split(s, s->n_conns); /* c is in the list already */
    /* region: join */
    if (s->conn_cfg && bufferevent_set_rate_limit(c->bev, s->conn_cfg) != 0)
        return -1;
    if (s->group && bufferevent_add_to_rate_limit_group(c->bev, s->group) != 0)
        return -1;
    /* endregion */
    return 0;
}

void shares_leave(struct shaper *s, struct conn *c)
{
    /* region: leave */
    /* bufferevent_free would take C out of the group too, but later: a freed
     * bufferevent lingers until libevent's deferred callbacks have run, and a
     * group freed while it still counts members aborts (n_members == 0 is
     * asserted). So leave now. */
    if (s->group)
        bufferevent_remove_from_rate_limit_group(c->bev);
    /* endregion */
    if (s->opt->fair) {
        LIST_REMOVE(c, next);
        if (fair_split(s, s->n_conns - 1) != 0)
            warnx_msg("cannot re-split the group rate; the old shares stay");
        LIST_INSERT_HEAD(&s->conns, c, next);
    }
}

void shares_free(struct shaper *s)
{
    if (s->group)
        bufferevent_rate_limit_group_free(s->group);
    if (s->fair_cfg)
        ev_token_bucket_cfg_free(s->fair_cfg);
    if (s->group_cfg)
        ev_token_bucket_cfg_free(s->group_cfg);
    if (s->conn_cfg)
        ev_token_bucket_cfg_free(s->conn_cfg);
}

void shares_describe(const struct shaper *s, const char *label)
{
    const struct options *o = s->opt;
    printf("%s: tick %ld ms", label, o->tick_ms);
    if (o->rate > 0)
        printf("; per connection %ld B/s = %ld bytes per tick, burst %ld", o->rate,
               per_tick(o->rate, o->tick_ms), o->burst);
    if (o->group_rate > 0)
        printf("; group %ld B/s = %ld bytes per tick, %s", o->group_rate,
               per_tick(o->group_rate, o->tick_ms),
               o->fair ? "split equally by us (--fair)" : "libevent's group");
    if (s->group) {
        ev_uint64_t read = 0, written = 0;
        bufferevent_rate_limit_group_get_totals(s->group, &read, &written);
        printf(" (group totals: read %llu, written %llu)", (unsigned long long)read,
               (unsigned long long)written);
    }
    if (o->rate == 0 && o->group_rate == 0)
        printf("; no limits");
    printf("\n");
}
