/* SPDX-License-Identifier: MIT */
/*
 * The QEMU side of the vhost-user-gpu display socket: answers the back-end's
 * queries, keeps the pixels of every scanout, records cursor and dma-buf
 * messages and counts everything for tests.
 */
#ifndef VDGFE_DISPLAY_SINK_H
#define VDGFE_DISPLAY_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vugpu-proto.h"

#define VDGFE_SINK_MAX_OUTPUTS 16

struct vdgfe_sink_config {
	uint64_t protocol_features; /* GET_PROTOCOL_FEATURES answer: 0 (7.2), 0x1 (8.1), 0x3 */
	unsigned int outputs;       /* enabled outputs in GET_DISPLAY_INFO (default 1) */
	uint32_t width, height;     /* preferred mode of every output (1280x800) */
	bool keep_pixels;           /* composite UPDATEs into framebuffers (default true) */
	bool no_dmabuf_ack;         /* do not ack DMABUF_UPDATE (flow-control tests) */
	bool no_display_info;       /* never answer GET_DISPLAY_INFO */
	bool verbose;
};

void vdgfe_sink_config_init(struct vdgfe_sink_config *cfg);

struct vdgfe_fb {
	uint32_t width, height;     /* 0: no surface (never SCANOUT, or disabled) */
	uint32_t *pixels;           /* x8r8g8b8, stride width * 4 */
	bool ever_scanout;
};

struct vdgfe_cursor {
	bool defined;               /* a CURSOR_UPDATE arrived */
	bool visible;
	uint32_t scanout_id, x, y, hot_x, hot_y;
	uint32_t image[VUGPU_CURSOR_DIM * VUGPU_CURSOR_DIM];
};

struct vdgfe_sink {
	struct vdgfe_sink_config cfg;
	int fd;                     /* -1: no socket */
	bool closed;                /* peer closed (EOF/error) */
	uint64_t counts[VUGPU_REQUEST_MAX + 1]; /* [VUGPU_REQUEST_MAX] = unknown ids */
	uint64_t total_msgs;
	uint64_t violations;        /* protocol violations (see last_violation) */
	char last_violation[160];
	bool set_protocol_seen;
	uint64_t set_protocol_features;
	uint64_t edid_requests_dropped; /* GET_EDID for a bad scanout: no reply sent */
	struct vdgfe_fb fb[VDGFE_SINK_MAX_OUTPUTS];
	struct vdgfe_cursor cursor;
	/* last UPDATE: header, first and last pixel of its payload, frame bytes */
	struct vugpu_update last_update;
	uint32_t last_update_first_px, last_update_last_px;
	uint64_t update_bytes;
	/* last DMABUF_SCANOUT / SCANOUT2; its fd is kept (-1 if none) until the next one */
	struct vugpu_dmabuf_scanout2 last_dmabuf;
	bool last_dmabuf_had_fd;
	int last_dmabuf_fd;
	bool last_dmabuf_v2;
	struct vugpu_update last_dmabuf_update;
	uint64_t dmabuf_updates_unacked;
	uint8_t *scratch;
	size_t scratch_cap;
};

/* Initialise with cfg (copied), no socket yet. */
void vdgfe_sink_init(struct vdgfe_sink *sink, const struct vdgfe_sink_config *cfg);
/* Frees framebuffers, closes the socket. */
void vdgfe_sink_finish(struct vdgfe_sink *sink);
/* Takes ownership of fd (our end of the GPU_SET_SOCKET pair); resets 'closed'. */
void vdgfe_sink_attach(struct vdgfe_sink *sink, int fd);
void vdgfe_sink_close(struct vdgfe_sink *sink);
/* Clears counters, framebuffers and records (keeps the socket). */
void vdgfe_sink_reset_state(struct vdgfe_sink *sink);
/*
 * Reads and handles every complete message available now; a message whose
 * header has arrived is read to its end (waiting up to timeout_ms for the
 * rest). Returns the number of messages handled, 0 if none, or -errno
 * (VDGFE_ERR_CLOSED style -ECONNRESET when the peer closed; also sets closed).
 */
int vdgfe_sink_service(struct vdgfe_sink *sink, int timeout_ms);
/* Sends an ack for DMABUF_UPDATE by hand (after no_dmabuf_ack). */
int vdgfe_sink_send_dmabuf_ack(struct vdgfe_sink *sink);
/* Pixel of scanout at (x, y), or 0 with *ok = false if outside / no surface. */
uint32_t vdgfe_sink_pixel(const struct vdgfe_sink *sink, unsigned int scanout, uint32_t x,
	uint32_t y, bool *ok);
/* Generates a valid 128-byte EDID with a w x h preferred mode. */
void vdgfe_edid_generate(uint8_t edid[128], uint32_t width, uint32_t height);

#endif /* VDGFE_DISPLAY_SINK_H */
