/*
 * 00_why_event_loop/echo_threads.c — design 3 of 5: a thread per connection.
 *
 * What it teaches: the same blocking echo loop, now in a pthread per client.
 * Threads share one address space, so a client costs less than a process —
 * but each still has its own stack (8 MiB reserved by default, the pages it
 * touches resident), its own kernel stack and scheduler entry, and every
 * line a client sends wakes its own thread: a context switch per message.
 * Sharing has its own price: the list of workers needs a mutex.
 *
 * Clean shutdown is the subtle part. A worker blocked in read() does not see
 * a flag; the main thread shuts each client socket down, which makes that
 * read() return, and then joins every worker. Finished workers are joined as
 * the server goes, so their stacks do not pile up.
 *
 * Run it:  build/00_why_event_loop/echo_threads --port 8000
 * Poke it: nc 127.0.0.1 8000 in two terminals — both echo at once;
 *          grep Threads /proc/$(pgrep -n echo_threads)/status counts them.
 * Read docs/00-why-event-loop.md beside this file.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "echo_shared.h"

/* Finished workers are joined at least this often, even with no new client. */
#define REAP_INTERVAL_MS 1000

struct server;

struct worker {
    pthread_t thread;
    int fd; /* -1 once the worker has closed it */
    struct server *server;
    LIST_ENTRY(worker) link;
};
LIST_HEAD(worker_list, worker);

struct server {
    int listen_fd;
    int wake_fd;
    pthread_mutex_t lock;        /* guards both lists and every worker's fd */
    pthread_cond_t worker_done;  /* a worker moved itself to finished */
    struct worker_list running;  /* serving a client */
    struct worker_list finished; /* done, waiting for pthread_join */
    unsigned long served;
    unsigned long refused; /* pthread_create failed */
};

/* ---- a worker thread ----------------------------------------------------- */

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct server *server = w->server;
    echo_lines_blocking(w->fd, -1); /* blocks in read(), as long as the client stays */
    /* Close under the lock: the main thread may be shutting this fd down, and
     * a closed number can be reused by the next accept() at once. */
    pthread_mutex_lock(&server->lock);
    close(w->fd);
    w->fd = -1;
    LIST_REMOVE(w, link);
    LIST_INSERT_HEAD(&server->finished, w, link);
    pthread_cond_signal(&server->worker_done);
    pthread_mutex_unlock(&server->lock);
    return NULL;
}

/* ---- the main thread ----------------------------------------------------- */

/* Join the workers that finished: this frees their stacks. */
static void join_finished(struct server *server)
{
    pthread_mutex_lock(&server->lock);
    struct worker *w;
    while ((w = LIST_FIRST(&server->finished))) {
        LIST_REMOVE(w, link);
        pthread_mutex_unlock(&server->lock); /* the thread may still be exiting */
        pthread_join(w->thread, NULL);
        free(w);
        pthread_mutex_lock(&server->lock);
    }
    pthread_mutex_unlock(&server->lock);
}

/* A new thread inherits its creator's signal mask. Creating workers with
 * SIGINT/SIGTERM blocked means a signal always lands in the main thread,
 * where poll() is waiting for it, never in some worker's read(). */
static int start_worker(struct worker *w)
{
    sigset_t stop_signals, normal;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, &normal);
    int err = pthread_create(&w->thread, NULL, worker_main, w);
    pthread_sigmask(SIG_SETMASK, &normal, NULL);
    return err;
}

static void accept_and_spawn(struct server *server)
{
    int fd = accept(server->listen_fd, NULL, NULL);
    if (fd < 0) {
        warnx_msg("accept: %s", strerror(errno));
        return;
    }
    struct worker *w = calloc(1, sizeof *w);
    if (!w) {
        warnx_msg("out of memory: dropping a connection");
        close(fd);
        return;
    }
    w->fd = fd;
    w->server = server;
    /* Insert before the thread exists, so it is always on a list; the lock
     * keeps the new thread from moving itself before we are done. */
    pthread_mutex_lock(&server->lock);
    int err = start_worker(w);
    if (err == 0)
        LIST_INSERT_HEAD(&server->running, w, link);
    pthread_mutex_unlock(&server->lock);
    if (err != 0) {
        /* EAGAIN: out of threads (ulimit -u, threads-max) or memory for
         * stacks. The client is dropped: that is the design's limit. */
        if (server->refused++ == 0)
            warnx_msg("cannot start a thread for a new client: %s", strerror(err));
        close(fd);
        free(w);
        return;
    }
    server->served++;
}

/* Wake every worker blocked in read() or send(), then join them all. */
static void stop_workers(struct server *server)
{
    pthread_mutex_lock(&server->lock);
    struct worker *w;
    for (w = LIST_FIRST(&server->running); w; w = LIST_NEXT(w, link))
        shutdown(w->fd, SHUT_RDWR);
    while (LIST_FIRST(&server->running))
        pthread_cond_wait(&server->worker_done, &server->lock);
    pthread_mutex_unlock(&server->lock);
    join_finished(server);
}

static void serve(struct server *server)
{
    while (!stop_signal) {
        int ready = wait_readable(server->listen_fd, server->wake_fd, REAP_INTERVAL_MS);
        if (ready < 0) {
            warnx_msg("poll: %s", strerror(errno));
            break;
        }
        join_finished(server);
        if (ready == 1)
            accept_and_spawn(server);
    }
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct sockaddr_in sin;
    parse_server_args(argc, argv, "Echo lines back, a thread per client (pthreads).", &sin);

    struct server server = {.listen_fd = -1};
    pthread_mutex_init(&server.lock, NULL);
    pthread_cond_init(&server.worker_done, NULL);
    LIST_INIT(&server.running);
    LIST_INIT(&server.finished);
    server.listen_fd = listen_tcp(&sin);
    if (server.listen_fd < 0)
        return EXIT_RUNTIME;
    server.wake_fd = wake_pipe_open(0);
    if (server.wake_fd < 0) {
        close(server.listen_fd);
        return EXIT_RUNTIME;
    }
    print_listening(server.listen_fd);

    serve(&server);

    if (stop_signal)
        print_stop_signal();
    stop_workers(&server);
    wake_pipe_close(server.wake_fd);
    close(server.listen_fd);
    pthread_cond_destroy(&server.worker_done);
    pthread_mutex_destroy(&server.lock);
    if (server.refused)
        printf("refused %lu connection%s: no thread\n", server.refused,
               server.refused == 1 ? "" : "s");
    printf("served %lu connection%s, bye\n", server.served, server.served == 1 ? "" : "s");
    return EXIT_CLEAN;
}
