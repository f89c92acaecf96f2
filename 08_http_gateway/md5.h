/*
 * 08_http_gateway/md5.h — MD5 (RFC 1321), for the ETag webdis puts on every
 * reply: "\"" + hex md5 of the body + "\"". A chore: only so that
 * If-None-Match works with the ETags webdis hands out.
 */
#ifndef GATEWAY_MD5_H
#define GATEWAY_MD5_H

#include <stddef.h>

/* "\"<32 hex digits>\"" and a NUL */
#define ETAG_LEN 35

/* The ETag of LEN bytes at DATA into OUT (ETAG_LEN bytes). */
void etag_of(const void *data, size_t len, char out[ETAG_LEN]);

#endif
