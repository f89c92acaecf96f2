/*
 * 08_http_gateway/md5.c — MD5 as RFC 1321 defines it, written plainly (four
 * rounds of sixteen steps on 64-byte blocks), for webdis's ETag header.
 */
#include <stdint.h>
#include <string.h>

#include "md5.h"

static const uint32_t K[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
static const unsigned SHIFT[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                   5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                                   4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                   6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

/* One of the 64 steps: the round's function F of b, c, d, the message word M
 * and the step's constant, rotated; then the four words move round. */
static inline void md5_step(uint32_t v[4], uint32_t f, uint32_t m, int i)
{
    uint32_t x = v[0] + f + K[i] + m;
    uint32_t b = v[1] + ((x << SHIFT[i]) | (x >> (32 - SHIFT[i])));
    v[0] = v[3];
    v[3] = v[2];
    v[2] = v[1];
    v[1] = b;
}

/* The four rounds, each a loop of its own: no test of which round a step is
 * in, and each round's message word order is a simple stride. */
static void md5_block(uint32_t h[4], const unsigned char *block)
{
    uint32_t m[16];
    for (int i = 0; i < 16; i++)
        m[i] = (uint32_t)block[4 * i] | (uint32_t)block[4 * i + 1] << 8 |
               (uint32_t)block[4 * i + 2] << 16 | (uint32_t)block[4 * i + 3] << 24;
    uint32_t v[4] = {h[0], h[1], h[2], h[3]}; /* a, b, c, d */
    for (int i = 0; i < 16; i++)
        md5_step(v, (v[1] & v[2]) | (~v[1] & v[3]), m[i], i);
    for (int i = 16; i < 32; i++)
        md5_step(v, (v[3] & v[1]) | (~v[3] & v[2]), m[(5 * i + 1) % 16], i);
    for (int i = 32; i < 48; i++)
        md5_step(v, v[1] ^ v[2] ^ v[3], m[(3 * i + 5) % 16], i);
    for (int i = 48; i < 64; i++)
        md5_step(v, v[2] ^ (v[1] | ~v[3]), m[(7 * i) % 16], i);
    for (int i = 0; i < 4; i++)
        h[i] += v[i];
}

void etag_of(const void *data, size_t len, char out[ETAG_LEN])
{
    uint32_t h[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
    const unsigned char *p = data;
    size_t whole = len - len % 64;
    for (size_t i = 0; i < whole; i += 64)
        md5_block(h, p + i);
    unsigned char tail[128] = {0};
    size_t rest = len - whole;
    if (rest > 0) /* p may be NULL when len is 0 */
        memcpy(tail, p + whole, rest);
    tail[rest] = 0x80;
    size_t tail_len = rest + 1 + 8 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        tail[tail_len - 8 + i] = (unsigned char)(bits >> (8 * i));
    for (size_t i = 0; i < tail_len; i += 64)
        md5_block(h, tail + i);
    /* hex digits by hand: 16 snprintf calls cost more than the MD5 itself */
    static const char hex[] = "0123456789abcdef";
    out[0] = '"';
    for (int i = 0; i < 16; i++) {
        unsigned byte = (h[i / 4] >> (8 * (i % 4))) & 0xff;
        out[1 + 2 * i] = hex[byte >> 4];
        out[2 + 2 * i] = hex[byte & 0xf];
    }
    out[33] = '"';
    out[34] = '\0';
}
