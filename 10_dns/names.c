/*
 * 10_dns/names.c — collecting resolve's names (see names.h).
 */
#include "names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "dns_packet.h"

static int add(struct names *names, const char *name)
{
    if (strlen(name) > DNS_MAX_NAME) {
        warnx_msg("'%.40s...': a name is at most %d characters", name, DNS_MAX_NAME);
        return -1;
    }
    if (names->count == NAMES_MAX) {
        warnx_msg("too many names: at most %d", NAMES_MAX);
        return -1;
    }
    char **grown = realloc(names->name, sizeof *grown * (size_t)(names->count + 1));
    char *copy = strdup(name);
    if (grown)
        names->name = grown;
    if (!grown || !copy) {
        free(copy);
        warnx_msg("out of memory reading the names");
        return -1;
    }
    names->name[names->count++] = copy;
    return 0;
}

static int add_file(struct names *names, const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        warnx_msg("cannot read the names file %s: %m", file);
        return -1;
    }
    char line[1024];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        line[strcspn(line, "#\r\n")] = '\0';
        char *save = NULL, *word = strtok_r(line, " \t", &save);
        if (word)
            rc = add(names, word);
    }
    fclose(f);
    return rc;
}

int names_load(struct names *names, char **args, int n, const char *file)
{
    *names = (struct names){0};
    int rc = 0;
    for (int i = 0; rc == 0 && i < n; i++)
        rc = add(names, args[i]);
    if (rc == 0 && file)
        rc = add_file(names, file);
    if (rc == 0 && names->count == 0) {
        warnx_msg("no names to resolve: give some as arguments or with --names FILE");
        rc = -1;
    }
    if (rc != 0)
        names_free(names);
    return rc;
}

void names_free(struct names *names)
{
    for (int i = 0; i < names->count; i++)
        free(names->name[i]);
    free(names->name);
    *names = (struct names){0};
}
