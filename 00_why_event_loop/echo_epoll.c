/*
 * 00_why_event_loop/echo_epoll.c — design 4 of 5: one thread, raw epoll.
 *
 * What it teaches: how one thread serves thousands of clients, and what that
 * costs *you*, the programmer. The kernel's epoll tells us which of our
 * sockets are ready; we never block on any one of them. In exchange:
 *   - every socket is non-blocking: read() and send() return EAGAIN instead
 *     of waiting, and we must handle that everywhere;
 *   - a connection's state can no longer live on a stack: each has its own
 *     struct with an input buffer (a line may arrive in pieces) and an output
 *     buffer (send() may take only part of what we give it);
 *   - we ask for EPOLLOUT only while output is pending — a socket is almost
 *     always writable, so asking all the time would wake us for nothing;
 *   - signals, closing, and the accept loop are ours to get right too.
 * This is exactly the work a bufferevent does for you (echo_libevent.c).
 *
 * Run it:  build/00_why_event_loop/echo_epoll --port 8000
 * Poke it: nc 127.0.0.1 8000 in many terminals — one process, one thread.
 * Read docs/00-why-event-loop.md beside this file.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "echo_shared.h"

#define MAX_EVENTS 256 /* readiness reports taken per epoll_wait */

/* Everything epoll watches is a struct conn: the listener and the wake-up
 * pipe have one too, so an event's data.ptr always says what is ready. */
struct conn {
    int fd;
    uint32_t events;   /* what epoll watches for now: EPOLLIN or EPOLLOUT */
    int peer_closed;   /* FIN seen: send what is left, then close */
    size_t in_len;     /* bytes in `in`, no complete line among them */
    size_t out_len;    /* bytes in `out` ... */
    size_t out_sent;   /* ... of which send() has taken this many */
    char in[MAX_LINE]; /* a line arriving in pieces waits here */
    char out[MAX_LINE];
    LIST_ENTRY(conn) link;
};
LIST_HEAD(conn_list, conn);

struct server {
    int epfd;
    struct conn listener; /* only .fd used */
    struct conn waker;    /* only .fd used */
    int accepting;        /* 0 while out of descriptors */
    struct conn_list conns;
    unsigned long served;
};

static void conn_close(struct server *server, struct conn *c)
{
    close(c->fd); /* also removes it from the epoll set */
    LIST_REMOVE(c, link);
    free(c);
    if (!server->accepting) { /* a descriptor came free: take clients again */
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &server->listener};
        if (epoll_ctl(server->epfd, EPOLL_CTL_ADD, server->listener.fd, &ev) == 0)
            server->accepting = 1;
    }
}

/* Say what we wait for on this socket: input, or room for pending output.
 * Never both: while output is pending we stop reading (backpressure). Only
 * a change costs an epoll_ctl() system call. */
static int want(struct server *server, struct conn *c, uint32_t events)
{
    if (c->events == events)
        return 0;
    struct epoll_event ev = {.events = events, .data.ptr = c};
    c->events = events;
    return epoll_ctl(server->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Send what `out` holds. 1: all sent; 0: the socket is full (EAGAIN), the
 * rest waits; -1: the peer is gone. */
static int flush_output(struct conn *c)
{
    while (c->out_sent < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0; /* a partial write: the kernel's send buffer is full */
        if (n < 0)
            return -1;
        c->out_sent += (size_t)n;
    }
    c->out_len = c->out_sent = 0;
    return 1;
}

/* Output drained or not: pick what to wait for next, or finish. */
static void after_output(struct server *server, struct conn *c)
{
    int sent = flush_output(c);
    int finished = sent < 0 || (sent == 1 && c->peer_closed);
    /* All sent: read again. Some left: wait for room in the socket. */
    if (finished || want(server, c, sent == 1 ? EPOLLIN : EPOLLOUT) != 0)
        conn_close(server, c);
}

/* Move the complete lines (or a full buffer's worth) from `in` to `out`. */
static void take_lines(struct conn *c)
{
    size_t n = complete_lines_length(c->in, c->in_len);
    if (c->peer_closed || (n == 0 && c->in_len == sizeof c->in))
        n = c->in_len;        /* the peer's last bytes, or a line too long to hold */
    memcpy(c->out, c->in, n); /* `out` is empty here: we only read then */
    c->out_len = n;
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
}

static void on_readable(struct server *server, struct conn *c)
{
    ssize_t n = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return; /* a false alarm: wait again */
    if (n < 0) {
        conn_close(server, c); /* reset by the peer */
        return;
    }
    if (n == 0)
        c->peer_closed = 1;
    c->in_len += (size_t)n;
    take_lines(c);
    after_output(server, c);
}

static void accept_clients(struct server *server)
{
    /* The listener is level-triggered: take what is waiting now, up to a
     * limit, so a flood of connects cannot starve the clients we have. */
    for (int i = 0; i < MAX_EVENTS; i++) {
        int fd = accept4(server->listener.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
            /* Out of descriptors. Stop watching the listener (else it stays
             * readable and we spin) until a connection closes. */
            warnx_msg("accept: %s: pausing accepts", strerror(errno));
            epoll_ctl(server->epfd, EPOLL_CTL_DEL, server->listener.fd, NULL);
            server->accepting = 0;
            return;
        }
        if (fd < 0)
            return; /* EAGAIN: nobody else waiting; or the client left already */
        struct conn *c = malloc(sizeof *c);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (!c || epoll_ctl(server->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            warnx_msg("cannot watch a new client: %s", c ? strerror(errno) : "out of memory");
            close(fd);
            free(c);
            continue;
        }
        /* Not calloc: the two buffers need no zeroing, and untouched pages
         * cost no memory until a client sends that much. */
        c->fd = fd;
        c->events = EPOLLIN;
        c->peer_closed = 0;
        c->in_len = c->out_len = c->out_sent = 0;
        LIST_INSERT_HEAD(&server->conns, c, link);
        server->served++;
    }
}

/* The event loop: wait for readiness, dispatch, repeat. */
static void run_loop(struct server *server)
{
    struct epoll_event events[MAX_EVENTS];
    while (!stop_signal) {
        int n = epoll_wait(server->epfd, events, MAX_EVENTS, -1);
        if (n < 0 && errno != EINTR) {
            warnx_msg("epoll_wait: %s", strerror(errno));
            return;
        }
        for (int i = 0; i < n && !stop_signal; i++) {
            struct conn *c = events[i].data.ptr;
            if (c == &server->listener)
                accept_clients(server);
            else if (c == &server->waker)
                wake_pipe_drain(c->fd);
            else if (c->out_len > 0)
                after_output(server, c); /* EPOLLOUT, or an error send() reports */
            else
                on_readable(server, c); /* EPOLLIN, or an error read() reports */
        }
    }
}

/* Register C's descriptor, non-blocking, for input. */
static int watch(struct server *server, struct conn *c)
{
    int flags = fcntl(c->fd, F_GETFL);
    if (flags < 0 || fcntl(c->fd, F_SETFL, flags | O_NONBLOCK) != 0)
        return -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    return epoll_ctl(server->epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

int main(int argc, char **argv)
{
    common_init(argv[0]);
    struct sockaddr_in sin;
    parse_server_args(argc, argv, "Echo lines back, one thread, raw epoll.", &sin);

    struct server server = {.epfd = -1, .accepting = 1};
    LIST_INIT(&server.conns);
    server.listener.fd = listen_tcp(&sin);
    if (server.listener.fd < 0)
        return EXIT_RUNTIME;
    server.waker.fd = wake_pipe_open(0);
    server.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (server.waker.fd < 0 || server.epfd < 0 || watch(&server, &server.listener) != 0 ||
        watch(&server, &server.waker) != 0) {
        warnx_msg("cannot set up epoll: %s", strerror(errno));
        return EXIT_RUNTIME;
    }
    print_listening(server.listener.fd);

    run_loop(&server);

    if (stop_signal)
        print_stop_signal();
    for (struct conn *c = LIST_FIRST(&server.conns), *next; c; c = next) {
        next = LIST_NEXT(c, link);
        close(c->fd);
        free(c);
    }
    LIST_INIT(&server.conns);
    close(server.epfd);
    wake_pipe_close(server.waker.fd);
    close(server.listener.fd);
    printf("served %lu connection%s, bye\n", server.served, server.served == 1 ? "" : "s");
    return EXIT_CLEAN;
}
