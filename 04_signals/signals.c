/*
 * 04_signals/signals.c — chapter 4: signal events. Graceful shutdown, config
 * reload and a stats dump, while the server keeps serving.
 *
 * What it teaches: a Unix signal interrupts whatever the process is doing, so
 * a classic handler may do almost nothing safely. libevent's evsignal_new turns
 * a signal into an ordinary event: register it, the loop detects it next to the
 * sockets, and the callback runs in the loop like any other — where real work
 * is safe. --raw does the same by hand (the self-pipe trick) to show how.
 *
 * The server greets each client with the greeting from --config FILE
 * ("greeting = hello") and echoes every line. Signals:
 *   SIGINT, SIGTERM  graceful shutdown: stop accepting, tell every client
 *                    "server shutting down", wait (up to --drain-ms) for that to
 *                    be delivered, print a summary, exit 0. A second one: exit now.
 *   SIGHUP           reload the config file; a broken file keeps the old settings
 *   SIGUSR1          print one stats line
 *
 * Run it:  make chapter4       then, in a second terminal:
 *          telnet 127.0.0.1 8084
 *          kill -USR1 $(pgrep -f 04_signals/signals)      (stats)
 *          edit the config, kill -HUP ...                  (reload)
 *          kill -INT ... or Ctrl-C                          (graceful shutdown)
 *
 * Watch for: every signal is handled by an ordinary function, handle_signal,
 * running inside the loop — in both modes. Read docs/04-signals.md beside it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "common.h"

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 8084
#define DEFAULT_GREETING "hello"
#define DEFAULT_DRAIN_MS 2000
#define DEFAULT_MAX_LINE (64 * 1024)
#define GREETING_MAX 256
#define MAX_PENDING_OUTPUT (64 * 1024) /* stop reading a peer that doesn't read */
#define RESUME_READING_AT (16 * 1024)
#define SHUTDOWN_NOTICE "server shutting down\n"
/* After our last byte, how long a closing client may take to close its side. */
#define LINGER_MS 1000

/* The signals this server handles, and a name for each in messages. */
static const int handled_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1};
#define N_SIGNALS (sizeof handled_signals / sizeof handled_signals[0])
static const char *const signal_names[N_SIGNALS] = {"SIGINT", "SIGTERM", "SIGHUP", "SIGUSR1"};

struct config {
    char greeting[GREETING_MAX];
};

struct client;

struct server {
    struct event_base *base;
    struct evconnlistener *listener;
    struct accept_pause pause; /* EMFILE: chapter 1 */
    const char *config_path;
    struct config config;
    long drain_ms;
    size_t max_line;
    int draining;
    struct event *drain_deadline;
    struct event *signal_events[N_SIGNALS]; /* evsignal mode */
    struct event *signal_pipe_event;        /* --raw mode */
    struct client *clients;
    long clients_now, clients_total, lines_echoed;
    long signals_seen[N_SIGNALS];
};

struct client {
    struct server *server;
    struct bufferevent *bev;
    int closing;          /* saying goodbye: flush, half-close, free */
    int peer_done;        /* the client sent EOF: nothing more will come */
    struct event *linger; /* bounds how long a goodbye may take */
    char peer[ADDR_STRLEN];
    struct client *prev, *next;
};

/* ---- config file: "greeting = text", "# comments" ------------------------ */

/* Returns 0, or -1 with the reason in why. Never touches *out on failure, so
 * a broken file on reload leaves the running config alone. */
static int load_config(const char *path, struct config *out, char *why, size_t whylen)
{
    struct config cfg = {DEFAULT_GREETING};
    if (!path) {
        *out = cfg;
        return 0;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, whylen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[512];
    int lineno = 0, ok = 1;
    while (ok && fgets(line, sizeof line, f)) {
        lineno++;
        char *eq = strchr(line, '=');
        char *key = line + strspn(line, " \t");
        if (*key == '#' || *key == '\n' || *key == '\0')
            continue;
        if (!eq) {
            snprintf(why, whylen, "%s line %d: expected 'key = value'", path, lineno);
            ok = 0;
            break;
        }
        char *key_end = eq;
        while (key_end > key && (key_end[-1] == ' ' || key_end[-1] == '\t'))
            key_end--;
        char *value = eq + 1 + strspn(eq + 1, " \t");
        value[strcspn(value, "\r\n")] = '\0';
        if ((size_t)(key_end - key) == strlen("greeting") && strncmp(key, "greeting", 8) == 0) {
            if (*value == '\0' || strlen(value) >= GREETING_MAX) {
                snprintf(why, whylen, "%s line %d: greeting must be 1 to %d characters", path,
                         lineno, GREETING_MAX - 1);
                ok = 0;
                break;
            }
            memcpy(cfg.greeting, value, strlen(value) + 1); /* length checked above */
        } else {
            snprintf(why, whylen, "%s line %d: unknown key '%.*s'", path, lineno,
                     (int)(key_end - key), key);
            ok = 0;
        }
    }
    fclose(f);
    if (ok)
        *out = cfg;
    return ok ? 0 : -1;
}

/* ---- clients: greet, echo lines ------------------------------------------ */

static void client_free(struct client *c)
{
    struct server *s = c->server;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
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
    evtimer_add(c->linger, &linger);
}

static void on_linger(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
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
    (void)listener;
    (void)peerlen;
    struct server *s = arg;
    struct client *c = calloc(1, sizeof *c);
    struct bufferevent *bev = c ? bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
    struct event *linger = bev ? evtimer_new(s->base, on_linger, c) : NULL;
    if (!linger) {
        warnx_msg("out of memory: dropping a connection");
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
    c->next = s->clients;
    if (c->next)
        c->next->prev = c;
    s->clients = c;
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
    (void)fd;
    (void)what;
    struct server *s = arg;
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
    /* stop accepting for good: a resume still pending from an EMFILE pause
     * must not turn accepting back on during the drain */
    accept_pause_stop_accepting(&s->pause);
    printf("shutdown: caught %s; telling %ld client%s, waiting up to %ld ms\n", why, s->clients_now,
           s->clients_now == 1 ? "" : "s", s->drain_ms);
    if (s->clients_now == 0) {
        event_base_loopexit(s->base, NULL);
        return;
    }
    struct client *c = s->clients;
    while (c) {
        struct client *next = c->next; /* c may be freed below */
        bufferevent_write(c->bev, SHUTDOWN_NOTICE, strlen(SHUTDOWN_NOTICE));
        client_close_after_flush(c);
        c = next;
    }
    struct timeval deadline = ms_to_timeval(s->drain_ms);
    evtimer_add(s->drain_deadline, &deadline);
}

static void reload_config(struct server *s)
{
    struct config fresh;
    char why[512];
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

static void handle_signal(struct server *s, int signo)
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

/* ---- way 1: libevent's signal events -------------------------------------- */

/* Called by the loop, not by the kernel: any code is fine here. */
static void on_signal_event(evutil_socket_t signo, short what, void *arg)
{
    (void)what;
    handle_signal(arg, (int)signo);
}

static int register_signal_events(struct server *s)
{
    for (size_t i = 0; i < N_SIGNALS; i++) {
        s->signal_events[i] = evsignal_new(s->base, handled_signals[i], on_signal_event, s);
        if (!s->signal_events[i] || evsignal_add(s->signal_events[i], NULL) != 0)
            return -1;
    }
    return 0;
}

/* ---- way 2 (--raw): the self-pipe trick, by hand -------------------------- */

static int signal_pipe[2] = {-1, -1}; /* [0] read end in the loop, [1] write end */

/* Runs in signal context: it may interrupt anything, even malloc or printf
 * half-way. Rule 1: call only async-signal-safe functions — write() is one.
 * Rule 2: save and restore errno, or the interrupted code may see ours. */
static void raw_signal_handler(int signo)
{
    int saved_errno = errno;
    unsigned char byte = (unsigned char)signo;
    ssize_t ignored = write(signal_pipe[1], &byte, 1); /* full pipe: dropped */
    (void)ignored;
    errno = saved_errno;
}

/* Back in the loop: each byte in the pipe is one delivered signal. */
static void on_signal_pipe(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    unsigned char bytes[64];
    ssize_t n;
    while ((n = read(fd, bytes, sizeof bytes)) > 0)
        for (ssize_t i = 0; i < n; i++)
            handle_signal(arg, bytes[i]);
}

static int set_nonblocking_cloexec(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static int register_raw_signals(struct server *s)
{
    /* Both ends non-blocking: the handler must never block on a full pipe,
     * and the loop reads until EAGAIN. */
    if (pipe(signal_pipe) != 0 || set_nonblocking_cloexec(signal_pipe[0]) != 0 ||
        set_nonblocking_cloexec(signal_pipe[1]) != 0)
        return -1;
    s->signal_pipe_event =
        event_new(s->base, signal_pipe[0], EV_READ | EV_PERSIST, on_signal_pipe, s);
    if (!s->signal_pipe_event || event_add(s->signal_pipe_event, NULL) != 0)
        return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = raw_signal_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; /* interrupted system calls resume instead of failing with EINTR */
    for (size_t i = 0; i < N_SIGNALS; i++)
        if (sigaction(handled_signals[i], &sa, NULL) != 0)
            return -1;
    return 0;
}

static void unregister_raw_signals(struct server *s)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (size_t i = 0; i < N_SIGNALS; i++)
        sigaction(handled_signals[i], &sa, NULL);
    if (s->signal_pipe_event)
        event_free(s->signal_pipe_event);
    for (int i = 0; i < 2; i++)
        if (signal_pipe[i] >= 0)
            close(signal_pipe[i]);
}

/* ---- command line and main ----------------------------------------------- */

struct options {
    struct sockaddr_in sin;
    const char *config_path;
    long drain_ms;
    long max_line;
    int raw;
};

static void usage(void)
{
    printf("usage: %s [--raw] [--config FILE] [--host ADDR] [--port PORT] [--drain-ms MS]\n"
           "  A line echo server that reacts to signals: INT/TERM graceful shutdown,\n"
           "  HUP reload --config, USR1 stats.\n"
           "  --raw           handle signals with sigaction + a self-pipe, not evsignal\n"
           "  --config FILE   'greeting = text' (default greeting: %s)\n"
           "  --host ADDR     IPv4 address to listen on (default %s)\n"
           "  --port PORT     port, 0 = any free port (default %d)\n"
           "  --drain-ms MS   how long shutdown waits for clients (default %d)\n"
           "  --max-line N    longest line accepted, in bytes (default %d)\n"
           "  --help          show this help\n",
           prog_name(), DEFAULT_GREETING, DEFAULT_HOST, DEFAULT_PORT, DEFAULT_DRAIN_MS,
           DEFAULT_MAX_LINE);
}

static void parse_args(int argc, char **argv, struct options *o)
{
    static const struct option options[] = {
        {"raw", no_argument, NULL, 'r'},
        {"config", required_argument, NULL, 'c'},
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"drain-ms", required_argument, NULL, 'd'},
        {"max-line", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *host = DEFAULT_HOST;
    int port = DEFAULT_PORT;
    *o = (struct options){.drain_ms = DEFAULT_DRAIN_MS, .max_line = DEFAULT_MAX_LINE};
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'r': o->raw = 1; break;
        case 'c': o->config_path = optarg; break;
        case 'H': host = optarg; break;
        case 'p': port = parse_port_option("--port", optarg); break;
        case 'd': o->drain_ms = parse_long_option("--drain-ms", optarg, 0, 3600000); break;
        case 'm': o->max_line = parse_long_option("--max-line", optarg, 1, 1 << 30); break;
        case 'h': usage(); exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    parse_ipv4_option(&o->sin, "--host", host, port);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct options o;
    parse_args(argc, argv, &o);

    struct server s = {
        .config_path = o.config_path, .drain_ms = o.drain_ms, .max_line = (size_t)o.max_line};
    char why[512];
    if (load_config(s.config_path, &s.config, why, sizeof why) != 0)
        usage_error("--config: %s", why);
    /* A write to a peer that has gone raises SIGPIPE, and its default action
     * kills the process: one vanished client would take the server down.
     * Ignored, the write just fails with EPIPE and the bufferevent reports it. */
    signal(SIGPIPE, SIG_IGN);

    s.base = event_base_new();
    if (!s.base) {
        warnx_msg("cannot create an event base");
        return EXIT_RUNTIME;
    }
    s.listener =
        evconnlistener_new_bind(s.base, on_accept, &s, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE,
                                -1, (struct sockaddr *)&o.sin, sizeof o.sin);
    if (!s.listener) {
        char want[ADDR_STRLEN];
        warnx_msg("cannot listen on %s: %s",
                  format_addr((struct sockaddr *)&o.sin, want, sizeof want),
                  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        event_base_free(s.base);
        return EXIT_RUNTIME;
    }
    if (accept_pause_init(&s.pause, s.listener) != 0)
        return EXIT_RUNTIME;
    evconnlistener_set_error_cb(s.listener, on_accept_error);
    s.drain_deadline = evtimer_new(s.base, on_drain_deadline, &s);
    if ((o.raw ? register_raw_signals(&s) : register_signal_events(&s)) != 0) {
        warnx_msg("cannot set up signal handling: %s", strerror(errno));
        return EXIT_RUNTIME;
    }

    char bound[ADDR_STRLEN];
    printf("listening on %s\n",
           format_local_addr(evconnlistener_get_fd(s.listener), bound, sizeof bound));
    printf("signals via %s; greeting \"%s\"; try: kill -USR1 %d\n",
           o.raw ? "sigaction + self-pipe (--raw)" : "evsignal_new", s.config.greeting,
           (int)getpid());

    event_base_dispatch(s.base);

    print_stats(&s, "summary");
    for (struct client *c = s.clients, *next; c; c = next) {
        next = c->next;
        client_free(c);
    }
    if (o.raw)
        unregister_raw_signals(&s);
    for (size_t i = 0; i < N_SIGNALS; i++)
        if (s.signal_events[i])
            event_free(s.signal_events[i]);
    event_free(s.drain_deadline);
    accept_pause_free(&s.pause);
    evconnlistener_free(s.listener);
    event_base_free(s.base);
    libevent_global_shutdown();
    return EXIT_CLEAN;
}
