/*
 * 06_redis_relay/relay.c — chapter 6: the notes' C <-> S <-> DB, as a working
 * relay between Redis clients and Redis. Every earlier chapter in one program.
 *
 *   client ──▶ [client bev] ──evbuffer_add_buffer──▶ [upstream bev] ──▶ Redis
 *   client ◀── [client bev] ◀─evbuffer_add_buffer─── [upstream bev] ◀── Redis
 *
 * What it uses, and from where:
 *   chapter 1  evconnlistener, the accept-error pause (EMFILE)
 *   chapter 2  a bufferevent that connects out, BEV_EVENT_CONNECTED / ERROR / EOF
 *   chapter 3  an idle timer per client, a periodic stats timer, the drain deadline
 *   chapter 4  signal events: graceful drain on SIGINT/SIGTERM, stats on SIGUSR1
 *   chapter 5  backpressure both ways with write watermarks; flush, then close
 * The bytes are relayed unchanged: Redis parses RESP and inline commands itself,
 * so redis-cli, redis-benchmark, telnet and nc all work through it.
 *
 * Run it:  make chapter6       (starts a throwaway Redis on 6379 if none runs)
 *          redis-cli -p 6380 ping
 *
 * Watch for: the life of a pair — struct pair — and the one place it is freed,
 * pair_free. Read docs/06-redis-relay.md beside this file.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "common.h"

#define DEFAULT_PORT 6380
#define DEFAULT_REDIS_HOST "127.0.0.1"
#define DEFAULT_REDIS_PORT 6379
#define DEFAULT_HIGH (1024 * 1024) /* per direction, per client */
/* Connections the kernel may queue before we accept them. libevent's default
 * (-1) is 128: a burst of clients beyond that sees dropped SYNs and waits a
 * full second to retry. */
#define LISTEN_BACKLOG 4096
#define DEFAULT_DRAIN_MS 5000
/* Once a client sends no more (it half-closed, or we are draining), how long
 * Redis must stay silent, with every buffer empty, before we take it that all
 * replies are in. A byte relay cannot count replies without parsing RESP. */
#define LINGER_MS 200
#define MAX_CLIENTS_REPLY "-ERR max clients reached\r\n"

struct options {
    struct sockaddr_in listen_addr, redis_addr;
    long idle_timeout_s, stats_interval_s, high, drain_ms, max_clients;
};

struct pair;

struct relay {
    struct event_base *base;
    struct evconnlistener *listener;
    const struct options *opt;
    struct event *resume_accepting, *stats_timer, *drain_deadline;
    struct event *on_sigint, *on_sigterm, *on_sigusr1;
    struct pair *pairs;
    int draining;
    long clients_now, clients_total, rejected, upstream_errors, idle_closes;
    unsigned long long bytes_to_redis, bytes_to_clients;
};

/* One client and its own connection to Redis. */
struct pair {
    struct relay *relay;
    struct bufferevent *client;
    struct bufferevent *upstream; /* NULL once Redis's side is gone */
    struct event *idle_timer;
    struct event *linger_timer;
    int upstream_connected;
    int client_done; /* no more input from the client: finish once Redis has answered */
    int closing;     /* flushing the client's output, then pair_free */
    char peer[ADDR_STRLEN];
    struct pair *prev, *next;
};

static void print_stats(const struct relay *r, const char *label)
{
    printf("%s: clients_now=%ld clients_total=%ld rejected=%ld bytes_to_redis=%llu "
           "bytes_to_clients=%llu upstream_errors=%ld idle_closes=%ld\n",
           label, r->clients_now, r->clients_total, r->rejected, r->bytes_to_redis,
           r->bytes_to_clients, r->upstream_errors, r->idle_closes);
}

static void set_nodelay(evutil_socket_t fd)
{
    /* Nagle's algorithm would hold back a small reply until the previous one
     * is acknowledged: request/response traffic then waits for delayed ACKs. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* ---- the one place a pair ends (libevent #689: free each side once) ------- */

static void pair_free(struct pair *p)
{
    struct relay *r = p->relay;
    if (p->prev)
        p->prev->next = p->next;
    else
        r->pairs = p->next;
    if (p->next)
        p->next->prev = p->prev;
    /* Freeing a bufferevent removes its events, so no callback of this pair
     * can run after this: neither side is touched again. */
    if (p->upstream)
        bufferevent_free(p->upstream);
    bufferevent_free(p->client);
    event_free(p->idle_timer);
    event_free(p->linger_timer);
    free(p);
    r->clients_now--;
    if (r->draining && r->clients_now == 0)
        event_base_loopexit(r->base, NULL);
}

static void arm_linger(struct pair *p)
{
    struct timeval tv = ms_to_timeval(LINGER_MS);
    evtimer_add(p->linger_timer, &tv); /* re-adding restarts the countdown */
}

/* Everything the client was owed is out. A close() now, with unread input
 * from the client in the socket, would send a reset — and a reset can destroy
 * our last line before the client reads it. So: half-close (FIN after our
 * last byte) and free the pair on the client's EOF, or after LINGER_MS. */
static void finish_close(struct pair *p)
{
    shutdown(bufferevent_getfd(p->client), SHUT_WR);
    arm_linger(p);
}

/* Say goodbye: nothing more is relayed; what is queued for the client still
 * goes out (on_client_write calls finish_close when it has). */
static void close_client_after_flush(struct pair *p)
{
    p->closing = 1;
    if (p->upstream) {
        bufferevent_free(p->upstream);
        p->upstream = NULL;
    }
    bufferevent_enable(p->client, EV_READ); /* keep reading; on_client_read drops it */
    bufferevent_setwatermark(p->client, EV_WRITE, 0, 0);
    if (evbuffer_get_length(bufferevent_get_output(p->client)) == 0)
        finish_close(p);
}

/* The client will send no more. Keep Redis's side open: replies may still be
 * coming. (Passing the half-close on with shutdown(SHUT_WR) would be neater,
 * but Redis drops a reply it has not finished writing when it reads EOF.) */
static void client_done(struct pair *p)
{
    p->client_done = 1;
    bufferevent_disable(p->client, EV_READ);
    arm_linger(p);
}

/* While the client is done: Redis has been silent for LINGER_MS; if nothing
 * is left in either direction, every reply has been delivered. While
 * closing: the client did not close its side in time, so we do. */
static void on_linger(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct pair *p = arg;
    if (p->closing) {
        pair_free(p);
        return;
    }
    size_t pending = evbuffer_get_length(bufferevent_get_output(p->client));
    if (p->upstream)
        pending += evbuffer_get_length(bufferevent_get_output(p->upstream)) +
                   evbuffer_get_length(bufferevent_get_input(p->upstream));
    if (pending > 0)
        arm_linger(p); /* still moving (or paused by backpressure): look again later */
    else
        close_client_after_flush(p);
}

/* Relay every byte of src (one side's input) to dst (the other side).
 * The plain way is evbuffer_add_buffer into dst's output: libevent then
 * watches dst for writability (an epoll_ctl), sends on the next loop turn,
 * and stops watching (another epoll_ctl). When nothing is queued ahead, we
 * try the socket first: it nearly always takes everything at once. Only what
 * it did not take is queued. (dst's output itself cannot be drained by us:
 * libevent freezes its front, so we write from src.) */
static void forward(struct evbuffer *src, struct bufferevent *dst, int dst_connected)
{
    struct evbuffer *out = bufferevent_get_output(dst);
    if (dst_connected && evbuffer_get_length(out) == 0)
        evbuffer_write(src, bufferevent_getfd(dst)); /* errors surface on dst's next event */
    if (evbuffer_get_length(src) > 0)
        evbuffer_add_buffer(out, src); /* moves the chain, copies nothing */
}

static void touch(struct pair *p)
{
    if (p->relay->opt->idle_timeout_s > 0) {
        struct timeval tv = {p->relay->opt->idle_timeout_s, 0};
        evtimer_add(p->idle_timer, &tv); /* re-adding moves the deadline */
    }
}

/* ---- client side --------------------------------------------------------- */

static void on_client_read(struct bufferevent *bev, void *arg)
{
    struct pair *p = arg;
    struct evbuffer *input = bufferevent_get_input(bev);
    touch(p);
    if (p->closing) { /* saying goodbye: what the client sends now is dropped */
        evbuffer_drain(input, evbuffer_get_length(input));
        return;
    }
    p->relay->bytes_to_redis += evbuffer_get_length(input);
    forward(input, p->upstream, p->upstream_connected);
    if (evbuffer_get_length(bufferevent_get_output(p->upstream)) >= (size_t)p->relay->opt->high)
        bufferevent_disable(bev, EV_READ); /* Redis is behind: resumed in on_upstream_write */
}

static void on_client_write(struct bufferevent *bev, void *arg)
{
    struct pair *p = arg;
    if (p->closing) {
        if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
            finish_close(p);
        return;
    }
    bufferevent_enable(p->upstream, EV_READ); /* the client caught up */
}

static void on_client_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct pair *p = arg;
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && !p->closing) {
        client_done(p); /* half-close (nc -N does this): the replies may still be coming */
        return;
    }
    pair_free(p); /* error, or nothing left to wait for */
}

/* ---- Redis side ---------------------------------------------------------- */

static void on_upstream_read(struct bufferevent *bev, void *arg)
{
    struct pair *p = arg;
    struct evbuffer *input = bufferevent_get_input(bev);
    touch(p);
    if (p->client_done)
        arm_linger(p); /* Redis is still answering */
    p->relay->bytes_to_clients += evbuffer_get_length(input);
    forward(input, p->client, 1);
    if (evbuffer_get_length(bufferevent_get_output(p->client)) >= (size_t)p->relay->opt->high)
        bufferevent_disable(bev, EV_READ); /* client is behind: resumed in on_client_write */
}

static void on_upstream_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    struct pair *p = arg;
    if (!p->client_done && !p->closing)
        bufferevent_enable(p->client, EV_READ); /* Redis caught up */
}

/* Redis may answer and hang up in one go (an inline request over 64 KiB gets
 * "-ERR Protocol error" and a close). If we are still writing, the write fails
 * (EPIPE) before our read event has run, yet that last reply is still waiting
 * in the kernel: fetch it for the client before we report anything. */
static void rescue_last_reply(struct pair *p)
{
    struct evbuffer *out = bufferevent_get_output(p->client);
    evutil_socket_t fd = bufferevent_getfd(p->upstream);
    int n;
    while ((n = evbuffer_read(out, fd, -1)) > 0)
        p->relay->bytes_to_clients += (size_t)n;
}

static void on_upstream_event(struct bufferevent *bev, short what, void *arg)
{
    struct pair *p = arg;
    struct relay *r = p->relay;
    if (what & BEV_EVENT_CONNECTED) {
        p->upstream_connected = 1;
        set_nodelay(bufferevent_getfd(bev));
        return;
    }
    /* Redis's side ended. Whatever it sent is already in the client's output,
     * except after a failed write: then the last reply may still be unread. */
    char reason[128];
    if (what & BEV_EVENT_ERROR)
        snprintf(reason, sizeof reason, "%s", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    else
        snprintf(reason, sizeof reason, "connection closed by Redis");
    if ((what & BEV_EVENT_ERROR) && (what & BEV_EVENT_WRITING) && p->upstream_connected)
        rescue_last_reply(p);
    int expected = p->upstream_connected && p->client_done; /* e.g. after the client's QUIT */
    if (!expected) {
        r->upstream_errors++;
        warnx_msg("upstream for %s: %s", p->peer, reason);
        evbuffer_add_printf(bufferevent_get_output(p->client), "-ERR upstream unavailable: %s\r\n",
                            reason);
    }
    close_client_after_flush(p);
}

/* ---- a new client --------------------------------------------------------- */

static void on_idle(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct pair *p = arg;
    p->relay->idle_closes++;
    printf("idle: closing %s after %ld s without traffic\n", p->peer,
           p->relay->opt->idle_timeout_s);
    pair_free(p);
}

static void pair_unmake(struct pair *p, evutil_socket_t fd)
{
    warnx_msg("out of memory: dropping a client");
    if (p->client)
        bufferevent_free(p->client);
    else
        evutil_closesocket(fd); /* nobody else owns it: never leak the fd */
    if (p->idle_timer)
        event_free(p->idle_timer);
    if (p->linger_timer)
        event_free(p->linger_timer);
    free(p);
}

/* A pair for a freshly accepted client; its upstream is made by the caller. */
static struct pair *pair_new(struct relay *r, evutil_socket_t fd, struct sockaddr *sa)
{
    struct pair *p = calloc(1, sizeof *p);
    if (!p) {
        warnx_msg("out of memory: dropping a client");
        evutil_closesocket(fd);
        return NULL;
    }
    p->client = bufferevent_socket_new(r->base, fd, BEV_OPT_CLOSE_ON_FREE);
    p->idle_timer = evtimer_new(r->base, on_idle, p);
    p->linger_timer = evtimer_new(r->base, on_linger, p);
    if (!p->client || !p->idle_timer || !p->linger_timer) {
        pair_unmake(p, fd);
        return NULL;
    }
    p->relay = r;
    format_addr(sa, p->peer, sizeof p->peer);
    p->next = r->pairs;
    if (p->next)
        p->next->prev = p;
    r->pairs = p;
    r->clients_now++;
    set_nodelay(fd);
    bufferevent_setcb(p->client, on_client_read, on_client_write, on_client_event, p);
    bufferevent_enable(p->client, EV_READ | EV_WRITE);
    return p;
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    (void)listener;
    (void)salen;
    struct relay *r = arg;
    int full = r->opt->max_clients > 0 && r->clients_now >= r->opt->max_clients;
    struct pair *p = pair_new(r, fd, sa);
    if (!p)
        return;
    if (full) {
        r->rejected++;
        evbuffer_add(bufferevent_get_output(p->client), MAX_CLIENTS_REPLY,
                     strlen(MAX_CLIENTS_REPLY));
        close_client_after_flush(p);
        return;
    }
    r->clients_total++;
    p->upstream = bufferevent_socket_new(r->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!p->upstream) {
        warnx_msg("out of memory: dropping a client");
        pair_free(p);
        return;
    }
    /* Each direction resumes once its output drained to a quarter of high. */
    size_t resume_at = (size_t)r->opt->high / 4;
    bufferevent_setcb(p->upstream, on_upstream_read, on_upstream_write, on_upstream_event, p);
    bufferevent_setwatermark(p->client, EV_WRITE, resume_at, 0);
    bufferevent_setwatermark(p->upstream, EV_WRITE, resume_at, 0);
    bufferevent_enable(p->upstream, EV_READ | EV_WRITE);
    touch(p);
    /* The client may talk before Redis has answered the connect: its bytes
     * wait in the upstream output and leave once connected. */
    if (bufferevent_socket_connect(p->upstream, (struct sockaddr *)&r->opt->redis_addr,
                                   sizeof r->opt->redis_addr) != 0)
        on_upstream_event(p->upstream, BEV_EVENT_ERROR, p); /* reports and closes */
}

static void on_accept_error(struct evconnlistener *listener, void *arg)
{
    struct relay *r = arg;
    warnx_msg("accept failed: %s; pausing accepts for %d ms",
              evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()), ACCEPT_PAUSE_MS);
    evconnlistener_disable(listener);
    struct timeval pause = ms_to_timeval(ACCEPT_PAUSE_MS);
    evtimer_add(r->resume_accepting, &pause);
}

static void on_resume_accepting(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct relay *r = arg;
    if (!r->draining)
        evconnlistener_enable(r->listener);
}

/* ---- timers and signals --------------------------------------------------- */

static void on_stats_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    print_stats(arg, "stats");
}

static void on_drain_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct relay *r = arg;
    printf("shutdown: drain time is up; closing %ld client%s\n", r->clients_now,
           r->clients_now == 1 ? "" : "s");
    event_base_loopexit(r->base, NULL);
}

/* Stop taking commands; let every reply already asked for reach its client. */
static void start_drain(struct relay *r, const char *why)
{
    if (r->draining) {
        printf("shutdown: second %s: exiting now\n", why);
        event_base_loopexit(r->base, NULL);
        return;
    }
    r->draining = 1;
    evconnlistener_disable(r->listener);
    printf("shutdown: caught %s; draining %ld client%s (up to %ld ms)\n", why, r->clients_now,
           r->clients_now == 1 ? "" : "s", r->opt->drain_ms);
    if (r->clients_now == 0) {
        event_base_loopexit(r->base, NULL);
        return;
    }
    for (struct pair *p = r->pairs, *next; p; p = next) {
        next = p->next; /* p may be freed below */
        if (!p->closing)
            client_done(p); /* no new commands; replies in flight still go out */
    }
    struct timeval deadline = ms_to_timeval(r->opt->drain_ms);
    evtimer_add(r->drain_deadline, &deadline);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct relay *r = arg;
    if (sig == SIGUSR1)
        print_stats(r, "stats");
    else
        start_drain(r, sig == SIGINT ? "SIGINT" : "SIGTERM");
}

/* ---- command line and main ------------------------------------------------ */

static void usage(void)
{
    printf("usage: %s [options]\n"
           "  Relay Redis clients to Redis, one upstream connection per client.\n"
           "  --host ADDR            listen address (default 127.0.0.1)\n"
           "  --port PORT            listen port, 0 = any free port (default %d)\n"
           "  --redis-host ADDR      Redis's IPv4 address (default %s)\n"
           "  --redis-port PORT      Redis's port (default %d)\n"
           "  --high BYTES           per-direction buffer before pausing the sender (default %d)\n"
           "  --idle-timeout SEC     close clients idle this long (default: never)\n"
           "  --stats-interval SEC   print a stats line this often (default: never)\n"
           "  --max-clients N        refuse clients beyond N (default: no limit)\n"
           "  --drain-ms MS          how long shutdown waits for replies (default %d)\n"
           "  --help                 show this help\n",
           prog_name(), DEFAULT_PORT, DEFAULT_REDIS_HOST, DEFAULT_REDIS_PORT, DEFAULT_HIGH,
           DEFAULT_DRAIN_MS);
}

static void parse_args(int argc, char **argv, struct options *o)
{
    static const struct option options[] = {
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"redis-host", required_argument, NULL, 'R'},
        {"redis-port", required_argument, NULL, 'P'},
        {"high", required_argument, NULL, 'w'},
        {"idle-timeout", required_argument, NULL, 'i'},
        {"stats-interval", required_argument, NULL, 's'},
        {"max-clients", required_argument, NULL, 'm'},
        {"drain-ms", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *host = "127.0.0.1", *redis_host = DEFAULT_REDIS_HOST;
    int port = DEFAULT_PORT, redis_port = DEFAULT_REDIS_PORT;
    *o = (struct options){.high = DEFAULT_HIGH, .drain_ms = DEFAULT_DRAIN_MS};
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'H': host = optarg; break;
        case 'p': port = parse_port_option("--port", optarg); break;
        case 'R': redis_host = optarg; break;
        case 'P': redis_port = (int)parse_long_option("--redis-port", optarg, 1, 65535); break;
        case 'w': o->high = parse_long_option("--high", optarg, 4096, 1L << 30); break;
        case 'i': o->idle_timeout_s = parse_long_option("--idle-timeout", optarg, 1, 86400); break;
        case 's':
            o->stats_interval_s = parse_long_option("--stats-interval", optarg, 1, 86400);
            break;
        case 'm': o->max_clients = parse_long_option("--max-clients", optarg, 1, 10000000); break;
        case 'd': o->drain_ms = parse_long_option("--drain-ms", optarg, 0, 3600000); break;
        case 'h': usage(); exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    parse_ipv4_option(&o->listen_addr, "--host", host, port);
    parse_ipv4_option(&o->redis_addr, "--redis-host", redis_host, redis_port);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct options o;
    parse_args(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN); /* a vanished client must not kill the relay */

    struct relay r = {.opt = &o};
    r.base = event_base_new();
    if (!r.base) {
        warnx_msg("cannot create an event base");
        return EXIT_RUNTIME;
    }
    r.listener = evconnlistener_new_bind(r.base, on_accept, &r,
                                         LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, LISTEN_BACKLOG,
                                         (struct sockaddr *)&o.listen_addr, sizeof o.listen_addr);
    if (!r.listener) {
        char want[ADDR_STRLEN];
        warnx_msg("cannot listen on %s: %s",
                  format_addr((struct sockaddr *)&o.listen_addr, want, sizeof want),
                  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        event_base_free(r.base);
        return EXIT_RUNTIME;
    }
    evconnlistener_set_error_cb(r.listener, on_accept_error);
    r.resume_accepting = evtimer_new(r.base, on_resume_accepting, &r);
    r.drain_deadline = evtimer_new(r.base, on_drain_deadline, &r);
    r.stats_timer = event_new(r.base, -1, EV_PERSIST, on_stats_timer, &r);
    if (o.stats_interval_s > 0) {
        struct timeval every = {o.stats_interval_s, 0};
        event_add(r.stats_timer, &every);
    }
    r.on_sigint = evsignal_new(r.base, SIGINT, on_signal, &r);
    r.on_sigterm = evsignal_new(r.base, SIGTERM, on_signal, &r);
    r.on_sigusr1 = evsignal_new(r.base, SIGUSR1, on_signal, &r);
    evsignal_add(r.on_sigint, NULL);
    evsignal_add(r.on_sigterm, NULL);
    evsignal_add(r.on_sigusr1, NULL);

    char bound[ADDR_STRLEN], redis[ADDR_STRLEN];
    printf("listening on %s\n",
           format_local_addr(evconnlistener_get_fd(r.listener), bound, sizeof bound));
    printf("relaying to Redis at %s\n",
           format_addr((struct sockaddr *)&o.redis_addr, redis, sizeof redis));

    event_base_dispatch(r.base);

    print_stats(&r, "summary");
    for (struct pair *p = r.pairs, *next; p; p = next) {
        next = p->next;
        pair_free(p);
    }
    event_free(r.on_sigusr1);
    event_free(r.on_sigterm);
    event_free(r.on_sigint);
    event_free(r.stats_timer);
    event_free(r.drain_deadline);
    event_free(r.resume_accepting);
    evconnlistener_free(r.listener);
    event_base_free(r.base);
    libevent_global_shutdown();
    return EXIT_CLEAN;
}
