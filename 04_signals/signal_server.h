/*
 * 04_signals/signal_server.h — the line echo server that chapter 4's two
 * programs share (a part, linked into signals and signals_raw): clients, the
 * graceful drain, reload and stats, and handle_signal, the one ordinary
 * function both programs end in when a signal arrives.
 *
 * What differs between the programs is only how a signal reaches
 * handle_signal: signals.c through libevent's evsignal_new, signals_raw.c
 * through a sigaction handler and a self-pipe built by hand.
 */
#ifndef SIGNALS_SIGNAL_SERVER_H
#define SIGNALS_SIGNAL_SERVER_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "common.h"
#include "config.h"
#include "trace.h"

/* The signals this server handles (SIGINT, SIGTERM, SIGHUP, SIGUSR1). */
#define N_SIGNALS 4
extern const int handled_signals[N_SIGNALS];

struct server_options {
    struct sockaddr_in sin;
    const char *config_path;
    long drain_ms;
    long max_line;
    struct loop_options loop; /* --trace, --backend */
};

struct client;
LIST_HEAD(client_list, client);

struct server {
    struct event_base *base;
    struct evconnlistener *listener;
    struct accept_pause pause; /* EMFILE: chapter 1 */
    const char *config_path;
    struct config config;
    long drain_ms;
    size_t max_line;
    int draining;
    struct event *drain_deadline;
    struct event *on_sigusr2; /* dump what is registered */
    int trace;                /* --trace: dump the events at start too */
    struct client_list clients;
    long clients_now, clients_total, lines_echoed;
    long signals_seen[N_SIGNALS];
};

/* The command line both programs take; exits 2 on a bad one. */
void server_parse_args(int argc, char **argv, struct server_options *o);

/* Config, base, listener, EMFILE pause, drain timer; 0, or -1 after saying
 * why (signal_server_close still frees what was made). A bad config exits 2. */
int signal_server_open(struct server *s, const struct server_options *o);
/* "listening on ..." and how signals arrive (HOW), with this process's pid. */
void server_print_banner(const struct server *s, const char *how);
/* What to do about SIGNO, run inside the loop: any code is fine here. */
void handle_signal(struct server *s, int signo);
/* The "summary: ..." line printed after the loop ends. */
void server_print_summary(const struct server *s);
/* Free the clients, then everything signal_server_open made, in reverse order. */
void signal_server_close(struct server *s);

#endif
