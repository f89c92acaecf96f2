/*
 * 04_signals/config.c — reading the chapter 4 server's config file; see
 * config.h. Nothing here is about signals: SIGHUP just calls load_config again.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define CONFIG_LINE_MAX 512

/* One "key = value" line into *cfg; 0, or -1 with the reason in why. */
static int parse_line(char *line, const char *path, int lineno, struct config *cfg, char *why,
                      size_t whylen)
{
    char *key = line + strspn(line, " \t");
    if (*key == '#' || *key == '\n' || *key == '\0')
        return 0;
    char *eq = strchr(line, '=');
    if (!eq) {
        snprintf(why, whylen, "%s line %d: expected 'key = value'", path, lineno);
        return -1;
    }
    char *key_end = eq;
    while (key_end > key && (key_end[-1] == ' ' || key_end[-1] == '\t'))
        key_end--;
    char *value = eq + 1 + strspn(eq + 1, " \t");
    value[strcspn(value, "\r\n")] = '\0';
    if ((size_t)(key_end - key) != strlen("greeting") || strncmp(key, "greeting", 8) != 0) {
        snprintf(why, whylen, "%s line %d: unknown key '%.*s'", path, lineno, (int)(key_end - key),
                 key);
        return -1;
    }
    if (*value == '\0' || strlen(value) >= GREETING_MAX) {
        snprintf(why, whylen, "%s line %d: greeting must be 1 to %d characters", path, lineno,
                 GREETING_MAX - 1);
        return -1;
    }
    memcpy(cfg->greeting, value, strlen(value) + 1); /* length checked above */
    return 0;
}

int load_config(const char *path, struct config *out, char *why, size_t whylen)
{
    struct config cfg = {DEFAULT_GREETING};
    if (!path) {
        *out = cfg;
        return 0;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, whylen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[CONFIG_LINE_MAX];
    int lineno = 0, ok = 1;
    while (ok && fgets(line, sizeof line, f))
        ok = parse_line(line, path, ++lineno, &cfg, why, whylen) == 0;
    fclose(f);
    if (ok)
        *out = cfg;
    return ok ? 0 : -1;
}
