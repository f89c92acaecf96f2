/*
 * 09_tls/tls_util.c — OpenSSL chores shared by tls_client and tls_terminator:
 * loading a certificate and its key, turning OpenSSL's error queue into one
 * readable reason, and printing the handshake's steps for --trace.
 */
#include <stdio.h>
#include <string.h>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include "common.h"
#include "tls_util.h"

int tls_load_cert(SSL_CTX *ctx, const char *cert, const char *key)
{
    char why[TLS_REASON_LEN];
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        tls_reason(NULL, why, sizeof why);
        warnx_msg("cannot load the certificate %s: %s", cert, why);
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        tls_reason(NULL, why, sizeof why);
        warnx_msg("cannot load the key %s: %s", key, why);
        return -1;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        tls_reason(NULL, why, sizeof why);
        warnx_msg("the key %s does not match %s: %s", key, cert, why);
        return -1;
    }
    return 0;
}

/* libevent keeps SSL_get_error's code (1 = SSL_ERROR_SSL, a number without a
 * library) in front of OpenSSL's real errors: take the first real one. */
static unsigned long first_real_error(struct bufferevent *bev)
{
    unsigned long err, found = 0;
    while (bev && (err = bufferevent_get_openssl_error(bev)) != 0)
        if (!found && ERR_GET_LIB(err) != 0)
            found = err;
    if (!found)
        found = ERR_get_error();
    return found;
}

int tls_reason(struct bufferevent *bev, char *buf, size_t len)
{
    /* libevent takes OpenSSL's errors off the thread's queue as they happen
     * and keeps them with the bufferevent (bufferevent_get_openssl_error). */
    unsigned long err = first_real_error(bev);
    ERR_clear_error();
    if (!err) {
        snprintf(buf, len, "no reason given");
        return 0;
    }
    int code = ERR_GET_REASON(err);
    /* "error:0A00010B:SSL routines::wrong version number": the reason alone */
    const char *reason = ERR_reason_error_string(err);
    if (reason)
        snprintf(buf, len, "%s", reason);
    else
        ERR_error_string_n(err, buf, len);
    return code ? code : -1;
}

static void on_tls_info(const SSL *ssl, int where, int ret)
{
    (void)ret;
    const char *side = SSL_is_server(ssl) ? "SSL_accept" : "SSL_connect";
    char text[TLS_REASON_LEN];
    if (where & SSL_CB_HANDSHAKE_DONE)
        snprintf(text, sizeof text, "handshake done: %s, %s", SSL_get_version(ssl),
                 SSL_get_cipher_name(ssl));
    else if (where & SSL_CB_ALERT)
        snprintf(text, sizeof text, "alert %s: %s", (where & SSL_CB_READ) ? "received" : "sent",
                 SSL_alert_desc_string_long(ret));
    else if (where & SSL_CB_LOOP)
        snprintf(text, sizeof text, "%s: %s", side, SSL_state_string_long(ssl));
    else
        return;
    fprintf(stderr, "%7.1f ms  %-8s  %s\n", elapsed_ms(), "tls", text);
}

void tls_trace_handshake(SSL_CTX *ctx)
{
    SSL_CTX_set_info_callback(ctx, on_tls_info);
}
