/*
 * 11_threads/offload.c — never block the loop: slow work goes to a pool of
 * threads, and the result comes back to the loop thread.
 *
 * A line protocol: PING (cheap: answered at once, "PONG"), HASH n (n rounds
 * of a deliberate hash: slow CPU work), SLEEP ms (a blocking call standing
 * for a slow disk or a slow library). One loop thread owns every connection;
 * a slow request becomes a job for the pool (pool.c), the connection waits
 * (its later lines stay in its input buffer, so replies keep their order),
 * and a pool thread hands the finished job back with event_active on the
 * loop's done_event. Meanwhile every other client's PING is answered.
 * --inline does the same work on the loop thread, for contrast: one HASH
 * and every client waits.
 *
 * The order that matters: evthread_use_pthreads() before the base exists,
 * because a pool thread calls into that base (event_active).
 *
 * Run it:  build/11_threads/offload --threads 2 --port 8013
 * Poke it: printf 'HASH 100000000\n' | nc -N 127.0.0.1 8013 &
 *          printf 'PING\n' | nc -N 127.0.0.1 8013   (PONG comes back first)
 * Watch for: with --inline the PONG waits for the hash. Ctrl-C drains:
 * the jobs out come back and their replies go out before the exit (a
 * second Ctrl-C does not wait).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "pool.h"
#include "threads.h"

#define MAX_REQUEST 256 /* a request line longer than this is refused */
/* How long SIGINT/SIGTERM wait for the jobs out and their replies. */
#define DRAIN_JOBS_MS 30000

struct offload;
struct conn {
    struct offload *server;
    struct bufferevent *bev; /* NULL once the peer is gone but a job is out */
    int busy;                /* a job of ours is in the pool */
    int eof;                 /* the client sent FIN: finish, then close */
    LIST_ENTRY(conn) link;
};

struct offload {
    struct server srv; /* base, listener, signals, the drain: common/server.h */
    struct pool pool;
    int inline_work;
    struct conn_list conns;
    long n_conns;
    unsigned long cheap, slow; /* requests answered (loop thread only) */
};

static void conn_free(struct conn *c)
{
    struct offload *s = c->server;
    LIST_REMOVE(c, link);
    if (c->bev)
        bufferevent_free(c->bev);
    free(c);
    s->n_conns--;
    server_client_left(&s->srv); /* draining: the last one has been answered */
}

static void reply(struct conn *c, const char *text)
{
    evbuffer_add(bufferevent_get_output(c->bev), text, strlen(text));
}

/* Parse "HASH n" / "SLEEP ms" into KIND and ARG. 1: a slow request; 0: not
 * one (ERR_TEXT says why, or it is empty for "not HASH/SLEEP at all"). */
static int parse_slow(const char *line, enum job_kind *kind, long *arg, const char **err_text)
{
    long max;
    const char *num;
    *err_text = "";
    if (strncmp(line, "HASH ", 5) == 0) {
        *kind = JOB_HASH, num = line + 5, max = MAX_HASH_ROUNDS;
    } else if (strncmp(line, "SLEEP ", 6) == 0) {
        *kind = JOB_SLEEP, num = line + 6, max = MAX_SLEEP_MS;
    } else {
        return 0;
    }
    char *end;
    *arg = strtol(num, &end, 10);
    if (end == num || *end != '\0' || *arg < 1 || *arg > max) {
        *err_text = *kind == JOB_HASH ? "ERR HASH takes 1 to 200000000 rounds\n"
                                      : "ERR SLEEP takes 1 to 5000 ms\n";
        return 0;
    }
    return 1;
}

/* region: handle_request */
/* One request line. 1: a job went to the pool (stop reading lines for now). */
static int handle_request(struct conn *c, const char *line)
{
    struct offload *s = c->server;
    enum job_kind kind;
    long arg;
    const char *err_text;
    if (strcmp(line, "PING") == 0) {
        reply(c, "PONG\n"); /* cheap: answered here and now */
        s->cheap++;
        return 0;
    }
    if (!parse_slow(line, &kind, &arg, &err_text)) {
        reply(c, *err_text ? err_text : "ERR unknown command (PING, HASH n, SLEEP ms)\n");
        return 0;
    }
    struct job *job = calloc(1, sizeof *job);
    if (!job) {
        reply(c, "ERR out of memory\n");
        return 0;
    }
    job->owner = c;
    job->kind = kind;
    job->arg = arg;
    if (s->inline_work) { /* the contrast: the whole loop waits here */
        job_run(job);
        reply(c, job->reply);
        s->slow++;
        free(job);
        return 0;
    }
    c->busy = 1;
    pool_submit(&s->pool, job);
    return 1;
}
/* endregion */

/* Answer the complete lines waiting in input, until one goes to the pool;
 * then, at EOF with nothing out, close once the replies are sent. */
static void process_lines(struct conn *c)
{
    struct evbuffer *input = bufferevent_get_input(c->bev);
    char *line;
    while (!c->busy && (line = evbuffer_readln(input, NULL, EVBUFFER_EOL_CRLF)) != NULL) {
        handle_request(c, line);
        free(line);
    }
    if (!c->busy && evbuffer_get_length(input) > MAX_REQUEST) {
        reply(c, "ERR request line too long\n");
        evbuffer_drain(input, evbuffer_get_length(input));
        c->eof = 1;
    }
    if (c->eof && !c->busy) {
        if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
            conn_free(c);
        else
            bufferevent_disable(c->bev, EV_READ); /* on_write frees it */
    }
}

/* region: on_jobs_done */
/* A pool thread called event_active: collect every finished job. */
static void on_jobs_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct offload *s = arg;
    trace_dispatch(-1, "active", "on_jobs_done");
    struct job *job;
    while ((job = pool_take_done(&s->pool)) != NULL) {
        struct conn *c = job->owner;
        c->busy = 0;
        s->slow++;
        if (!c->bev) {
            conn_free(c); /* the client left while its job ran */
        } else {
            reply(c, job->reply);
            process_lines(c); /* the lines that waited behind it */
        }
        free(job);
    }
}
/* endregion */

static void on_read(struct bufferevent *bev, void *ctx)
{
    trace_dispatch(bufferevent_getfd(bev), "read", "on_read");
    process_lines(ctx);
}

static void on_write(struct bufferevent *bev, void *ctx)
{
    struct conn *c = ctx;
    trace_dispatch(bufferevent_getfd(bev), "write", "on_write");
    if (c->eof && !c->busy)
        conn_free(c); /* everything owed has been sent */
}

static void on_conn_event(struct bufferevent *bev, short what, void *ctx)
{
    struct conn *c = ctx;
    trace_dispatch(bufferevent_getfd(bev), "event", "on_conn_event");
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
        c->eof = 1;
        process_lines(c);
        return;
    }
    if (c->busy) { /* the job will come back: keep the conn, drop the socket */
        bufferevent_free(c->bev);
        c->bev = NULL;
        return;
    }
    conn_free(c);
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *peer,
                      int peerlen, void *ctx)
{
    (void)peer;
    (void)peerlen;
    struct offload *s = ctx;
    trace_dispatch(evconnlistener_get_fd(listener), "accept", "on_accept");
    struct conn *c = calloc(1, sizeof *c);
    struct bufferevent *bev =
        c ? bufferevent_socket_new(s->srv.base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
    if (!bev) {
        warnx_msg("out of memory: dropping a connection");
        evutil_closesocket(fd);
        free(c);
        return;
    }
    c->server = s;
    c->bev = bev;
    LIST_INSERT_HEAD(&s->conns, c, link);
    s->n_conns++;
    bufferevent_setcb(bev, on_read, on_write, on_conn_event, c);
    if (bufferevent_enable(bev, EV_READ | EV_WRITE) != 0) {
        warnx_msg("cannot watch a new client");
        conn_free(c);
    }
}

/* region: drain */
/* The first SIGINT/SIGTERM: the skeleton stops accepting and calls this; we
 * read no more requests, but let every job out come back and every reply go
 * out; each connection closes once it owes nothing (process_lines at EOF),
 * and the last one ends the loop (server_client_left). A second signal, or
 * DRAIN_JOBS_MS, ends it at once. */
static void on_drain(void *app)
{
    struct offload *s = app;
    for (struct conn *c = LIST_FIRST(&s->conns), *next; c; c = next) {
        next = LIST_NEXT(c, link);
        c->eof = 1; /* as if each client had sent its FIN */
        if (c->bev)
            process_lines(c); /* may free c */
    }
}
/* endregion */

static long clients_now(void *app)
{
    return ((struct offload *)app)->n_conns;
}

static const struct server_hooks offload_hooks = {.clients = clients_now, .drain = on_drain};

/* The skeleton fits: one loop thread with the listener and the signals. The
 * pool's threads run no loop at all (pool.c), so there is nothing of the
 * skeleton for them. evthread_use_pthreads comes first: the base must be
 * made with locks, because a pool thread calls event_active on it. */
static int offload_open(struct offload *s, struct thread_options *opt)
{
    *s = (struct offload){.inline_work = opt->inline_work};
    LIST_INIT(&s->conns);
    opt->server.drain_ms = DRAIN_JOBS_MS;
    /* region: use_pthreads */
    /* Before any base exists: bases created from now on get a lock, so a
     * pool thread may call event_active on the loop's base. */
    if (evthread_use_pthreads() != 0) {
        warnx_msg("evthread_use_pthreads failed");
        return -1;
    }
    /* endregion */
    if (server_open(&s->srv, &opt->server, &offload_hooks, s) != 0)
        return -1;
    sigset_t old;
    block_signals(&old); /* the pool threads inherit the mask */
    int failed =
        !s->inline_work && pool_start(&s->pool, s->srv.base, opt->threads, on_jobs_done, s) != 0;
    restore_signals(&old);
    if (failed)
        return -1;
    return server_listen(&s->srv, &opt->sin, on_accept, s);
}

/* The pool first (stopped, joined), then the jobs and connections, then
 * the loop's own events and base. */
static void offload_close(struct offload *s)
{
    pool_stop(&s->pool);
    pool_free(&s->pool);
    for (struct conn *c = LIST_FIRST(&s->conns), *next; c; c = next) {
        next = LIST_NEXT(c, link);
        conn_free(c);
    }
    server_close(&s->srv);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct thread_options opt = {0};
    parse_thread_options(argc, argv, "PING at once; HASH n and SLEEP ms in a pool of threads.", 1,
                         &opt);

    struct offload s;
    if (offload_open(&s, &opt) != 0) {
        offload_close(&s);
        return EXIT_RUNTIME;
    }
    server_announce(&s.srv);
    if (s.inline_work)
        printf("slow work: inline, on the loop thread\n");
    else
        printf("slow work: a pool of %ld thread%s\n", opt.threads, opt.threads == 1 ? "" : "s");

    server_run(&s.srv); /* until SIGINT/SIGTERM and the drain */

    long joined = pool_stop(&s.pool);
    printf("joined %ld pool thread%s\n", joined, joined == 1 ? "" : "s");
    printf("answered %lu cheap, %lu slow request%s\n", s.cheap, s.slow, s.slow == 1 ? "" : "s");
    offload_close(&s);
    printf("bye\n");
    return EXIT_CLEAN;
}
