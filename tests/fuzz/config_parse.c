/* fuzz-links: 04_signals/config.c */
/*
 * tests/fuzz/config_parse.c — chapter 4's config parser (config.c) under
 * libFuzzer: `make fuzz` (scripts/ci/fuzz.sh) builds and runs it.
 *
 * Properties, for any file:
 *   - a refused file leaves the running config alone (SIGHUP relies on it),
 *     and says why;
 *   - a file that parses, written back as "greeting = VALUE", parses again
 *     to the same config (what was read is what the file meant);
 *   - parsing the same file twice gives the same result.
 * load_config reads a path, so each input is written to one temporary file.
 * Watch for: a failing input is saved by libFuzzer; run the binary on it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../04_signals/config.h"

static char path[64];

static void write_file(const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
}

static void remove_file(void)
{
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        /* in memory where there is a tmpfs for it: a file per run is slow on disk */
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(path, sizeof path, "%s/fuzz-config-%ld.conf", dir, (long)getpid());
        atexit(remove_file);
    }
    write_file(data, size);
    struct config first, again, sentinel;
    memset(&sentinel, 0x5a, sizeof sentinel);
    first = sentinel;
    char why[256] = "", why2[256] = "";
    int rc = load_config(path, &first, why, sizeof why);
    again = sentinel;
    int rc2 = load_config(path, &again, why2, sizeof why2);
    if (rc != rc2 || memcmp(&first, &again, sizeof first) != 0 || strcmp(why, why2) != 0)
        __builtin_trap(); /* the same file, the same result */
    if (rc != 0) {
        if (memcmp(&first, &sentinel, sizeof first) != 0 || why[0] == '\0')
            __builtin_trap(); /* refused: untouched, and a reason */
        return 0;
    }
    size_t len = strnlen(first.greeting, sizeof first.greeting);
    if (len == 0 || len >= sizeof first.greeting)
        __builtin_trap(); /* a greeting of 1 to GREETING_MAX - 1 characters */
    char line[GREETING_MAX + 32];
    int n = snprintf(line, sizeof line, "greeting = %s\n", first.greeting);
    write_file(line, (size_t)n);
    again = sentinel;
    if (load_config(path, &again, why, sizeof why) != 0 ||
        strcmp(again.greeting, first.greeting) != 0)
        __builtin_trap(); /* written back, read the same */
    return 0;
}
