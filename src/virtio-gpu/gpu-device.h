/* SPDX-License-Identifier: MIT */
/*
 * The virtio-gpu device: features, config space, the control and cursor
 * queues, resources and scanouts. It owns the vhost-user session (vu-dev),
 * a renderer and a display sink.
 */
#ifndef VDG_GPU_DEVICE_H
#define VDG_GPU_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "event-loop.h"
#include "renderer.h"

struct gpu_device;

struct gpu_device_config {
	bool headless;      /* no display socket needed; output dropped */
	bool virgl;         /* offer VIRTIO_GPU_F_VIRGL (3D renderers) */
	/* Called when the frontend went away; the device is ready for the next one. */
	void (*on_disconnect)(void *data);
	void *disconnect_data;
};

/* Takes the renderer. Returns NULL with errno set. */
struct gpu_device *gpu_device_create(struct event_loop *loop, struct rnd_renderer *renderer,
	const struct gpu_device_config *config);
void gpu_device_destroy(struct gpu_device *dev);

/* Serves a connected vhost-user socket (taken). */
int gpu_device_attach(struct gpu_device *dev, int conn_fd);
bool gpu_device_connected(const struct gpu_device *dev);

#endif /* VDG_GPU_DEVICE_H */
