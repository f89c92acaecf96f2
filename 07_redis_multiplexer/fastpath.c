/*
 * 07_redis_multiplexer/fastpath.c — a malloc that keeps the memory it freed.
 *
 * Reading is not here: every socket of this chapter is read with chapter 6's
 * read_some (06_redis_relay/relay_io.c), one readv() per readable socket;
 * docs/06 ("Reading more than 4 KiB at a time") measures why.
 *
 * This file is a measured note, not a rule: on the workbook's machine (a
 * Firecracker VM, ordinary Linux kernel) with 16 KiB values it cut the page
 * faults from about 1.8 per request to 0.01, and the CPU per request by about
 * a fifth; with small values it changed nothing. docs/07 ("Memory that
 * stays") has the figures. Measure before you copy it into another program.
 */
#include <malloc.h>

#include "mux.h"

/* malloc keeps up to this much freed memory instead of giving it back. */
#define KEEP_FREED_MEMORY (64 * 1024 * 1024)
/* Blocks up to this size come from malloc's heap, not from their own mmap(). */
#define HEAP_BLOCK_MAX (1024 * 1024)

/* Every request and reply passes through buffers that are malloc'ed and
 * freed again. glibc gives freed memory at the top of its heap back to the
 * kernel once more than 128 KiB are free, and serves big blocks with their
 * own mmap(); the next burst then gets fresh pages, and every fresh page
 * costs a page fault. So malloc keeps what it freed (up to
 * KEEP_FREED_MEMORY) for the next burst. A setting of the whole process:
 * main calls it once. */
void keep_freed_memory(void)
{
    mallopt(M_TRIM_THRESHOLD, KEEP_FREED_MEMORY);
    mallopt(M_MMAP_THRESHOLD, HEAP_BLOCK_MAX);
}
