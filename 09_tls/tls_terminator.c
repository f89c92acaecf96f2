/*
 * 09_tls/tls_terminator.c — chapter 9: TLS in, plaintext Redis out. Clients
 * speak TLS to us; each gets its own plaintext connection to Redis, made
 * once its handshake is done. What stunnel does, in libevent: the client's
 * bufferevent is layered on OpenSSL (bufferevent_openssl_socket_new), and
 * from there on the pair is chapter 6's relay (tls_pair.c).
 *
 * This file is the server around the pairs: options, stats, the TLS context,
 * and main wiring them up in the order they happen. The event base, the
 * listener and the signals are common/server.h's, as in chapter 6.
 *
 * Run it:  make certs chapter9
 *          redis-cli --tls --cacert build/certs/ca.crt -p 6391 ping
 *          build/09_tls/tls_terminator --trace ...   shows each handshake step
 *
 * Watch for: a client that sends plaintext, garbage, an old TLS version, or
 * stalls in the handshake costs only its own connection, with one line:
 *   tls_terminator: 127.0.0.1:41234: TLS handshake failed: wrong version number
 * Read docs/09-tls.md beside this file.
 */
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "server_args.h"
#include "terminator.h"
#include "tls_util.h"

#define DEFAULT_PORT 6391
#define DEFAULT_CERT "build/certs/server.crt"
#define DEFAULT_KEY "build/certs/server.key"
#define DEFAULT_HANDSHAKE_TIMEOUT_MS 10000
#define DEFAULT_HIGH (1024 * 1024) /* per direction, per client */

static void print_stats(void *app, const char *label)
{
    const struct terminator *t = app;
    printf("%s: clients_now=%ld clients_total=%ld handshakes_failed=%ld upstream_errors=%ld\n",
           label, t->clients_now, t->clients_total, t->handshakes_failed, t->upstream_errors);
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    (void)salen;
    struct terminator *t = arg;
    trace_dispatch(evconnlistener_get_fd(listener), "accept", "on_accept");
    t->clients_total++;
    pair_start(t, fd, sa);
}

static long clients_now(void *app)
{
    return ((struct terminator *)app)->clients_now;
}

/* SIGUSR1 prints the stats; SIGINT/SIGTERM close every client at once. */
static const struct server_hooks terminator_hooks = {.stats = print_stats, .clients = clients_now};

/* ---- command line ------------------------------------------------------------ */

static void usage(void)
{
    printf(
        "usage: %s [options]\n"
        "  Accept TLS clients; relay each, decrypted, to Redis over plain TCP.\n"
        "  --host ADDR               listen address (default 127.0.0.1)\n"
        "  --port PORT               listen port, 0 = any free port (default %d)\n"
        "  --redis-host ADDR         Redis's IPv4 address (default %s)\n"
        "  --redis-port PORT         Redis's plaintext port (default %d)\n"
        "  --cert FILE               our certificate chain (default %s)\n"
        "  --key FILE                its private key (default %s)\n"
        "  --handshake-timeout MS    a client gets this long for its handshake; 0 = no\n"
        "                            limit (default %d)\n"
        "  --high BYTES              per-direction buffer before pausing the sender (default %d)\n"
        "  --trace                   print the loop's steps and each handshake's on stderr\n"
        "  --backend NAME            epoll, poll or select (default: libevent's choice)\n"
        "  --help                    show this help; SIGUSR1: stats, SIGUSR2: the events\n",
        prog_name(), DEFAULT_PORT, SERVER_ARGS_REDIS_HOST, SERVER_ARGS_REDIS_PORT, DEFAULT_CERT,
        DEFAULT_KEY, DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_HIGH);
}

/* The terminator's own options; the ones every server takes are server_args.h's. */
static void on_option(void *app, int opt, const char *arg)
{
    struct options *o = app;
    switch (opt) {
    case 'c': o->cert = arg; break;
    case 'k': o->key = arg; break;
    case 'T':
        o->handshake_timeout_ms = parse_long_option("--handshake-timeout", arg, 0, 3600000);
        break;
    case 'w': o->high = parse_long_option("--high", arg, 4096, 1L << 30); break;
    }
}

static void parse_args(int argc, char **argv, struct options *o)
{
    static const struct option own[] = {
        {"cert", required_argument, NULL, 'c'},
        {"key", required_argument, NULL, 'k'},
        {"handshake-timeout", required_argument, NULL, 'T'},
        {"high", required_argument, NULL, 'w'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct options){.cert = DEFAULT_CERT,
                          .key = DEFAULT_KEY,
                          .handshake_timeout_ms = DEFAULT_HANDSHAKE_TIMEOUT_MS,
                          .high = DEFAULT_HIGH};
    struct server_args args = {.default_port = DEFAULT_PORT,
                               .listen_addr = &o->listen_addr,
                               .upstream_addr = &o->redis_addr,
                               .loop = &o->server.loop,
                               .own = own,
                               .on_own = on_option,
                               .usage = usage,
                               .app = o};
    server_args_parse(&args, argc, argv);
}

/* ---- opening and closing --------------------------------------------- */

/* region: server_context */
/* One context for every client: our certificate, and TLS 1.2 or newer (a
 * TLS 1.0/1.1 hello fails the handshake). SSL_OP_IGNORE_UNEXPECTED_EOF: a
 * client's FIN without close_notify is an end, not an error. Without it
 * OpenSSL 3 answers that FIN with a decode_error alert and a fatal error
 * (SSL_R_UNEXPECTED_EOF_WHILE_READING), which libevent 2.1.12 reports as
 * BEV_EVENT_ERROR even with allow_dirty_shutdown set (it knows only OpenSSL
 * 1.1's SSL_ERROR_SYSCALL for that; 2.2 adds OpenSSL 3's way, but only during
 * the handshake), and the replies in flight are lost. */
static SSL_CTX *server_context(const struct options *o)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    char why[TLS_REASON_LEN];
    if (!ctx) {
        tls_reason(NULL, why, sizeof why);
        warnx_msg("cannot create a TLS context: %s", why);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (tls_load_cert(ctx, o->cert, o->key) != 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (o->server.loop.trace)
        tls_trace_handshake(ctx);
    return ctx;
}
/* endregion */

static int terminator_open(struct terminator *t, const struct options *o)
{
    *t = (struct terminator){.opt = o};
    LIST_INIT(&t->pairs);
    if (server_open(&t->srv, &o->server, &terminator_hooks, t) != 0 ||
        server_listen(&t->srv, &o->listen_addr, on_accept, t) != 0)
        return -1;
    t->ctx = server_context(o);
    return t->ctx ? 0 : -1;
}

/* Everything, newest first; safe on a half-made terminator. */
static void terminator_close(struct terminator *t)
{
    while (!LIST_EMPTY(&t->pairs))
        pair_free(LIST_FIRST(&t->pairs));
    SSL_CTX_free(t->ctx);
    server_close(&t->srv);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct options o;
    parse_args(argc, argv, &o);

    struct terminator t;
    if (terminator_open(&t, &o) != 0) {
        terminator_close(&t);
        return EXIT_RUNTIME;
    }
    char redis[ADDR_STRLEN];
    server_announce(&t.srv);
    printf("terminating TLS for Redis at %s\n",
           format_addr((struct sockaddr *)&o.redis_addr, redis, sizeof redis));

    server_run(&t.srv); /* until SIGINT/SIGTERM */

    print_stats(&t, "summary");
    terminator_close(&t);
    return EXIT_CLEAN;
}
