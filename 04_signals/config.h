/*
 * 04_signals/config.h — the chapter 4 server's config file (a part, linked
 * into signals and signals_raw): "greeting = text" lines and "# comments".
 */
#ifndef SIGNALS_CONFIG_H
#define SIGNALS_CONFIG_H

#include <stddef.h>

#define DEFAULT_GREETING "hello"
#define GREETING_MAX 256

struct config {
    char greeting[GREETING_MAX];
};

/* Read PATH (NULL: the defaults) into *out. Returns 0, or -1 with the reason
 * in why. Never touches *out on failure, so a broken file on reload leaves the
 * running config alone. */
int load_config(const char *path, struct config *out, char *why, size_t whylen);

#endif
