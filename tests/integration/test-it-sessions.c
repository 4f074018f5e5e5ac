/* SPDX-License-Identifier: MIT */
/*
 * Sessions against one daemon process: 200 disconnect/reconnect cycles,
 * disconnects in the middle of a message or with commands queued,
 * RESET_DEVICE, GET_VRING_BASE after N commands, and broken rings (a
 * descriptor outside guest memory, a descriptor loop) that stop only their
 * queue. After each, the daemon must accept and serve the next frontend.
 *
 * Faults of a hostile peer: guest memory replaced or removed (SET_MEM_TABLE,
 * REM/ADD_MEM_REG) under resources that keep their backing there; 1000 bad
 * commands, whose log lines must be rate-limited; commands repeated on
 * their error paths (CVE-2021-3544, QEMU's backend leaked there). Tests that
 * read the daemon's log or need its LeakSanitizer verdict for themselves run
 * a daemon of their own (a fresh log and a fresh rate limit).
 *
 * Usage: test-it-sessions path/to/vhost-device-gpu
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_ring.h>

#include "itest.h"

#define OK VIRTIO_GPU_RESP_OK_NODATA
#define E_UNSPEC VIRTIO_GPU_RESP_ERR_UNSPEC
#define E_OOM VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY
#define E_RES VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID
#define E_PARAM VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER
#define XRGB VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM

/* src/util/log.h: peer-caused lines per interval */
#define LOG_BURST 10
#define LOG_INTERVAL_S 5.0

/* A daemon of the test's own; own_teardown stops it if the test failed before. */
static struct itest_daemon own = {.pid = -1};

static void own_start(struct vdgfe_config *cfg)
{
	assert_int_equal(itest_daemon_start(&own, itest_bin, NULL), 0);
	itest_config(cfg);
	cfg->socket_path = own.sock;
}

/* Ends the session and the daemon: exit 0, socket removed, no sanitizer report (leaks). */
static void own_stop(void)
{
	itest_fe_destroy();
	assert_int_equal(itest_daemon_stop(&own), 0);
}

static int own_teardown(void **state)
{
	itest_fe_destroy();
	if (own.pid > 0) {
		itest_daemon_stop(&own);
	}
	return itest_teardown(state);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One frame of colour on scanout 0 through resource id; checks a pixel. */
static void draw(struct vdgfe *fe, uint32_t id, uint32_t color)
{
	const uint32_t w = 48, h = 32;
	uint64_t gpa = itest_resource(fe, id, XRGB, w, h);
	uint64_t n = fe->sink.counts[VUGPU_UPDATE];
	bool ok;

	for (uint32_t i = 0; i < w * h; i++) {
		assert_int_equal(vdgfe_mem_write(fe, gpa + 4ull * i, &color, 4), 0);
	}
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, id, 0, 0, w, h, 0), OK);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, id, 0, 0, w, h), OK);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, id, 0, 0, w, h), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, n + 1), 0);
	assert_int_equal(
	        vdgfe_sink_pixel(&fe->sink, 0, w - 1, h - 1, &ok) & 0xffffff, color & 0xffffff);
	assert_true(ok);
	vdgfe_mem_free(fe, gpa, (uint64_t)w * h * 4);
}

/* The daemon listening on sock serves a fresh frontend completely. */
static void check_serves_at(const char *sock)
{
	struct vdgfe_config cfg;
	struct vdgfe *fe;

	itest_config(&cfg);
	cfg.socket_path = sock;
	fe = itest_fe_start(&cfg);
	draw(fe, 1, 0x00406080);
	assert_int_equal(fe->sink.violations, 0);
	itest_fe_destroy();
}

static void check_serves(void)
{
	check_serves_at(itest_d.sock);
}

#define RECONNECTS 200

static void test_reconnect_200(void **state)
{
	struct vdgfe *fe = itest_fe_start(NULL);
	struct virtio_gpu_resp_display_info info;
	unsigned int connected0 = itest_daemon_log_count(&itest_d, "frontend connected");
	double t0 = now_s();

	(void)state;
	for (unsigned int i = 0; i < RECONNECTS; i++) {
		if (i > 0) {
			assert_int_equal(vdgfe_reconnect(fe), 0);
			vdgfe_sink_reset_state(&fe->sink);
			assert_int_equal(vdgfe_negotiate(fe), 0);
			assert_int_equal(vdgfe_start(fe), 0);
		}
		if (i == 0 || i == RECONNECTS - 1) {
			/* the same id each time: the last session's resources are gone */
			draw(fe, 1, 0x00010203 * (i + 1));
		} else {
			assert_int_equal(vdgfe_gpu_get_display_info(fe, &info),
			        VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
		}
		assert_int_equal(fe->sink.violations, 0);
		assert_true(itest_daemon_alive(&itest_d));
	}
	fprintf(stderr, "it-sessions: %u sessions in %.2f s\n", RECONNECTS, now_s() - t0);
	/* each one was a session of its own for the daemon */
	assert_int_equal(itest_daemon_log_count(&itest_d, "frontend connected") - connected0,
	        RECONNECTS - 1);
}

static void test_disconnect_mid_message(void **state)
{
	struct vu_msg_header hdr = {.request = VU_REQ_SET_FEATURES, .flags = VU_VERSION, .size = 8};
	uint32_t half = 0x1234;
	struct vdgfe_config cfg;
	struct vdgfe *fe;

	(void)state;
	itest_config(&cfg);
	/* half a header, then close */
	fe = itest_fe = vdgfe_create(&cfg);
	assert_non_null(fe);
	assert_int_equal(vdgfe_negotiate(fe), 0);
	assert_int_equal(vdgfe_send_bytes(fe, &hdr, 6), 0);
	itest_fe_destroy();
	check_serves();
	/* a whole header, half its payload, then close */
	fe = itest_fe = vdgfe_create(&cfg);
	assert_non_null(fe);
	assert_int_equal(vdgfe_send_bytes(fe, &hdr, sizeof(hdr)), 0);
	assert_int_equal(vdgfe_send_bytes(fe, &half, 4), 0);
	itest_fe_destroy();
	check_serves();
	/* half a header, then only our write side shut: the daemon must drop us by itself */
	fe = itest_fe = vdgfe_create(&cfg);
	assert_non_null(fe);
	assert_int_equal(vdgfe_send_bytes(fe, &hdr, 5), 0);
	assert_int_equal(vdgfe_shutdown_write(fe), 0);
	assert_int_equal(vdgfe_wait_closed(fe, ITEST_TIMEOUT_MS), 0);
	itest_fe_destroy();
	check_serves();
	/* a message with fds cut short after a started session */
	fe = itest_fe_start(NULL);
	hdr.request = VU_REQ_SET_VRING_KICK;
	assert_int_equal(vdgfe_send_raw(fe, VU_REQ_SET_VRING_KICK, VU_VERSION, 8, &half, 3,
	                         &fe->vqs[0].kick_fd, 1),
	        0);
	itest_fe_destroy();
	check_serves();
}

static void test_disconnect_with_queued(void **state)
{
	struct vdgfe_submit_opts noq = {.no_kick = true};
	struct vdgfe *fe;

	(void)state;
	for (unsigned int round = 0; round < 3; round++) {
		struct vdgfe_config cfg;

		itest_config(&cfg);
		cfg.mem_size = UINT64_C(128) << 20;
		fe = itest_fe_start(&cfg);
		uint64_t gpa = itest_resource(fe, 1, XRGB, 1920, 1080);

		(void)gpa;
		assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 1, 0, 0, 1920, 1080), OK);
		for (unsigned int i = 0; i < 20; i++) {
			struct virtio_gpu_resource_flush f;
			struct vdgfe_cmd *cmd;

			memset(&f, 0, sizeof(f));
			f.hdr.type = htole32(VIRTIO_GPU_CMD_RESOURCE_FLUSH);
			f.r.width = htole32(1920);
			f.r.height = htole32(1080);
			f.resource_id = htole32(1);
			/* round 0: never kicked; 1: kicked, display unread; 2: and a
			 * GET_DISPLAY_INFO */
			assert_int_equal(vdgfe_gpu_submit(fe, VDGFE_CTRLQ, &f, sizeof(f), 24,
			                         round == 0 ? &noq : NULL, &cmd),
			        0);
		}
		if (round == 2) {
			struct virtio_gpu_ctrl_hdr h;
			struct vdgfe_cmd *cmd;

			vdgfe_gpu_hdr(fe, &h, VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
			assert_int_equal(
			        vdgfe_gpu_submit(fe, VDGFE_CTRLQ, &h, sizeof(h), 408, NULL, &cmd),
			        0);
		}
		usleep(20000);
		itest_fe_destroy();
		check_serves();
	}
}

static void test_reset_device(void **state)
{
	struct vdgfe *fe = itest_fe_start(NULL);
	uint32_t bases[2];

	(void)state;
	draw(fe, 5, 0x00ffffff);
	assert_int_equal(vdgfe_stop(fe, true, bases), 0);
	/* like QEMU at a guest reboot: stop, RESET_DEVICE, start from ring index 0 */
	assert_int_equal(vdgfe_send(fe, VU_REQ_RESET_DEVICE, NULL, 0, NULL, 0, true), 0);
	fe->rings_used = false;
	vdgfe_sink_reset_state(&fe->sink);
	assert_int_equal(vdgfe_start(fe), 0);
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 5), E_RES);
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, 5, 0, 0, 1, 1, 0), E_RES);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 5, 0, 0, 1, 1), E_RES);
	assert_int_equal(vdgfe_gpu_detach_backing(fe, 5), E_RES);
	draw(fe, 5, 0x00102030);
	assert_int_equal(vdgfe_stop(fe, false, bases), 0);
	assert_int_equal(bases[0], 4 + 5);
	/* RESET_OWNER, the old name, does the same */
	assert_int_equal(vdgfe_send(fe, VU_REQ_RESET_OWNER, NULL, 0, NULL, 0, true), 0);
	fe->rings_used = false;
	assert_int_equal(vdgfe_start(fe), 0);
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 5), E_RES);
	assert_int_equal(fe->sink.violations, 0);
}

static void test_vring_base(void **state)
{
	struct vdgfe *fe = itest_fe_start(NULL);
	uint32_t bases[2];

	(void)state;
	for (unsigned int i = 0; i < 13; i++) {
		assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 100 + i, XRGB, 8, 8), OK);
	}
	for (unsigned int i = 0; i < 4; i++) {
		assert_int_equal(vdgfe_gpu_move_cursor(fe, 0, i, i), OK);
	}
	assert_int_equal(vdgfe_stop(fe, false, bases), 0);
	assert_int_equal(bases[0], 13);
	assert_int_equal(bases[1], 4);
	/* a stop is not a reset: resources stay, rings resume where they were */
	assert_int_equal(vdgfe_start(fe), 0);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 100, XRGB, 8, 8), E_RES);
	/* past the ring size (64): indexes are free-running */
	for (unsigned int i = 0; i < 70; i++) {
		assert_int_equal(vdgfe_gpu_resource_unref(fe, 1000), E_RES);
	}
	assert_int_equal(vdgfe_stop(fe, false, bases), 0);
	assert_int_equal(bases[0], 13 + 1 + 70);
	assert_int_equal(bases[1], 4);
	assert_int_equal(fe->vqs[0].bad_used, 0);
}

static int used_arrived(struct vdgfe *fe, void *arg)
{
	(void)arg;
	return vdgfe_vq_has_used(&fe->vqs[VDGFE_CTRLQ]) ? 1 : 0;
}

/*
 * Puts a bad chain on the control queue (corrupt() edits it), kicks, checks
 * the aftermath: the daemon (one of its own, so no earlier test's lines
 * count against the log rate limit) logs once why it stopped the queue,
 * the other queue and the control socket go on, the next frontend is served.
 */
static void bad_ring(void (*corrupt)(struct vdgfe *fe, int head), const char *why)
{
	struct vdgfe_config cfg;
	struct vdgfe *fe;
	struct vdgfe_buf out = {0, 24}, in = {0, 24};
	struct virtio_gpu_ctrl_hdr h;
	uint32_t bases[2];
	char line[160];
	int head;

	own_start(&cfg);
	fe = itest_fe_start(&cfg);

	vdgfe_gpu_hdr(fe, &h, VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
	assert_int_equal(vdgfe_mem_alloc(fe, 4096, 4096, 0, &out.gpa), 0);
	in.gpa = out.gpa + 2048;
	assert_int_equal(vdgfe_mem_write(fe, out.gpa, &h, sizeof(h)), 0);
	head = vdgfe_vq_add(fe, &fe->vqs[VDGFE_CTRLQ], &out, 1, &in, 1, 0, NULL);
	assert_true(head >= 0);
	corrupt(fe, head);
	assert_true(vdgfe_vq_kick(&fe->vqs[VDGFE_CTRLQ], true) >= 0);
	/* the queue stops: nothing comes back */
	assert_int_equal(vdgfe_wait(fe, used_arrived, NULL, 500), -ETIMEDOUT);
	assert_true(itest_daemon_alive(&own));
	/* and the daemon says why, tagged as the guest's doing */
	snprintf(line, sizeof(line), "guest: queue 0 stopped: %s", why);
	if (!itest_daemon_log_contains(&own, line)) {
		fail_msg("no \"%s\" in the daemon's log", line);
	}
	/* kicked again, the stopped queue is left alone: no second line */
	assert_true(vdgfe_vq_kick(&fe->vqs[VDGFE_CTRLQ], true) >= 0);
	assert_int_equal(vdgfe_wait(fe, used_arrived, NULL, 100), -ETIMEDOUT);
	/* only that queue: the cursor queue and the control socket still answer */
	assert_int_equal(vdgfe_gpu_move_cursor(fe, 0, 1, 1), OK);
	assert_int_equal(itest_daemon_log_count(&own, "queue 0 stopped"), 1);
	assert_int_equal(vdgfe_stop(fe, false, bases), 0);
	assert_int_equal(bases[1], 1);
	itest_fe_destroy();
	check_serves_at(own.sock);
	own_stop();
}

static void desc_outside(struct vdgfe *fe, int head)
{
	struct vdgfe_vq *vq = &fe->vqs[VDGFE_CTRLQ];
	uint16_t next = vq->next[head];

	/* the writable descriptor points past the end of guest RAM */
	vq->desc[next].addr = htole64(fe->cfg.mem_size + 0x100000);
}

static void desc_loop(struct vdgfe *fe, int head)
{
	struct vdgfe_vq *vq = &fe->vqs[VDGFE_CTRLQ];
	uint16_t next = vq->next[head];

	/* the last (writable) descriptor continues with itself, forever */
	vq->desc[next].flags = htole16(le16toh(vq->desc[next].flags) | VRING_DESC_F_NEXT);
	vq->desc[next].next = htole16(next);
}

static void desc_back_to_head(struct vdgfe *fe, int head)
{
	struct vdgfe_vq *vq = &fe->vqs[VDGFE_CTRLQ];
	uint16_t next = vq->next[head];

	/* the last descriptor continues with the first: a readable one after a writable one */
	vq->desc[next].flags = htole16(le16toh(vq->desc[next].flags) | VRING_DESC_F_NEXT);
	vq->desc[next].next = htole16((uint16_t)head);
}

static void desc_head_range(struct vdgfe *fe, int head)
{
	struct vdgfe_vq *vq = &fe->vqs[VDGFE_CTRLQ];
	uint16_t slot = (uint16_t)((vq->avail_shadow - 1) & (vq->num - 1));

	/* the avail ring names a descriptor past the table */
	vq->avail->ring[slot] = htole16((uint16_t)(vq->num + 3));
	(void)head;
}

static void test_bad_ring_outside(void **state)
{
	(void)state;
	bad_ring(desc_outside, "descriptor outside guest memory");
}

static void test_bad_ring_loop(void **state)
{
	(void)state;
	bad_ring(desc_loop, "descriptor chain loops or is too long");
}

static void test_bad_ring_order(void **state)
{
	(void)state;
	bad_ring(desc_back_to_head, "readable descriptor after a writable one");
}

static void test_bad_ring_head(void **state)
{
	(void)state;
	bad_ring(desc_head_range, "head descriptor index out of range");
}

/* ---- guest memory replaced under resources ----------------------------------------------- */

#define MEM_W 64u
#define MEM_H 32u
#define MEM_SIZE (MEM_W * MEM_H * 4u)

static void fill32(uint8_t *p, uint32_t c, size_t bytes)
{
	for (size_t i = 0; i < bytes; i += 4) {
		memcpy(p + i, &c, 4);
	}
}

/* Transfers and flushes all of resource 1 (on scanout 0); every pixel must be want. */
static void check_screen_colour(struct vdgfe *fe, uint32_t want)
{
	uint64_t n = fe->sink.counts[VUGPU_UPDATE];

	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, 1, 0, 0, MEM_W, MEM_H, 0), OK);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 1, 0, 0, MEM_W, MEM_H), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, n + 1), 0);
	for (uint32_t y = 0; y < MEM_H; y++) {
		for (uint32_t x = 0; x < MEM_W; x++) {
			bool ok = false;
			uint32_t got = vdgfe_sink_pixel(&fe->sink, 0, x, y, &ok) & 0xffffff;

			assert_true(ok);
			if (got != (want & 0xffffff)) {
				fail_msg("pixel %u,%u is 0x%06x, want 0x%06x", x, y, got,
				        want & 0xffffff);
			}
		}
	}
}

/*
 * Guest RAM in two regions with a hole between them; resource 1 (on screen)
 * has a backing of three entries in region 1. Returns the backing's GPA.
 */
static uint64_t backed_in_region1(struct vdgfe *fe, uint32_t colour)
{
	uint64_t b = fe->regions[1].gpa + 8192;
	struct {
		struct virtio_gpu_resource_attach_backing a;
		struct virtio_gpu_mem_entry e[3];
	} req;
	uint32_t sizes[3] = {MEM_SIZE / 2, 4, MEM_SIZE / 2 - 4};
	uint64_t at = b;

	assert_int_equal(vdgfe_mem_alloc_at(fe, b, MEM_SIZE), 0);
	for (uint32_t i = 0; i < MEM_W * MEM_H; i++) {
		assert_int_equal(vdgfe_mem_write(fe, b + 4ull * i, &colour, 4), 0);
	}
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 1, XRGB, MEM_W, MEM_H), OK);
	memset(&req, 0, sizeof(req));
	vdgfe_gpu_hdr(fe, &req.a.hdr, VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING);
	req.a.resource_id = htole32(1);
	req.a.nr_entries = htole32(3);
	for (unsigned int i = 0; i < 3; i++) {
		req.e[i].addr = htole64(at);
		req.e[i].length = htole32(sizes[i]);
		at += sizes[i];
	}
	assert_int_equal(itest_exec(fe, VDGFE_CTRLQ, &req, sizeof(req)), OK);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 1, 0, 0, MEM_W, MEM_H), OK);
	check_screen_colour(fe, colour);
	return b;
}

/* A frontend with guest RAM in two regions, on a daemon of its own (its log is checked). */
static struct vdgfe *two_region_frontend(bool mem_slots)
{
	struct vdgfe_config cfg;

	own_start(&cfg);
	cfg.split_mem = true;
	cfg.region_gap = UINT64_C(1) << 20;
	cfg.use_mem_slots = mem_slots;
	return itest_fe_start(&cfg);
}

/*
 * SET_MEM_TABLE again while resource 1 keeps its backing in region 1. The
 * daemon keeps guest addresses, not pointers (docs/security.md rule 3):
 * after a new memfd replaces region 1 the next TRANSFER_TO_HOST_2D reads
 * the new memory (the old mapping is gone from the daemon: a stale pointer
 * would fault, or read bytes we no longer show); with region 1 left out of
 * the table the transfer answers ERR_UNSPEC; with it back, it works again.
 */
static void test_mem_table_replaced(void **state)
{
	struct vdgfe *fe = two_region_frontend(false);
	size_t size1 = fe->regions[1].size;
	uint64_t b = backed_in_region1(fe, 0x00a00000);
	uint64_t off = b - fe->regions[1].gpa;
	uint8_t *map;
	int fd = itest_memfd(size1, &map);

	(void)state;
	fill32(map + off, 0x0000b000, MEM_SIZE);
	assert_int_equal(itest_set_mem_table(fe, fd, map), 0);
	check_screen_colour(fe, 0x0000b000);
	/* writes to the old memory are not seen any more */
	fill32(fe->regions[1].hva + off, 0x00c0c0c0, MEM_SIZE);
	check_screen_colour(fe, 0x0000b000);
	fill32(map + off, 0x000000d0, MEM_SIZE);
	check_screen_colour(fe, 0x000000d0);

	/* region 1 gone: the backing is outside guest memory */
	assert_int_equal(itest_set_mem_table(fe, -1, NULL), 0);
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, 1, 0, 0, MEM_W, MEM_H, 0), E_UNSPEC);
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, 1, 0, 0, 1, 1, 0), E_UNSPEC);
	/* what the resource already holds still shows */
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 1, 0, 0, MEM_W, MEM_H), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, 5), 0);
	bool ok = false;

	assert_int_equal(vdgfe_sink_pixel(&fe->sink, 0, 5, 5, &ok) & 0xffffff, 0x0000d0);
	/* a new backing there is refused */
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 2, XRGB, 4, 4), OK);
	assert_int_equal(vdgfe_gpu_attach_backing(fe, 2, b, 64, 0), E_UNSPEC);

	/* the original region 1 back: the same guest addresses read its memory */
	assert_int_equal(itest_set_mem_table(fe, fe->regions[1].fd, fe->regions[1].hva), 0);
	check_screen_colour(fe, 0x00c0c0c0);
	/* detach and attach again in the restored memory */
	assert_int_equal(vdgfe_gpu_detach_backing(fe, 1), OK);
	assert_int_equal(vdgfe_gpu_attach_backing(fe, 1, b, MEM_SIZE, 1000), OK);
	fill32(fe->regions[1].hva + off, 0x00102030, MEM_SIZE);
	check_screen_colour(fe, 0x00102030);
	munmap(map, size1);
	close(fd);
	assert_int_equal(fe->sink.violations, 0);
	itest_fe_destroy();
	check_serves_at(own.sock);
	own_stop();
}

static int mem_reg(struct vdgfe *fe, uint32_t req, int fd, uint8_t *hva)
{
	struct vu_single_mem_region m = {0};

	m.region =
	        (struct vu_mem_region){fe->regions[1].gpa, fe->regions[1].size, (uintptr_t)hva, 0};
	return vdgfe_send(fe, req, &m, sizeof(m), fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0, true);
}

/* The same with REM_MEM_REG and ADD_MEM_REG (memory slots, as QEMU does on hotplug). */
static void test_mem_region_removed(void **state)
{
	struct vdgfe *fe = two_region_frontend(true);
	size_t size1 = fe->regions[1].size;
	uint64_t b = backed_in_region1(fe, 0x00a00000);
	uint64_t off = b - fe->regions[1].gpa;
	uint8_t *map;
	int fd = itest_memfd(size1, &map);

	(void)state;
	assert_true(vu_has_bit(fe->protocol, VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS));
	assert_int_equal(mem_reg(fe, VU_REQ_REM_MEM_REG, -1, fe->regions[1].hva), 0);
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, 1, 0, 0, MEM_W, MEM_H, 0), E_UNSPEC);
	/* the same guest range from another memfd */
	fill32(map + off, 0x0000b000, MEM_SIZE);
	assert_int_equal(mem_reg(fe, VU_REQ_ADD_MEM_REG, fd, map), 0);
	check_screen_colour(fe, 0x0000b000);
	/* a region that overlaps it is refused, the mapping stays */
	assert_int_equal(
	        mem_reg(fe, VU_REQ_ADD_MEM_REG, fe->regions[1].fd, fe->regions[1].hva), -EIO);
	check_screen_colour(fe, 0x0000b000);
	/* swapped back to the original memfd */
	assert_int_equal(mem_reg(fe, VU_REQ_REM_MEM_REG, -1, map), 0);
	munmap(map, size1);
	close(fd);
	fill32(fe->regions[1].hva + off, 0x00c0c0c0, MEM_SIZE);
	assert_int_equal(mem_reg(fe, VU_REQ_ADD_MEM_REG, fe->regions[1].fd, fe->regions[1].hva), 0);
	check_screen_colour(fe, 0x00c0c0c0);
	/* the rings' region removed under running rings: the queues stop, the session lives */
	struct vu_single_mem_region m0 = {0};
	struct virtio_gpu_update_cursor mc;
	struct vdgfe_cmd *cmd = NULL;
	uint64_t v = 0;

	m0.region = (struct vu_mem_region){
	        fe->regions[0].gpa, fe->regions[0].size, (uintptr_t)fe->regions[0].hva, 0};
	assert_int_equal(vdgfe_send(fe, VU_REQ_REM_MEM_REG, &m0, sizeof(m0), NULL, 0, true), 0);
	memset(&mc, 0, sizeof(mc));
	vdgfe_gpu_hdr(fe, &mc.hdr, VIRTIO_GPU_CMD_MOVE_CURSOR);
	assert_int_equal(vdgfe_gpu_submit(fe, VDGFE_CURSORQ, &mc, sizeof(mc), 24, NULL, &cmd), 0);
	assert_int_equal(vdgfe_gpu_wait(fe, cmd, 300), -ETIMEDOUT);
	assert_int_equal(vdgfe_get_u64(fe, VU_REQ_GET_QUEUE_NUM, &v), 0);
	assert_int_equal(v, 2);
	/* the daemon said why, for both queues and the transfer */
	assert_true(itest_daemon_log_contains(
	        &own, "frontend: queue 0: ring no longer inside guest memory"));
	assert_true(itest_daemon_log_contains(
	        &own, "frontend: queue 1: ring no longer inside guest memory"));
	assert_true(itest_daemon_log_contains(
	        &own, "guest: TRANSFER_TO_HOST_2D: backing of resource 1 not readable"));
	/* the memory back and the rings restarted (a stop is not a reset): all goes on */
	assert_int_equal(
	        vdgfe_send(fe, VU_REQ_ADD_MEM_REG, &m0, sizeof(m0), &fe->regions[0].fd, 1, true),
	        0);
	assert_int_equal(vdgfe_stop(fe, false, NULL), 0);
	vdgfe_sink_reset_state(&fe->sink);
	assert_int_equal(vdgfe_start(fe), 0);
	assert_true(vdgfe_vq_kick(&fe->vqs[VDGFE_CURSORQ], true) >= 0);
	assert_int_equal(vdgfe_gpu_wait(fe, cmd, ITEST_TIMEOUT_MS), 0);
	assert_int_equal(vdgfe_cmd_resp_type(fe, cmd), OK);
	vdgfe_cmd_free(fe, cmd);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 1, 0, 0, MEM_W, MEM_H), OK);
	check_screen_colour(fe, 0x00c0c0c0);
	assert_int_equal(fe->sink.violations, 0);
	itest_fe_destroy();
	check_serves_at(own.sock);
	own_stop();
}

/* ---- guest-caused log lines ------------------------------------------------------------ */

static size_t build_bad_unref(struct vdgfe *fe, uint32_t i, void *buf, void *arg)
{
	struct virtio_gpu_resource_unref *u = buf;

	(void)arg;
	memset(u, 0, sizeof(*u));
	vdgfe_gpu_hdr(fe, &u->hdr, VIRTIO_GPU_CMD_RESOURCE_UNREF);
	u->resource_id = htole32(100000 + i);
	return sizeof(*u);
}

/* Sum of the "(N similar messages suppressed)" counts in the daemon's log. */
static unsigned long suppressed_total(const struct itest_daemon *d, unsigned int *ret_lines)
{
	char *log = itest_daemon_log(d);
	unsigned long total = 0;
	unsigned int lines = 0;

	for (char *p = log; p && (p = strstr(p, " similar messages suppressed)"));) {
		char *q = p;

		while (q > log && q[-1] >= '0' && q[-1] <= '9') {
			q--;
		}
		assert_true(q < p && q > log && q[-1] == '(');
		total += strtoul(q, NULL, 10);
		lines++;
		p++;
	}
	free(log);
	*ret_lines = lines;
	return total;
}

/*
 * 1000 bad commands from the guest: each is answered, but the daemon logs
 * at most LOG_PEER_BURST (10) lines per 5 s, then, with the next line after
 * the interval, how many it suppressed. Every one of the 1001 is accounted
 * for: printed or counted.
 */
static void test_guest_log_rate_limited(void **state)
{
	const unsigned int n = 1000;
	struct vdgfe_config cfg;
	struct vdgfe *fe;
	unsigned int printed, peer, supp_lines;
	unsigned long supp;
	double t0;

	(void)state;
	own_start(&cfg);
	cfg.ctrl_qsize = 1024;
	fe = itest_fe_start(&cfg);
	/* a clean session logs nothing on the guest's or the frontend's behalf */
	assert_int_equal(itest_daemon_log_count(&own, "] guest: "), 0);
	assert_int_equal(itest_daemon_log_count(&own, "] frontend: "), 0);
	t0 = now_s();
	itest_batch(fe, n, build_bad_unref, NULL, E_RES);
	printed = itest_daemon_log_count(&own, "guest: RESOURCE_UNREF: no resource");
	fprintf(stderr, "it-sessions: %u bad commands in %.2f s, %u log lines\n", n, now_s() - t0,
	        printed);
	/* the first ones get through; the rest are held back */
	assert_true(itest_daemon_log_contains(&own, "guest: RESOURCE_UNREF: no resource 100000\n"));
	assert_true(printed >= LOG_BURST);
	assert_true(printed <= LOG_BURST * (1 + (unsigned int)((now_s() - t0) / LOG_INTERVAL_S)));
	assert_true(printed < n / 10);
	/* after the interval, the next line reports what was suppressed */
	while (now_s() < t0 + LOG_INTERVAL_S + 0.3) {
		usleep(50000);
	}
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 200000), E_RES);
	assert_true(itest_daemon_log_contains(&own, "guest: RESOURCE_UNREF: no resource 200000 ("));
	printed = itest_daemon_log_count(&own, "guest: RESOURCE_UNREF: no resource");
	peer = itest_daemon_log_count(&own, "] guest: ") +
	       itest_daemon_log_count(&own, "] frontend: ");
	supp = suppressed_total(&own, &supp_lines);
	fprintf(stderr, "it-sessions: %u lines printed, %lu suppressed (reported in %u lines)\n",
	        printed, supp, supp_lines);
	assert_int_equal(peer, printed);
	assert_true(supp_lines >= 1);
	assert_int_equal(printed + supp, n + 1);
	own_stop();
}

/* ---- CVE-2021-3544: repeated commands on error paths ------------------------------------- */

struct bad_attach {
	uint32_t id, n, sent;
	uint64_t gpa, bad_gpa;
};

/* ATTACH_BACKING of a->n entries announced, a->sent of them sent; the last sent may be bad. */
static size_t build_attach(struct vdgfe *fe, uint32_t i, void *buf, void *arg)
{
	const struct bad_attach *a = arg;
	struct virtio_gpu_resource_attach_backing *req = buf;
	struct virtio_gpu_mem_entry *e = (struct virtio_gpu_mem_entry *)(req + 1);

	(void)i;
	memset(req, 0, sizeof(*req));
	vdgfe_gpu_hdr(fe, &req->hdr, VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING);
	req->resource_id = htole32(a->id);
	req->nr_entries = htole32(a->n);
	for (uint32_t k = 0; k < a->sent; k++) {
		bool bad = a->bad_gpa && k == a->sent - 1;

		e[k].addr = htole64(bad ? a->bad_gpa : a->gpa + k * 1024ull);
		e[k].length = htole32(1024);
		e[k].padding = 0;
	}
	return sizeof(*req) + a->sent * sizeof(*e);
}

struct bad_create {
	uint32_t id, format, w, h;
};

static size_t build_create(struct vdgfe *fe, uint32_t i, void *buf, void *arg)
{
	const struct bad_create *c = arg;
	struct virtio_gpu_resource_create_2d *req = buf;

	(void)i;
	memset(req, 0, sizeof(*req));
	vdgfe_gpu_hdr(fe, &req->hdr, VIRTIO_GPU_CMD_RESOURCE_CREATE_2D);
	req->resource_id = htole32(c->id);
	req->format = htole32(c->format);
	req->width = htole32(c->w);
	req->height = htole32(c->h);
	return sizeof(*req);
}

static size_t build_by_id(struct vdgfe *fe, uint32_t i, void *buf, void *arg)
{
	const uint32_t *type_id = arg;
	struct virtio_gpu_resource_detach_backing *req = buf;

	(void)i;
	memset(req, 0, sizeof(*req));
	vdgfe_gpu_hdr(fe, &req->hdr, type_id[0]);
	req->resource_id = htole32(type_id[1]);
	return type_id[0] == VIRTIO_GPU_CMD_GET_EDID ? sizeof(struct virtio_gpu_cmd_get_edid)
	                                             : sizeof(*req);
}

/*
 * QEMU's vhost-user-gpu leaked on repeated commands (ATTACH_BACKING on a
 * resource that has one, error paths of creation and capsets:
 * CVE-2021-3544). Each bad command here is sent 500 times and must get its
 * error; the resource it targets keeps working; the host-memory budget is
 * whole afterwards (an accounting leak would refuse the final 1 GiB); and
 * the daemon, one of our own, must exit with no LeakSanitizer report (under
 * ASan). The 3D paths (capsets, 3D resources) are in test-3d.c.
 */
static void test_repeated_errors_no_leak(void **state)
{
	const uint32_t reps = 500, w = 64, h = 64;
	struct vdgfe_config cfg;
	struct vdgfe *fe;
	uint64_t gpa, mem;

	(void)state;
	own_start(&cfg);
	cfg.ctrl_qsize = 1024;
	fe = itest_fe_start(&cfg);
	mem = fe->cfg.mem_size;
	gpa = itest_resource(fe, 1, XRGB, w, h);
	for (uint32_t i = 0; i < w * h; i++) {
		uint32_t c = 0x00345678;

		assert_int_equal(vdgfe_mem_write(fe, gpa + 4ull * i, &c, 4), 0);
	}
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 2, XRGB, w, h), OK);

	/* ATTACH_BACKING on a resource that has one */
	struct bad_attach again = {1, 4, 4, gpa, 0};
	/* the entries are copied and checked, the last one is outside guest RAM */
	struct bad_attach outside = {2, 16, 16, gpa, mem + 4096};
	/* more entries announced than sent, and more than the limit */
	struct bad_attach short_req = {2, 64, 8, gpa, 0};
	struct bad_attach over = {2, 16385, 1, gpa, 0};

	itest_batch(fe, reps, build_attach, &again, E_UNSPEC);
	itest_batch(fe, reps, build_attach, &outside, E_UNSPEC);
	itest_batch(fe, reps, build_attach, &short_req, E_UNSPEC);
	itest_batch(fe, reps, build_attach, &over, E_UNSPEC);
	/* RESOURCE_CREATE_2D: id in use, bad format, bad size, over the budget */
	struct bad_create in_use = {1, XRGB, 8, 8}, bad_fmt = {3, 0, 8, 8},
	                  bad_size = {3, XRGB, 0x40000001u, 1}, too_big = {3, XRGB, 16384, 16384};

	itest_batch(fe, reps, build_create, &in_use, E_RES);
	itest_batch(fe, reps, build_create, &bad_fmt, E_PARAM);
	itest_batch(fe, reps, build_create, &bad_size, E_PARAM);
	itest_batch(fe, reps, build_create, &too_big, E_OOM);
	/* DETACH without backing, UNREF and TRANSFER of what is not there, EDID past the scanouts
	 */
	uint32_t detach[2] = {VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, 2};
	uint32_t unref[2] = {VIRTIO_GPU_CMD_RESOURCE_UNREF, 3};
	uint32_t edid[2] = {VIRTIO_GPU_CMD_GET_EDID, 16};

	itest_batch(fe, reps, build_by_id, detach, E_UNSPEC);
	itest_batch(fe, reps, build_by_id, unref, E_RES);
	itest_batch(fe, reps, build_by_id, edid, E_PARAM);
	/* the good paths, repeated: attach and detach, create and unref */
	for (uint32_t i = 0; i < 100; i++) {
		assert_int_equal(
		        vdgfe_gpu_attach_backing(fe, 2, gpa, (uint64_t)w * h * 4, 4096), OK);
		assert_int_equal(vdgfe_gpu_detach_backing(fe, 2), OK);
		assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 3, XRGB, w, h), OK);
		assert_int_equal(vdgfe_gpu_attach_backing(fe, 3, gpa, (uint64_t)w * h * 4, 0), OK);
		assert_int_equal(vdgfe_gpu_resource_unref(fe, 3), OK);
	}
	/* resource 1's backing survived every refused attach */
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, 1, 0, 0, w, h, 0), OK);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 1, 0, 0, w, h), OK);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 1, 0, 0, w, h), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, 1), 0);
	bool ok = false;

	assert_int_equal(vdgfe_sink_pixel(&fe->sink, 0, w - 1, h - 1, &ok) & 0xffffff, 0x345678);
	assert_true(ok);
	/* the whole budget is free again once the two resources are gone */
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 1), OK);
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 2), OK);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 4, XRGB, 16384, 16384), OK);
	assert_int_equal(vdgfe_gpu_resource_create_2d(fe, 5, XRGB, 1, 1), E_OOM);
	/* and the daemon's LeakSanitizer has its say at exit */
	own_stop();
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_reconnect_200, itest_teardown),
	        cmocka_unit_test_teardown(test_disconnect_mid_message, itest_teardown),
	        cmocka_unit_test_teardown(test_disconnect_with_queued, itest_teardown),
	        cmocka_unit_test_teardown(test_reset_device, itest_teardown),
	        cmocka_unit_test_teardown(test_vring_base, itest_teardown),
	        cmocka_unit_test_teardown(test_bad_ring_outside, own_teardown),
	        cmocka_unit_test_teardown(test_bad_ring_loop, own_teardown),
	        cmocka_unit_test_teardown(test_bad_ring_order, own_teardown),
	        cmocka_unit_test_teardown(test_bad_ring_head, own_teardown),
	        cmocka_unit_test_teardown(test_mem_table_replaced, own_teardown),
	        cmocka_unit_test_teardown(test_mem_region_removed, own_teardown),
	        cmocka_unit_test_teardown(test_guest_log_rate_limited, own_teardown),
	        cmocka_unit_test_teardown(test_repeated_errors_no_leak, own_teardown),
	};

	itest_init(argc, argv);
	return itest_exit(cmocka_run_group_tests(tests, itest_group_setup, itest_group_teardown));
}
