/*
 * 06_redis_relay/relay_io.c — read_some, forward, set_nodelay: see
 * relay_io.h. docs/06-redis-relay.md ("Reading more than 4 KiB") says why a
 * relay reads for itself and what one read costs.
 */
#include "relay_io.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#ifndef READ_STATIC
/* One read takes what the socket holds (FIONREAD), at least READ_MIN (an
 * empty socket may be telling us EOF: recv must look) and at most READ_MAX, so
 * a direction holds at most --high plus one read. */
#define READ_MIN 4096
#define READ_MAX (256 * 1024)

ev_ssize_t read_some(evutil_socket_t fd, struct evbuffer *buf)
{
    int ready = 0;
    if (ioctl(fd, FIONREAD, &ready) < 0 || ready < READ_MIN)
        ready = READ_MIN;
    if (ready > READ_MAX)
        ready = READ_MAX;
    struct evbuffer_iovec space;
    if (evbuffer_reserve_space(buf, ready, &space, 1) < 1) {
        errno = ENOMEM;
        return -1;
    }
    ev_ssize_t n = recv(fd, space.iov_base, (size_t)ready, 0);
    int saved = errno;
    space.iov_len = n > 0 ? (size_t)n : 0;
    evbuffer_commit_space(buf, &space, n > 0 ? 1 : 0);
    errno = saved;
    return n;
}
#else
#define RECV_MAX (64 * 1024)
static char recv_buf[RECV_MAX];

ev_ssize_t read_some(evutil_socket_t fd, struct evbuffer *buf)
{
    ev_ssize_t n = recv(fd, recv_buf, sizeof recv_buf, 0);
    if (n > 0 && evbuffer_add(buf, recv_buf, (size_t)n) != 0) {
        errno = ENOMEM;
        return -1;
    }
    return n;
}
#endif

/* region: forward */
void forward(struct evbuffer *src, struct bufferevent *dst, int dst_connected)
{
    struct evbuffer *out = bufferevent_get_output(dst);
    if (dst_connected && evbuffer_get_length(out) == 0)
        evbuffer_write(src, bufferevent_getfd(dst)); /* a failure shows up as EOF on dst */
    if (evbuffer_get_length(src) > 0)
        evbuffer_add_buffer(out, src);
}
/* endregion */

void set_nodelay(evutil_socket_t fd)
{
    /* Nagle's algorithm would hold back a small reply until the previous one
     * is acknowledged: request/response traffic then waits for delayed ACKs. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}
