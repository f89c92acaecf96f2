/* fuzz-links: 08_http_gateway/command.c */
/*
 * tests/fuzz/http_path.c — chapter 8's URL parser (webdis's scheme) under
 * libFuzzer. Properties, beyond "no crash, no overread":
 *   - percent_decode never grows its input, and decoding bytes that hold no
 *     '%' and no '+' gives them back unchanged;
 *   - command_parse of a path either fails or gives a command whose name is
 *     the path's first segment, verbatim, with at most one argument per '/'
 *     plus one, each argument no longer than the path;
 *   - re-encoding every argument (each byte as %XX) and parsing that path
 *     gives the same arguments back: '/', '.', '%', '+' inside an argument
 *     survive the round trip, so they can never split or end one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../08_http_gateway/command.h"

static void check(int ok)
{
    if (!ok)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    char *out = malloc(size + 1);
    check(out != NULL);
    size_t n = percent_decode(in, size, out);
    check(n <= size);
    if (!memchr(in, '%', size) && !memchr(in, '+', size))
        check(n == size && memcmp(in, out, size) == 0);
    free(out);

    struct command cmd;
    if (command_parse(&cmd, in, size, NULL, 0) != 0)
        return 0;
    size_t slashes = 0, first = size;
    for (size_t i = 0; i < size; i++) {
        if (in[i] == '?') {
            size = i; /* the query is not part of the command */
            break;
        }
        slashes += in[i] == '/';
        if (in[i] == '/' && first == size)
            first = i;
    }
    check(cmd.argc >= 1 && (size_t)cmd.argc <= slashes + 1);
    for (int i = 0; i < cmd.argc; i++)
        check(cmd.argv_len[i] <= size && cmd.argv[i][cmd.argv_len[i]] == '\0');
    /* the name is the first segment as written (a suffix may be cut off it) */
    check(cmd.argv_len[0] <= first && memcmp(cmd.argv[0], in, cmd.argv_len[0]) == 0);

    /* round trip: NAME/%XX%XX.../%XX... parses back to the same arguments */
    size_t len = cmd.argv_len[0] + 1;
    for (int i = 1; i < cmd.argc; i++)
        len += 3 * cmd.argv_len[i] + 1;
    char *path = malloc(len + 1), *p = path;
    check(path != NULL);
    if (memchr(cmd.argv[0], '.', cmd.argv_len[0]) || memchr(cmd.argv[0], '?', cmd.argv_len[0])) {
        free(path); /* a dot in the name could read as a suffix; not this property */
        command_free(&cmd);
        return 0;
    }
    memcpy(p, cmd.argv[0], cmd.argv_len[0]);
    p += cmd.argv_len[0];
    for (int i = 1; i < cmd.argc; i++) {
        *p++ = '/';
        for (size_t k = 0; k < cmd.argv_len[i]; k++)
            p += snprintf(p, 4, "%%%02X", (unsigned char)cmd.argv[i][k]);
    }
    struct command again;
    check(command_parse(&again, path, (size_t)(p - path), NULL, 0) == 0);
    check(again.argc == cmd.argc && again.format == FORMAT_JSON);
    for (int i = 0; i < cmd.argc; i++)
        check(again.argv_len[i] == cmd.argv_len[i] &&
              memcmp(again.argv[i], cmd.argv[i], cmd.argv_len[i]) == 0);
    command_free(&again);
    free(path);
    command_free(&cmd);
    return 0;
}
