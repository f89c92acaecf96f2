/*
 * tools/loadgen.h — loadgen's chores, kept out of loadgen.c so
 * that file is only the event-driven client: its command line (loadgen_cli.c)
 * and the arithmetic of its report.
 */
#ifndef LOADGEN_H
#define LOADGEN_H

#include <netinet/in.h>

#define MAX_CONNECTIONS 50000
#define MAX_REQUESTS 10000000L /* N x M: the latency table is 4 bytes each */

struct config {
    struct sockaddr_in server;
    long connections, lines, bytes, timeout_s, think_ms;
    int pause;
};

/* Fill CFG from the command line; exits 0 on --help, 2 on a bad one. */
void parse_loadgen_args(int argc, char **argv, struct config *cfg);
/* Raise the descriptor limit for N connections. 0, or -1 after a message. */
int raise_fd_limit(long connections);

/* What a run measured, for print_report. The arrays are sorted in place. */
struct run_figures {
    long expected;     /* N x M */
    double seconds;    /* the run, from its start to the last echo */
    float *latency_ms; /* one per echoed line */
    long latencies;
    float *first_ms;   /* per finished connection: its first line's wait */
    float *session_ms; /* ... and its whole session */
    long finished;
    long errors;
    const char *first_error;
};
void print_report(struct run_figures *f);

#endif
