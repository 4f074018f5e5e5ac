/* SPDX-License-Identifier: MIT */
/* Helpers of the 3D integration tests; see it3d.h. */
#include "it3d.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const virgl_args[] = {"--gpu-mode", "virglrenderer", NULL};

int group_setup(void **state)
{
	(void)state;
	if (itest_group_setup_args(virgl_args) < 0) {
		fprintf(stderr, "test-3d: the daemon did not start in virglrenderer mode\n");
		return -1;
	}
	return 0;
}

struct vdgfe *fe_virgl(void)
{
	struct vdgfe_config cfg;
	struct vdgfe *fe;

	itest_config(&cfg);
	cfg.want_virgl = true;
	fe = itest_fe_start(&cfg);
	assert_true(vu_has_bit(fe->acked_features, GPU_F_VIRGL));
	return fe;
}

void hdr_init(
        struct virtio_gpu_ctrl_hdr *h, uint32_t type, uint32_t ctx, bool fence, uint64_t fence_id)
{
	memset(h, 0, sizeof(*h));
	h->type = htole32(type);
	h->ctx_id = htole32(ctx);
	if (fence) {
		h->flags = htole32(VIRTIO_GPU_FLAG_FENCE);
		h->fence_id = htole64(fence_id);
	}
}

uint32_t le32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

void assert_poison(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != POISON) {
			fail_msg("byte %zu beyond the response was written (0x%02x)", i, p[i]);
		}
	}
}

int ctx_create_named(struct vdgfe *fe, uint32_t ctx, uint32_t nlen, const char *name)
{
	struct virtio_gpu_ctx_create req;

	memset(&req, 0, sizeof(req));
	hdr_init(&req.hdr, VIRTIO_GPU_CMD_CTX_CREATE, ctx, false, 0);
	req.nlen = htole32(nlen);
	if (name) {
		/* the wire field needs no terminator: up to 64 bytes of the name, zeros after */
		memcpy(req.debug_name, name, strnlen(name, sizeof(req.debug_name)));
	}
	return itest_exec(fe, VDGFE_CTRLQ, &req, sizeof(req));
}

int ctx_create(struct vdgfe *fe, uint32_t ctx)
{
	return ctx_create_named(fe, ctx, 4, "test");
}

int ctx_destroy(struct vdgfe *fe, uint32_t ctx)
{
	struct virtio_gpu_ctx_destroy req;

	hdr_init(&req.hdr, VIRTIO_GPU_CMD_CTX_DESTROY, ctx, false, 0);
	return itest_exec(fe, VDGFE_CTRLQ, &req, sizeof(req));
}

int ctx_resource(struct vdgfe *fe, uint32_t type, uint32_t ctx, uint32_t res)
{
	struct virtio_gpu_ctx_resource req;

	memset(&req, 0, sizeof(req));
	hdr_init(&req.hdr, type, ctx, false, 0);
	req.resource_id = htole32(res);
	return itest_exec(fe, VDGFE_CTRLQ, &req, sizeof(req));
}

void create_3d_req(
        struct virtio_gpu_resource_create_3d *req, uint32_t id, const struct create_3d *c)
{
	memset(req, 0, sizeof(*req));
	hdr_init(&req->hdr, VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, 0, false, 0);
	req->resource_id = htole32(id);
	req->target = htole32(c->target);
	req->format = htole32(c->format);
	req->bind = htole32(c->bind);
	req->width = htole32(c->width);
	req->height = htole32(c->height);
	req->depth = htole32(c->depth);
	req->array_size = htole32(c->array_size);
	req->last_level = htole32(c->last_level);
	req->nr_samples = htole32(c->nr_samples);
	req->flags = htole32(c->flags);
}

int create_3d(struct vdgfe *fe, uint32_t id, const struct create_3d *c)
{
	struct virtio_gpu_resource_create_3d req;

	create_3d_req(&req, id, c);
	return itest_exec(fe, VDGFE_CTRLQ, &req, sizeof(req));
}

int create_tex(struct vdgfe *fe, uint32_t id, uint32_t w, uint32_t h)
{
	const struct create_3d c = {.target = PIPE_TEXTURE_2D,
	        .format = VIRGL_FORMAT_B8G8R8A8_UNORM,
	        .bind = VIRGL_BIND_RENDER_TARGET | VIRGL_BIND_SAMPLER_VIEW,
	        .width = w,
	        .height = h,
	        .depth = 1,
	        .array_size = 1};

	return create_3d(fe, id, &c);
}

uint64_t tex_with_backing(struct vdgfe *fe, uint32_t id, uint32_t w, uint32_t h)
{
	uint64_t gpa = 0, size = (uint64_t)w * h * 4;

	assert_int_equal(create_tex(fe, id, w, h), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(vdgfe_mem_alloc(fe, size, 4096, 0, &gpa), 0);
	assert_int_equal(vdgfe_gpu_attach_backing(fe, id, gpa, size, 0), VIRTIO_GPU_RESP_OK_NODATA);
	return gpa;
}

void transfer_req(struct virtio_gpu_transfer_host_3d *req, uint32_t type, uint32_t ctx,
        uint32_t res, const struct xfer *t, bool fence, uint64_t fence_id)
{
	memset(req, 0, sizeof(*req));
	hdr_init(&req->hdr, type, ctx, fence, fence_id);
	req->box.x = htole32(t->x);
	req->box.y = htole32(t->y);
	req->box.z = htole32(t->z);
	req->box.w = htole32(t->w);
	req->box.h = htole32(t->h);
	req->box.d = htole32(t->d);
	req->offset = htole64(t->offset);
	req->resource_id = htole32(res);
	req->level = htole32(t->level);
	req->stride = htole32(t->stride);
	req->layer_stride = htole32(t->layer_stride);
}

void *submit_req(uint32_t ctx, uint32_t size_field, const uint32_t *words, size_t nwords,
        size_t sent, bool fence, uint64_t fence_id, size_t *ret_len)
{
	struct virtio_gpu_cmd_submit *req = calloc(1, sizeof(*req) + sent);

	assert_non_null(req);
	hdr_init(&req->hdr, VIRTIO_GPU_CMD_SUBMIT_3D, ctx, fence, fence_id);
	req->size = htole32(size_field);
	for (size_t i = 0; i < nwords && (i + 1) * 4 <= sent; i++) {
		uint32_t w = htole32(words[i]);

		memcpy((uint8_t *)(req + 1) + i * 4, &w, 4);
	}
	*ret_len = sizeof(*req) + sent;
	return req;
}

const uint32_t sub_ctx_stream[] = {
        VIRGL_CMD0(VIRGL_CCMD_CREATE_SUB_CTX, 0, 1),
        1,
        VIRGL_CMD0(VIRGL_CCMD_SET_SUB_CTX, 0, 1),
        1,
};

void assert_daemon_answers(struct vdgfe *fe)
{
	struct virtio_gpu_get_capset_info req;
	uint8_t resp[40];

	memset(&req, 0, sizeof(req));
	hdr_init(&req.hdr, VIRTIO_GPU_CMD_GET_CAPSET_INFO, 0, false, 0);
	assert_int_equal(
	        vdgfe_gpu_exec(fe, VDGFE_CTRLQ, &req, sizeof(req), resp, sizeof(resp), NULL),
	        VIRTIO_GPU_RESP_OK_CAPSET_INFO);
	assert_true(itest_daemon_alive(&itest_d));
}

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void fill_pattern(uint8_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++) {
		p[i] = (uint8_t)(i * 7 + (i >> 8) * 13 + seed);
	}
}

void check_frame(struct vdgfe *fe, uint32_t fmt, const uint8_t *img, uint32_t w, uint32_t h,
        uint32_t x0, uint32_t y0, uint32_t fw, uint32_t fh, const uint8_t *old)
{
	unsigned int bad = 0, bad_rows = 0;
	uint32_t fx = 0, fy = 0, fgot = 0, fwant = 0;

	for (uint32_t y = 0; y < h; y++) {
		bool row_bad = false;

		for (uint32_t x = 0; x < w; x++) {
			bool in = x >= x0 && x < x0 + fw && y >= y0 && y < y0 + fh;
			const uint8_t *src = (in || !old ? img : old) + ((size_t)y * w + x) * 4;
			uint32_t want = itest_expected_xrgb(fmt, src);
			bool ok = false;
			uint32_t got = vdgfe_sink_pixel(&fe->sink, 0, x, y, &ok) & 0xffffff;

			assert_true(ok);
			if (got != want) {
				if (bad++ == 0) {
					fx = x;
					fy = y;
					fgot = got;
					fwant = want;
				}
				row_bad = true;
			}
		}
		bad_rows += row_bad;
	}
	if (bad) {
		fail_msg("format %u: %u pixels in %u rows differ; first %u,%u is 0x%06x, want "
		         "0x%06x",
		        fmt, bad, bad_rows, fx, fy, fgot, fwant);
	}
}

int frame_2d(struct vdgfe *fe, uint32_t id, uint32_t fmt)
{
	const uint32_t w = 96, h = 64, size = w * h * 4;
	uint8_t *img, *img2;
	uint64_t gpa = 0, updates;
	int r = vdgfe_gpu_resource_create_2d(fe, id, fmt, w, h);

	if (r != VIRTIO_GPU_RESP_OK_NODATA) {
		return r;
	}
	img = malloc(size);
	img2 = malloc(size);
	assert_int_equal(vdgfe_mem_alloc(fe, size, 4096, 0, &gpa), 0);
	assert_int_equal(vdgfe_gpu_attach_backing(fe, id, gpa, size, 0), VIRTIO_GPU_RESP_OK_NODATA);
	assert_non_null(img);
	assert_non_null(img2);
	fill_pattern(img, size, (uint8_t)fmt);
	assert_int_equal(vdgfe_mem_write(fe, gpa, img, size), 0);
	assert_int_equal(
	        vdgfe_gpu_transfer_to_host_2d(fe, id, 0, 0, w, h, 0), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, id, 0, 0, w, h), VIRTIO_GPU_RESP_OK_NODATA);
	updates = fe->sink.counts[VUGPU_UPDATE];
	assert_int_equal(vdgfe_gpu_resource_flush(fe, id, 0, 0, w, h), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, updates + 1), 0);
	check_frame(fe, fmt, img, w, h, 0, 0, w, h, NULL);

	/* new pixels everywhere in the backing; only a sub-rect is transferred and flushed */
	fill_pattern(img2, size, (uint8_t)(fmt + 77));
	assert_int_equal(vdgfe_mem_write(fe, gpa, img2, size), 0);
	const uint32_t sx = 13, sy = 7, sw = 40, sh = 21;

	assert_int_equal(
	        vdgfe_gpu_transfer_to_host_2d(fe, id, sx, sy, sw, sh, ((uint64_t)sy * w + sx) * 4),
	        VIRTIO_GPU_RESP_OK_NODATA);
	updates = fe->sink.counts[VUGPU_UPDATE];
	assert_int_equal(
	        vdgfe_gpu_resource_flush(fe, id, sx, sy, sw, sh), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, updates + 1), 0);
	assert_int_equal(fe->sink.last_update.x, sx);
	assert_int_equal(fe->sink.last_update.y, sy);
	assert_int_equal(fe->sink.last_update.width, sw);
	assert_int_equal(fe->sink.last_update.height, sh);
	check_frame(fe, fmt, img2, w, h, sx, sy, sw, sh, img);
	assert_int_equal(fe->sink.violations, 0);
	free(img);
	free(img2);
	return VIRTIO_GPU_RESP_OK_NODATA;
}
