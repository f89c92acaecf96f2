/*
 * 09_tls/tls_util.h — the OpenSSL chores both of chapter 9's programs share
 * (a part, linked into tls_client and tls_terminator): an SSL_CTX made and
 * checked with one message per failure, OpenSSL's reasons as text, and the
 * handshake's steps as --trace lines.
 */
#ifndef TLS_UTIL_H
#define TLS_UTIL_H

#include <stddef.h>

#include <event2/bufferevent.h>
#include <openssl/ssl.h>

/* Room for one of OpenSSL's error strings. */
#define TLS_REASON_LEN 256

/* Load CERT and KEY into CTX (and check that they match); 0, or -1 after
 * "prog: cannot load WHAT FILE: reason". */
int tls_load_cert(SSL_CTX *ctx, const char *cert, const char *key);

/* The reason for the first error that libevent saved for BEV (BEV may be
 * NULL) or OpenSSL queued on this thread, as "wrong version number", into
 * BUF. Returns its reason code (SSL_R_..., nonzero), or 0 (and "no reason
 * given") if there was none. Empties both queues. */
int tls_reason(struct bufferevent *bev, char *buf, size_t len);

/* With --trace: each handshake step as a line on stderr, beside the loop's
 * register/detect/dispatch lines ("tls  SSL_accept: TLSv1.3 write server hello"). */
void tls_trace_handshake(SSL_CTX *ctx);

#endif
