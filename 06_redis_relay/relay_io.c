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
#include <sys/uio.h>

/* What one read takes at most (more only if the space borrowed from the
 * evbuffer is larger): a 16 KiB SET, a pipeline of hundreds of small
 * requests, or a few hundred replies from Redis. */
#define READ_MAX (64 * 1024)
/* How much space to borrow from the evbuffer for a read: as much as the last
 * read on that socket brought, up to BORROW_MAX. Below BORROW_MIN nothing is
 * borrowed: a copy of a few hundred bytes costs fewer instructions than
 * borrowing and committing space does (callgrind, docs/06). BORROW_MAX keeps
 * every block within 64 KiB: libevent rounds a block up to a power of two,
 * its header included, and a few bytes more would make it 128 KiB, a size
 * glibc serves with a mmap() of its own. */
#define BORROW_MIN (4 * 1024)
#define BORROW_MAX (64 * 1024 - 128)

/* Why read ourselves, and why this way? libevent 2.1's bufferevent asks the
 * kernel how many bytes are waiting (ioctl FIONREAD) before every read, then
 * reads at most 4 KiB (EVBUFFER_MAX_READ). We read with one readv() into two
 * places at once: first the space borrowed at the end of the evbuffer
 * (evbuffer_reserve_space: no copy), then, for whatever does not fit there,
 * a fixed buffer whose bytes are copied in afterwards. No FIONREAD is needed
 * to know how much to borrow: the last read's size is the guess, and a wrong
 * guess costs a copy, never a second system call. Small reads borrow nothing
 * and are copied, as they cost least that way. docs/06 ("Reading more than
 * 4 KiB at a time") measures the three ways. One fixed buffer serves every
 * socket: the loop runs one callback at a time, and its bytes are copied out
 * before the next read. */
static char read_buf[READ_MAX];

/* region: read-some */
ev_ssize_t read_some(evutil_socket_t fd, struct evbuffer *buf, size_t *last_read)
{
    struct evbuffer_iovec space[2];
    struct iovec iov[3];
    int borrowed = 0;
    if (*last_read >= BORROW_MIN) {
        size_t want = *last_read < BORROW_MAX ? *last_read : BORROW_MAX;
        borrowed = evbuffer_reserve_space(buf, (ev_ssize_t)want, space, 2);
        if (borrowed < 0)
            borrowed = 0; /* no memory to borrow: everything goes through read_buf */
    }
    size_t room = 0;
    for (int i = 0; i < borrowed; i++) {
        iov[i] = (struct iovec){.iov_base = space[i].iov_base, .iov_len = space[i].iov_len};
        room += space[i].iov_len;
    }
    /* read_buf takes what the borrowed space cannot, up to READ_MAX in all */
    int n_iov = borrowed;
    if (room < READ_MAX)
        iov[n_iov++] = (struct iovec){.iov_base = read_buf, .iov_len = READ_MAX - room};

    ev_ssize_t n = readv(fd, iov, n_iov);
    if (n <= 0)
        return n; /* nothing committed: the borrowed space stays unused */
    *last_read = (size_t)n;
    size_t left = (size_t)n;
    for (int i = 0; i < borrowed; i++) {
        space[i].iov_len = left < space[i].iov_len ? left : space[i].iov_len;
        left -= space[i].iov_len;
    }
    if (evbuffer_commit_space(buf, space, borrowed) != 0 ||
        (left > 0 && evbuffer_add(buf, read_buf, left) != 0)) {
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
