/*
 * 10_dns/resolve_options.c — resolve's command line (see resolve.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "resolve.h"

static void usage(void)
{
    printf("usage: %s --server ADDR:PORT [options] NAME...\n"
           "  Resolve the NAMEs (A and AAAA) with evdns against one DNS server.\n"
           "  --server ADDR:PORT   the DNS server to ask, e.g. 127.0.0.1:5310 (required)\n"
           "  --names FILE         read the names from FILE, one a line (as well as the NAMEs)\n"
           "  --serial             one lookup at a time (the next starts when one ends)\n"
           "  --blocking           a blocking lookup inside a callback, one at a time\n"
           "  --timeout SECONDS    wait this long for each attempt (default %s; 0.2 works)\n"
           "  --attempts N         tries per lookup (default %d)\n"
           "  --max-inflight N     requests evdns keeps in flight at once (default %d)\n"
           "  --quiet              no line per answer (failures and the summary only)\n"
           "  --help               show this help\n"
           "Exit status: 0 every name answered (or NXDOMAIN), 1 a lookup failed or timed out.\n",
           prog_name(), DEFAULT_TIMEOUT_S, DEFAULT_ATTEMPTS, DEFAULT_INFLIGHT);
}

/* "0.5": a number of seconds evdns's "timeout:" option takes, 0.01 to 60 */
static void parse_timeout(struct options *o, const char *text)
{
    char *end;
    double s = strtod(text, &end);
    if (end == text || *end || !(s >= 0.01 && s <= 60))
        usage_error("--timeout: '%s' is not a number of seconds from 0.01 to 60", text);
    o->timeout_s = text;
    o->timeout_ms = s * 1000.0;
}

static void parse_server(struct options *o, const char *text)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    if (!colon || (size_t)(colon - text) >= sizeof host)
        usage_error("--server: '%s' is not ADDR:PORT (e.g. 127.0.0.1:5310)", text);
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    int port = (int)parse_long_option("--server's port", colon + 1, 1, 65535);
    parse_ipv4_option(&o->server_addr, "--server", host, port);
    o->server = text;
}

void parse_args(int argc, char **argv, struct options *o)
{
    static const struct option options[] = {
        {"server", required_argument, NULL, 's'},
        {"names", required_argument, NULL, 'n'},
        {"serial", no_argument, NULL, 'S'},
        {"blocking", no_argument, NULL, 'B'},
        {"timeout", required_argument, NULL, 't'},
        {"attempts", required_argument, NULL, 'a'},
        {"max-inflight", required_argument, NULL, 'm'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *names_file = NULL;
    int opt;
    *o = (struct options){.timeout_s = DEFAULT_TIMEOUT_S,
                          .timeout_ms = DEFAULT_TIMEOUT_MS,
                          .attempts = DEFAULT_ATTEMPTS,
                          .max_inflight = DEFAULT_INFLIGHT};
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 's': parse_server(o, optarg); break;
        case 'n': names_file = optarg; break;
        case 'S': o->mode = SERIAL; break;
        case 'B': o->mode = BLOCKING; break;
        case 't': parse_timeout(o, optarg); break;
        case 'a': o->attempts = parse_long_option("--attempts", optarg, 1, 255); break;
        case 'm': o->max_inflight = parse_long_option("--max-inflight", optarg, 1, 65535); break;
        case 'q': o->quiet = 1; break;
        case 'h': usage(); exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (!o->server)
        usage_error("--server ADDR:PORT is required (the DNS server to ask)");
    if (names_load(&o->names, argv + optind, argc - optind, names_file) != 0)
        exit(EXIT_USAGE);
}
