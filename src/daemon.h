/* SPDX-License-Identifier: MIT */
/*
 * The daemon's main(), with the renderer factory as a parameter: the real
 * program passes NULL (the renderer --gpu-mode names); test daemons pass
 * their own, e.g. one that exports dma-bufs where no GPU can.
 */
#ifndef VDG_DAEMON_H
#define VDG_DAEMON_H

#include "event-loop.h"
#include "options.h"
#include "renderer.h"

typedef struct rnd_renderer *(*vdg_renderer_factory)(struct event_loop *loop,
	const struct vdg_options *opts);

/* The renderer --gpu-mode asks for, or NULL after logging why not. */
struct rnd_renderer *vdg_create_renderer(struct event_loop *loop, const struct vdg_options *opts);

/* Parses argv, runs until SIGINT/SIGTERM; returns the exit status (0, 1, or 2 for bad options). */
int vdg_daemon_main(int argc, char **argv, vdg_renderer_factory create_renderer);

#endif /* VDG_DAEMON_H */
