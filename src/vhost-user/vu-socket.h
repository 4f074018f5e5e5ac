/* SPDX-License-Identifier: MIT */
/* The listening Unix socket of --socket-path: bind, accept, pause while a session runs. */
#ifndef VDG_VU_SOCKET_H
#define VDG_VU_SOCKET_H

#include "event-loop.h"

struct vu_listener;

typedef void (*vu_accept_fn)(void *data, int conn_fd);

/*
 * Listens on path. A stale socket file (nobody accepting) is replaced; a
 * live one or a non-socket file is an error (-EADDRINUSE, -EEXIST). Returns
 * the listener or NULL with errno set.
 */
struct vu_listener *vu_listener_create(struct event_loop *loop, const char *path,
	vu_accept_fn on_accept, void *data);
/* Stops accepting (one session at a time) or starts again. */
int vu_listener_pause(struct vu_listener *l);
int vu_listener_resume(struct vu_listener *l);
/* Closes the socket and removes the file (NULL is fine). */
void vu_listener_destroy(struct vu_listener *l);

#endif /* VDG_VU_SOCKET_H */
