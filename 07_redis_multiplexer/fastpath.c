/*
 * 07_redis_multiplexer/fastpath.c — what keeps each request cheap: one
 * recv() per readable socket, and a malloc that keeps the memory it freed.
 *
 * A proxy's work per request is small; what it costs is mostly system calls
 * and page faults, and on this workbook's machine (gVisor, a sandboxing
 * kernel) each system call costs microseconds. Counted with strace -c on
 * redis-benchmark -c 1000 -P 1: one recv() per request, one writev() per
 * reply, and a share of one write to Redis — see docs/07's "What it costs
 * per request".
 */
#include <errno.h>
#include <malloc.h>
#include <sys/socket.h>

#include "mux.h"

/* One recv() takes up to this much: a 16 KiB SET, a pipeline of hundreds of
 * small requests, or a few hundred replies from Redis. */
#define RECV_MAX (64 * 1024)
/* malloc keeps up to this much freed memory instead of giving it back. */
#define KEEP_FREED_MEMORY (64 * 1024 * 1024)
/* Blocks up to this size come from malloc's heap, not from their own mmap(). */
#define HEAP_BLOCK_MAX (1024 * 1024)

/* Why not let a bufferevent read? Before every read, libevent 2.1 asks the
 * kernel how many bytes are waiting (an ioctl, FIONREAD), then reads at most
 * 4 KiB. With 1,000 clients sending one small request each, that ioctl was a
 * third of the multiplexer's system calls, and a 16 KiB SET took two reads
 * more. So clients (while they share a connection) and the shared upstreams
 * are watched by a plain event, and one recv() into this buffer takes
 * whatever is waiting. One buffer serves every socket: the loop runs one
 * callback at a time, and the bytes are copied out before the next recv(). */
static char recv_buf[RECV_MAX];

enum recv_result recv_into(evutil_socket_t fd, struct evbuffer *to)
{
    ssize_t n = recv(fd, recv_buf, sizeof recv_buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return RECV_NOTHING; /* the event stays: we are called again */
    if (n == 0)
        return RECV_EOF;
    if (n < 0)
        return RECV_ERROR;
    if (evbuffer_add(to, recv_buf, (size_t)n) != 0) {
        errno = ENOMEM;
        return RECV_ERROR;
    }
    return RECV_DATA;
}

/* Every request and reply passes through buffers that are malloc'ed and
 * freed again. glibc gives freed memory at the top of its heap back to the
 * kernel once more than 128 KiB are free, and serves big blocks with their
 * own mmap(); the next burst then gets fresh pages, and every fresh page
 * costs a page fault — expensive under gVisor: with 16 KiB values this churn
 * cost the multiplexer about half its throughput. So malloc keeps what it
 * freed (up to KEEP_FREED_MEMORY) for the next burst. A setting of the whole
 * process: main calls it once. */
void keep_freed_memory(void)
{
    mallopt(M_TRIM_THRESHOLD, KEEP_FREED_MEMORY);
    mallopt(M_MMAP_THRESHOLD, HEAP_BLOCK_MAX);
}
