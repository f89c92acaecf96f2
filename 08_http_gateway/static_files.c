/*
 * 08_http_gateway/static_files.c — --docs DIR: GET /docs/PATH serves DIR/PATH
 * (--docs-prefix / : GET /PATH does, and the gateway is a static file server).
 *
 * The file goes out with evbuffer_add_file: the evbuffer holds a reference to
 * the file, not its bytes, and when it is written to the socket libevent calls
 * sendfile(2) — the kernel copies from the page cache to the socket, and the
 * bytes never pass through our memory (strace shows one sendfile instead of
 * read + write pairs).
 *
 * A path must stay inside DIR: it is percent-decoded first (so "%2e%2e" is
 * ".." too), any "." or ".." segment is refused, and it is opened one
 * component at a time with openat and O_NOFOLLOW (open_beneath), so no
 * symlink below DIR is followed, in or out. Content-Type
 * from the extension, Content-Length and Last-Modified from fstat,
 * If-Modified-Since answered with 304, HEAD with the headers alone.
 */
#define _XOPEN_SOURCE 700 /* strptime */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "gateway.h"

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css"},
    {".js", "application/javascript"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".txt", "text/plain; charset=utf-8"},
    {".md", "text/markdown; charset=utf-8"},
    {".json", "application/json"},
    {".pdf", "application/pdf"},
};

static const char *content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

int static_wants(const struct gateway *gw, const char *path)
{
    const char *prefix = gw->opt->docs_prefix;
    return gw->opt->docs && path && strncmp(path, prefix, strlen(prefix)) == 0;
}

/* region: safe */
/* 1 when the decoded path REL has no "." or ".." segment and no NUL. */
static int segments_safe(const char *rel, size_t len)
{
    if (memchr(rel, '\0', len))
        return 0;
    const char *p = rel, *end = rel + len;
    while (p < end) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        size_t n = (size_t)((slash ? slash : end) - p);
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        p += n + 1;
    }
    return 1;
}

/* Open REL (decoded, segments_safe) for reading under DIR_FD, one component
 * at a time: each openat is relative to the directory the one before opened,
 * with O_NOFOLLOW, so a symlink is never followed (nginx's "disable_symlinks
 * on" walks the same way) and the walk cannot leave DIR. Two system calls for
 * "/docs/page.html" (openat, fstat) where realpath + stat + open + fstat made
 * seven, and nothing can change between the check and the open. A directory
 * serves its index.html. The file's descriptor, or -1; ST gets its fstat and
 * NAME the file's own name (for the Content-Type). */
static int open_beneath(int dir_fd, const char *rel, struct stat *st, char name[NAME_MAX + 1])
{
    int dir = dir_fd, fd = -1;
    const char *p = rel + strspn(rel, "/");
    memcpy(name, "index.html", sizeof "index.html");
    if (*p == '\0') /* DIR itself */
        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    while (*p != '\0' && fd < 0) {
        size_t n = strcspn(p, "/");
        if (n > NAME_MAX)
            break;
        memcpy(name, p, n);
        name[n] = '\0';
        p += n + strspn(p + n, "/");
        int last = *p == '\0';
        /* on the way, a directory; at the end, anything (O_NONBLOCK: a FIFO
         * must not block the loop; fstat refuses it below) */
        int flags = last ? O_RDONLY | O_NONBLOCK : O_RDONLY | O_DIRECTORY;
        int next = openat(dir, name, flags | O_NOFOLLOW | O_CLOEXEC);
        if (dir != dir_fd)
            close(dir);
        dir = dir_fd;
        if (next < 0)
            break;
        if (last)
            fd = next;
        else
            dir = next;
    }
    if (dir != dir_fd)
        close(dir);
    if (fd >= 0 && fstat(fd, st) == 0 && S_ISDIR(st->st_mode)) {
        int index = openat(fd, "index.html", O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
        close(fd);
        fd = index;
        memcpy(name, "index.html", sizeof "index.html");
        if (fd >= 0 && fstat(fd, st) != 0) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0 && !S_ISREG(st->st_mode)) {
        close(fd);
        fd = -1;
    }
    return fd;
}
/* endregion */

static void send_status(struct evhttp_request *req, int code, const char *reason)
{
    struct evbuffer *body = evbuffer_new();
    if (body)
        evbuffer_add_printf(body, "%d %s\n", code, reason);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
    server_send_reply(req, code, reason, body);
    if (body)
        evbuffer_free(body);
}

/* region: serve */
void static_serve(struct gateway *gw, struct evhttp_request *req)
{
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    size_t len;
    char *rel = evhttp_uridecode(path + strlen(gw->opt->docs_prefix), 0, &len);
    struct stat st;
    char name[NAME_MAX + 1];
    int fd = -1;
    /* DIR itself, opened once (it may be a symlink: the one we follow) */
    if (gw->docs_fd < 0)
        gw->docs_fd = open(gw->opt->docs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int safe = rel && segments_safe(rel, len) && gw->docs_fd >= 0;
    const struct cached_file *f = safe ? file_cache_get(gw, rel) : NULL;
    gw->stats.file_hits += f != NULL;
    if (!f && (!safe || (fd = open_beneath(gw->docs_fd, rel, &st, name)) < 0)) {
        free(rel);
        send_status(req, 404, "Not Found");
        return;
    }
    /* a directory's index.html is looked up by the directory's path: not cached */
    int is_index = !f && strcmp(name, "index.html") == 0 &&
                   (len < 10 || strcmp(rel + len - 10, "index.html") != 0);
    if (!f && !is_index && (f = file_cache_put(gw, rel, fd, &st, content_type(name))) != NULL) {
        close(fd);
        fd = -1;
    }
    free(rel);
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    char date[64], size[32];
    struct tm tm;
    time_t mtime = f ? f->mtime.tv_sec : st.st_mtime;
    off_t bytes = f ? f->size : st.st_size;
    if (!f)
        strftime(date, sizeof date, HTTP_DATE, gmtime_r(&mtime, &tm));
    evhttp_add_header(out, "Content-Type", f ? f->type : content_type(name));
    evhttp_add_header(out, "Last-Modified", f ? f->last_modified : date);
    api_date_header(gw, req);
    const char *since =
        evhttp_find_header(evhttp_request_get_input_headers(req), "If-Modified-Since");
    struct tm since_tm = {0};
    int unchanged = since && strptime(since, HTTP_DATE, &since_tm) && mtime <= timegm(&since_tm);
    int head = evhttp_request_get_command(req) == EVHTTP_REQ_HEAD;
    if (unchanged || head) {
        if (fd >= 0)
            close(fd);
        snprintf(size, sizeof size, "%lld", (long long)bytes);
        if (!unchanged) /* HEAD: evhttp adds no Content-Length itself */
            evhttp_add_header(out, "Content-Length", size);
        server_send_reply(req, unchanged ? 304 : 200, unchanged ? "Not Modified" : "OK", NULL);
        return;
    }
    struct evbuffer *body = evhttp_request_get_output_buffer(req);
    /* Without this flag evbuffer_add_file maps the file and the bytes are copied
     * out with writev; with it, the file stays a reference that evhttp moves to
     * the socket's buffer, and libevent writes it with sendfile. */
    evbuffer_set_flags(body, EVBUFFER_FLAG_DRAINS_TO_FD);
    if (f ? evbuffer_add(body, f->data, (size_t)f->size) != 0
          : evbuffer_add_file(body, fd, 0, st.st_size) != 0) { /* fd is the buffer's now */
        evbuffer_drain(body, (size_t)-1);
        send_status(req, 503, "Service Unavailable");
        return;
    }
    server_send_reply(req, 200, "OK", NULL);
}
/* endregion */
