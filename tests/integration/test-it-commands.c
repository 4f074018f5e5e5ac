/* SPDX-License-Identifier: MIT */
/*
 * Every 2D command against the real daemon, valid and invalid, with the
 * exact response each must get (virtio-gpu.md §5-6 and the daemon's
 * command table): resources, backing, transfers, scanouts, flushes,
 * display info and EDID, UUIDs, the queue/type/size checks of the decoder.
 * Cursor commands and fences are in test-it-cursor.c.
 *
 * Usage: test-it-commands path/to/vhost-device-gpu
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

#define OK VIRTIO_GPU_RESP_OK_NODATA
#define E_UNSPEC VIRTIO_GPU_RESP_ERR_UNSPEC
#define E_OOM VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY
#define E_SCANOUT VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID
#define E_RES VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID
#define E_PARAM VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER
#define XRGB VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM

/* A pattern that tells every pixel apart (x8r8g8b8 value, X = 0). */
static uint32_t pat(uint32_t x, uint32_t y)
{
	return ((x * 7 + 3) & 0xff) << 16 | ((y * 13 + 5) & 0xff) << 8 | ((x ^ y) & 0xff);
}

/* Writes pat() into a w x h XRGB image at gpa (stride w * 4). */
static void fill_pat(struct vdgfe *fe, uint64_t gpa, uint32_t w, uint32_t h)
{
	uint32_t *row = malloc((size_t)w * 4);

	assert_non_null(row);
	for (uint32_t y = 0; y < h; y++) {
		for (uint32_t x = 0; x < w; x++) {
			row[x] = htole32(pat(x, y));
		}
		assert_int_equal(
		        vdgfe_mem_write(fe, gpa + (uint64_t)y * w * 4, row, (size_t)w * 4), 0);
	}
	free(row);
}

static uint32_t sink_px(struct vdgfe *fe, unsigned int scanout, uint32_t x, uint32_t y)
{
	bool ok;
	uint32_t v = vdgfe_sink_pixel(&fe->sink, scanout, x, y, &ok);

	if (!ok) {
		fail_msg("no sink pixel at %u,%u of scanout %u", x, y, scanout);
	}
	return v & 0xffffff;
}

/* ---- display info and EDID ---- */

static void test_display_info(void **state)
{
	struct virtio_gpu_resp_display_info info;
	struct vdgfe_config cfg;
	struct vdgfe *fe;
	uint32_t len = 0;

	(void)state;
	itest_config(&cfg);
	cfg.sink.outputs = 2;
	cfg.sink.width = 1024;
	cfg.sink.height = 768;
	fe = itest_fe_start(&cfg);
	assert_int_equal(vdgfe_gpu_get_display_info(fe, &info), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	assert_int_equal(fe->sink.counts[VUGPU_GET_DISPLAY_INFO], 1);
	for (unsigned int i = 0; i < 16; i++) {
		assert_int_equal(le32toh(info.pmodes[i].enabled), i < 2);
		assert_int_equal(le32toh(info.pmodes[i].r.width), i < 2 ? 1024 : 0);
		assert_int_equal(le32toh(info.pmodes[i].r.height), i < 2 ? 768 : 0);
	}
	/* the outputs change; without a config access the daemon answers from its cache */
	fe->sink.cfg.outputs = 3;
	fe->sink.cfg.width = 800;
	fe->sink.cfg.height = 600;
	assert_int_equal(vdgfe_gpu_get_display_info(fe, &info), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	assert_int_equal(le32toh(info.pmodes[0].r.width), 1024);
	assert_int_equal(fe->sink.counts[VUGPU_GET_DISPLAY_INFO], 1);
	/* the guest reads the config space after a display event: the daemon asks again */
	uint8_t config[16];

	assert_int_equal(vdgfe_get_config(fe, 0, config, sizeof(config)), 0);
	assert_int_equal(vdgfe_gpu_get_display_info(fe, &info), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	assert_int_equal(fe->sink.counts[VUGPU_GET_DISPLAY_INFO], 2);
	for (unsigned int i = 0; i < 16; i++) {
		assert_int_equal(le32toh(info.pmodes[i].enabled), i < 3);
		assert_int_equal(le32toh(info.pmodes[i].r.width), i < 3 ? 800 : 0);
		assert_int_equal(le32toh(info.pmodes[i].r.height), i < 3 ? 600 : 0);
	}
	/* a response buffer of only a header gets the header, and the right type */
	struct virtio_gpu_ctrl_hdr req, hdr;

	vdgfe_gpu_hdr(fe, &req, VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
	assert_int_equal(
	        vdgfe_gpu_exec(fe, VDGFE_CTRLQ, &req, sizeof(req), &hdr, sizeof(hdr), &len),
	        VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	assert_int_equal(len, sizeof(hdr));
	assert_int_equal(fe->sink.violations, 0);
}

static bool edid_valid(const uint8_t *e)
{
	static const uint8_t magic[8] = {0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0};
	uint8_t sum = 0;

	for (unsigned int i = 0; i < 128; i++) {
		sum = (uint8_t)(sum + e[i]);
	}
	return memcmp(e, magic, 8) == 0 && sum == 0;
}

/* Preferred mode of an EDID's first detailed timing descriptor. */
static void edid_mode(const uint8_t *e, uint32_t *w, uint32_t *h)
{
	const uint8_t *d = e + 54;

	*w = d[2] | (uint32_t)(d[4] >> 4) << 8;
	*h = d[5] | (uint32_t)(d[7] >> 4) << 8;
}

static void edid_case(uint64_t sink_protocol)
{
	struct virtio_gpu_resp_display_info info;
	struct virtio_gpu_resp_edid edid;
	struct vdgfe_config cfg;
	struct vdgfe *fe;
	uint8_t want[128];
	uint32_t w, h;
	bool forwards = sink_protocol & 1;

	print_message("sink protocol features 0x%llx\n", (unsigned long long)sink_protocol);
	itest_config(&cfg);
	cfg.sink.protocol_features = sink_protocol;
	cfg.sink.width = 1600;
	cfg.sink.height = 900;
	fe = itest_fe_start(&cfg);
	/* a guest asks for the display info first */
	assert_int_equal(vdgfe_gpu_get_display_info(fe, &info), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	memset(&edid, 0xaa, sizeof(edid));
	assert_int_equal(vdgfe_gpu_get_edid(fe, 0, &edid), VIRTIO_GPU_RESP_OK_EDID);
	assert_int_equal(le32toh(edid.size), 128);
	assert_true(edid_valid(edid.edid));
	edid_mode(edid.edid, &w, &h);
	assert_int_equal(w, 1600);
	assert_int_equal(h, 900);
	assert_int_equal(fe->sink.counts[VUGPU_GET_EDID], forwards ? 1 : 0);
	if (forwards) {
		/* the frontend's EDID, byte for byte */
		vdgfe_edid_generate(want, 1600, 900);
		assert_memory_equal(edid.edid, want, 128);
	}
	/* an output the frontend did not report: the daemon answers itself */
	assert_int_equal(vdgfe_gpu_get_edid(fe, 1, &edid), VIRTIO_GPU_RESP_OK_EDID);
	assert_true(edid_valid(edid.edid));
	assert_int_equal(fe->sink.counts[VUGPU_GET_EDID], forwards ? 1 : 0);
	assert_int_equal(fe->sink.edid_requests_dropped, 0);
	/* scanout ids past VIRTIO_GPU_MAX_SCANOUTS */
	assert_int_equal(vdgfe_gpu_get_edid(fe, 16, &edid), E_PARAM);
	assert_int_equal(vdgfe_gpu_get_edid(fe, 0xffffffffu, &edid), E_PARAM);
	/* the protocol was negotiated: SET_PROTOCOL_FEATURES with what both have */
	itest_drain_display(fe);
	assert_true(fe->sink.set_protocol_seen);
	assert_int_equal(fe->sink.set_protocol_features, sink_protocol & 3); /* EDID, DMABUF2 */
	assert_int_equal(fe->sink.counts[VUGPU_REQUEST_MAX], 0);
	assert_int_equal(fe->sink.violations, 0);
	itest_fe_destroy();
}

static void test_get_edid(void **state)
{
	(void)state;
	edid_case(0x3);
	edid_case(0x1);
	edid_case(0x0); /* QEMU 7.2: GET_EDID must never reach it */
}

static void test_edid_needs_feature(void **state)
{
	struct virtio_gpu_resp_edid edid;
	struct vdgfe_config cfg;
	struct vdgfe *fe;

	(void)state;
	itest_config(&cfg);
	cfg.features_set = true;
	cfg.features = VDGFE_DEFAULT_FEATURES & ~VU_BIT(VDGFE_GPU_F_EDID);
	fe = itest_fe_start(&cfg);
	assert_int_equal(vdgfe_gpu_get_edid(fe, 0, &edid), E_UNSPEC);
}

/* ---- resources ---- */

static void test_create_2d(void **state)
{
	static const uint32_t formats[] = ITEST_ALL_FORMATS;
	static const uint32_t bad_formats[] = {0, 5, 66, 69, 120, 122, 133, 135, 0xffffffffu};
	struct vdgfe *fe = itest_fe_start(NULL);

	(void)state;
	for (unsigned int i = 0; i < 8; i++) {
		assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 1 + i, formats[i], 16, 16), OK);
	}
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 0, XRGB, 16, 16), E_RES);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 3, XRGB, 16, 16), E_RES);
	for (unsigned int i = 0; i < sizeof(bad_formats) / sizeof(bad_formats[0]); i++) {
		assert_int_equal(
		        vdgfe_gpu_resource_create_2d(fe, 100, bad_formats[i], 16, 16), E_PARAM);
	}
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 100, XRGB, 0, 16), E_PARAM);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 100, XRGB, 16, 0), E_PARAM);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 100, XRGB, 16385, 1), E_PARAM);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 100, XRGB, 1, 16385), E_PARAM);
	/* ZDI-CAN-27578: a width whose 32-bit stride wraps to 4 bytes */
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 100, XRGB, 0x40000001u, 1), E_PARAM);
	assert_int_equal(
	        vdgfe_gpu_resource_create_2d(fe, 100, XRGB, 0x40000001u, 0x40000001u), E_PARAM);
	/* the limits themselves are fine */
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 100, XRGB, 16384, 1), OK);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 101, XRGB, 1, 16384), OK);
	/* 1 GiB (GPU_MAX_HOST_MEMORY) on top of what exists is too much */
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 102, XRGB, 16384, 16384), E_OOM);
	/* fill the budget with 64 MiB images: 15 fit next to the small ones, the 16th does not */
	for (uint32_t i = 0; i < 15; i++) {
		assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 200 + i, XRGB, 4096, 4096), OK);
	}
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 215, XRGB, 4096, 4096), E_OOM);
	/* a failed create leaves the id free and the budget unchanged */
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 215), E_RES);
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 200), OK);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 215, XRGB, 4096, 4096), OK);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 216, XRGB, 4096, 4096), E_OOM);
}

static void test_unref(void **state)
{
	struct vdgfe *fe = itest_fe_start(NULL);

	(void)state;
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 0), E_RES);
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 42), E_RES);
	itest_resource(fe, 42, XRGB, 32, 32);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 42, 0, 0, 32, 32), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_SCANOUT, 1), 0);
	assert_int_equal(fe->sink.fb[0].width, 32);
	/* unref of the resource on screen: the scanout goes off first */
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 42), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_SCANOUT, 2), 0);
	assert_true(fe->sink.fb[0].ever_scanout);
	assert_int_equal(fe->sink.fb[0].width, 0);
	assert_int_equal(fe->sink.fb[0].height, 0);
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 42), E_RES);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 42, 0, 0, 1, 1), E_RES);
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, 42, 0, 0, 1, 1, 0), E_RES);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 42, 0, 0, 1, 1), E_RES);
	/* the id is free again */
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 42, XRGB, 8, 8), OK);
	/* nothing more reached the screen */
	itest_drain_display(fe);
	assert_int_equal(fe->sink.counts[VUGPU_SCANOUT], 2);
	assert_int_equal(fe->sink.counts[VUGPU_UPDATE], 0);
	assert_int_equal(fe->sink.violations, 0);
}

static void test_set_scanout(void **state)
{
	struct vdgfe *fe = itest_fe_start(NULL);

	(void)state;
	itest_resource(fe, 7, XRGB, 64, 32);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 16, 7, 0, 0, 64, 32), E_SCANOUT);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0xffffffffu, 7, 0, 0, 64, 32), E_SCANOUT);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 16, 0, 0, 0, 0, 0), E_SCANOUT);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 99, 0, 0, 64, 32), E_RES);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 7, 1, 0, 64, 32), E_PARAM);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 7, 0, 1, 64, 32), E_PARAM);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 7, 0, 0, 65, 32), E_PARAM);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 7, 0, 0, 0, 32), E_PARAM);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 7, 0, 0, 64, 0), E_PARAM);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 7, 0xffffffffu, 0, 2, 32), E_PARAM);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 7, 0, 0xffffffe0u, 64, 0x40), E_PARAM);
	itest_drain_display(fe);
	assert_int_equal(fe->sink.counts[VUGPU_SCANOUT], 0);
	/* a sub-rect of the resource: the surface has the rect's size */
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 7, 8, 4, 40, 20), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_SCANOUT, 1), 0);
	assert_int_equal(fe->sink.fb[0].width, 40);
	assert_int_equal(fe->sink.fb[0].height, 20);
	/* resource 0 disables: SCANOUT {0, 0, 0} */
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 0, 0, 0, 0, 0), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_SCANOUT, 2), 0);
	assert_int_equal(fe->sink.fb[0].width, 0);
	/* flushing the resource now reaches no scanout */
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 7, 0, 0, 64, 32), OK);
	itest_drain_display(fe);
	assert_int_equal(fe->sink.counts[VUGPU_UPDATE], 0);
	assert_int_equal(fe->sink.violations, 0);
}

static void test_flush(void **state)
{
	struct vdgfe *fe = itest_fe_start(NULL);
	const uint32_t w = 100, h = 80;
	uint64_t gpa;

	(void)state;
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 5, 0, 0, 1, 1), E_RES);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 0, 0, 0, 1, 1), E_RES);
	gpa = itest_resource(fe, 5, XRGB, w, h);
	fill_pat(fe, gpa, w, h);
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, 5, 0, 0, w, h, 0), OK);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 5, 0, 0, w + 1, h), E_PARAM);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 5, 1, 0, w, h), E_PARAM);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 5, 0, 80, 1, 1), E_PARAM);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 5, 0xffffffffu, 0, 2, 1), E_PARAM);
	/* not on a scanout: OK, nothing sent */
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 5, 0, 0, w, h), OK);
	/* scanout 0 shows the sub-rect (10, 20) 50x40 of the resource */
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 5, 10, 20, 50, 40), OK);
	itest_drain_display(fe);
	assert_int_equal(fe->sink.counts[VUGPU_UPDATE], 0);
	/* damage (0, 0) 30x30 meets the scanout in (10, 20)-(30, 30): 20x10 at scanout (0, 0) */
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 5, 0, 0, 30, 30), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, 1), 0);
	assert_int_equal(fe->sink.last_update.scanout_id, 0);
	assert_int_equal(fe->sink.last_update.x, 0);
	assert_int_equal(fe->sink.last_update.y, 0);
	assert_int_equal(fe->sink.last_update.width, 20);
	assert_int_equal(fe->sink.last_update.height, 10);
	assert_int_equal(fe->sink.update_bytes, 20 * 10 * 4);
	for (uint32_t y = 0; y < 40; y++) {
		for (uint32_t x = 0; x < 50; x++) {
			uint32_t want = x < 20 && y < 10 ? pat(x + 10, y + 20) : 0;

			assert_int_equal(sink_px(fe, 0, x, y), want);
		}
	}
	/* damage inside: (40, 50) 5x6 is scanout (30, 30) */
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 5, 40, 50, 5, 6), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, 2), 0);
	assert_int_equal(fe->sink.last_update.x, 30);
	assert_int_equal(fe->sink.last_update.y, 30);
	assert_int_equal(fe->sink.last_update.width, 5);
	assert_int_equal(fe->sink.last_update.height, 6);
	assert_int_equal(sink_px(fe, 0, 30, 30), pat(40, 50));
	assert_int_equal(sink_px(fe, 0, 34, 35), pat(44, 55));
	/* damage outside the scanout rect: OK, no UPDATE */
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 5, 70, 0, 30, 80), OK);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 5, 0, 60, 100, 20), OK);
	/* damage covering everything: exactly the scanout rect */
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 5, 0, 0, w, h), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, 3), 0);
	assert_int_equal(fe->sink.last_update.x, 0);
	assert_int_equal(fe->sink.last_update.y, 0);
	assert_int_equal(fe->sink.last_update.width, 50);
	assert_int_equal(fe->sink.last_update.height, 40);
	for (uint32_t y = 0; y < 40; y++) {
		for (uint32_t x = 0; x < 50; x++) {
			assert_int_equal(sink_px(fe, 0, x, y), pat(x + 10, y + 20));
		}
	}
	/* zero-size damage: OK, nothing */
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 5, 20, 30, 0, 0), OK);
	itest_drain_display(fe);
	assert_int_equal(fe->sink.counts[VUGPU_UPDATE], 3);
	assert_int_equal(fe->sink.violations, 0);
}

/* ---- transfers and backing ---- */

static void test_transfer(void **state)
{
	struct vdgfe *fe = itest_fe_start(NULL);
	const uint32_t w = 32, h = 16, stride = w * 4, size = stride * h;
	uint64_t gpa;

	(void)state;
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, 9, 0, 0, 1, 1, 0), E_RES);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 9, XRGB, w, h), OK);
	/* no backing */
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, 9, 0, 0, w, h, 0), E_UNSPEC);
	assert_int_equal(vdgfe_mem_alloc(fe, size, 4096, 0, &gpa), 0);
	fill_pat(fe, gpa, w, h);
	assert_int_equal(vdgfe_gpu_attach_backing(fe, 9, gpa, size, 0), OK);
	/* rects outside the resource */
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, 9, 0, 0, w + 1, h, 0), E_PARAM);
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, 9, 0, 1, w, h, 0), E_PARAM);
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, 9, 0xfffffff0u, 0, 0x20, 1, 0), E_PARAM);
	/* the whole image one pixel late: the last row ends past the backing */
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, 9, 0, 0, w, h, 4), E_PARAM);
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, 9, 0, 0, w, h, UINT64_MAX - 8), E_PARAM);
	/* a rect (8, 4) 10x6: its last row ends exactly at the end of the backing */
	uint64_t last = size - (uint64_t)stride * 5 - 10 * 4;

	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, 9, 8, 4, 10, 6, last + 1), E_PARAM);
	/* nothing was copied so far: show the resource and check it is black */
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 9, 0, 0, w, h), OK);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 9, 0, 0, w, h), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, 1), 0);
	for (uint32_t y = 0; y < h; y++) {
		for (uint32_t x = 0; x < w; x++) {
			assert_int_equal(sink_px(fe, 0, x, y), 0);
		}
	}
	/* partial width with the offset of its first pixel (what Linux sends) */
	assert_int_equal(
	        vdgfe_gpu_transfer_to_host_2d(fe, 9, 8, 4, 10, 6, 4ull * stride + 8 * 4), OK);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 9, 0, 0, w, h), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, 2), 0);
	for (uint32_t y = 0; y < h; y++) {
		for (uint32_t x = 0; x < w; x++) {
			bool in = x >= 8 && x < 18 && y >= 4 && y < 10;

			assert_int_equal(sink_px(fe, 0, x, y), in ? pat(x, y) : 0);
		}
	}
	/* the same rect from the very end of the backing: rows start at last + i * stride */
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, 9, 8, 4, 10, 6, last), OK);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 9, 8, 4, 10, 6), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, 3), 0);
	uint32_t lx = (uint32_t)(last % stride) / 4, ly = (uint32_t)(last / stride);

	for (uint32_t y = 0; y < 6; y++) {
		for (uint32_t x = 0; x < 10; x++) {
			assert_int_equal(sink_px(fe, 0, 8 + x, 4 + y), pat(lx + x, ly + y));
		}
	}
	/* whole image, offset 0 */
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, 9, 0, 0, w, h, 0), OK);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 9, 0, 0, w, h), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, 4), 0);
	for (uint32_t y = 0; y < h; y++) {
		for (uint32_t x = 0; x < w; x++) {
			assert_int_equal(sink_px(fe, 0, x, y), pat(x, y));
		}
	}
	/* zero-size rect: nothing to do */
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, 9, 3, 3, 0, 0, 0), OK);
	assert_int_equal(fe->sink.violations, 0);
}

/* ATTACH_BACKING with n announced entries of which 'sent' are in the request. */
static int attach_raw(struct vdgfe *fe, uint32_t id, uint32_t n, uint32_t sent,
        const struct virtio_gpu_mem_entry *ents)
{
	size_t len = sizeof(struct virtio_gpu_resource_attach_backing) + (size_t)sent * 16;
	struct virtio_gpu_resource_attach_backing *req = calloc(1, len);
	int r;

	assert_non_null(req);
	vdgfe_gpu_hdr(fe, &req->hdr, VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING);
	req->resource_id = htole32(id);
	req->nr_entries = htole32(n);
	if (sent) {
		memcpy(req + 1, ents, (size_t)sent * 16);
	}
	r = itest_exec(fe, VDGFE_CTRLQ, req, len);
	free(req);
	return r;
}

static void show_and_check(struct vdgfe *fe, uint32_t id, uint32_t w, uint32_t h, uint64_t n)
{
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, id, 0, 0, w, h, 0), OK);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, id, 0, 0, w, h), OK);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, id, 0, 0, w, h), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, n), 0);
	for (uint32_t y = 0; y < h; y++) {
		for (uint32_t x = 0; x < w; x++) {
			assert_int_equal(sink_px(fe, 0, x, y), pat(x, y));
		}
	}
}

static void test_attach_backing(void **state)
{
	struct vdgfe *fe = itest_fe_start(NULL);
	struct virtio_gpu_mem_entry *ents = calloc(16385, sizeof(*ents));
	uint64_t gpa, mem = fe->cfg.mem_size;

	(void)state;
	assert_non_null(ents);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 3, XRGB, 128, 128), OK);
	assert_int_equal(vdgfe_mem_alloc(fe, 65536, 4096, VDGFE_MEM_CONTIG, &gpa), 0);
	fill_pat(fe, gpa, 128, 128);
	for (uint32_t i = 0; i < 16385; i++) {
		ents[i].addr = htole64(gpa + (i % 16384) * 4ull);
		ents[i].length = htole32(4);
	}
	assert_int_equal(attach_raw(fe, 3, 0, 0, ents), E_UNSPEC);
	/* one past GPU_MAX_BACKING_ENTRIES, all of them sent; and the largest count, not sent */
	assert_int_equal(attach_raw(fe, 3, 16385, 16385, ents), E_UNSPEC);
	assert_int_equal(attach_raw(fe, 3, 0xffffffffu, 1, ents), E_UNSPEC);
	/* entries announced but not all sent */
	assert_int_equal(attach_raw(fe, 3, 4, 2, ents), E_UNSPEC);
	assert_int_equal(attach_raw(fe, 3, 1, 0, ents), E_UNSPEC);
	assert_int_equal(attach_raw(fe, 77, 1, 1, ents), E_RES);
	assert_int_equal(attach_raw(fe, 0, 1, 1, ents), E_RES);
	/* entries outside guest RAM, whole or in part, or wrapping */
	struct virtio_gpu_mem_entry bad[3] = {
	        {.addr = htole64(gpa), .length = htole32(4096)},
	        {.addr = htole64(mem + 4096), .length = htole32(4096)},
	};

	assert_int_equal(attach_raw(fe, 3, 2, 2, bad), E_UNSPEC);
	bad[1].addr = htole64(mem - 8);
	bad[1].length = htole32(16);
	assert_int_equal(attach_raw(fe, 3, 2, 2, bad), E_UNSPEC);
	bad[1].addr = htole64(UINT64_MAX - 7);
	assert_int_equal(attach_raw(fe, 3, 2, 2, bad), E_UNSPEC);
	/* 16384 entries of one pixel each: the limit itself works */
	assert_int_equal(attach_raw(fe, 3, 16384, 16384, ents), OK);
	assert_int_equal(attach_raw(fe, 3, 1, 1, ents), E_UNSPEC); /* already attached */
	show_and_check(fe, 3, 128, 128, 1);
	/* detach, then no backing any more */
	assert_int_equal(vdgfe_gpu_detach_backing(fe, 3), OK);
	assert_int_equal(vdgfe_gpu_detach_backing(fe, 3), E_UNSPEC);
	assert_int_equal(vdgfe_gpu_detach_backing(fe, 99), E_RES);
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, 3, 0, 0, 128, 128, 0), E_UNSPEC);
	/* and attach again, in 3 uneven pieces */
	assert_int_equal(vdgfe_gpu_attach_backing(fe, 3, gpa, 65536, 30000), OK);
	show_and_check(fe, 3, 128, 128, 2);
	free(ents);
	assert_int_equal(fe->sink.violations, 0);
}

static void test_backing_across_regions(void **state)
{
	struct vdgfe_config cfg;
	struct vdgfe *fe;
	uint64_t b;
	const uint32_t w = 64, h = 64, size = w * h * 4;

	(void)state;
	/* adjacent regions (SET_MEM_TABLE, then ADD_MEM_REG): one entry may straddle them */
	for (int slots = 0; slots < 2; slots++) {
		itest_config(&cfg);
		cfg.split_mem = true;
		cfg.use_mem_slots = slots;
		cfg.gpa_base = UINT64_C(0x100000);
		fe = itest_fe_start(&cfg);
		b = vdgfe_mem_boundary(fe);
		assert_int_equal(vdgfe_mem_alloc_at(fe, b - size / 2 - 12, size), 0);
		fill_pat(fe, b - size / 2 - 12, w, h);
		assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 1, XRGB, w, h), OK);
		assert_int_equal(vdgfe_gpu_attach_backing(fe, 1, b - size / 2 - 12, size, 0), OK);
		show_and_check(fe, 1, w, h, 1);
		itest_fe_destroy();
	}

	/* a hole between them: a straddling entry is refused, two entries work */
	itest_config(&cfg);
	cfg.split_mem = true;
	cfg.region_gap = UINT64_C(1) << 20;
	fe = itest_fe_start(&cfg);
	b = vdgfe_mem_boundary(fe);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 1, XRGB, w, h), OK);
	struct virtio_gpu_mem_entry e[2] = {
	        {.addr = htole64(b - size / 2), .length = htole32(size)},
	};

	assert_int_equal(attach_raw(fe, 1, 1, 1, e), E_UNSPEC);
	uint64_t second = b + cfg.region_gap;

	assert_int_equal(vdgfe_mem_alloc_at(fe, b - size / 2, size / 2), 0);
	assert_int_equal(vdgfe_mem_alloc_at(fe, second, size / 2), 0);
	fill_pat(fe, b - size / 2, w, h / 2);
	/* the lower half of the image, rows h/2.., in region 1 */
	uint32_t *row = malloc(w * 4);

	assert_non_null(row);
	for (uint32_t y = h / 2; y < h; y++) {
		for (uint32_t x = 0; x < w; x++) {
			row[x] = htole32(pat(x, y));
		}
		assert_int_equal(
		        vdgfe_mem_write(fe, second + (y - h / 2) * w * 4ull, row, w * 4), 0);
	}
	free(row);
	e[0].length = htole32(size / 2);
	e[1].addr = htole64(second);
	e[1].length = htole32(size / 2);
	assert_int_equal(attach_raw(fe, 1, 2, 2, e), OK);
	show_and_check(fe, 1, w, h, 1);
	assert_int_equal(fe->sink.violations, 0);
}

static void test_assign_uuid(void **state)
{
	struct vdgfe_config cfg;
	struct vdgfe *fe;
	uint8_t a[16], a2[16], b[16];

	(void)state;
	/* RESOURCE_UUID not acked (the default wish list lacks it) */
	fe = itest_fe_start(NULL);
	assert_false(vu_has_bit(fe->acked_features, VDGFE_GPU_F_RESOURCE_UUID));
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 1, XRGB, 8, 8), OK);
	assert_int_equal(vdgfe_gpu_assign_uuid(fe, 1, a), E_UNSPEC);
	itest_fe_destroy();

	itest_config(&cfg);
	cfg.features_set = true;
	cfg.features = VDGFE_DEFAULT_FEATURES | VU_BIT(VDGFE_GPU_F_RESOURCE_UUID);
	fe = itest_fe_start(&cfg);
	assert_true(vu_has_bit(fe->acked_features, VDGFE_GPU_F_RESOURCE_UUID));
	assert_int_equal(vdgfe_gpu_assign_uuid(fe, 1, a), E_RES); /* a new session: gone */
	assert_int_equal(vdgfe_gpu_assign_uuid(fe, 0, a), E_RES);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 1, XRGB, 8, 8), OK);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 2, XRGB, 8, 8), OK);
	assert_int_equal(vdgfe_gpu_assign_uuid(fe, 1, a), VIRTIO_GPU_RESP_OK_RESOURCE_UUID);
	assert_int_equal(vdgfe_gpu_assign_uuid(fe, 1, a2), VIRTIO_GPU_RESP_OK_RESOURCE_UUID);
	assert_int_equal(vdgfe_gpu_assign_uuid(fe, 2, b), VIRTIO_GPU_RESP_OK_RESOURCE_UUID);
	assert_memory_equal(a, a2, 16);
	assert_memory_not_equal(a, b, 16);
	for (const uint8_t *u = a; u; u = u == a ? b : NULL) {
		assert_int_equal(u[6] >> 4, 4);      /* version 4 */
		assert_int_equal(u[8] & 0xc0, 0x80); /* variant 10 */
	}
	/* the full response: 40 bytes */
	struct virtio_gpu_resource_assign_uuid req;
	struct virtio_gpu_resp_resource_uuid resp;
	uint32_t len = 0;

	memset(&req, 0, sizeof(req));
	vdgfe_gpu_hdr(fe, &req.hdr, VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID);
	req.resource_id = htole32(2);
	assert_int_equal(
	        vdgfe_gpu_exec(fe, VDGFE_CTRLQ, &req, sizeof(req), &resp, sizeof(resp), &len),
	        VIRTIO_GPU_RESP_OK_RESOURCE_UUID);
	assert_int_equal(len, 40);
	assert_memory_equal(resp.uuid, b, 16);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_display_info, itest_teardown),
	        cmocka_unit_test_teardown(test_get_edid, itest_teardown),
	        cmocka_unit_test_teardown(test_edid_needs_feature, itest_teardown),
	        cmocka_unit_test_teardown(test_create_2d, itest_teardown),
	        cmocka_unit_test_teardown(test_unref, itest_teardown),
	        cmocka_unit_test_teardown(test_set_scanout, itest_teardown),
	        cmocka_unit_test_teardown(test_flush, itest_teardown),
	        cmocka_unit_test_teardown(test_transfer, itest_teardown),
	        cmocka_unit_test_teardown(test_attach_backing, itest_teardown),
	        cmocka_unit_test_teardown(test_backing_across_regions, itest_teardown),
	        cmocka_unit_test_teardown(test_assign_uuid, itest_teardown),
	};

	itest_init(argc, argv);
	return itest_exit(cmocka_run_group_tests(tests, itest_group_setup, itest_group_teardown));
}
