/*
 * 09_tls/tls_client.c — chapter 9: chapter 2's Redis client, over TLS. The
 * bufferevent is the same; OpenSSL sits between it and the socket
 * (bufferevent_openssl_socket_new), and BEV_EVENT_CONNECTED now means "TCP
 * connected AND the TLS handshake done AND the certificate verified".
 *
 * Verifying is two checks, and a client must ask for both:
 *   1. the chain: the server's certificate was signed by a CA we trust
 *      (--cacert), and is in date;
 *   2. the name: the certificate is for the host we meant to reach
 *      (SSL_set1_host, or X509_VERIFY_PARAM_set1_ip_asc for an address).
 * Without 2, any certificate from the same CA passes — the host-name trap.
 *
 * Run it:  make certs chapter9   (a private TLS Redis, then:)
 *   build/09_tls/tls_client --port 6390 --cacert build/certs/ca.crt SET k v
 *   build/09_tls/tls_client --trace --port 6390 --cacert build/certs/ca.crt PING
 *
 * Watch for: a bad certificate ends with "tls_client: cannot verify HOST:
 * <OpenSSL's reason>" and exit 1, before a single byte of the command is sent.
 * Read docs/09-tls.md beside this file.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>
#include <hiredis/hiredis.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "../02_redis_client/resp.h" /* chapter 2: RESP, printed like redis-cli */
#include "common.h"
#include "tls_util.h"
#include "trace.h"

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 6379
#define PORT_STRLEN 8
#define PING_COMMAND "*1\r\n$4\r\nPING\r\n"

struct options {
    const char *host, *cacert, *servername, *cert, *key;
    int port, raw, trace;
};

struct client {
    struct event_base *base;
    SSL_CTX *ctx;
    struct bufferevent *bev; /* owns the SSL and the socket */
    redisReader *reader;
    struct evbuffer *request;
    const char *name; /* what the certificate must be for */
    char target[ADDR_STRLEN + 256];
    int raw, connected, exit_code;
};

static void finish(struct client *c, int exit_code)
{
    c->exit_code = exit_code;
    event_base_loopexit(c->base, NULL);
}

/* ---- the loop's callbacks --------------------------------------------------- */

static void on_read(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;
    trace_dispatch(bufferevent_getfd(bev), "read", "on_read");
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = evbuffer_get_length(in);
    if (redisReaderFeed(c->reader, (const char *)evbuffer_pullup(in, -1), len) != REDIS_OK) {
        warnx_msg("protocol error from %s: %s", c->target, c->reader->errstr);
        finish(c, EXIT_RUNTIME);
        return;
    }
    evbuffer_drain(in, len);
    void *reply = NULL;
    if (redisReaderGetReply(c->reader, &reply) != REDIS_OK) {
        warnx_msg("protocol error from %s: %s", c->target, c->reader->errstr);
        finish(c, EXIT_RUNTIME);
    } else if (reply) {
        print_reply(reply, c->raw);
        freeReplyObject(reply);
        finish(c, EXIT_CLEAN);
    }
}

/* The handshake failed: was it the certificate (say OpenSSL's verdict), the
 * TLS layer (say its reason), or the TCP connect (say errno's)? */
static void report_failure(struct client *c, struct bufferevent *bev)
{
    char why[TLS_REASON_LEN];
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    long verdict = SSL_get_verify_result(ssl);
    if (verdict != X509_V_OK) {
        warnx_msg("cannot verify %s: %s", c->name, X509_verify_cert_error_string(verdict));
        return;
    }
    if (tls_reason(bev, why, sizeof why)) {
        warnx_msg("TLS with %s failed: %s", c->target, why);
        return;
    }
    int err = EVUTIL_SOCKET_ERROR();
    warnx_msg("cannot connect to %s: %s", c->target,
              err ? evutil_socket_error_to_string(err) : "the server closed the connection");
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct client *c = arg;
    trace_dispatch(bufferevent_getfd(bev), "event", "on_event");
    if (what & BEV_EVENT_CONNECTED) {
        /* TCP, then the handshake, then the verification: all done. Only
         * now does the command go out, encrypted by the layer below. */
        c->connected = 1;
        int one = 1; /* no Nagle: our last handshake record and the command go at once */
        setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        bufferevent_write_buffer(bev, c->request);
        return;
    }
    char why[TLS_REASON_LEN];
    if (!c->connected)
        report_failure(c, bev);
    else if (tls_reason(bev, why, sizeof why)) /* e.g. Redis wanted our certificate */
        warnx_msg("%s ended the connection: %s", c->target, why);
    else if (what & BEV_EVENT_EOF)
        warnx_msg("%s closed the connection before replying", c->target);
    else
        warnx_msg("connection to %s failed: %s", c->target,
                  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    finish(c, EXIT_RUNTIME);
}

/* ---- TLS ---------------------------------------------------------------------- */

/* One context for the program: TLS 1.2 or newer, the server's certificate
 * checked against --cacert, our own certificate if Redis asks for one. */
static SSL_CTX *client_context(const struct options *o)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    char why[TLS_REASON_LEN];
    if (!ctx) {
        tls_reason(NULL, why, sizeof why);
        warnx_msg("cannot create a TLS context: %s", why);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    int loaded = o->cacert ? SSL_CTX_load_verify_locations(ctx, o->cacert, NULL)
                           : SSL_CTX_set_default_verify_paths(ctx);
    if (loaded != 1) {
        tls_reason(NULL, why, sizeof why);
        warnx_msg("cannot load the CA certificates %s: %s", o->cacert ? o->cacert : "(system)",
                  why);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (o->cert && tls_load_cert(ctx, o->cert, o->key) != 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (o->trace)
        tls_trace_handshake(ctx);
    return ctx;
}

/* region: verify_name */
/* The second check. An address is compared with the certificate's IP
 * entries, a name with its DNS entries; only a name goes out as SNI (RFC
 * 6066 forbids an address there). */
static int expect_name(SSL *ssl, const char *name)
{
    struct in_addr ip4;
    if (inet_pton(AF_INET, name, &ip4) == 1)
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1 ? 0 : -1;
    if (SSL_set_tlsext_host_name(ssl, name) != 1)
        return -1;
    return SSL_set1_host(ssl, name) == 1 ? 0 : -1;
}
/* endregion */

/* region: tls_bufferevent */
/* A bufferevent whose bytes pass through OpenSSL: we write plaintext into
 * it, OpenSSL encrypts on the way to the socket; what arrives is decrypted
 * before our read callback sees it. BUFFEREVENT_SSL_CONNECTING: we are the
 * client, so the handshake starts as soon as TCP is connected. */
static int connect_tls(struct client *c, const struct sockaddr *sa, int salen)
{
    SSL *ssl = SSL_new(c->ctx);
    if (!ssl || expect_name(ssl, c->name) != 0) {
        warnx_msg("cannot set up TLS for %s: out of memory", c->target);
        SSL_free(ssl);
        return -1;
    }
    c->bev = bufferevent_openssl_socket_new(c->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                            BEV_OPT_CLOSE_ON_FREE);
    if (!c->bev) {
        warnx_msg("cannot create a TLS bufferevent: out of memory");
        SSL_free(ssl);
        return -1;
    }
    bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(c->bev, sa, salen) != 0) {
        warnx_msg("cannot connect to %s: %s", c->target,
                  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        return -1;
    }
    return 0;
}
/* endregion */

/* ---- command line ---------------------------------------------------------- */

static void usage(void)
{
    printf("usage: %s [options] [COMMAND [ARG...]]\n"
           "  Send one command to Redis over TLS and print the reply like redis-cli\n"
           "  (PING when none is given). The server's certificate must be signed by\n"
           "  --cacert and be for the host (or --servername).\n"
           "  --host ADDR         Redis's IPv4 address or host name (default %s)\n"
           "  --port PORT         Redis's TLS port (default %d)\n"
           "  --cacert FILE       CA certificates to trust (default: the system's)\n"
           "  --servername NAME   the name the certificate must carry, sent as SNI\n"
           "                      (default: --host)\n"
           "  --cert FILE         our client certificate (Redis's tls-auth-clients)\n"
           "  --key FILE          its private key\n"
           "  --raw               print bulk strings as raw bytes\n"
           "  --trace             print the loop's steps and the handshake's on stderr\n"
           "  --help              show this help\n",
           prog_name(), DEFAULT_HOST, DEFAULT_PORT);
}

static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option options[] = {
        {"host", required_argument, NULL, 'H'},   {"port", required_argument, NULL, 'p'},
        {"cacert", required_argument, NULL, 'C'}, {"servername", required_argument, NULL, 'S'},
        {"cert", required_argument, NULL, 'c'},   {"key", required_argument, NULL, 'k'},
        {"raw", no_argument, NULL, 'r'},          {"trace", no_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    *o = (struct options){.host = DEFAULT_HOST, .port = DEFAULT_PORT};
    int opt;
    while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
        switch (opt) {
        case 'H': o->host = optarg; break;
        case 'p': o->port = parse_port_option("--port", optarg); break;
        case 'C': o->cacert = optarg; break;
        case 'S': o->servername = optarg; break;
        case 'c': o->cert = optarg; break;
        case 'k': o->key = optarg; break;
        case 'r': o->raw = 1; break;
        case 'T': o->trace = 1; break;
        case 'h': usage(); exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (o->port == 0)
        usage_error("--port: 0 is not a port Redis can listen on");
    if (!o->cert != !o->key)
        usage_error("--cert and --key go together");
    return optind;
}

static void encode_request(struct evbuffer *out, int argc, char **argv, int first)
{
    if (first >= argc) {
        evbuffer_add(out, PING_COMMAND, strlen(PING_COMMAND));
        return;
    }
    struct args a = {0};
    for (int i = first; i < argc; i++)
        args_push(&a, argv[i], strlen(argv[i]));
    encode_command(out, &a);
    args_free(&a);
}

/* ---- main ------------------------------------------------------------------- */

static int run(struct client *c, const struct options *o)
{
    char service[PORT_STRLEN];
    snprintf(service, sizeof service, "%d", o->port);
    /* IPv4 only, like the servers of this workbook (they bind 127.0.0.1) */
    struct evutil_addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
    struct evutil_addrinfo *addrs = NULL;
    int gai = evutil_getaddrinfo(o->host, service, &hints, &addrs);
    if (gai != 0) {
        warnx_msg("cannot resolve %s: %s", o->host, evutil_gai_strerror(gai));
        return EXIT_RUNTIME;
    }
    int ok = connect_tls(c, addrs->ai_addr, (int)addrs->ai_addrlen) == 0;
    evutil_freeaddrinfo(addrs);
    if (!ok)
        return EXIT_RUNTIME;
    event_base_dispatch(c->base);
    return c->exit_code;
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct options o;
    int first = parse_args(argc, argv, &o);
    signal(SIGPIPE, SIG_IGN); /* a server that hangs up must not kill us mid-write */
    struct client c = {.raw = o.raw, .exit_code = EXIT_RUNTIME};
    c.name = o.servername ? o.servername : o.host;
    snprintf(c.target, sizeof c.target, "%s:%d", o.host, o.port);
    trace_wire(o.trace); /* --trace: register, detect, dispatch lines */
    c.base = event_base_new();
    c.request = evbuffer_new();
    c.reader = redisReaderCreate();
    if (!c.base || !c.request || !c.reader) {
        warnx_msg("cannot create the event base, request buffer and reply reader: out of memory");
        return EXIT_RUNTIME;
    }
    encode_request(c.request, argc, argv, first);
    c.ctx = client_context(&o);
    int status = c.ctx ? run(&c, &o) : EXIT_RUNTIME;

    if (c.bev)
        bufferevent_free(c.bev); /* frees the SSL too (BEV_OPT_CLOSE_ON_FREE) */
    SSL_CTX_free(c.ctx);
    redisReaderFree(c.reader);
    evbuffer_free(c.request);
    event_base_free(c.base);
    libevent_global_shutdown();
    return status;
}
