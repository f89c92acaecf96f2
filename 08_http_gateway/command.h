/*
 * 08_http_gateway/command.h — webdis's URL scheme: "/SET/key/value.txt" into
 * a Redis command (argv) and the reply format the suffix asks for.
 *
 * Pure code (no libevent, no sockets), so tests/fuzz/http_path.c can drive it.
 */
#ifndef GATEWAY_COMMAND_H
#define GATEWAY_COMMAND_H

#include <stddef.h>

/* How a reply is written (webdis's formats; the suffix picks one). */
enum reply_format {
    FORMAT_JSON, /* default, ".json": {"GET":"v"}      application/json */
    FORMAT_RAW,  /* ".raw": the reply as RESP           binary/octet-stream */
    FORMAT_TEXT  /* ".txt" and the other typed suffixes: the bare value */
};

/* Arguments a command may have; more is refused (403), as a bad request. */
#define COMMAND_MAX_ARGS 1024

struct command {
    int argc;
    char **argv; /* argv[i] holds argv_len[i] bytes (and a NUL after them) */
    size_t *argv_len;
    enum reply_format format;
    const char *mime; /* the Content-Type the suffix names */
};

/* Parse URI (webdis's form, without the leading '/': "GET/key.txt"; the query
 * string, if any, is ignored) and, when BODY_LEN > 0, BODY as one last
 * argument (PUT). The command name is taken as written; every other segment
 * is percent-decoded ("%2F" is a slash inside an argument, '+' a space).
 * Returns 0, or -1 when there is no command (an empty path) or too many
 * arguments or memory ran out. */
int command_parse(struct command *cmd, const char *uri, size_t uri_len, const char *body,
                  size_t body_len);
void command_free(struct command *cmd);

/* The percent-decoding alone: LEN bytes of IN into OUT (at least LEN bytes);
 * returns the decoded length. A '%' not followed by two hex digits stays. */
size_t percent_decode(const char *in, size_t len, char *out);

/* 1 when NAME (LEN bytes) is on the deny list: webdis's always-off commands
 * (MULTI, EXEC, WATCH, DISCARD, SELECT) and those that would break a shared
 * connection or the server (FLUSHALL, CONFIG, SHUTDOWN, ...). As in webdis a
 * name is denied when it is a prefix of a denied name, case ignored. */
int command_denied(const char *name, size_t len);

/* 1 for SUBSCRIBE and PSUBSCRIBE: the reply is a stream. */
int command_is_subscribe(const struct command *cmd);

/* The deny list, for the tests that give webdis the same one. */
extern const char *const denied_commands[];

#endif
