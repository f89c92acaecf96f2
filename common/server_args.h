/*
 * common/server_args.h — the command line every server from chapter 5 on
 * shares, read in one place.
 *
 * Each of those servers takes:
 *   --host ADDR, --port PORT     where it listens (default 127.0.0.1 and the
 *                                program's own port)
 *   --redis-host ADDR, --redis-port PORT
 *                                with .upstream_addr set: where Redis is, for the
 *                                servers in front of it (chapters 6, 7 and 9;
 *                                default 127.0.0.1:6379)
 *   --trace, --backend NAME      common/trace.h's
 *   --help                       the program's usage(), then exit 0
 * and options of its own, which it hands over as a getopt_long table and a
 * callback. server_args_parse reads them all in one getopt_long pass, in the
 * order given, so the first bad one is the one named:
 *
 *   static const struct option own[] = {
 *       {"high", required_argument, NULL, 'w'},
 *       {NULL, 0, NULL, 0},
 *   };
 *   struct server_args args = {.default_port = DEFAULT_PORT,
 *                              .listen_addr = &o->listen_addr,
 *                              .upstream_addr = &o->redis_addr,
 *                              .loop = &o->server.loop,
 *                              .own = own, .on_own = on_option,
 *                              .usage = usage, .app = o};
 *   server_args_parse(&args, argc, argv);   exits 2 on a bad command line
 *
 * A mistake exits through usage_error (common.h), exit 2:
 *   relay: --port: 'abc' is not a number
 *   Try 'relay --help' for more information.
 * Chapters 1 to 4 read their command lines by hand: getopt_long is taught
 * there.
 */
#ifndef WORKBOOK_SERVER_ARGS_H
#define WORKBOOK_SERVER_ARGS_H

#include <getopt.h>
#include <netinet/in.h>

#include "trace.h"

/* Where Redis is unless --redis-host / --redis-port say otherwise. */
#define SERVER_ARGS_REDIS_HOST "127.0.0.1"
#define SERVER_ARGS_REDIS_PORT 6379

struct server_args {
    int default_port;                  /* --port's default */
    struct sockaddr_in *listen_addr;   /* gets --host, --port */
    struct sockaddr_in *upstream_addr; /* gets --redis-host, --redis-port; NULL: no such options */
    struct loop_options *loop;         /* gets --trace, --backend */
    const struct option *own;          /* its own options, ended by {NULL, 0, NULL, 0}; NULL: none.
                                        * Their val is a character ('w'): ours are above 255 */
    void (*on_own)(void *app, int val, const char *arg); /* one of them was given */
    void (*usage)(void);                                 /* what --help prints */
    void *app;                                           /* on_own's first argument */
};

/* Read argv: ours into where args points, the program's own through
 * args->on_own. Returns only if the whole command line is good; otherwise
 * "prog: what: why" and exit 2 (--help: usage(), exit 0). */
void server_args_parse(struct server_args *args, int argc, char **argv);

#endif
