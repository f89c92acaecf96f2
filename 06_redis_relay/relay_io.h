/*
 * 06_redis_relay/relay_io.h — the relay's data path in three calls: read what
 * a socket holds, pass it on, and turn Nagle off. Chapter 6's pair.c uses
 * them, and so does chapter 7 (its shared connections, and pinned.c, which
 * is chapter 6's relay for one client): one copy, linked by both.
 */
#ifndef RELAY_IO_H
#define RELAY_IO_H

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/util.h>

/* One read of what fd holds (up to 64 KiB), appended to buf. *last_read: how
 * much the previous call for this socket read (0 at first), updated; it says
 * how much space to borrow from buf. Returns what the read returned: bytes
 * read, 0 at end of stream, -1 with errno set (EAGAIN: nothing yet). */
ev_ssize_t read_some(evutil_socket_t fd, struct evbuffer *buf, size_t *last_read);

/* Every byte of src to dst: written at once when nothing is queued ahead
 * (and dst is connected), the rest queued in dst's output. src ends empty. */
void forward(struct evbuffer *src, struct bufferevent *dst, int dst_connected);

/* Replies must not wait for Nagle's algorithm. */
void set_nodelay(evutil_socket_t fd);

#endif
