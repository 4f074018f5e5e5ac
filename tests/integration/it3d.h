/* SPDX-License-Identifier: MIT */
/*
 * Shared by the 3D integration tests (test-3d.c: commands, capsets,
 * resources, transfers, 2D through virglrenderer; test-3d-fences.c: fences,
 * rings, stops and reconnects): the virglrenderer-mode fixture, raw 3D
 * requests, poisoned responses and a checked 2D frame.
 */
#ifndef VDG_IT3D_H
#define VDG_IT3D_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "itest.h"

#define GPU_F_VIRGL 0

/* gallium / virgl values (virglrenderer 0.10.4 src/virgl_hw.h, virgl_protocol.h) */
#define PIPE_TEXTURE_2D 2
#define VIRGL_FORMAT_B8G8R8A8_UNORM 1
#define VIRGL_BIND_RENDER_TARGET (1u << 1)
#define VIRGL_BIND_SAMPLER_VIEW (1u << 3)
#define VIRGL_CCMD_SET_SUB_CTX 28
#define VIRGL_CCMD_CREATE_SUB_CTX 29
#define VIRGL_CMD0(cmd, obj, len)                                                                  \
	((uint32_t)(cmd) | ((uint32_t)(obj) << 8) | ((uint32_t)(len) << 16))

/* responses are read from guest RAM filled with this first */
#define POISON 0xaa

/* The daemon's arguments for virglrenderer mode. */
extern const char *const virgl_args[];

/* Group fixture: the shared daemon in virglrenderer mode. */
int group_setup(void **state);

/* A started frontend with VIRGL acked. */
struct vdgfe *fe_virgl(void);

void hdr_init(
        struct virtio_gpu_ctrl_hdr *h, uint32_t type, uint32_t ctx, bool fence, uint64_t fence_id);

uint32_t le32_at(const uint8_t *p);

void assert_poison(const uint8_t *p, size_t len);

int ctx_create_named(struct vdgfe *fe, uint32_t ctx, uint32_t nlen, const char *name);

int ctx_create(struct vdgfe *fe, uint32_t ctx);

int ctx_destroy(struct vdgfe *fe, uint32_t ctx);

int ctx_resource(struct vdgfe *fe, uint32_t type, uint32_t ctx, uint32_t res);

struct create_3d {
	uint32_t target, format, bind, width, height, depth, array_size, last_level, nr_samples,
	        flags;
};

void create_3d_req(
        struct virtio_gpu_resource_create_3d *req, uint32_t id, const struct create_3d *c);

int create_3d(struct vdgfe *fe, uint32_t id, const struct create_3d *c);

/* A w x h B8G8R8A8 2D texture. */
int create_tex(struct vdgfe *fe, uint32_t id, uint32_t w, uint32_t h);

/* A texture with a backing of w*h*4 bytes; returns the backing GPA. */
uint64_t tex_with_backing(struct vdgfe *fe, uint32_t id, uint32_t w, uint32_t h);

struct xfer {
	uint32_t x, y, z, w, h, d;
	uint32_t level, stride, layer_stride;
	uint64_t offset;
};

void transfer_req(struct virtio_gpu_transfer_host_3d *req, uint32_t type, uint32_t ctx,
        uint32_t res, const struct xfer *t, bool fence, uint64_t fence_id);

/*
 * A SUBMIT_3D request: header with size = size_field, then sent bytes of
 * stream (dwords copied from words, zero-padded). Caller frees.
 */
void *submit_req(uint32_t ctx, uint32_t size_field, const uint32_t *words, size_t nwords,
        size_t sent, bool fence, uint64_t fence_id, size_t *ret_len);

/* CREATE_SUB_CTX 1 + SET_SUB_CTX 1: the smallest meaningful virgl stream. */
extern const uint32_t sub_ctx_stream[];

/* The daemon still answers a simple command. */
void assert_daemon_answers(struct vdgfe *fe);

double now_s(void);

void fill_pattern(uint8_t *p, size_t len, uint32_t seed);

void check_frame(struct vdgfe *fe, uint32_t fmt, const uint8_t *img, uint32_t w, uint32_t h,
        uint32_t x0, uint32_t y0, uint32_t fw, uint32_t fh, const uint8_t *old);

/*
 * A full frame, then a sub-rect, pixel-exact at the display. Returns the
 * RESOURCE_CREATE_2D answer when it is not OK (nothing else is done then).
 */
int frame_2d(struct vdgfe *fe, uint32_t id, uint32_t fmt);

#endif /* VDG_IT3D_H */
