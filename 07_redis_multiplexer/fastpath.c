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

/* malloc keeps up to this much freed memory instead of giving it back. */
#define KEEP_FREED_MEMORY (64 * 1024 * 1024)
/* Blocks up to this size come from malloc's heap, not from their own mmap(). */
#define HEAP_BLOCK_MAX (1024 * 1024)

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
#ifdef NO_MALLOPT
    return;
#endif
    mallopt(M_TRIM_THRESHOLD, KEEP_FREED_MEMORY);
    mallopt(M_MMAP_THRESHOLD, HEAP_BLOCK_MAX);
}
