/*
 * 00_why_event_loop/echo_fork.c — design 2 of 5: a process per connection.
 *
 * What it teaches: the classic Unix answer to "one client blocks everyone":
 * accept, fork(), and let the child run the same blocking echo loop as the
 * iterative server while the parent goes back to accept(). Clients no longer
 * wait for each other — but every client costs a whole process: its own page
 * tables, its own kernel stack, a scheduler entry, a context switch to run it.
 * And a parent of many children has chores: reap them when they exit
 * (SIGCHLD + waitpid, or they stay as zombies) and stop them when it stops.
 *
 * Run it:  build/00_why_event_loop/echo_fork --port 8000
 * Poke it: nc 127.0.0.1 8000 in two terminals — both echo at once;
 *          ps --ppid $(pgrep -n echo_fork) shows one child per client.
 * Read docs/00-why-event-loop.md beside this file.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "echo_shared.h"

/* The parent remembers its children, to stop them when it stops. */
struct child {
    pid_t pid;
    LIST_ENTRY(child) link;
};
LIST_HEAD(child_list, child);

struct server {
    int listen_fd;
    int wake_fd;
    struct child_list children;
    unsigned long served;
    unsigned long refused; /* fork() failed: the machine said no */
};

/* ---- the child ----------------------------------------------------------- */

static void run_child(struct server *server, int fd, const sigset_t *normal)
{
    /* The child's copies of the parent's descriptors and handlers are not its
     * business: it serves one client, and SIGTERM ends it at once. */
    close(server->listen_fd);
    wake_pipe_close(server->wake_fd);       /* SIGINT, SIGTERM: back to "terminate" */
    sigprocmask(SIG_SETMASK, normal, NULL); /* one sent early is obeyed now */
    echo_lines_blocking(fd, -1);
    close(fd);
    /* Leave without flushing the parent's stdio buffers a second time. The
     * copy of the parent's child list is not freed one node at a time: that
     * would write to those pages and make the kernel copy them (fork shares
     * memory copy-on-write) only to throw them away; exiting frees it all. */
    _exit(EXIT_CLEAN);
}

/* ---- the parent ---------------------------------------------------------- */

/* A child exited: collect its status, or it stays a zombie forever. */
static void reap_children(struct server *server)
{
    child_exited = 0;
    pid_t pid;
    while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
        /* clang's analyzer misses that LIST_REMOVE updates the list's head,
         * and so calls the next search a use after free: a false positive. */
        // NOLINTBEGIN(clang-analyzer-unix.Malloc)
        struct child *c = LIST_FIRST(&server->children);
        while (c && c->pid != pid)
            c = LIST_NEXT(c, link);
        // NOLINTEND(clang-analyzer-unix.Malloc)
        if (c) {
            LIST_REMOVE(c, link);
            free(c);
        }
    }
}

static void accept_and_fork(struct server *server)
{
    int fd = accept(server->listen_fd, NULL, NULL);
    if (fd < 0) {
        warnx_msg("accept: %s", strerror(errno));
        return;
    }
    /* SIGINT/SIGTERM stay blocked across fork(): a SIGTERM that reached a
     * new child before it dropped the parent's handler would only set a flag
     * there, and the parent would wait for that child forever. */
    sigset_t stop_signals, normal;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop_signals, &normal);
    struct child *c = malloc(sizeof *c);
    pid_t pid = c ? fork() : -1;
    if (pid == 0)
        run_child(server, fd, &normal); /* never returns */
    sigprocmask(SIG_SETMASK, &normal, NULL);
    close(fd); /* the child has its own copy */
    if (pid < 0) {
        /* EAGAIN: out of processes (ulimit -u) or memory. The client is
         * dropped; that is the design's limit, not a bug. */
        if (server->refused++ == 0)
            warnx_msg("cannot fork for a new client: %s", c ? strerror(errno) : "out of memory");
        free(c);
        return;
    }
    c->pid = pid;
    LIST_INSERT_HEAD(&server->children, c, link);
    server->served++;
}

/* Stop every child still serving, and wait for each one. */
static void stop_children(struct server *server)
{
    struct child *c;
    for (c = LIST_FIRST(&server->children); c; c = LIST_NEXT(c, link))
        kill(c->pid, SIGTERM);
    c = LIST_FIRST(&server->children);
    for (struct child *next; c; c = next) {
        next = LIST_NEXT(c, link);
        waitpid(c->pid, NULL, 0);
        free(c);
    }
    LIST_INIT(&server->children);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct sockaddr_in sin;
    parse_server_args(argc, argv, "Echo lines back, a process per client (fork).", &sin);

    struct server server = {.listen_fd = -1};
    LIST_INIT(&server.children);
    server.listen_fd = listen_tcp(&sin);
    if (server.listen_fd < 0)
        return EXIT_RUNTIME;
    /* SIGINT/SIGTERM ask us to stop; SIGCHLD says a child is done. Both
     * wake the parent's wait through the same pipe. */
    server.wake_fd = wake_pipe_open(1);
    if (server.wake_fd < 0) {
        close(server.listen_fd);
        return EXIT_RUNTIME;
    }
    print_listening(server.listen_fd);

    while (!stop_signal) {
        int ready = wait_readable(server.listen_fd, server.wake_fd, -1);
        if (ready < 0) {
            warnx_msg("poll: %s", strerror(errno));
            break;
        }
        wake_pipe_drain(server.wake_fd);
        if (child_exited)
            reap_children(&server);
        if (ready == 1)
            accept_and_fork(&server);
    }

    if (stop_signal)
        print_stop_signal();
    stop_children(&server);
    wake_pipe_close(server.wake_fd);
    close(server.listen_fd);
    if (server.refused)
        printf("refused %lu connection%s: fork failed\n", server.refused,
               server.refused == 1 ? "" : "s");
    printf("served %lu connection%s, bye\n", server.served, server.served == 1 ? "" : "s");
    return EXIT_CLEAN;
}
