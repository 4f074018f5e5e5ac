/* SPDX-License-Identifier: MIT */
/*
 * The dma-buf scanout path, through the test frontend, against the daemon
 * built with a renderer that exports memfd "dma-bufs"
 * (tests/helpers/dmabuf-daemon.c; this host has no render node, so a real
 * texture export is impossible here). Checked: SET_SCANOUT sends
 * DMABUF_SCANOUT2 (DMABUF_SCANOUT to a frontend without DMABUF2) with the
 * fd, whose memory holds the guest's pixels; RESOURCE_FLUSH sends
 * DMABUF_UPDATE of the damaged rect, no pixels, and is answered only after
 * the frontend's ack; disabling sends DMABUF_SCANOUT without an fd; a
 * display that closes while an ack is owed; --scanout-mode readback.
 *
 * Usage: test-it-dmabuf path/to/vdg-dmabuf-test-daemon
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "itest.h"

#define OK VIRTIO_GPU_RESP_OK_NODATA
#define XRGB VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM
#define FOURCC_XRGB8888 0x34325258u
#define W 64
#define H 48

/* Guest pixel (x, y) of frame n, as x8r8g8b8 bytes B, G, R, X. */
static uint32_t pixel(uint32_t x, uint32_t y, uint32_t n)
{
	return ((x * 5 + n) & 0xff) | (((y * 3 + n * 7) & 0xff) << 8) | (((x ^ y) & 0xff) << 16);
}

/* Writes frame n into the resource's backing at gpa and transfers rect x, y, w, h. */
static void draw(struct vdgfe *fe, uint64_t gpa, uint32_t id, uint32_t n, uint32_t x, uint32_t y,
	uint32_t w, uint32_t h)
{
	uint32_t *fb = malloc((size_t)W * H * 4);

	assert_non_null(fb);
	for (uint32_t j = 0; j < H; j++) {
		for (uint32_t i = 0; i < W; i++) {
			fb[j * W + i] = htole32(pixel(i, j, n));
		}
	}
	assert_int_equal(vdgfe_mem_write(fe, gpa, fb, (size_t)W * H * 4), 0);
	free(fb);
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, id, x, y, w, h,
	                         ((uint64_t)y * W + x) * 4),
	        OK);
}

/* The exported buffer the frontend holds shows frame n inside rect, frame `old` outside. */
static void check_buffer(struct vdgfe *fe, uint32_t n, uint32_t old, uint32_t x, uint32_t y,
	uint32_t w, uint32_t h)
{
	const struct vugpu_dmabuf_scanout *d = &fe->sink.last_dmabuf.dmabuf_scanout;
	size_t size = (size_t)d->fd_stride * d->fd_height;
	const uint8_t *map;

	assert_true(fe->sink.last_dmabuf_fd >= 0);
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fe->sink.last_dmabuf_fd, 0);
	assert_true(map != MAP_FAILED);
	for (uint32_t j = 0; j < H; j++) {
		for (uint32_t i = 0; i < W; i++) {
			bool in = i >= x && i < x + w && j >= y && j < y + h;
			uint32_t got, want = pixel(i, j, in ? n : old);

			memcpy(&got, map + (size_t)j * d->fd_stride + (size_t)i * 4, 4);
			if ((le32toh(got) & 0xffffff) != want) {
				fail_msg("buffer pixel %u,%u: 0x%06x, want 0x%06x", i, j,
				        le32toh(got) & 0xffffff, want);
			}
		}
	}
	munmap((void *)map, size);
}

static void test_scanout_and_flush(void **state)
{
	struct vdgfe *fe = itest_fe_start(NULL);
	const struct vugpu_dmabuf_scanout2 *d = &fe->sink.last_dmabuf;
	uint64_t gpa;

	(void)state;
	gpa = itest_resource(fe, 1, XRGB, W, H);
	draw(fe, gpa, 1, 1, 0, 0, W, H);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 1, 8, 4, 32, 24), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_DMABUF_SCANOUT2, 1), 0);
	/* QEMU 8.2+ (DMABUF2 offered): SCANOUT2 with the fd and a modifier */
	assert_true(fe->sink.last_dmabuf_had_fd);
	assert_true(fe->sink.last_dmabuf_v2);
	assert_int_equal(d->dmabuf_scanout.scanout_id, 0);
	assert_int_equal(d->dmabuf_scanout.x, 8);
	assert_int_equal(d->dmabuf_scanout.y, 4);
	assert_int_equal(d->dmabuf_scanout.width, 32);
	assert_int_equal(d->dmabuf_scanout.height, 24);
	assert_int_equal(d->dmabuf_scanout.fd_width, W);
	assert_int_equal(d->dmabuf_scanout.fd_height, H);
	assert_int_equal(d->dmabuf_scanout.fd_stride, W * 4);
	assert_int_equal(d->dmabuf_scanout.fd_drm_fourcc, FOURCC_XRGB8888);
	assert_int_equal(d->dmabuf_scanout.fd_flags, 0);
	assert_int_equal(d->modifier, 0); /* linear */
	assert_int_equal(fe->sink.counts[VUGPU_SCANOUT], 0);
	check_buffer(fe, 1, 1, 0, 0, W, H);

	/* a new frame in part of it: the buffer changes, the flush names the damage */
	draw(fe, gpa, 1, 2, 10, 6, 16, 8);
	check_buffer(fe, 2, 1, 10, 6, 16, 8);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 1, 10, 6, 16, 8), OK);
	assert_int_equal(fe->sink.counts[VUGPU_DMABUF_UPDATE], 1);
	assert_int_equal(fe->sink.dmabuf_updates_unacked, 0);
	/* in buffer coordinates, as QEMU's GL path takes it (not relative to the rect at 8, 4) */
	assert_int_equal(fe->sink.last_dmabuf_update.scanout_id, 0);
	assert_int_equal(fe->sink.last_dmabuf_update.x, 10);
	assert_int_equal(fe->sink.last_dmabuf_update.y, 6);
	assert_int_equal(fe->sink.last_dmabuf_update.width, 16);
	assert_int_equal(fe->sink.last_dmabuf_update.height, 8);
	/* damage partly outside the scanout's rect (8..40, 4..28): clipped to it */
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 1, 0, 0, 16, 8), OK);
	assert_int_equal(fe->sink.counts[VUGPU_DMABUF_UPDATE], 2);
	assert_int_equal(fe->sink.last_dmabuf_update.x, 8);
	assert_int_equal(fe->sink.last_dmabuf_update.y, 4);
	assert_int_equal(fe->sink.last_dmabuf_update.width, 8);
	assert_int_equal(fe->sink.last_dmabuf_update.height, 4);
	/* damage outside the scanout's rect: no update at all */
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 1, 48, 0, 16, 4), OK);
	assert_int_equal(fe->sink.counts[VUGPU_DMABUF_UPDATE], 2);
	/* never pixels over the socket */
	assert_int_equal(fe->sink.counts[VUGPU_UPDATE], 0);

	/* off: DMABUF_SCANOUT without an fd */
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 0, 0, 0, 0, 0), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_DMABUF_SCANOUT, 1), 0);
	assert_false(fe->sink.last_dmabuf_had_fd);
	assert_int_equal(fe->sink.counts[VUGPU_SCANOUT], 0);
	assert_int_equal(fe->sink.violations, 0);
}

/* QEMU 7.2 / 8.1 (no DMABUF2): DMABUF_SCANOUT, the linear buffer is fine without a modifier. */
static void test_without_dmabuf2(void **state)
{
	struct vdgfe_config cfg;
	struct vdgfe *fe;
	uint64_t gpa;

	(void)state;
	itest_config(&cfg);
	cfg.sink.protocol_features = 1u << VUGPU_PROTOCOL_F_EDID;
	fe = itest_fe_start(&cfg);
	gpa = itest_resource(fe, 3, XRGB, W, H);
	draw(fe, gpa, 3, 5, 0, 0, W, H);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 3, 0, 0, W, H), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_DMABUF_SCANOUT, 1), 0);
	assert_true(fe->sink.last_dmabuf_had_fd);
	assert_false(fe->sink.last_dmabuf_v2);
	assert_int_equal(fe->sink.counts[VUGPU_DMABUF_SCANOUT2], 0);
	check_buffer(fe, 5, 5, 0, 0, W, H);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 3, 0, 0, W, H), OK);
	assert_int_equal(fe->sink.counts[VUGPU_DMABUF_UPDATE], 1);
	assert_int_equal(fe->sink.violations, 0);
}

/* Submits a whole-resource RESOURCE_FLUSH and waits until its DMABUF_UPDATE is out. */
static struct vdgfe_cmd *flush_unacked(struct vdgfe *fe, uint32_t id)
{
	struct virtio_gpu_resource_flush f;
	struct vdgfe_cmd *flush = NULL;

	memset(&f, 0, sizeof(f));
	f.hdr.type = htole32(VIRTIO_GPU_CMD_RESOURCE_FLUSH);
	f.resource_id = htole32(id);
	f.r.width = htole32(W);
	f.r.height = htole32(H);
	assert_int_equal(vdgfe_gpu_submit(fe, VDGFE_CTRLQ, &f, sizeof(f), 24, NULL, &flush), 0);
	assert_int_equal(itest_wait_sink(fe, VUGPU_DMABUF_UPDATE, 1), 0);
	return flush;
}

/* RESOURCE_FLUSH is answered after the ack, and the loop is not blocked meanwhile. */
static void test_flush_waits_for_ack(void **state)
{
	struct vdgfe_config cfg;
	struct vdgfe_cmd *flush;
	struct vdgfe *fe;
	int64_t until;

	(void)state;
	itest_config(&cfg);
	cfg.sink.no_dmabuf_ack = true;
	fe = itest_fe_start(&cfg);
	itest_resource(fe, 4, XRGB, W, H);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 4, 0, 0, W, H), OK);
	flush = flush_unacked(fe, 4);
	/* 300 ms without an ack: no answer */
	until = vdgfe_now_ms() + 300;
	while (vdgfe_now_ms() < until) {
		assert_int_equal(vdgfe_gpu_poll(fe), 0);
		usleep(10000);
	}
	assert_false(flush->done);
	/* the daemon still serves the cursor queue and its socket meanwhile */
	assert_int_equal(vdgfe_gpu_move_cursor(fe, 0, 5, 5), OK);
	assert_int_equal(vdgfe_sink_send_dmabuf_ack(&fe->sink), 0);
	assert_int_equal(vdgfe_gpu_wait(fe, flush, ITEST_TIMEOUT_MS), 0);
	assert_int_equal(vdgfe_cmd_resp_type(fe, flush), OK);
	vdgfe_cmd_free(fe, flush);
	assert_int_equal(fe->sink.violations, 0);
}

/* The display goes away while an ack is owed: the flush completes, the daemon goes on. */
static void test_display_closes_before_ack(void **state)
{
	struct vdgfe_config cfg;
	struct virtio_gpu_resp_display_info info;
	struct vdgfe_cmd *flush;
	struct vdgfe *fe;

	(void)state;
	itest_config(&cfg);
	cfg.sink.no_dmabuf_ack = true;
	fe = itest_fe_start(&cfg);
	itest_resource(fe, 5, XRGB, W, H);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 5, 0, 0, W, H), OK);
	flush = flush_unacked(fe, 5);
	vdgfe_sink_close(&fe->sink);
	assert_int_equal(vdgfe_gpu_wait(fe, flush, ITEST_TIMEOUT_MS), 0);
	assert_int_equal(vdgfe_cmd_resp_type(fe, flush), OK);
	vdgfe_cmd_free(fe, flush);
	/* headless from now on: everything still answers */
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 5, 0, 0, W, H), OK);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 0, 0, 0, 0, 0), OK);
	assert_int_equal(vdgfe_gpu_get_display_info(fe, &info), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
}

/* --scanout-mode readback: the same daemon sends SCANOUT + UPDATE with pixels. */
static void test_readback_mode(void **state)
{
	static const char *const extra[] = { "--scanout-mode", "readback", NULL };
	struct itest_daemon d;
	struct vdgfe_config cfg;
	struct vdgfe *fe;
	uint64_t gpa;

	(void)state;
	assert_int_equal(itest_daemon_start(&d, itest_bin, extra), 0);
	itest_config(&cfg);
	cfg.socket_path = d.sock;
	fe = itest_fe_start(&cfg);
	gpa = itest_resource(fe, 6, XRGB, W, H);
	draw(fe, gpa, 6, 9, 0, 0, W, H);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 6, 0, 0, W, H), OK);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 6, 0, 0, W, H), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, 1), 0);
	assert_int_equal(fe->sink.counts[VUGPU_SCANOUT], 1);
	assert_int_equal(fe->sink.counts[VUGPU_DMABUF_SCANOUT] + fe->sink.counts[VUGPU_DMABUF_SCANOUT2],
	        0);
	for (uint32_t j = 0; j < H; j++) {
		for (uint32_t i = 0; i < W; i++) {
			assert_int_equal(fe->sink.fb[0].pixels[j * W + i] & 0xffffff, pixel(i, j, 9));
		}
	}
	itest_fe_destroy();
	assert_int_equal(itest_daemon_stop(&d), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_scanout_and_flush, itest_teardown),
	        cmocka_unit_test_teardown(test_without_dmabuf2, itest_teardown),
	        cmocka_unit_test_teardown(test_flush_waits_for_ack, itest_teardown),
	        cmocka_unit_test_teardown(test_display_closes_before_ack, itest_teardown),
	        cmocka_unit_test_teardown(test_readback_mode, itest_teardown),
	};

	itest_init(argc, argv);
	return itest_exit(cmocka_run_group_tests(tests, itest_group_setup, itest_group_teardown));
}
