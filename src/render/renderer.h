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

struct rnd_create_3d {
	uint32_t resource_id;
	uint32_t target, format, bind;
	uint32_t width, height, depth;
	uint32_t array_size, last_level, nr_samples, flags;
};

struct rnd_transfer_3d {
	bool to_host; /* TRANSFER_TO_HOST_3D, else FROM_HOST */
	uint32_t ctx_id;
	uint32_t resource_id;
	uint32_t x, y, z, w, h, d; /* the box */
	uint32_t level, stride, layer_stride;
	uint64_t offset;
};

/* Fence retirement, reported from the event loop (never from another thread). */
struct rnd_fence_events {
	/* every global fence up to seq is done */
	void (*retired)(void *data, uint64_t seq);
	/* the context fence seq of (ctx_id, ring_idx) is done */
	void (*context_retired)(void *data, uint32_t ctx_id, uint32_t ring_idx, uint64_t seq);
	void *data;
};

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

/*
 * A resource's texture exported as a dma-buf, for the frontend to import
 * and show without a copy. The fd is the caller's to close.
 */
struct rnd_dmabuf {
	int fd;
	uint32_t width, height;
	uint32_t stride;
	uint32_t drm_fourcc;
	uint64_t modifier; /* RND_DMABUF_MOD_INVALID: implicit, as the driver chose */
	bool y0_top;       /* rows are stored bottom-up (GL's origin) */
};
#define RND_DMABUF_MOD_INVALID UINT64_C(0x00ffffffffffffff)

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

	/* ---- optional: renderers that keep their own view of the backing (virgl) ---- */
	/*
	 * The backing changed (attached, or guest memory was remapped): take a
	 * new view of it. Pixman reads the backing at each transfer instead.
	 */
	int (*attach_backing)(struct rnd_renderer *r, uint32_t resource_id,
		const struct rnd_backing *backing);
	void (*detach_backing)(struct rnd_renderer *r, uint32_t resource_id);

	/* ---- optional: 3D ---- */
	unsigned int (*num_capsets)(struct rnd_renderer *r);
	/* index < num_capsets; returns 0 or -EINVAL */
	int (*capset_info)(struct rnd_renderer *r, unsigned int index, uint32_t *ret_id,
		uint32_t *ret_max_version, uint32_t *ret_max_size);
	/* Writes exactly size bytes (the capset's max_size) for an enabled capset id. */
	int (*fill_capset)(struct rnd_renderer *r, uint32_t id, uint32_t version, void *buf,
		uint32_t size);
	int (*resource_create_3d)(struct rnd_renderer *r, const struct rnd_create_3d *args);
	int (*transfer_3d)(struct rnd_renderer *r, const struct rnd_transfer_3d *t);
	int (*ctx_create)(struct rnd_renderer *r, uint32_t ctx_id, uint32_t capset_id,
		const char *name, uint32_t name_len);
	void (*ctx_destroy)(struct rnd_renderer *r, uint32_t ctx_id);
	void (*ctx_attach_resource)(struct rnd_renderer *r, uint32_t ctx_id, uint32_t resource_id);
	void (*ctx_detach_resource)(struct rnd_renderer *r, uint32_t ctx_id, uint32_t resource_id);
	/* buf is 8-byte aligned and size a multiple of 4. */
	int (*submit_3d)(struct rnd_renderer *r, uint32_t ctx_id, void *buf, uint32_t size);
	/*
	 * Asks for rnd_fence_events.retired(seq) once all work submitted so far
	 * is done. Renderers without this op finish work synchronously.
	 */
	int (*create_fence)(struct rnd_renderer *r, uint64_t seq);
	/*
	 * Optional: a fence on one ring of one context, retired on its own
	 * timeline (context_retired), so rings do not wait for each other.
	 * An error means "use a global fence instead".
	 */
	int (*create_context_fence)(struct rnd_renderer *r, uint32_t ctx_id, uint32_t ring_idx,
		uint64_t seq);
	void (*set_fence_events)(struct rnd_renderer *r, const struct rnd_fence_events *fences);
	/*
	 * Exports the resource's texture as a dma-buf (optional). -EOPNOTSUPP
	 * where nothing can be exported (no render node, pixman).
	 */
	int (*export_dmabuf)(struct rnd_renderer *r, uint32_t resource_id,
		struct rnd_dmabuf *ret_dmabuf);
	/* Destroys every resource and context (device reset). */
	void (*reset)(struct rnd_renderer *r);
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
int rnd_capset_info(struct rnd_renderer *r, unsigned int index, uint32_t *ret_id,
	uint32_t *ret_max_version, uint32_t *ret_max_size);
int rnd_fill_capset(struct rnd_renderer *r, uint32_t id, uint32_t version, void *buf,
	uint32_t size);
int rnd_attach_backing(struct rnd_renderer *r, uint32_t resource_id,
	const struct rnd_backing *backing);
void rnd_detach_backing(struct rnd_renderer *r, uint32_t resource_id);
int rnd_resource_create_3d(struct rnd_renderer *r, const struct rnd_create_3d *args);
int rnd_transfer_3d(struct rnd_renderer *r, const struct rnd_transfer_3d *t);
int rnd_ctx_create(struct rnd_renderer *r, uint32_t ctx_id, uint32_t capset_id, const char *name,
	uint32_t name_len);
void rnd_ctx_destroy(struct rnd_renderer *r, uint32_t ctx_id);
void rnd_ctx_attach_resource(struct rnd_renderer *r, uint32_t ctx_id, uint32_t resource_id);
void rnd_ctx_detach_resource(struct rnd_renderer *r, uint32_t ctx_id, uint32_t resource_id);
int rnd_submit_3d(struct rnd_renderer *r, uint32_t ctx_id, void *buf, uint32_t size);
/* True if the renderer completes work asynchronously (fences). */
bool rnd_has_fences(struct rnd_renderer *r);
int rnd_create_fence(struct rnd_renderer *r, uint64_t seq);
int rnd_create_context_fence(struct rnd_renderer *r, uint32_t ctx_id, uint32_t ring_idx,
	uint64_t seq);
void rnd_reset(struct rnd_renderer *r);
int rnd_export_dmabuf(struct rnd_renderer *r, uint32_t resource_id, struct rnd_dmabuf *ret_dmabuf);
bool rnd_is_3d(struct rnd_renderer *r);

/* Backends. */
struct rnd_renderer *rnd_pixman_create(void);

struct event_loop;
struct rnd_virgl_config {
	bool use_egl, use_glx, use_gles, use_surfaceless;
	const char *render_node; /* NULL: let virglrenderer choose */
	uint32_t capsets;        /* mask of 1 << capset id the user enabled */
	/*
	 * Try exporting a texture at start-up: `require_dmabuf` fails creation
	 * if that is impossible (--scanout-mode dmabuf); `try_dmabuf` only
	 * decides whether export_dmabuf is offered at all (auto).
	 */
	bool require_dmabuf, try_dmabuf;
};
/*
 * Initialises virglrenderer now, so a broken GL stack fails at start-up.
 * Fence retirement comes through the loop (virglrenderer's poll fd).
 * Returns NULL and a message in err on failure.
 */
struct rnd_renderer *rnd_virgl_create(struct event_loop *loop, const struct rnd_virgl_config *cfg,
	const struct rnd_fence_events *fences, char *err, size_t err_len);
/* The fence events may be set after creation (the device is made after the renderer). */
void rnd_set_fence_events(struct rnd_renderer *r, const struct rnd_fence_events *fences);

#endif /* VDG_RENDERER_H */
