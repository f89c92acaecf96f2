/*
 * tools/loadgen_cli.c — loadgen's command line and its report
 * (see loadgen.h). Nothing here touches libevent; loadgen.c is the client.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "../00_why_event_loop/echo_shared.h" /* the protocol: MAX_LINE, DEFAULT_HOST */
#include "common.h"
#include "loadgen.h"

#define SPARE_FDS 32 /* descriptors besides the connections */
#define DEFAULT_CONNECTIONS 10
#define DEFAULT_LINES 10
#define DEFAULT_BYTES 64
#define DEFAULT_TIMEOUT_S 30

/* ---- command line -------------------------------------------------------- */

static void usage(void)
{
    printf("usage: %s --port PORT [--host ADDR] [--connections N] [--lines M] [--bytes B]\n"
           "       [--think MS] [--timeout S] [--pause]\n"
           "  Open N connections to an echo server; each sends M lines of B bytes (the\n"
           "  newline included), one at a time, waiting for each echo.\n"
           "  --host ADDR       the server, a loopback address (default %s)\n"
           "  --port PORT       the server's port (required)\n"
           "  --connections N   concurrent connections, 1 to %d (default %d)\n"
           "  --lines M         lines per connection (default %d; N x M <= %ld)\n"
           "  --bytes B         bytes per line, 2 to %d (default %d)\n"
           "  --think MS        wait MS between an echo and the next line (default 0)\n"
           "  --timeout S       give up after S seconds (default %d); with --pause,\n"
           "                    the run after the first SIGUSR1 gets S seconds again\n"
           "  --pause           wait for SIGUSR1 once connected and once done\n"
           "  --help            show this help\n",
           prog_name(), DEFAULT_HOST, MAX_CONNECTIONS, DEFAULT_CONNECTIONS, DEFAULT_LINES,
           MAX_REQUESTS, MAX_LINE, DEFAULT_BYTES, DEFAULT_TIMEOUT_S);
}

void parse_loadgen_args(int argc, char **argv, struct config *cfg)
{
    static const struct option options[] = {
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"connections", required_argument, NULL, 'n'},
        {"lines", required_argument, NULL, 'm'},
        {"bytes", required_argument, NULL, 'b'},
        {"think", required_argument, NULL, 't'},
        {"timeout", required_argument, NULL, 'T'},
        {"pause", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *host = DEFAULT_HOST;
    int port = 0, opt;
    *cfg = (struct config){.connections = DEFAULT_CONNECTIONS,
                           .lines = DEFAULT_LINES,
                           .bytes = DEFAULT_BYTES,
                           .timeout_s = DEFAULT_TIMEOUT_S};
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'H': host = optarg; break;
        case 'p': port = (int)parse_long_option("--port", optarg, 1, 65535); break;
        case 'n':
            cfg->connections = parse_long_option("--connections", optarg, 1, MAX_CONNECTIONS);
            break;
        case 'm': cfg->lines = parse_long_option("--lines", optarg, 1, MAX_REQUESTS); break;
        case 'b': cfg->bytes = parse_long_option("--bytes", optarg, 2, MAX_LINE); break;
        case 't': cfg->think_ms = parse_long_option("--think", optarg, 0, 60000); break;
        case 'T': cfg->timeout_s = parse_long_option("--timeout", optarg, 1, 3600); break;
        case 'P': cfg->pause = 1; break;
        case 'h': usage(); exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (port == 0)
        usage_error("--port is required");
    if (cfg->connections * cfg->lines > MAX_REQUESTS)
        usage_error("--connections x --lines is %ld; the limit is %ld",
                    cfg->connections * cfg->lines, MAX_REQUESTS);
    parse_ipv4_option(&cfg->server, "--host", host, port);
    /* A load generator aimed at someone else's machine is an attack tool. */
    if ((ntohl(cfg->server.sin_addr.s_addr) >> 24) != 127)
        usage_error("--host: %s is not a loopback address (127.x.x.x)", host);
}

/* N connections need N descriptors: raise the soft limit toward the hard
 * one if we must. 0, or -1 after a message. */
int raise_fd_limit(long connections)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)connections + SPARE_FDS;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_cur >= need)
        return 0;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur >= need)
        return 0;
    warnx_msg("%ld connections need %lu descriptors; the limit is %lu (ulimit -n)", connections,
              (unsigned long)need, (unsigned long)rl.rlim_cur);
    return -1;
}

/* ---- the report ---------------------------------------------------------- */

static int by_value(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The nearest-rank percentile P (1 to 100) of the N sorted values: the
 * smallest value at least P% of them do not exceed. */
static double percentile(const float *sorted, long n, long p)
{
    if (n == 0)
        return 0;
    long rank = (p * n + 99) / 100; /* ceil(p / 100 * n) in whole numbers */
    return sorted[rank < 1 ? 0 : rank - 1];
}

void print_report(struct run_figures *f)
{
    qsort(f->latency_ms, (size_t)f->latencies, sizeof *f->latency_ms, by_value);
    if (f->finished > 0) {
        qsort(f->first_ms, (size_t)f->finished, sizeof *f->first_ms, by_value);
        qsort(f->session_ms, (size_t)f->finished, sizeof *f->session_ms, by_value);
    }
    printf("requests %ld of %ld in %.3f s: %.0f req/s\n", f->latencies, f->expected, f->seconds,
           f->seconds > 0 ? (double)f->latencies / f->seconds : 0.0);
    printf("latency ms: p50 %.3f p99 %.3f max %.3f\n", percentile(f->latency_ms, f->latencies, 50),
           percentile(f->latency_ms, f->latencies, 99),
           percentile(f->latency_ms, f->latencies, 100));
    /* The iterative server's lesson: a later client's first echo waits for
     * an earlier client's whole session. */
    printf("first echo ms: max %.3f; session ms: min %.3f p50 %.3f max %.3f\n",
           percentile(f->first_ms, f->finished, 100), f->finished ? f->session_ms[0] : 0.0,
           percentile(f->session_ms, f->finished, 50), percentile(f->session_ms, f->finished, 100));
    if (f->errors)
        printf("errors %ld (the first: %s)\n", f->errors, f->first_error);
    else
        printf("errors 0\n");
}
