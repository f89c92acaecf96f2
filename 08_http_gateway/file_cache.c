/*
 * 08_http_gateway/file_cache.c — small --docs files kept in memory.
 *
 * From disk, a small file costs four system calls of its own — openat, fstat,
 * sendfile, close — on top of the request's read and write, and its head and
 * its bytes leave as two TCP segments (writev, then sendfile). From here it
 * costs one fstatat, to see that the file has not changed, and the head and
 * the bytes leave together in one writev. (nginx makes the four calls and
 * corks the socket around them, two more, to send one segment.)
 *
 * Bounded: FILE_CACHE_SLOTS slots, direct-mapped (the path's hash picks the
 * slot; another path in it is replaced), files of at most FILE_CACHE_MAX
 * bytes, so never more than FILE_CACHE_SLOTS × FILE_CACHE_MAX of data.
 *
 * Safe: an entry is made only from a file static_files.c's open_beneath
 * opened (the walk that follows no symlink), and a hit needs fstatat of the
 * same path to find that same file — device and inode, size, modification and
 * change times. Whatever the path leads through now, the bytes served are
 * those of a file the walk reached, as they were when it changed last.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway.h"

/* FNV-1a: a path's slot */
static size_t slot_of(const char *path)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % FILE_CACHE_SLOTS;
}

static int same_time(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static int same_file(const struct cached_file *f, const struct stat *st)
{
    return f->dev == st->st_dev && f->ino == st->st_ino && f->size == st->st_size &&
           same_time(f->mtime, st->st_mtim) && same_time(f->ctime, st->st_ctim);
}

const struct cached_file *file_cache_get(struct gateway *gw, const char *path)
{
    const struct cached_file *f = gw->files[slot_of(path)];
    struct stat st;
    if (!f || strcmp(f->path, path) != 0 ||
        fstatat(gw->docs_fd, path, &st, AT_SYMLINK_NOFOLLOW) != 0 || !same_file(f, &st))
        return NULL;
    return f;
}

const struct cached_file *file_cache_put(struct gateway *gw, const char *path, int fd,
                                         const struct stat *st, const char *type)
{
    if (st->st_size > FILE_CACHE_MAX)
        return NULL;
    size_t size = (size_t)st->st_size;
    struct cached_file *f = malloc(sizeof *f + size);
    char *key = strdup(path);
    if (!f || !key || pread(fd, f->data, size, 0) != (ssize_t)size) {
        free(f); /* no memory, or the file changed size under us: serve it from disk */
        free(key);
        return NULL;
    }
    *f = (struct cached_file){.path = key,
                              .dev = st->st_dev,
                              .ino = st->st_ino,
                              .size = st->st_size,
                              .mtime = st->st_mtim,
                              .ctime = st->st_ctim,
                              .type = type};
    struct tm tm;
    strftime(f->last_modified, sizeof f->last_modified, HTTP_DATE, gmtime_r(&st->st_mtime, &tm));
    struct cached_file **slot = &gw->files[slot_of(path)];
    if (*slot) {
        free((*slot)->path);
        free(*slot);
    }
    *slot = f;
    return f;
}

void file_cache_clear(struct gateway *gw)
{
    for (size_t i = 0; i < FILE_CACHE_SLOTS; i++) {
        if (gw->files[i]) {
            free(gw->files[i]->path);
            free(gw->files[i]);
            gw->files[i] = NULL;
        }
    }
}
