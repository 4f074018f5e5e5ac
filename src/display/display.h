/* SPDX-License-Identifier: MIT */
/*
 * Display sinks: where finished frames and cursors go. Same pattern as the
 * renderer: a const ops table and a base struct embedded first. Two sinks:
 * the vhost-user-gpu channel to QEMU (vugpu-chan.c) and the headless sink of
 * --headless (disp-headless.c), which drops output and invents the monitor.
 *
 * Requests that need an answer (display info, EDID) complete through a
 * callback, possibly later, so the event loop never blocks on the frontend.
 */
#ifndef VDG_DISPLAY_H
#define VDG_DISPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_gpu.h>

#include "event-loop.h"
#include "vugpu-proto.h"

struct disp_sink;

/*
 * status 0: reply holds the answer (len bytes, host-endian header fields as
 * the frontend sent them). status < 0: the sink could not answer.
 */
typedef void (*disp_reply_fn)(void *data, int status, const void *reply, size_t len);

struct disp_events {
	/* The sink is no longer busy: the device may resume its control queue. */
	void (*idle)(void *data);
	/* The sink is gone (the frontend closed it or broke the protocol). */
	void (*closed)(void *data);
	void *data;
};

/* DRM_FORMAT_MOD_INVALID: the buffer has the driver's implicit layout. */
#define DISP_DMABUF_MOD_INVALID UINT64_C(0x00ffffffffffffff)

/* A scanout shown from a dma-buf (see struct rnd_dmabuf; the fd is taken). */
struct disp_dmabuf {
	int fd;
	uint32_t width, height, stride;
	uint32_t drm_fourcc;
	uint64_t modifier;
	bool y0_top;
};

struct disp_ops {
	const char *name;
	void (*destroy)(struct disp_sink *sink);
	/* Waiting for a reply or with output queued: hold further commands. */
	bool (*busy)(struct disp_sink *sink);
	/* width 0 disables the scanout. */
	int (*scanout)(struct disp_sink *sink, uint32_t scanout_id, uint32_t width,
		uint32_t height);
	/*
	 * x8r8g8b8 pixels of a rect at (x, y) of the scanout. If `stable`, data
	 * stays valid until the sink is idle again and may be sent from in
	 * place; otherwise the sink copies what it cannot send at once.
	 */
	int (*update)(struct disp_sink *sink, uint32_t scanout_id, uint32_t x, uint32_t y,
		uint32_t width, uint32_t height, const uint8_t *data, uint32_t stride,
		bool stable);
	int (*cursor_update)(struct disp_sink *sink, const struct vugpu_cursor_update *cursor);
	int (*cursor_move)(struct disp_sink *sink, uint32_t scanout_id, uint32_t x, uint32_t y,
		bool visible);
	int (*get_display_info)(struct disp_sink *sink, disp_reply_fn fn, void *data);
	/*
	 * Optional. Shows `buf` (fd taken, even on failure) on the scanout,
	 * the rect (x, y, width, height) of it; buf NULL stops showing a
	 * dma-buf. -EOPNOTSUPP if this sink or frontend cannot take it.
	 */
	int (*dmabuf_scanout)(struct disp_sink *sink, uint32_t scanout_id,
		const struct disp_dmabuf *buf, uint32_t x, uint32_t y, uint32_t width,
		uint32_t height);
	/*
	 * Optional. Asks the frontend to redraw a rect of the dma-buf; fn runs
	 * once it has (status 0) or never will (status < 0). Busy until then:
	 * the buffer must not change under the frontend's GL.
	 */
	int (*dmabuf_update)(struct disp_sink *sink, uint32_t scanout_id, uint32_t x, uint32_t y,
		uint32_t width, uint32_t height, disp_reply_fn fn, void *data);
	/* -EOPNOTSUPP if the sink cannot give EDIDs (the device makes one). */
	int (*get_edid)(struct disp_sink *sink, uint32_t scanout_id, disp_reply_fn fn, void *data);
};

struct disp_sink {
	const struct disp_ops *ops;
	struct disp_events events;
};

void disp_init(struct disp_sink *sink, const struct disp_ops *ops,
	const struct disp_events *events);

void disp_destroy(struct disp_sink *sink);
bool disp_busy(struct disp_sink *sink);
int disp_scanout(struct disp_sink *sink, uint32_t scanout_id, uint32_t width, uint32_t height);
int disp_update(struct disp_sink *sink, uint32_t scanout_id, uint32_t x, uint32_t y,
	uint32_t width, uint32_t height, const uint8_t *data, uint32_t stride, bool stable);
int disp_cursor_update(struct disp_sink *sink, const struct vugpu_cursor_update *cursor);
int disp_cursor_move(struct disp_sink *sink, uint32_t scanout_id, uint32_t x, uint32_t y,
	bool visible);
int disp_get_display_info(struct disp_sink *sink, disp_reply_fn fn, void *data);
bool disp_has_dmabuf(struct disp_sink *sink);
int disp_dmabuf_scanout(struct disp_sink *sink, uint32_t scanout_id, const struct disp_dmabuf *buf,
	uint32_t x, uint32_t y, uint32_t width, uint32_t height);
int disp_dmabuf_update(struct disp_sink *sink, uint32_t scanout_id, uint32_t x, uint32_t y,
	uint32_t width, uint32_t height, disp_reply_fn fn, void *data);
int disp_get_edid(struct disp_sink *sink, uint32_t scanout_id, disp_reply_fn fn, void *data);

/* Default monitor when nobody tells us one: what QEMU uses (xres/yres). */
#define DISP_DEFAULT_WIDTH 1280
#define DISP_DEFAULT_HEIGHT 800

/* Sinks. */
struct disp_sink *disp_headless_create(const struct disp_events *events);
/*
 * Takes the socket from VHOST_USER_GPU_SET_SOCKET (fd is owned from now
 * on, even on failure) and starts protocol-feature negotiation.
 */
struct disp_sink *vugpu_chan_create(struct event_loop *loop, int fd,
	const struct disp_events *events);
/* Negotiated display protocol features (VUGPU_PROTOCOL_F_* bits), for tests and logs. */
uint64_t vugpu_chan_protocol_features(struct disp_sink *sink);

#endif /* VDG_DISPLAY_H */
