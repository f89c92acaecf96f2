/*
 * 06_redis_relay/relay_io.c — read_some, forward, set_nodelay: see
 * relay_io.h. docs/06-redis-relay.md ("Reading more than 4 KiB") says why a
 * relay reads for itself and what one read costs.
 */
#include "relay_io.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

/* One recv() takes up to this much: a 16 KiB SET, a pipeline of hundreds of
 * small requests, or a few hundred replies from Redis. */
#define READ_MAX (64 * 1024)

/* Why read ourselves, and why this way? libevent 2.1's bufferevent asks the
 * kernel how many bytes are waiting (ioctl FIONREAD) before every read, then
 * reads at most 4 KiB (EVBUFFER_MAX_READ). Reading into space borrowed from
 * the evbuffer (evbuffer_reserve_space) saves a copy but needs that FIONREAD
 * to know how much to borrow: two system calls per read. One recv() into a
 * fixed buffer, then a copy into the evbuffer, is one system call; measured
 * on a normal Linux (docs/06, "Reading more than 4 KiB"), that is a third of
 * the relay's system calls fewer, and the copy costs less than the ioctl it
 * saves. One buffer serves every socket: the loop runs one callback at a
 * time, and the bytes are copied out before the next recv(). */
static char read_buf[READ_MAX];

/* region: read-some */
ev_ssize_t read_some(evutil_socket_t fd, struct evbuffer *buf)
{
    ev_ssize_t n = recv(fd, read_buf, sizeof read_buf, 0);
    if (n > 0 && evbuffer_add(buf, read_buf, (size_t)n) != 0) {
        errno = ENOMEM;
        return -1;
    }
    return n;
}
/* endregion */

/* Relay every byte of src to dst. The plain way is evbuffer_add_buffer into
 * dst's output: libevent then watches dst for writability (an epoll_ctl),
 * sends on the next loop turn, and stops watching (another epoll_ctl). When
 * nothing is queued ahead, we try the socket first: it nearly always takes
 * everything. Only what it did not take is queued (moved, not copied). */
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
