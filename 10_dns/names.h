/*
 * 10_dns/names.h — the names resolve looks up: its arguments, and the lines
 * of a --names file (blank lines and `#` comments skipped).
 */
#ifndef WORKBOOK_NAMES_H
#define WORKBOOK_NAMES_H

#define NAMES_MAX 100000

struct names {
    char **name;
    int count;
};

/* ARGS (N of them) and then FILE's lines (FILE may be NULL). 0, or -1 after
 * printing "prog: what went wrong" (nothing to free then). */
int names_load(struct names *names, char **args, int n, const char *file);
void names_free(struct names *names);

#endif
