/*
 * common/server_args.c — the shared command line of the servers from chapter
 * 5 on (server_args.h says what it takes and how a program adds its own).
 */
#include "server_args.h"

#include <stdio.h>
#include <stdlib.h>

#include "common.h"

#define DEFAULT_HOST "127.0.0.1"
/* Ours (7) and a program's own options together, at the most. */
#define MAX_OPTIONS 32

/* getopt_long's val for our options: above any character, so a program may
 * give its own options any letter. */
enum {
    OPT_HOST = 256,
    OPT_PORT,
    OPT_REDIS_HOST,
    OPT_REDIS_PORT,
    OPT_TRACE,
    OPT_BACKEND,
    OPT_HELP,
};

static const struct option ours[] = {
    {"host", required_argument, NULL, OPT_HOST},
    {"port", required_argument, NULL, OPT_PORT},
    {"redis-host", required_argument, NULL, OPT_REDIS_HOST}, /* with .upstream_addr only */
    {"redis-port", required_argument, NULL, OPT_REDIS_PORT}, /* with .upstream_addr only */
    {"trace", no_argument, NULL, OPT_TRACE},
    {"backend", required_argument, NULL, OPT_BACKEND},
    {"help", no_argument, NULL, OPT_HELP},
};

/* getopt_long's table: ours, then the program's own, then the end marker. A
 * program with too many options for it is told so at once (its mistake). */
static void build_table(struct option table[MAX_OPTIONS + 1], const struct server_args *args)
{
    size_t used = 0;
    for (size_t i = 0; i < sizeof ours / sizeof *ours; i++) {
        int upstream_only = ours[i].val == OPT_REDIS_HOST || ours[i].val == OPT_REDIS_PORT;
        if (args->upstream_addr || !upstream_only)
            table[used++] = ours[i];
    }
    for (size_t i = 0; args->own && args->own[i].name; i++) {
        if (used == MAX_OPTIONS) {
            warnx_msg("cannot read the command line: more than %d options", MAX_OPTIONS);
            exit(EXIT_RUNTIME);
        }
        table[used++] = args->own[i];
    }
    table[used] = (struct option){NULL, 0, NULL, 0};
}

void server_args_parse(struct server_args *args, int argc, char **argv)
{
    struct option table[MAX_OPTIONS + 1];
    build_table(table, args);
    const char *host = DEFAULT_HOST, *redis_host = SERVER_ARGS_REDIS_HOST;
    int port = args->default_port, redis_port = SERVER_ARGS_REDIS_PORT;
    *args->loop = (struct loop_options){0};
    int opt;
    while ((opt = getopt_long(argc, argv, "", table, NULL)) != -1) {
        switch (opt) {
        case OPT_HOST: host = optarg; break;
        case OPT_PORT: port = parse_port_option("--port", optarg); break;
        case OPT_REDIS_HOST: redis_host = optarg; break;
        case OPT_REDIS_PORT:
            redis_port = (int)parse_long_option("--redis-port", optarg, 1, 65535);
            break;
        case OPT_TRACE: args->loop->trace = 1; break;
        case OPT_BACKEND: args->loop->backend = parse_backend_option(optarg); break;
        case OPT_HELP: args->usage(); exit(EXIT_CLEAN);
        case '?': bad_option(argv);
        default: args->on_own(args->app, opt, optarg);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    parse_ipv4_option(args->listen_addr, "--host", host, port);
    if (args->upstream_addr)
        parse_ipv4_option(args->upstream_addr, "--redis-host", redis_host, redis_port);
}
