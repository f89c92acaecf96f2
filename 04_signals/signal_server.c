/*
 * 04_signals/signal_server.c — the line echo server of chapter 4; see
 * signal_server.h. It greets each client with the configured greeting and
 * echoes every line. The signals' work:
 *   SIGINT, SIGTERM  graceful shutdown: stop accepting, tell every client
 *                    "server shutting down", wait (up to --drain-ms) for that to
 *                    be delivered, print a summary, exit 0. A second one: exit now.
 *   SIGHUP           reload the config file; a broken file keeps the old settings
 *   SIGUSR1          print one stats line
 */
#include "signal_server.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 8084
#define DEFAULT_DRAIN_MS 2000
#define DEFAULT_MAX_LINE (64 * 1024)
#define MAX_PENDING_OUTPUT (64 * 1024) /* stop reading a peer that doesn't read */
#define RESUME_READING_AT (16 * 1024)
#define SHUTDOWN_NOTICE "server shutting down\n"
#define WHY_MAX 512
/* After our last byte, how long a closing client may take to close its side. */
#define LINGER_MS 1000

const int handled_signals[N_SIGNALS] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1};
static const char *const signal_names[N_SIGNALS] = {"SIGINT", "SIGTERM", "SIGHUP", "SIGUSR1"};

struct client {
    struct server *server;
    struct bufferevent *bev;
    int closing;          /* saying goodbye: flush, half-close, free */
    int peer_done;        /* the client sent EOF: nothing more will come */
    struct event *linger; /* bounds how long a goodbye may take */
    char peer[ADDR_STRLEN];
    LIST_ENTRY(client) link;
};

/* ---- clients: greet, echo lines ------------------------------------------ */

static void client_free(struct client *c)
{
    struct server *s = c->server;
    LIST_REMOVE(c, link);
    event_free(c->linger);
    bufferevent_free(c->bev);
    free(c);
    s->clients_now--;
    if (s->draining && s->clients_now == 0)
        event_base_loopexit(s->base, NULL); /* everyone got the notice */
}

/* Everything queued for the client has left. If it may still be sending,
 * close() now would answer its unread bytes with a reset, and a reset can
 * destroy our last line before the client reads it. So: half-close (a FIN
 * after our last byte), drop what it still sends, and free it on its EOF or
 * after LINGER_MS. */
static void finish_close(struct client *c)
{
    if (c->peer_done) {
        client_free(c);
        return;
    }
    shutdown(bufferevent_getfd(c->bev), SHUT_WR);
    struct timeval linger = ms_to_timeval(LINGER_MS);
    if (evtimer_add(c->linger, &linger) != 0) {
        warnx_msg("closing %s at once: cannot start its linger timer: evtimer_add failed", c->peer);
        client_free(c);
    }
}

static void on_linger(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    trace_dispatch(fd, "timeout", "on_linger");
    client_free(arg);
}

/* Say goodbye: what is queued still goes out, then finish_close. */
static void client_close_after_flush(struct client *c)
{
    c->closing = 1;
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    if (c->peer_done)
        bufferevent_disable(c->bev, EV_READ);
    else
        bufferevent_enable(c->bev, EV_READ); /* on_client_read drops it */
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        finish_close(c);
}

static void on_client_read(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;
    trace_dispatch(bufferevent_getfd(bev), "read", "on_client_read");
    struct evbuffer *input = bufferevent_get_input(bev);
    struct evbuffer *output = bufferevent_get_output(bev);
    size_t len;
    char *line;
    if (c->closing) {
        evbuffer_drain(input, evbuffer_get_length(input));
        return;
    }
    while ((line = evbuffer_readln(input, &len, EVBUFFER_EOL_CRLF)) != NULL) {
        evbuffer_add(output, line, len);
        evbuffer_add(output, "\n", 1);
        free(line);
        c->server->lines_echoed++;
    }
    if (evbuffer_get_length(input) > c->server->max_line) {
        /* no newline in max_line bytes: not a line server's client */
        evbuffer_add_printf(output, "error: line longer than %zu bytes\n", c->server->max_line);
        client_close_after_flush(c);
        return;
    }
    if (evbuffer_get_length(output) >= MAX_PENDING_OUTPUT)
        bufferevent_disable(bev, EV_READ); /* resumed in on_client_write */
}

static void on_client_write(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;
    trace_dispatch(bufferevent_getfd(bev), "write", "on_client_write");
    if (c->closing) {
        if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
            finish_close(c);
        return;
    }
    bufferevent_enable(bev, EV_READ);
}

static void on_client_event(struct bufferevent *bev, short what, void *arg)
{
    struct client *c = arg;
    trace_dispatch(bufferevent_getfd(bev), "event", "on_client_event");
    int unsent = evbuffer_get_length(bufferevent_get_output(bev)) > 0;
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && unsent) {
        c->peer_done = 1; /* half-closed: still deliver its echo */
        client_close_after_flush(c);
        return;
    }
    client_free(c); /* an error, or EOF with nothing left to send */
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *peer,
                      int peerlen, void *arg)
{
    (void)peerlen;
    struct server *s = arg;
    trace_dispatch(evconnlistener_get_fd(listener), "accept", "on_accept");
    struct client *c = calloc(1, sizeof *c);
    struct bufferevent *bev = c ? bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
    struct event *linger = bev ? evtimer_new(s->base, on_linger, c) : NULL;
    if (!linger) {
        warnx_msg("dropping a connection: cannot create its bufferevent and timer: out of memory");
        if (bev)
            bufferevent_free(bev);
        else
            evutil_closesocket(fd);
        free(c);
        return;
    }
    c->server = s;
    c->bev = bev;
    c->linger = linger;
    format_addr(peer, c->peer, sizeof c->peer);
    LIST_INSERT_HEAD(&s->clients, c, link);
    s->clients_now++;
    s->clients_total++;
    bufferevent_setcb(bev, on_client_read, on_client_write, on_client_event, c);
    bufferevent_setwatermark(bev, EV_WRITE, RESUME_READING_AT, 0);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    evbuffer_add_printf(bufferevent_get_output(bev), "%s\n", s->config.greeting);
}

static void on_accept_error(struct evconnlistener *listener, void *arg)
{
    (void)listener;
    struct server *s = arg;
    accept_pause_after_error(&s->pause); /* out of descriptors: chapter 1 */
}

/* ---- what each signal does: ordinary code, run inside the loop ------------ */

static void on_drain_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct server *s = arg;
    trace_dispatch(fd, "timeout", "on_drain_deadline");
    printf("shutdown: drain time (%ld ms) is up; closing %ld client%s anyway\n", s->drain_ms,
           s->clients_now, s->clients_now == 1 ? "" : "s");
    event_base_loopexit(s->base, NULL);
}

static void start_shutdown(struct server *s, const char *why)
{
    if (s->draining) {
        printf("shutdown: second %s: exiting now\n", why);
        event_base_loopexit(s->base, NULL);
        return;
    }
    s->draining = 1;
    /* Stop accepting for good: a resume still pending from an EMFILE pause
     * must not turn accepting back on during the drain. */
    accept_pause_stop_accepting(&s->pause);
    printf("shutdown: caught %s; telling %ld client%s, waiting up to %ld ms\n", why, s->clients_now,
           s->clients_now == 1 ? "" : "s", s->drain_ms);
    if (s->clients_now == 0) {
        event_base_loopexit(s->base, NULL);
        return;
    }
    for (struct client *c = LIST_FIRST(&s->clients), *next; c; c = next) {
        next = LIST_NEXT(c, link); /* c may be freed below */
        bufferevent_write(c->bev, SHUTDOWN_NOTICE, strlen(SHUTDOWN_NOTICE));
        client_close_after_flush(c);
    }
    struct timeval deadline = ms_to_timeval(s->drain_ms);
    if (evtimer_add(s->drain_deadline, &deadline) != 0) {
        warnx_msg("cannot start the drain deadline: evtimer_add failed; exiting now");
        event_base_loopexit(s->base, NULL);
    }
}

static void reload_config(struct server *s)
{
    struct config fresh;
    char why[WHY_MAX];
    if (load_config(s->config_path, &fresh, why, sizeof why) != 0) {
        printf("reload: failed: %s; keeping greeting \"%s\"\n", why, s->config.greeting);
        return;
    }
    if (strcmp(fresh.greeting, s->config.greeting) == 0) {
        printf("reload: no changes\n");
        return;
    }
    printf("reload: greeting \"%s\" -> \"%s\"\n", s->config.greeting, fresh.greeting);
    s->config = fresh; /* new clients see it; connected ones were greeted already */
}

static void print_stats(const struct server *s, const char *label)
{
    printf("%s: uptime_ms=%.0f clients_now=%ld clients_total=%ld lines_echoed=%ld", label,
           elapsed_ms(), s->clients_now, s->clients_total, s->lines_echoed);
    for (size_t i = 0; i < N_SIGNALS; i++)
        printf(" %s=%ld", signal_names[i], s->signals_seen[i]);
    putchar('\n');
}

void handle_signal(struct server *s, int signo)
{
    size_t i = 0;
    while (i < N_SIGNALS && handled_signals[i] != signo)
        i++;
    if (i == N_SIGNALS)
        return;
    s->signals_seen[i]++;
    switch (signo) {
    case SIGINT:
    case SIGTERM: start_shutdown(s, signal_names[i]); break;
    case SIGHUP: reload_config(s); break;
    case SIGUSR1: print_stats(s, "stats"); break;
    }
}

void server_print_summary(const struct server *s)
{
    print_stats(s, "summary");
}

/* ---- command line, setup and teardown ------------------------------------- */

static void usage(void)
{
    printf("usage: %s [--config FILE] [--host ADDR] [--port PORT] [--drain-ms MS]\n"
           "       [--trace] [--backend NAME]\n"
           "  A line echo server that reacts to signals: INT/TERM graceful shutdown,\n"
           "  HUP reload --config, USR1 stats.\n"
           "  --config FILE   'greeting = text' (default greeting: %s)\n"
           "  --host ADDR     IPv4 address to listen on (default %s)\n"
           "  --port PORT     port, 0 = any free port (default %d)\n"
           "  --drain-ms MS   how long shutdown waits for clients (default %d)\n"
           "  --max-line N    longest line accepted, in bytes (default %d)\n"
           "  --trace         print each register/detect/dispatch step on stderr\n"
           "  --backend NAME  epoll, poll or select (default: libevent's choice)\n"
           "  --help          show this help; SIGUSR2 prints what is registered\n",
           prog_name(), DEFAULT_GREETING, DEFAULT_HOST, DEFAULT_PORT, DEFAULT_DRAIN_MS,
           DEFAULT_MAX_LINE);
}

void server_parse_args(int argc, char **argv, struct server_options *o)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"drain-ms", required_argument, NULL, 'd'},
        {"max-line", required_argument, NULL, 'm'},
        {"trace", no_argument, NULL, 't'},
        {"backend", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *host = DEFAULT_HOST;
    int port = DEFAULT_PORT;
    *o = (struct server_options){.drain_ms = DEFAULT_DRAIN_MS, .max_line = DEFAULT_MAX_LINE};
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'c': o->config_path = optarg; break;
        case 'H': host = optarg; break;
        case 'p': port = parse_port_option("--port", optarg); break;
        case 'd': o->drain_ms = parse_long_option("--drain-ms", optarg, 0, 3600000); break;
        case 'm': o->max_line = parse_long_option("--max-line", optarg, 1, 1 << 30); break;
        case 't': o->loop.trace = 1; break;
        case 'b': o->loop.backend = parse_backend_option(optarg); break;
        case 'h': usage(); exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    parse_ipv4_option(&o->sin, "--host", host, port);
}

int signal_server_open(struct server *s, const struct server_options *o)
{
    *s = (struct server){.config_path = o->config_path,
                         .drain_ms = o->drain_ms,
                         .max_line = (size_t)o->max_line,
                         .trace = o->loop.trace};
    LIST_INIT(&s->clients);
    char why[WHY_MAX];
    if (load_config(s->config_path, &s->config, why, sizeof why) != 0)
        usage_error("--config: %s", why);
    /* A write to a peer that has gone raises SIGPIPE, and its default action
     * kills the process: one vanished client would take the server down.
     * Ignored, the write just fails with EPIPE and the bufferevent reports it. */
    signal(SIGPIPE, SIG_IGN);
    trace_wire(o->loop.trace);                  /* --trace: register, detect, dispatch lines */
    s->base = open_event_base(o->loop.backend); /* says why if it cannot */
    if (!s->base)
        return -1;
    s->listener =
        evconnlistener_new_bind(s->base, on_accept, s, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE,
                                -1, (const struct sockaddr *)&o->sin, sizeof o->sin);
    if (!s->listener) {
        char want[ADDR_STRLEN];
        warnx_msg("cannot listen on %s: %s",
                  format_addr((const struct sockaddr *)&o->sin, want, sizeof want),
                  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        return -1;
    }
    if (accept_pause_init(&s->pause, s->listener) != 0)
        return -1;
    evconnlistener_set_error_cb(s->listener, on_accept_error);
    s->drain_deadline = evtimer_new(s->base, on_drain_deadline, s);
    if (!s->drain_deadline) {
        warnx_msg("cannot create the drain deadline timer: out of memory");
        return -1;
    }
    s->on_sigusr2 = evsignal_new(s->base, SIGUSR2, trace_on_sigusr2, s->base);
    if (!s->on_sigusr2 || evsignal_add(s->on_sigusr2, NULL) != 0) {
        warnx_msg("cannot watch SIGUSR2: evsignal_new/evsignal_add failed");
        return -1;
    }
    return 0;
}

void server_print_banner(const struct server *s, const char *how)
{
    char bound[ADDR_STRLEN];
    printf("backend: %s\n", event_base_get_method(s->base));
    printf("listening on %s\n",
           format_local_addr(evconnlistener_get_fd(s->listener), bound, sizeof bound));
    printf("signals via %s; greeting \"%s\"; try: kill -USR1 %d\n", how, s->config.greeting,
           (int)getpid());
    if (s->trace)
        trace_dump_events(s->base);
}

void signal_server_close(struct server *s)
{
    for (struct client *c = LIST_FIRST(&s->clients), *next; c; c = next) {
        next = LIST_NEXT(c, link);
        client_free(c);
    }
    if (s->on_sigusr2)
        event_free(s->on_sigusr2);
    if (s->drain_deadline)
        event_free(s->drain_deadline);
    accept_pause_free(&s->pause);
    if (s->listener)
        evconnlistener_free(s->listener);
    if (s->base)
        event_base_free(s->base);
}
