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
 * ".." too), any ".." segment is refused, and the real path (symlinks
 * resolved, realpath) must still start with DIR's real path. Content-Type
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

/* Open DIR/REL for reading if it really is inside ROOT, DIR's real path; -1
 * otherwise. REAL (PATH_MAX bytes) gets the file's real path. */
static int open_inside(const char *dir, const char *root, const char *rel, struct stat *st,
                       char *real)
{
    char want[PATH_MAX];
    if (snprintf(want, sizeof want, "%s/%s", dir, rel) >= (int)sizeof want || !realpath(want, real))
        return -1;
    size_t rootlen = strlen(root);
    if (strncmp(real, root, rootlen) != 0 || (real[rootlen] != '/' && real[rootlen] != '\0'))
        return -1; /* a symlink out of DIR */
    if (stat(real, st) == 0 && S_ISDIR(st->st_mode)) {
        size_t n = strlen(real);
        if (n + sizeof "/index.html" > PATH_MAX)
            return -1;
        memcpy(real + n, "/index.html", sizeof "/index.html");
    }
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -1;
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
    char real[PATH_MAX];
    int fd = -1;
    /* DIR's real path, found once: realpath costs a readlink per component */
    if (!gw->docs_root[0] && !realpath(gw->opt->docs, gw->docs_root))
        gw->docs_root[0] = '\0';
    if (!rel || !segments_safe(rel, len) || !gw->docs_root[0] ||
        (fd = open_inside(gw->opt->docs, gw->docs_root, rel, &st, real)) < 0) {
        free(rel);
        send_status(req, 404, "Not Found");
        return;
    }
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    char date[64], size[32];
    struct tm tm;
    strftime(date, sizeof date, HTTP_DATE, gmtime_r(&st.st_mtime, &tm));
    snprintf(size, sizeof size, "%lld", (long long)st.st_size);
    evhttp_add_header(out, "Content-Type", content_type(real));
    evhttp_add_header(out, "Last-Modified", date);
    api_date_header(gw, req);
    free(rel);
    const char *since =
        evhttp_find_header(evhttp_request_get_input_headers(req), "If-Modified-Since");
    struct tm since_tm = {0};
    if (since && strptime(since, HTTP_DATE, &since_tm) && st.st_mtime <= timegm(&since_tm)) {
        close(fd);
        server_send_reply(req, 304, "Not Modified", NULL);
        return;
    }
    struct evbuffer *body = evbuffer_new();
    /* Without this flag evbuffer_add_file maps the file and the bytes are copied
     * out with writev; with it, the file stays a reference that evhttp moves to
     * the socket's buffer, and libevent writes it with sendfile. */
    if (body)
        evbuffer_set_flags(body, EVBUFFER_FLAG_DRAINS_TO_FD);
    if (!body) {
        close(fd);
        send_status(req, 503, "Service Unavailable");
        return;
    }
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        evhttp_add_header(out, "Content-Length", size); /* evhttp adds none for HEAD */
        close(fd);
    } else if (evbuffer_add_file(body, fd, 0, st.st_size) != 0) { /* fd is the buffer's now */
        evbuffer_free(body);
        send_status(req, 503, "Service Unavailable");
        return;
    }
    server_send_reply(req, 200, "OK", body);
    evbuffer_free(body);
}
/* endregion */
