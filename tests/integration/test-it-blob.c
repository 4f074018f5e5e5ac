/* SPDX-License-Identifier: MIT */
/*
 * Guest blob resources and SET_SCANOUT_BLOB against the real daemon in 2d
 * mode (VIRTIO_GPU_F_RESOURCE_BLOB): a framebuffer laid over a blob with a
 * padded stride and an offset reaches the display pixel for pixel, a flush
 * takes the damaged rect from the guest's pages (no TRANSFER), every
 * guest-controlled field is checked at and past its bound, and the host
 * copy counts against the host-memory budget.
 *
 * Usage: test-it-blob path/to/vhost-device-gpu
 */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

#define OK VIRTIO_GPU_RESP_OK_NODATA
#define XRGB VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM
#define GUEST VIRTIO_GPU_BLOB_MEM_GUEST
#define SHAREABLE VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE

static struct vdgfe *fe_blob(void)
{
	struct vdgfe_config cfg;

	itest_config(&cfg);
	cfg.features_set = true;
	cfg.features = VDGFE_DEFAULT_FEATURES | VU_BIT(VDGFE_GPU_F_RESOURCE_BLOB);
	return itest_fe_start(&cfg);
}

/* Guest bytes of pixel (x, y) in generation gen: every channel and position differs. */
static void guest_bytes(uint32_t x, uint32_t y, uint32_t gen, uint8_t b[4])
{
	b[0] = (uint8_t)(x * 3 + y + gen * 11);
	b[1] = (uint8_t)(y * 5 + 17 + gen);
	b[2] = (uint8_t)(x ^ (y << 2) ^ gen);
	b[3] = (uint8_t)(x + y * 7 + 99);
}

/* A framebuffer layout over a blob at gpa. */
struct fb {
	uint64_t gpa;
	uint32_t w, h, stride, offset, format;
};

/* Writes generation gen of rect x,y,w,h of the framebuffer into guest memory. */
static void draw(struct vdgfe *fe, const struct fb *fb, uint32_t x, uint32_t y, uint32_t w,
        uint32_t h, uint32_t gen)
{
	for (uint32_t j = y; j < y + h; j++) {
		for (uint32_t i = x; i < x + w; i++) {
			uint8_t b[4];

			guest_bytes(i, j, gen, b);
			assert_int_equal(vdgfe_mem_write(fe, fb->gpa + fb->offset +
			                                         (uint64_t)j * fb->stride + i * 4,
			                         b, 4),
			        0);
		}
	}
}

/* Scanout 0 shows the framebuffer whole; pixel (x, y) has generation gen_of(x, y). */
static void check_screen(struct vdgfe *fe, const struct fb *fb,
        uint32_t (*gen_of)(uint32_t x, uint32_t y))
{
	const struct vdgfe_fb *s = &fe->sink.fb[0];

	assert_int_equal(s->width, fb->w);
	assert_int_equal(s->height, fb->h);
	for (uint32_t y = 0; y < fb->h; y++) {
		for (uint32_t x = 0; x < fb->w; x++) {
			uint8_t b[4];
			uint32_t got = s->pixels[(size_t)y * fb->w + x] & 0xffffff, want;

			guest_bytes(x, y, gen_of(x, y), b);
			want = itest_expected_xrgb(fb->format, b);
			if (got != want) {
				fail_msg("format %u, pixel %u,%u: 0x%06x, want 0x%06x", fb->format, x,
				        y, got, want);
			}
		}
	}
}

static uint32_t gen_zero(uint32_t x, uint32_t y)
{
	(void)x;
	(void)y;
	return 0;
}

/* Generation 1 in the rect 10,5 20x7 (redrawn and flushed), 0 elsewhere. */
static uint32_t gen_damage(uint32_t x, uint32_t y)
{
	return x >= 10 && x < 30 && y >= 5 && y < 12 ? 1 : 0;
}

static int flush(struct vdgfe *fe, uint32_t id, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	uint64_t n = fe->sink.counts[VUGPU_UPDATE];
	int r = vdgfe_gpu_resource_flush(fe, id, x, y, w, h);

	if (r == OK) {
		assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, n + 1), 0);
	}
	return r;
}

/* Blob id over a fresh guest buffer of size bytes, backing in 4 KiB entries. */
static uint64_t blob(struct vdgfe *fe, uint32_t id, uint64_t size)
{
	uint64_t gpa = 0;

	assert_int_equal(vdgfe_mem_alloc(fe, size, 4096, 0, &gpa), 0);
	assert_int_equal(vdgfe_gpu_resource_create_blob(fe, id, GUEST, SHAREABLE, size, gpa, size,
	                         4096),
	        OK);
	return gpa;
}

/* Blob id holding fb (allocated here, drawn in generation gen), shown whole on scanout 0 and checked. */
static void show_blob(struct vdgfe *fe, uint32_t id, struct fb *fb, uint32_t gen)
{
	fb->gpa = blob(fe, id, fb->offset + (uint64_t)fb->stride * fb->h);
	draw(fe, fb, 0, 0, fb->w, fb->h, gen);
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, id, 0, 0, fb->w, fb->h, fb->w, fb->h,
	                         fb->format, fb->stride, fb->offset),
	        OK);
	assert_int_equal(flush(fe, id, 0, 0, fb->w, fb->h), OK);
}

static void test_feature_offered(void **state)
{
	struct vdgfe *fe;

	(void)state;
	fe = itest_fe_start(NULL);
	assert_true(vu_has_bit(fe->backend_features, VDGFE_GPU_F_RESOURCE_BLOB));
	/* not acked: the commands are refused as unknown */
	assert_int_equal(vdgfe_gpu_resource_create_blob(fe, 1, GUEST, SHAREABLE, 4096, 0, 0, 0),
	        VIRTIO_GPU_RESP_ERR_UNSPEC);
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, 1, 0, 0, 1, 1, 1, 1, XRGB, 4, 0),
	        VIRTIO_GPU_RESP_ERR_UNSPEC);
}

/*
 * A 100x60 framebuffer with 512-byte rows at offset 8192 of its blob, in
 * two formats: the whole of it, then a damaged rect redrawn in guest memory
 * and flushed alone (no TRANSFER: a blob's flush reads the guest's pages).
 */
static void test_scanout_pixels(void **state)
{
	static const uint32_t formats[] = {XRGB, VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM};
	struct vdgfe *fe = fe_blob();

	(void)state;
	for (unsigned int f = 0; f < 2; f++) {
		uint32_t id = 1 + f;
		struct fb fb = {0, 100, 60, 512, 8192, formats[f]};

		show_blob(fe, id, &fb, 0);
		check_screen(fe, &fb, gen_zero);
		/* the guest redraws a rect; a TRANSFER is accepted and changes nothing */
		draw(fe, &fb, 10, 5, 20, 7, 1);
		assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, id, 0, 0, 1, 1, 0), OK);
		check_screen(fe, &fb, gen_zero);
		assert_int_equal(flush(fe, id, 10, 5, 20, 7), OK);
		assert_int_equal(fe->sink.last_update.x, 10);
		assert_int_equal(fe->sink.last_update.y, 5);
		assert_int_equal(fe->sink.last_update.width, 20);
		assert_int_equal(fe->sink.last_update.height, 7);
		check_screen(fe, &fb, gen_damage);
	}
	assert_int_equal(fe->sink.violations, 0);
}

/* A scanout rect inside the framebuffer: UPDATEs are relative to the rect, as for 2D. */
static void test_scanout_sub_rect(void **state)
{
	struct vdgfe *fe = fe_blob();
	struct fb fb = {0, 64, 64, 256, 0, XRGB};
	const struct vdgfe_fb *s = &fe->sink.fb[0];

	(void)state;
	fb.gpa = blob(fe, 1, 256 * 64);
	draw(fe, &fb, 0, 0, 64, 64, 0);
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, 1, 16, 8, 32, 40, 64, 64, XRGB, 256, 0),
	        OK);
	assert_int_equal(flush(fe, 1, 0, 0, 64, 64), OK);
	assert_int_equal(s->width, 32);
	assert_int_equal(s->height, 40);
	for (uint32_t y = 0; y < 40; y++) {
		for (uint32_t x = 0; x < 32; x++) {
			uint8_t b[4];

			guest_bytes(x + 16, y + 8, 0, b);
			assert_int_equal(s->pixels[(size_t)y * 32 + x] & 0xffffff,
			        itest_expected_xrgb(XRGB, b));
		}
	}
}

/* Every field of RESOURCE_CREATE_BLOB at and past its bound. */
static void test_create_errors(void **state)
{
	struct vdgfe *fe = fe_blob();
	uint64_t gpa = 0;

	(void)state;
	assert_int_equal(vdgfe_mem_alloc(fe, 8192, 4096, 0, &gpa), 0);
	/* host blobs need 3D; mappable blobs need a host-visible region */
	assert_int_equal(vdgfe_gpu_resource_create_blob(fe, 1, VIRTIO_GPU_BLOB_MEM_HOST3D,
	                         SHAREABLE, 4096, 0, 0, 0),
	        VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(vdgfe_gpu_resource_create_blob(fe, 1, VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST,
	                         SHAREABLE, 4096, gpa, 4096, 0),
	        VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(vdgfe_gpu_resource_create_blob(fe, 1, 0, SHAREABLE, 4096, gpa, 4096, 0),
	        VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(vdgfe_gpu_resource_create_blob(fe, 1, GUEST,
	                         VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, 4096, gpa, 4096, 0),
	        VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(vdgfe_gpu_resource_create_blob(fe, 1, GUEST, 0x8, 4096, gpa, 4096, 0),
	        VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	/* size: 0, over GPU_MAX_BLOB_SIZE (1 GiB), more than the entries cover */
	assert_int_equal(vdgfe_gpu_resource_create_blob(fe, 1, GUEST, SHAREABLE, 0, gpa, 4096, 0),
	        VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(vdgfe_gpu_resource_create_blob(fe, 1, GUEST, SHAREABLE,
	                         (UINT64_C(1) << 30) + 1, 0, 0, 0),
	        VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(vdgfe_gpu_resource_create_blob(fe, 1, GUEST, SHAREABLE, 8193, gpa, 8192,
	                         4096),
	        VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	/* entries outside guest memory */
	assert_int_equal(vdgfe_gpu_resource_create_blob(fe, 1, GUEST, SHAREABLE, 4096,
	                         vdgfe_mem_boundary(fe) - 2048, 4096, 0),
	        VIRTIO_GPU_RESP_ERR_UNSPEC);
	/* ids: 0, then one in use (a 2D resource or a blob) */
	assert_int_equal(vdgfe_gpu_resource_create_blob(fe, 0, GUEST, SHAREABLE, 4096, gpa, 4096, 0),
	        VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 5, XRGB, 4, 4), OK);
	assert_int_equal(vdgfe_gpu_resource_create_blob(fe, 5, GUEST, SHAREABLE, 4096, gpa, 4096, 0),
	        VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	/* at the bounds: exactly covered, and 1 GiB without entries */
	assert_int_equal(vdgfe_gpu_resource_create_blob(fe, 1, GUEST, SHAREABLE, 8192, gpa, 8192,
	                         4096),
	        OK);
	assert_int_equal(vdgfe_gpu_resource_create_blob(fe, 1, GUEST, SHAREABLE, 4096, gpa, 4096, 0),
	        VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	assert_int_equal(vdgfe_gpu_resource_create_blob(fe, 2, GUEST, 0, UINT64_C(1) << 30, 0, 0,
	                         0),
	        OK);
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 1), OK);
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 2), OK);
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 5), OK);
	assert_true(itest_daemon_alive(&itest_d));
}

/* Every field of SET_SCANOUT_BLOB at and past its bound. */
static void test_scanout_errors(void **state)
{
	const uint32_t E_PARAM = VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	struct vdgfe *fe = fe_blob();
	/* 16x16 with 128-byte rows at offset 64: the last byte is 64 + 128 * 15 + 64 = 2048 */
	const uint64_t size = 2048;

	(void)state;
	blob(fe, 1, size);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 2, XRGB, 16, 16), OK);
	assert_int_equal(vdgfe_gpu_resource_create_blob(fe, 3, GUEST, SHAREABLE, 4096, 0, 0, 0), OK);
	/* the layout that just fits */
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, 1, 0, 0, 16, 16, 16, 16, XRGB, 128, 64),
	        OK);
	/* scanout and resource ids */
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, VIRTIO_GPU_MAX_SCANOUTS, 1, 0, 0, 16, 16,
	                         16, 16, XRGB, 128, 64),
	        VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, 9, 0, 0, 16, 16, 16, 16, XRGB, 128, 64),
	        VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, 2, 0, 0, 16, 16, 16, 16, XRGB, 128, 64),
	        VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	/* a blob through plain SET_SCANOUT */
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 1, 0, 0, 16, 16), E_PARAM);
	/* layout: one byte past the blob by offset, by stride, by height; bad stride/format */
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, 1, 0, 0, 16, 16, 16, 16, XRGB, 128, 65),
	        E_PARAM);
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, 1, 0, 0, 16, 16, 16, 16, XRGB, 132, 64),
	        E_PARAM);
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, 1, 0, 0, 16, 16, 16, 17, XRGB, 128, 0),
	        E_PARAM);
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, 1, 0, 0, 16, 16, 16, 16, XRGB, 60, 0),
	        E_PARAM);
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, 1, 0, 0, 16, 16, 16, 16, XRGB, 66, 0),
	        E_PARAM);
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, 1, 0, 0, 16, 16, 16, 16, 0, 128, 0),
	        E_PARAM);
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, 1, 0, 0, 16, 16, 0, 16, XRGB, 128, 0),
	        E_PARAM);
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, 1, 0, 0, 1, 1, 0x40000001u, 1, XRGB, 4,
	                         0),
	        E_PARAM);
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, 1, 0, 0, 1, 1, 1, 1, XRGB, 0xfffffffcu,
	                         0xffffffffu),
	        E_PARAM);
	/* rect: empty, or one past the framebuffer */
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, 1, 0, 0, 0, 16, 16, 16, XRGB, 128, 0),
	        E_PARAM);
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, 1, 1, 0, 16, 16, 16, 16, XRGB, 128, 0),
	        E_PARAM);
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, 1, 0, 0xffffffffu, 16, 2, 16, 16, XRGB,
	                         128, 0),
	        E_PARAM);
	/* a blob without backing cannot be shown; with backing attached later it can */
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, 3, 0, 0, 4, 4, 4, 4, XRGB, 16, 0),
	        VIRTIO_GPU_RESP_ERR_UNSPEC);
	uint64_t gpa = 0;

	assert_int_equal(vdgfe_mem_alloc(fe, 4096, 4096, 0, &gpa), 0);
	assert_int_equal(vdgfe_gpu_attach_backing(fe, 3, gpa, 2048, 0), OK);
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, 3, 0, 0, 4, 4, 4, 4, XRGB, 16, 0),
	        VIRTIO_GPU_RESP_ERR_UNSPEC); /* backing shorter than the blob */
	assert_int_equal(vdgfe_gpu_detach_backing(fe, 3), OK);
	assert_int_equal(vdgfe_gpu_attach_backing(fe, 3, gpa, 4096, 1024), OK);
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, 3, 0, 0, 4, 4, 4, 4, XRGB, 16, 0), OK);
	assert_int_equal(flush(fe, 3, 0, 0, 4, 4), OK);
	/* flushes: outside the layout; after the backing went away */
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 3, 0, 0, 5, 4), E_PARAM);
	assert_int_equal(vdgfe_gpu_detach_backing(fe, 3), OK);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 3, 0, 0, 4, 4), VIRTIO_GPU_RESP_ERR_UNSPEC);
	/* resource 0 turns the scanout off */
	uint64_t n = fe->sink.counts[VUGPU_SCANOUT];

	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_SCANOUT, n + 1), 0);
	assert_int_equal(fe->sink.fb[0].width, 0);
	/* a blob on no scanout: a flush has nothing to do */
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 1, 0, 0, 1, 1), OK);
	assert_true(itest_daemon_alive(&itest_d));
}

/* A blob on screen is taken off screen by its unref; its host copy is given back. */
static void test_unref_on_screen(void **state)
{
	struct vdgfe *fe = fe_blob();
	struct fb fb = {0, 32, 32, 128, 0, XRGB};
	uint64_t n;

	(void)state;
	show_blob(fe, 1, &fb, 0);
	check_screen(fe, &fb, gen_zero);
	n = fe->sink.counts[VUGPU_SCANOUT];
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 1), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_SCANOUT, n + 1), 0);
	assert_int_equal(fe->sink.fb[0].width, 0);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 1, 0, 0, 1, 1),
	        VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	/* the same id again, with another layout */
	fb = (struct fb){0, 20, 10, 80, 40, VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM};
	show_blob(fe, 1, &fb, 0);
	check_screen(fe, &fb, gen_zero);
}

/* A cursor from a blob: only once SET_SCANOUT_BLOB gave it a 64x64 layout; pixels from the guest. */
static void test_cursor_from_blob(void **state)
{
	struct vdgfe *fe = fe_blob();
	struct fb fb = {0, 64, 64, 256, 0, VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM};
	uint64_t n;

	(void)state;
	fb.gpa = blob(fe, 1, 256 * 64);
	draw(fe, &fb, 0, 0, 64, 64, 3);
	assert_int_equal(vdgfe_gpu_update_cursor(fe, 0, 10, 20, 1, 0, 0),
	        VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, 1, 0, 0, 64, 64, 64, 64, fb.format, 256,
	                         0),
	        OK);
	n = fe->sink.counts[VUGPU_CURSOR_UPDATE];
	assert_int_equal(vdgfe_gpu_update_cursor(fe, 0, 10, 20, 1, 3, 4), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_CURSOR_UPDATE, n + 1), 0);
	for (uint32_t y = 0; y < 64; y++) {
		for (uint32_t x = 0; x < 64; x++) {
			uint8_t b[4];

			guest_bytes(x, y, 3, b);
			assert_int_equal(fe->sink.cursor.image[y * 64 + x],
			        itest_expected_argb(fb.format, b));
		}
	}
}

/*
 * The host copy of a blob's framebuffer counts against GPU_MAX_HOST_MEMORY
 * (1 GiB). A 1 GiB blob whose 16384 entries of 64 KiB all alias one guest
 * buffer: a 16384x16000 layout fits, 16384x16384 (1 GiB plus the entry
 * table) does not, nor a second layout next to the first.
 */
static void test_host_memory_limit(void **state)
{
	const uint32_t n = 16384, entry = 64 * 1024;
	struct vdgfe *fe = fe_blob();
	struct virtio_gpu_resource_create_blob *req;
	struct virtio_gpu_mem_entry *ents;
	size_t len = sizeof(*req) + (size_t)n * sizeof(*ents);
	uint64_t gpa = 0;

	(void)state;
	assert_int_equal(vdgfe_mem_alloc(fe, entry, 4096, 0, &gpa), 0);
	req = calloc(1, len);
	assert_non_null(req);
	ents = (struct virtio_gpu_mem_entry *)(req + 1);
	for (uint32_t i = 0; i < n; i++) {
		ents[i].addr = htole64(gpa);
		ents[i].length = htole32(entry);
	}
	for (uint32_t id = 1; id <= 2; id++) {
		vdgfe_gpu_hdr(fe, &req->hdr, VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB);
		req->resource_id = htole32(id);
		req->blob_mem = htole32(GUEST);
		req->nr_entries = htole32(n);
		req->size = htole64((uint64_t)n * entry);
		assert_int_equal(itest_exec(fe, VDGFE_CTRLQ, req, len), OK);
	}
	free(req);
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, 1, 0, 0, 64, 64, 16384, 16384, XRGB,
	                         16384 * 4, 0),
	        VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 0, 1, 0, 0, 64, 64, 16384, 16000, XRGB,
	                         16384 * 4, 0),
	        OK);
	assert_int_equal(flush(fe, 1, 0, 0, 64, 64), OK);
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 1, 2, 0, 0, 64, 64, 16384, 16000, XRGB,
	                         16384 * 4, 0),
	        VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	/* the first blob's copy given back: the second fits */
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 1), OK);
	assert_int_equal(vdgfe_gpu_set_scanout_blob(fe, 1, 2, 0, 0, 64, 64, 16384, 16000, XRGB,
	                         16384 * 4, 0),
	        OK);
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 2), OK);
	assert_true(itest_daemon_alive(&itest_d));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_feature_offered, itest_teardown),
	        cmocka_unit_test_teardown(test_scanout_pixels, itest_teardown),
	        cmocka_unit_test_teardown(test_scanout_sub_rect, itest_teardown),
	        cmocka_unit_test_teardown(test_create_errors, itest_teardown),
	        cmocka_unit_test_teardown(test_scanout_errors, itest_teardown),
	        cmocka_unit_test_teardown(test_unref_on_screen, itest_teardown),
	        cmocka_unit_test_teardown(test_cursor_from_blob, itest_teardown),
	        cmocka_unit_test_teardown(test_host_memory_limit, itest_teardown),
	};

	itest_init(argc, argv);
	return itest_exit(cmocka_run_group_tests(tests, itest_group_setup, itest_group_teardown));
}
