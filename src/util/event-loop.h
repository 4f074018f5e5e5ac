/* SPDX-License-Identifier: MIT */
/*
 * The daemon's single epoll loop. Every fd (listen and control sockets, kick
 * eventfds, the display socket, signals, the renderer's fence fd) is a source
 * here, dispatched on one thread; nothing polls in a busy loop.
 */
#ifndef VDG_EVENT_LOOP_H
#define VDG_EVENT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct event_loop;
struct event_source;

/* Called with the epoll events that fired (EPOLLIN, EPOLLHUP, ...). */
typedef void (*event_io_fn)(void *data, int fd, uint32_t events);
typedef void (*event_signal_fn)(void *data, int signo);
typedef void (*event_timer_fn)(void *data);

struct event_loop *event_loop_create(void);
/* Frees the loop; every source must have been removed before. */
void event_loop_destroy(struct event_loop *loop);

/*
 * Watches fd (not owned) for events. Returns the source or NULL (errno set).
 * Sources may be added and removed from inside callbacks.
 */
struct event_source *event_loop_add_fd(struct event_loop *loop, int fd, uint32_t events,
	event_io_fn fn, void *data);
int event_source_set_events(struct event_source *src, uint32_t events);

/*
 * Delivers signo through a signalfd (the signal is blocked for the thread).
 * Returns the source or NULL.
 */
struct event_source *event_loop_add_signal(struct event_loop *loop, int signo,
	event_signal_fn fn, void *data);

/* One-shot timer, re-armable with event_source_timer_arm(). */
struct event_source *event_loop_add_timer(struct event_loop *loop, event_timer_fn fn, void *data);
/* Arms a timer source to fire once after ms milliseconds (0 disarms). */
int event_source_timer_arm(struct event_source *src, unsigned int ms);

/* Removes and frees a source (NULL is fine). Safe inside any callback. */
void event_source_remove(struct event_source *src);

/*
 * Waits up to timeout_ms (-1: forever) and dispatches what is ready.
 * Returns the number of events dispatched or -errno.
 */
int event_loop_dispatch(struct event_loop *loop, int timeout_ms);

/* Runs until event_loop_quit(); returns the code passed to it. */
int event_loop_run(struct event_loop *loop);
void event_loop_quit(struct event_loop *loop, int code);
bool event_loop_quitting(const struct event_loop *loop);

#endif /* VDG_EVENT_LOOP_H */
