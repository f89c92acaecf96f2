/*
 * 08_http_gateway/command.c — webdis's URL scheme, as webdis 0.1.9 reads it
 * (src/cmd.c there): "GET/a%2Fb.txt" is GET with one argument "a/b", replied
 * in text. Rules, each checked against webdis itself in gateway.bats:
 *   - segments split on '/'; an empty segment is an empty argument
 *     ("/SET/k/" sets k to "");
 *   - the suffix is what follows the last '.' of the last segment, and only a
 *     known one (json, raw, txt, ...) is taken off: "/INCRBYFLOAT/f/1.5"
 *     keeps its "1.5";
 *   - arguments are percent-decoded after that, so "%2e" is a dot inside an
 *     argument and "%2F" a slash; '+' is a space; the command name is not
 *     decoded.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "command.h"

const char *const denied_commands[] = {
    /* webdis refuses these whatever its config says */
    "MULTI", "EXEC", "WATCH", "DISCARD", "SELECT",
    /* the server's own state: not for an HTTP client */
    "FLUSHALL", "FLUSHDB", "CONFIG", "DEBUG", "SHUTDOWN", "SAVE", "BGSAVE", "BGREWRITEAOF",
    "REPLICAOF", "SLAVEOF", "SYNC", "PSYNC", "MONITOR", "MIGRATE", "FAILOVER", "CLUSTER",
    /* would change or block the connection every client shares */
    "CLIENT", "AUTH", "HELLO", "RESET", "QUIT", "WAIT", "BLPOP", "BRPOP", "BLMOVE", "BRPOPLPUSH",
    "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP", "UNSUBSCRIBE", "PUNSUBSCRIBE", NULL};

struct suffix {
    const char *ext;
    enum reply_format format;
    const char *mime;
};

/* webdis's table (cmd_select_format), without msgpack */
static const struct suffix suffixes[] = {
    {"json", FORMAT_JSON, "application/json"},
    {"raw", FORMAT_RAW, "binary/octet-stream"},
    {"bin", FORMAT_TEXT, "binary/octet-stream"},
    {"txt", FORMAT_TEXT, "text/plain"},
    {"html", FORMAT_TEXT, "text/html"},
    {"xhtml", FORMAT_TEXT, "application/xhtml+xml"},
    {"xml", FORMAT_TEXT, "text/xml"},
    {"png", FORMAT_TEXT, "image/png"},
    {"jpg", FORMAT_TEXT, "image/jpeg"},
    {"jpeg", FORMAT_TEXT, "image/jpeg"},
    {"js", FORMAT_JSON, "application/javascript"},
    {"css", FORMAT_TEXT, "text/css"},
};

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    return tolower((unsigned char)c) - 'a' + 10;
}

/* region: decode */
size_t percent_decode(const char *in, size_t len, char *out)
{
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && i + 2 < len && isxdigit((unsigned char)in[i + 1]) &&
                   isxdigit((unsigned char)in[i + 2])) {
            c = (char)(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
            i += 2;
        }
        out[j++] = c;
    }
    return j;
}
/* endregion */

/* Take a known suffix off the path's end: its length without ".ext". */
static size_t take_suffix(struct command *cmd, const char *uri, size_t len)
{
    cmd->format = FORMAT_JSON;
    cmd->mime = "application/json";
    size_t dot = len;
    while (dot > 0 && uri[dot - 1] != '/' && uri[dot - 1] != '.')
        dot--;
    if (dot < 2 || uri[dot - 1] != '.') /* webdis never takes a dot at the start */
        return len;
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        if (strlen(suffixes[i].ext) == len - dot &&
            memcmp(uri + dot, suffixes[i].ext, len - dot) == 0) {
            cmd->format = suffixes[i].format;
            cmd->mime = suffixes[i].mime;
            return dot - 1;
        }
    }
    return len;
}

/* The next argument, LEN bytes of BYTES (percent-decoded if DECODE), at *SPACE:
 * the arguments' bytes follow one another in command_parse's one block. */
static int add_arg(struct command *cmd, char **space, const char *bytes, size_t len, int decode)
{
    if (cmd->argc == COMMAND_MAX_ARGS)
        return -1;
    char *arg = *space;
    size_t n = len;
    if (decode)
        n = percent_decode(bytes, len, arg);
    else
        memcpy(arg, bytes, len);
    arg[n] = '\0';
    *space = arg + n + 1;
    cmd->argv[cmd->argc] = arg;
    cmd->argv_len[cmd->argc] = n;
    cmd->argc++;
    return 0;
}

/* region: parse */
int command_parse(struct command *cmd, const char *uri, size_t uri_len, const char *body,
                  size_t body_len)
{
    *cmd = (struct command){0};
    const char *query = memchr(uri, '?', uri_len);
    if (query)
        uri_len = (size_t)(query - uri);
    if (uri_len == 0)
        return -1; /* no command at all: webdis answers 403 */
    size_t segments = 1;
    for (size_t i = 0; i < uri_len; i++)
        segments += uri[i] == '/';
    if (segments + (body_len > 0) > COMMAND_MAX_ARGS)
        return -1;
    /* one allocation: the argv and argv_len arrays, then every argument's
     * bytes and NUL (decoding only shortens them) */
    size_t slots = segments + 1;
    char **block =
        malloc(slots * (sizeof *cmd->argv + sizeof *cmd->argv_len) + uri_len + body_len + slots);
    if (!block)
        goto fail;
    cmd->argv = block;
    cmd->argv_len = (size_t *)(block + slots);
    char *space = (char *)(cmd->argv_len + slots);
    size_t end = take_suffix(cmd, uri, uri_len);
    size_t start = 0;
    for (;;) {
        const char *slash = memchr(uri + start, '/', end - start);
        size_t stop = slash ? (size_t)(slash - uri) : end;
        if (add_arg(cmd, &space, uri + start, stop - start, cmd->argc > 0) != 0)
            goto fail;
        if (!slash)
            break;
        start = stop + 1;
    }
    if (body_len > 0 && add_arg(cmd, &space, body, body_len, 0) != 0)
        goto fail;
    return 0;
fail:
    command_free(cmd);
    return -1;
}
/* endregion */

void command_free(struct command *cmd)
{
    free(cmd->argv); /* the one block: the arrays and the arguments */
    *cmd = (struct command){0};
}

int command_denied(const char *name, size_t len)
{
    int first = len > 0 ? toupper((unsigned char)name[0]) : 0;
    for (size_t i = 0; denied_commands[i]; i++) {
        const char *d = denied_commands[i];
        if (first && d[0] != first)
            continue; /* the first letter rules most out, cheaper than strncasecmp */
        if (len <= strlen(d) && strncasecmp(d, name, len) == 0)
            return 1;
    }
    return 0;
}

int command_is_subscribe(const struct command *cmd)
{
    return cmd->argc > 0 && (strcasecmp(cmd->argv[0], "SUBSCRIBE") == 0 ||
                             strcasecmp(cmd->argv[0], "PSUBSCRIBE") == 0);
}
