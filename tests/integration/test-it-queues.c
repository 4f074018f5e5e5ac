/* SPDX-License-Identifier: MIT */
/*
 * The two queues against the real daemon: the cursor queue (UPDATE_CURSOR,
 * MOVE_CURSOR and what reaches the display), the decoder's checks (queue,
 * type, size, feature, chains without a writable buffer) and fences (echoed
 * header fields, in-order completion of many queued commands).
 *
 * Usage: test-it-queues path/to/vhost-device-gpu
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

#define OK VIRTIO_GPU_RESP_OK_NODATA
#define E_UNSPEC VIRTIO_GPU_RESP_ERR_UNSPEC
#define E_SCANOUT VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID
#define E_RES VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID
#define E_PARAM VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER
#define XRGB VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM

static int cursor_cmd(struct vdgfe *fe, uint32_t type, uint32_t scanout, uint32_t x, uint32_t y,
        uint32_t res, uint32_t hot_x, uint32_t hot_y)
{
	struct virtio_gpu_update_cursor req;

	memset(&req, 0, sizeof(req));
	req.hdr.type = htole32(type);
	req.pos.scanout_id = htole32(scanout);
	req.pos.x = htole32(x);
	req.pos.y = htole32(y);
	req.resource_id = htole32(res);
	req.hot_x = htole32(hot_x);
	req.hot_y = htole32(hot_y);
	return itest_exec(fe, VDGFE_CURSORQ, &req, sizeof(req));
}

/* A 64x64 cursor of format fmt whose bytes differ per pixel and channel. */
static void cursor_resource(struct vdgfe *fe, uint32_t id, uint32_t fmt, uint8_t *bytes)
{
	uint64_t gpa = itest_resource(fe, id, fmt, 64, 64);

	for (uint32_t i = 0; i < 64 * 64; i++) {
		bytes[i * 4 + 0] = (uint8_t)(i * 3 + id);
		bytes[i * 4 + 1] = (uint8_t)(i >> 4);
		bytes[i * 4 + 2] = (uint8_t)(0xff - i);
		bytes[i * 4 + 3] = (uint8_t)(i & 0x80 ? 0xff : i * 2); /* alpha on A formats */
	}
	/* premultiplied alpha: keep colour <= alpha so conversion is exact */
	for (uint32_t i = 0; i < 64 * 64; i++) {
		uint8_t px[4];
		int a = -1;

		memcpy(px, &bytes[i * 4], 4);
		if (fmt == VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM ||
		        fmt == VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM) {
			a = 3;
		} else if (fmt == VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM ||
		           fmt == VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM) {
			a = 0;
		}
		for (int c = 0; c < 4 && a >= 0; c++) {
			if (c != a && px[c] > px[a]) {
				px[c] = px[a];
			}
		}
		memcpy(&bytes[i * 4], px, 4);
	}
	assert_int_equal(vdgfe_mem_write(fe, gpa, bytes, 64 * 64 * 4), 0);
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, id, 0, 0, 64, 64, 0), OK);
}

static void check_cursor_image(struct vdgfe *fe, uint32_t fmt, const uint8_t *bytes)
{
	for (uint32_t i = 0; i < 64 * 64; i++) {
		uint32_t want = itest_expected_argb(fmt, &bytes[i * 4]);

		if (fe->sink.cursor.image[i] != want) {
			fail_msg("format %u cursor pixel %u: 0x%08x, want 0x%08x", fmt, i,
			        fe->sink.cursor.image[i], want);
		}
	}
}

static void test_cursor(void **state)
{
	static const uint32_t fmts[] = {VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM,
	        VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM,
	        VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM};
	struct vdgfe *fe = itest_fe_start(NULL);
	uint8_t *bytes = malloc(64 * 64 * 4);
	uint64_t n = 0;

	(void)state;
	assert_non_null(bytes);
	for (unsigned int f = 0; f < 4; f++) {
		uint32_t id = 10 + f;

		cursor_resource(fe, id, fmts[f], bytes);
		assert_int_equal(
		        cursor_cmd(fe, VIRTIO_GPU_CMD_UPDATE_CURSOR, 0, 100 + f, 50, id, 3, f + 7),
		        OK);
		assert_int_equal(itest_wait_sink(fe, VUGPU_CURSOR_UPDATE, ++n), 0);
		assert_true(fe->sink.cursor.defined && fe->sink.cursor.visible);
		assert_int_equal(fe->sink.cursor.scanout_id, 0);
		assert_int_equal(fe->sink.cursor.x, 100 + f);
		assert_int_equal(fe->sink.cursor.y, 50);
		assert_int_equal(fe->sink.cursor.hot_x, 3);
		assert_int_equal(fe->sink.cursor.hot_y, f + 7);
		check_cursor_image(fe, fmts[f], bytes);
	}
	/* MOVE_CURSOR with the cursor's resource moves and shows it */
	assert_int_equal(cursor_cmd(fe, VIRTIO_GPU_CMD_MOVE_CURSOR, 0, 200, 300, 10, 0, 0), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_CURSOR_POS, 1), 0);
	assert_true(fe->sink.cursor.visible);
	assert_int_equal(fe->sink.cursor.x, 200);
	assert_int_equal(fe->sink.cursor.y, 300);
	/* UPDATE_CURSOR with resource 0 hides it */
	assert_int_equal(cursor_cmd(fe, VIRTIO_GPU_CMD_UPDATE_CURSOR, 0, 5, 6, 0, 0, 0), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_CURSOR_POS_HIDE, 1), 0);
	assert_false(fe->sink.cursor.visible);
	/* the library helper (a move without resource) hides too, like QEMU's back-end */
	assert_int_equal(vdgfe_gpu_move_cursor(fe, 0, 7, 8), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_CURSOR_POS_HIDE, 2), 0);
	assert_int_equal(fe->sink.cursor.x, 7);

	/* errors: bad scanouts, unknown resource, not 64x64, hot spot outside */
	assert_int_equal(
	        cursor_cmd(fe, VIRTIO_GPU_CMD_UPDATE_CURSOR, 16, 0, 0, 10, 0, 0), E_SCANOUT);
	assert_int_equal(cursor_cmd(fe, VIRTIO_GPU_CMD_UPDATE_CURSOR, 0xffffffffu, 0, 0, 0, 0, 0),
	        E_SCANOUT);
	assert_int_equal(cursor_cmd(fe, VIRTIO_GPU_CMD_MOVE_CURSOR, 16, 0, 0, 10, 0, 0), E_SCANOUT);
	assert_int_equal(cursor_cmd(fe, VIRTIO_GPU_CMD_UPDATE_CURSOR, 0, 0, 0, 99, 0, 0), E_RES);
	itest_resource(fe, 20, VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 32, 32);
	itest_resource(fe, 21, VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 64, 65);
	assert_int_equal(cursor_cmd(fe, VIRTIO_GPU_CMD_UPDATE_CURSOR, 0, 0, 0, 20, 0, 0), E_PARAM);
	assert_int_equal(cursor_cmd(fe, VIRTIO_GPU_CMD_UPDATE_CURSOR, 0, 0, 0, 21, 0, 0), E_PARAM);
	assert_int_equal(cursor_cmd(fe, VIRTIO_GPU_CMD_UPDATE_CURSOR, 0, 0, 0, 10, 64, 0), E_PARAM);
	itest_drain_display(fe);
	assert_int_equal(fe->sink.counts[VUGPU_CURSOR_UPDATE], n);
	assert_int_equal(fe->sink.counts[VUGPU_CURSOR_POS], 1);
	assert_int_equal(fe->sink.counts[VUGPU_CURSOR_POS_HIDE], 2);
	assert_int_equal(fe->sink.violations, 0);
	free(bytes);
}

/* ---- the decoder ---- */

static void test_decoder_checks(void **state)
{
	struct vdgfe *fe = itest_fe_start(NULL);
	struct virtio_gpu_resource_create_2d c;
	struct virtio_gpu_update_cursor cur;
	struct virtio_gpu_ctrl_hdr h;
	static const uint32_t unknown[] = {
	        0, 0x10e, 0x10f, 0x1ff, 0x20a, 0x2ff, 0x302, 0x400, 0x1100, 0xffffffffu};
	static const uint32_t needs_virgl[] = {VIRTIO_GPU_CMD_GET_CAPSET_INFO,
	        VIRTIO_GPU_CMD_GET_CAPSET, VIRTIO_GPU_CMD_CTX_CREATE, VIRTIO_GPU_CMD_CTX_DESTROY,
	        VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, VIRTIO_GPU_CMD_SUBMIT_3D};
	uint8_t big[128];

	(void)state;
	memset(&c, 0, sizeof(c));
	c.hdr.type = htole32(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D);
	c.resource_id = htole32(1);
	c.format = htole32(XRGB);
	c.width = htole32(8);
	c.height = htole32(8);
	/* a control command on the cursor queue, and the reverse */
	assert_int_equal(itest_exec(fe, VDGFE_CURSORQ, &c, sizeof(c)), E_UNSPEC);
	memset(&cur, 0, sizeof(cur));
	cur.hdr.type = htole32(VIRTIO_GPU_CMD_MOVE_CURSOR);
	assert_int_equal(itest_exec(fe, VDGFE_CTRLQ, &cur, sizeof(cur)), E_UNSPEC);
	/* unknown types, 3D types without VIRGL */
	for (unsigned int i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		memset(big, 0, sizeof(big));
		h = (struct virtio_gpu_ctrl_hdr){.type = htole32(unknown[i])};
		memcpy(big, &h, sizeof(h));
		assert_int_equal(itest_exec(fe, VDGFE_CTRLQ, big, sizeof(big)), E_UNSPEC);
	}
	for (unsigned int i = 0; i < sizeof(needs_virgl) / sizeof(needs_virgl[0]); i++) {
		memset(big, 0, sizeof(big));
		h = (struct virtio_gpu_ctrl_hdr){.type = htole32(needs_virgl[i]), .ctx_id = 1};
		memcpy(big, &h, sizeof(h));
		assert_int_equal(itest_exec(fe, VDGFE_CTRLQ, big, sizeof(big)), E_UNSPEC);
	}
	/* shorter than its struct, shorter than a header */
	assert_int_equal(itest_exec(fe, VDGFE_CTRLQ, &c, sizeof(c) - 1), E_UNSPEC);
	assert_int_equal(itest_exec(fe, VDGFE_CTRLQ, &c, 30), E_UNSPEC);
	assert_int_equal(itest_exec(fe, VDGFE_CTRLQ, &c, 16), E_UNSPEC);
	assert_int_equal(itest_exec(fe, VDGFE_CTRLQ, &c, 1), E_UNSPEC);
	assert_int_equal(itest_exec(fe, VDGFE_CURSORQ, &cur, sizeof(cur) - 4), E_UNSPEC);
	/* nothing was created by those */
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 1), E_RES);
	/* a command split over many small descriptors is gathered */
	struct vdgfe_submit_opts opts = {.req_split = 3, .resp_split = 5};
	struct vdgfe_cmd *cmd = NULL;

	assert_int_equal(vdgfe_gpu_submit(fe, VDGFE_CTRLQ, &c, sizeof(c), 24, &opts, &cmd), 0);
	assert_int_equal(vdgfe_gpu_wait(fe, cmd, -1), 0);
	assert_int_equal(vdgfe_cmd_resp_type(fe, cmd), OK);
	assert_int_equal(cmd->used_len, 24);
	vdgfe_cmd_free(fe, cmd);
	/* no writable buffer at all: returned with used len 0, the daemon carries on */
	for (unsigned int q = 0; q < 2; q++) {
		const void *req = q ? (const void *)&cur : (const void *)&c;
		size_t len = q ? sizeof(cur) : sizeof(c);

		cmd = NULL;
		assert_int_equal(vdgfe_gpu_submit(fe, q, req, len, 0, NULL, &cmd), 0);
		assert_int_equal(vdgfe_gpu_wait(fe, cmd, -1), 0);
		assert_int_equal(cmd->used_len, 0);
		vdgfe_cmd_free(fe, cmd);
	}
	/* a writable buffer shorter than the header: at most that much is written */
	cmd = NULL;
	c.resource_id = htole32(2);
	assert_int_equal(vdgfe_gpu_submit(fe, VDGFE_CTRLQ, &c, sizeof(c), 10, NULL, &cmd), 0);
	assert_int_equal(vdgfe_gpu_wait(fe, cmd, -1), 0);
	assert_true(cmd->used_len <= 10);
	vdgfe_cmd_free(fe, cmd);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 3, XRGB, 8, 8), OK);
	/* the created resources exist: a duplicate is refused */
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 1, XRGB, 8, 8), E_RES);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 2, XRGB, 8, 8), E_RES);
}

/* ---- fences ---- */

static void fence_case(struct vdgfe *fe, uint32_t flags, uint64_t fence, uint32_t ctx, uint8_t ring,
        uint32_t res, uint32_t want_type)
{
	struct virtio_gpu_resource_create_2d c;
	struct virtio_gpu_ctrl_hdr rh;
	uint32_t len = 0;

	memset(&c, 0, sizeof(c));
	c.hdr.type = htole32(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D);
	c.hdr.flags = htole32(flags);
	c.hdr.fence_id = htole64(fence);
	c.hdr.ctx_id = htole32(ctx);
	c.hdr.ring_idx = ring;
	c.resource_id = htole32(res);
	c.format = htole32(XRGB);
	c.width = htole32(4);
	c.height = htole32(4);
	assert_int_equal(
	        vdgfe_gpu_exec(fe, VDGFE_CTRLQ, &c, sizeof(c), &rh, sizeof(rh), &len), want_type);
	assert_int_equal(len, sizeof(rh));
	if (flags & VIRTIO_GPU_FLAG_FENCE) {
		assert_int_equal(le32toh(rh.flags), flags & 3);
		assert_int_equal(le64toh(rh.fence_id), fence);
		assert_int_equal(le32toh(rh.ctx_id), ctx);
		assert_int_equal(rh.ring_idx, flags & VIRTIO_GPU_FLAG_INFO_RING_IDX ? ring : 0);
	} else {
		assert_int_equal(rh.flags, 0);
		assert_int_equal(rh.fence_id, 0);
		assert_int_equal(rh.ctx_id, 0);
		assert_int_equal(rh.ring_idx, 0);
	}
}

static void test_fence_echo(void **state)
{
	struct vdgfe *fe = itest_fe_start(NULL);

	(void)state;
	fence_case(fe, VIRTIO_GPU_FLAG_FENCE, 0x123456789abcull, 0, 0, 1, OK);
	fence_case(
	        fe, VIRTIO_GPU_FLAG_FENCE | VIRTIO_GPU_FLAG_INFO_RING_IDX, UINT64_MAX, 7, 5, 2, OK);
	/* INFO_RING_IDX without FENCE means nothing */
	fence_case(fe, VIRTIO_GPU_FLAG_INFO_RING_IDX, 99, 3, 4, 3, OK);
	fence_case(fe, 0, 42, 1, 1, 4, OK);
	/* an error answer carries the fence too */
	fence_case(fe, VIRTIO_GPU_FLAG_FENCE | VIRTIO_GPU_FLAG_INFO_RING_IDX, 77, 2, 63, 1, E_RES);
	/* unknown flag bits are not echoed */
	fence_case(fe, VIRTIO_GPU_FLAG_FENCE | 0x80, 78, 0, 0, 5, OK);
}

static void test_fences_in_order(void **state)
{
	struct vdgfe *fe = itest_fe_start(NULL);
	struct vdgfe_cmd *cmds[30];
	struct vdgfe_submit_opts opts = {.no_kick = true};
	uint32_t bases[2];
	const unsigned int n = 30; /* 2 descriptors each in a 64-entry ring */

	(void)state;
	for (unsigned int i = 0; i < n; i++) {
		struct virtio_gpu_resource_create_2d c;

		memset(&c, 0, sizeof(c));
		c.hdr.type = htole32(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D);
		c.hdr.flags = htole32(VIRTIO_GPU_FLAG_FENCE);
		c.hdr.fence_id = htole64(1000 + i);
		/* every fourth reuses an id: an error in the middle of the run */
		c.resource_id = htole32(i % 4 == 3 ? 1 : 1 + i);
		c.format = htole32(XRGB);
		c.width = htole32(16);
		c.height = htole32(16);
		opts.indirect = i & 1;
		assert_int_equal(
		        vdgfe_gpu_submit(fe, VDGFE_CTRLQ, &c, sizeof(c), 24, &opts, &cmds[i]), 0);
	}
	assert_int_equal(vdgfe_vq_in_flight(&fe->vqs[0]), n);
	assert_true(vdgfe_gpu_kick(fe, VDGFE_CTRLQ) >= 0);
	assert_int_equal(vdgfe_gpu_wait_all(fe, -1), 0);
	for (unsigned int i = 0; i < n; i++) {
		struct virtio_gpu_ctrl_hdr rh;

		assert_int_equal(cmds[i]->done_seq, cmds[i]->submit_seq);
		assert_int_equal(vdgfe_cmd_resp(fe, cmds[i], &rh, sizeof(rh)), sizeof(rh));
		assert_int_equal(le32toh(rh.type), i % 4 == 3 ? E_RES : OK);
		assert_int_equal(le32toh(rh.flags), VIRTIO_GPU_FLAG_FENCE);
		assert_int_equal(le64toh(rh.fence_id), 1000 + i);
		vdgfe_cmd_free(fe, cmds[i]);
	}
	assert_int_equal(fe->vqs[0].bad_used, 0);
	assert_int_equal(vdgfe_stop(fe, false, bases), 0);
	assert_int_equal(bases[0], n);
	assert_int_equal(bases[1], 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_cursor, itest_teardown),
	        cmocka_unit_test_teardown(test_decoder_checks, itest_teardown),
	        cmocka_unit_test_teardown(test_fence_echo, itest_teardown),
	        cmocka_unit_test_teardown(test_fences_in_order, itest_teardown),
	};

	itest_init(argc, argv);
	return itest_exit(cmocka_run_group_tests(tests, itest_group_setup, itest_group_teardown));
}
