/* SPDX-License-Identifier: MIT */
/*
 * The renderer interface. Every backend (pixman 2D, virglrenderer 3D) fills
 * one const struct rnd_ops and embeds struct rnd_renderer first in its own
 * struct. The device layer only ever calls through rnd_*() below, which
 * answer -EOPNOTSUPP for optional ops a backend leaves NULL.
 *
 * Parameters arrive already validated by the device layer (ids exist, rects
 * are inside the resource, formats are known); backends still bound every
 * guest-memory access through struct rnd_backing.
 */
#ifndef VDG_RENDERER_H
#define VDG_RENDERER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vu-mem.h"

struct rnd_renderer;

struct rnd_rect {
	uint32_t x, y, width, height;
};

/* A resource's guest backing: entries of guest memory seen as one linear buffer. */
struct rnd_backing_entry {
	uint64_t gpa;
	uint64_t len;
	uint64_t offset; /* where this entry starts in the linear buffer */
};

struct rnd_backing {
	const struct vu_mem *mem;
	const struct rnd_backing_entry *entries;
	unsigned int n;
	uint64_t size; /* sum of entry lengths */
};

/*
 * Copies len bytes at linear offset of the backing into dst, translating
 * guest addresses now. Returns 0, or -EFAULT if the range is beyond the
 * backing or not in guest memory.
 */
int rnd_backing_read(const struct rnd_backing *b, uint64_t offset, void *dst, size_t len);
int rnd_backing_write(const struct rnd_backing *b, uint64_t offset, const void *src, size_t len);

struct rnd_create_2d {
	uint32_t resource_id;
	uint32_t format; /* virtio-gpu format, known to be valid */
	uint32_t width;
	uint32_t height;
	uint32_t stride; /* from gpu_format_size(): the one stride used everywhere */
};

/*
 * A view of pixels the display layer can send: x8r8g8b8 (bytes B,G,R,X),
 * `stride` bytes per row. Valid until the next renderer call.
 */
struct rnd_pixels {
	const uint8_t *data;
	uint32_t stride;
	/* points into the resource itself (valid while it is unchanged), not scratch */
	bool stable;
};

struct rnd_ops {
	const char *name;
	void (*destroy)(struct rnd_renderer *r);

	int (*resource_create_2d)(struct rnd_renderer *r, const struct rnd_create_2d *args);
	void (*resource_destroy)(struct rnd_renderer *r, uint32_t resource_id);
	/*
	 * Copies rect from the backing into the host copy. Row i of the rect
	 * starts at backing offset `offset + i * stride`.
	 */
	int (*transfer_to_host_2d)(struct rnd_renderer *r, uint32_t resource_id,
		const struct rnd_rect *rect, uint64_t offset, const struct rnd_backing *backing);
	/*
	 * Gives the resource's pixels of rect as x8r8g8b8 (converting into
	 * scratch memory of the renderer if the format differs).
	 */
	int (*read_pixels)(struct rnd_renderer *r, uint32_t resource_id,
		const struct rnd_rect *rect, struct rnd_pixels *ret_pixels);
	/* 64x64 a8r8g8b8 cursor image of a resource (optional). */
	int (*cursor_image)(struct rnd_renderer *r, uint32_t resource_id, uint32_t *ret_argb,
		uint32_t width, uint32_t height);
	/* Capsets (optional, 3D). */
	unsigned int (*num_capsets)(struct rnd_renderer *r);
};

struct rnd_renderer {
	const struct rnd_ops *ops;
};

/* Checks the mandatory ops and sets r->ops. */
void rnd_init(struct rnd_renderer *r, const struct rnd_ops *ops);

void rnd_destroy(struct rnd_renderer *r);
int rnd_resource_create_2d(struct rnd_renderer *r, const struct rnd_create_2d *args);
void rnd_resource_destroy(struct rnd_renderer *r, uint32_t resource_id);
int rnd_transfer_to_host_2d(struct rnd_renderer *r, uint32_t resource_id,
	const struct rnd_rect *rect, uint64_t offset, const struct rnd_backing *backing);
int rnd_read_pixels(struct rnd_renderer *r, uint32_t resource_id, const struct rnd_rect *rect,
	struct rnd_pixels *ret_pixels);
int rnd_cursor_image(struct rnd_renderer *r, uint32_t resource_id, uint32_t *ret_argb,
	uint32_t width, uint32_t height);
unsigned int rnd_num_capsets(struct rnd_renderer *r);

/* Backends. */
struct rnd_renderer *rnd_pixman_create(void);

#endif /* VDG_RENDERER_H */
