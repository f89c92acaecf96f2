/*
 * 11_threads/threads_cli.c — the chores of threads.h: the command line,
 * the listening line, and the signal mask that keeps signals on the main
 * thread. (--trace needs nothing here: common's trace.c prints each line
 * under a lock of its own, so any thread may trace.)
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "threads.h"

static void usage(const char *description, int with_inline)
{
    printf("usage: %s [--host ADDR] [--port PORT] [--threads N]%s [--trace] [--backend NAME]\n"
           "  %s\n"
           "  --host ADDR     IPv4 address to listen on (default 127.0.0.1)\n"
           "  --port PORT     port to listen on, 0 = any free port (default 8011)\n"
           "  --threads N     %s, 1 to %d (default %d)\n"
           "%s"
           "  --trace         print each register/detect/dispatch step on stderr\n"
           "  --backend NAME  epoll, poll or select (default: libevent's choice)\n"
           "  --help          show this help\n",
           prog_name(), with_inline ? " [--inline]" : "", description,
           with_inline ? "threads doing the slow work" : "worker threads, each its own loop",
           MAX_THREADS, DEFAULT_THREADS,
           with_inline ? "  --inline        do the slow work on the loop thread (for contrast)\n"
                       : "");
}

void parse_thread_options(int argc, char **argv, const char *description, int with_inline,
                          struct thread_options *opt)
{
    static const struct option options[] = {
        {"host", required_argument, NULL, 'H'},    {"port", required_argument, NULL, 'p'},
        {"threads", required_argument, NULL, 'n'}, {"inline", no_argument, NULL, 'i'},
        {"trace", no_argument, NULL, 't'},         {"backend", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *host = "127.0.0.1";
    int port = 8011;
    int o;
    opt->threads = DEFAULT_THREADS;
    while ((o = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (o) {
        case 'H': host = optarg; break;
        case 'p': port = parse_port_option("--port", optarg); break;
        case 'n': opt->threads = parse_long_option("--threads", optarg, 1, MAX_THREADS); break;
        case 'i':
            if (!with_inline)
                bad_option(argv);
            opt->inline_work = 1;
            break;
        case 't': opt->server.loop.trace = 1; break;
        case 'b': opt->server.loop.backend = parse_backend_option(optarg); break;
        case 'h': usage(description, with_inline); exit(EXIT_CLEAN);
        default: bad_option(argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    parse_ipv4_option(&opt->sin, "--host", host, port);
}

void print_listening(evutil_socket_t fd)
{
    char bound[ADDR_STRLEN];
    printf("listening on %s\n", format_local_addr(fd, bound, sizeof bound));
}

void block_signals(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

void restore_signals(const sigset_t *old)
{
    pthread_sigmask(SIG_SETMASK, old, NULL);
}
