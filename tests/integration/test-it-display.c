/* SPDX-License-Identifier: MIT */
/*
 * What reaches the display, pixel for pixel, against the real daemon: the 8
 * formats converted to x8r8g8b8 (expected values computed from each
 * format's byte order, virtio-gpu.md §7), full 1280x800 and 1920x1080
 * frames, and the display channel: protocol features of QEMU 7.2, 8.1 and
 * 8.2+, a second GPU_SET_SOCKET replacing the first, the frontend closing
 * the socket (even with a frame half sent) and a new socket after that.
 *
 * Faults while the daemon waits for a display reply (GET_DISPLAY_INFO, or
 * GET_EDID, which may ask for the display info first): the frontend closes
 * both sockets (the next frontend is served), closes only the display socket
 * (the guest gets the daemon's own answer and the queued commands run), or
 * never answers (the reply timeout answers for it).
 *
 * Usage: test-it-display path/to/vhost-device-gpu
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

#define OK VIRTIO_GPU_RESP_OK_NODATA
#define XRGB VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM

/* Guest bytes of pixel (x, y): every channel and position differs. */
static void guest_bytes(uint32_t x, uint32_t y, uint8_t b[4])
{
	b[0] = (uint8_t)(x * 3 + y);
	b[1] = (uint8_t)(y * 5 + 17);
	b[2] = (uint8_t)(x ^ (y << 2));
	b[3] = (uint8_t)(x + y * 7 + 99);
}

/* Resource id of format fmt, w x h, filled with guest_bytes(), shown whole on scanout 0. */
static void show_resource(struct vdgfe *fe, uint32_t id, uint32_t fmt, uint32_t w, uint32_t h)
{
	uint64_t gpa = itest_resource(fe, id, fmt, w, h);
	uint8_t *row = malloc((size_t)w * 4);

	assert_non_null(row);
	for (uint32_t y = 0; y < h; y++) {
		for (uint32_t x = 0; x < w; x++) {
			guest_bytes(x, y, &row[x * 4]);
		}
		assert_int_equal(
		        vdgfe_mem_write(fe, gpa + (uint64_t)y * w * 4, row, (size_t)w * 4), 0);
	}
	free(row);
	assert_int_equal(vdgfe_gpu_transfer_to_host_2d(fe, id, 0, 0, w, h, 0), OK);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, id, 0, 0, w, h), OK);
	uint64_t n = fe->sink.counts[VUGPU_UPDATE];

	assert_int_equal(vdgfe_gpu_resource_flush(fe, id, 0, 0, w, h), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, n + 1), 0);
}

/* Compares the whole of scanout 0 with what fmt's bytes must look like. */
static void check_screen(struct vdgfe *fe, uint32_t fmt, uint32_t w, uint32_t h)
{
	const struct vdgfe_fb *fb = &fe->sink.fb[0];

	assert_int_equal(fb->width, w);
	assert_int_equal(fb->height, h);
	for (uint32_t y = 0; y < h; y++) {
		for (uint32_t x = 0; x < w; x++) {
			uint8_t b[4];
			uint32_t got = fb->pixels[(size_t)y * w + x] & 0xffffff, want;

			guest_bytes(x, y, b);
			want = itest_expected_xrgb(fmt, b);
			if (got != want) {
				fail_msg("format %u, pixel %u,%u: 0x%06x, want 0x%06x", fmt, x, y,
				        got, want);
			}
		}
	}
}

static void test_formats(void **state)
{
	static const uint32_t formats[] = ITEST_ALL_FORMATS;
	struct vdgfe *fe = itest_fe_start(NULL);

	(void)state;
	for (unsigned int i = 0; i < 8; i++) {
		/* odd sizes: no row is a multiple of anything convenient */
		show_resource(fe, 1 + i, formats[i], 61, 37);
		check_screen(fe, formats[i], 61, 37);
		assert_int_equal(fe->sink.last_update.width, 61);
		assert_int_equal(fe->sink.last_update.height, 37);
	}
	/* a converted format with a sub-rect flush lands at the right place */
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 8, 13, 11, 7, 5), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, 9), 0);
	assert_int_equal(fe->sink.last_update.x, 13);
	assert_int_equal(fe->sink.last_update.y, 11);
	uint8_t b[4];

	guest_bytes(13, 11, b);
	assert_int_equal(
	        fe->sink.last_update_first_px & 0xffffff, itest_expected_xrgb(formats[7], b));
	guest_bytes(19, 15, b);
	assert_int_equal(
	        fe->sink.last_update_last_px & 0xffffff, itest_expected_xrgb(formats[7], b));
	assert_int_equal(fe->sink.violations, 0);
}

static void test_full_frames(void **state)
{
	struct vdgfe_config cfg;
	struct vdgfe *fe;

	(void)state;
	itest_config(&cfg);
	cfg.mem_size = UINT64_C(128) << 20;
	fe = itest_fe_start(&cfg);
	show_resource(fe, 1, XRGB, 1280, 800);
	check_screen(fe, XRGB, 1280, 800);
	assert_int_equal(fe->sink.update_bytes, 1280 * 800 * 4);
	show_resource(fe, 2, XRGB, 1920, 1080);
	check_screen(fe, XRGB, 1920, 1080);
	/* the same size converted: R8G8B8X8 is not x8r8g8b8 */
	show_resource(fe, 3, VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, 1920, 1080);
	check_screen(fe, VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, 1920, 1080);
	assert_int_equal(fe->sink.update_bytes, (1280 * 800 + 2 * 1920 * 1080) * 4);
	assert_int_equal(fe->sink.violations, 0);
}

/* One converted resource on two scanouts: each gets its own part, from one flush. */
static void test_two_scanouts(void **state)
{
	const uint32_t fmt = VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, w = 1280, h = 800;
	struct vdgfe_config cfg;
	struct vdgfe *fe;

	(void)state;
	itest_config(&cfg);
	cfg.sink.outputs = 2;
	cfg.mem_size = UINT64_C(128) << 20;
	fe = itest_fe_start(&cfg);
	/* 2560 wide: scanout 0 shows the left half, scanout 1 the right one */
	show_resource(fe, 1, fmt, 2 * w, h);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 1, 0, 0, w, h), OK);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 1, 1, w, 0, w, h), OK);
	uint64_t n = fe->sink.counts[VUGPU_UPDATE];

	assert_int_equal(vdgfe_gpu_resource_flush(fe, 1, 0, 0, 2 * w, h), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, n + 2), 0);
	for (unsigned int s = 0; s < 2; s++) {
		const struct vdgfe_fb *fb = &fe->sink.fb[s];

		assert_int_equal(fb->width, w);
		assert_int_equal(fb->height, h);
		for (uint32_t y = 0; y < h; y++) {
			for (uint32_t x = 0; x < w; x++) {
				uint8_t b[4];
				uint32_t got = fb->pixels[(size_t)y * w + x] & 0xffffff;

				guest_bytes(x + s * w, y, b);
				if (got != itest_expected_xrgb(fmt, b)) {
					fail_msg("scanout %u pixel %u,%u: 0x%06x, want 0x%06x", s,
					        x, y, got, itest_expected_xrgb(fmt, b));
				}
			}
		}
	}
	/* damage across the middle: two UPDATEs at the scanouts' own coordinates */
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 1, w - 10, 5, 20, 7), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, n + 4), 0);
	assert_int_equal(fe->sink.last_update.scanout_id, 1);
	assert_int_equal(fe->sink.last_update.x, 0);
	assert_int_equal(fe->sink.last_update.y, 5);
	assert_int_equal(fe->sink.last_update.width, 10);
	assert_int_equal(fe->sink.last_update.height, 7);
	assert_int_equal(fe->sink.violations, 0);
}

/* ---- the display channel ---- */

static void test_protocol_features(void **state)
{
	static const uint64_t offers[] = {0, 0x1, 0x3};

	(void)state;
	for (unsigned int i = 0; i < 3; i++) {
		struct vdgfe_config cfg;
		struct vdgfe *fe;

		itest_config(&cfg);
		cfg.sink.protocol_features = offers[i];
		fe = itest_fe_start(&cfg);
		show_resource(fe, 1, XRGB, 40, 30);
		check_screen(fe, XRGB, 40, 30);
		assert_int_equal(fe->sink.counts[VUGPU_GET_PROTOCOL_FEATURES], 1);
		assert_true(fe->sink.set_protocol_seen);
		/*
		 * offered & supported: EDID and DMABUF2 (taken whenever offered;
		 * a 2d daemon just never has a dma-buf to send)
		 */
		assert_int_equal(fe->sink.set_protocol_features, offers[i] & 0x3);
		assert_int_equal(fe->sink.counts[VUGPU_SET_PROTOCOL_FEATURES], 1);
		assert_int_equal(fe->sink.counts[VUGPU_REQUEST_MAX], 0);
		assert_int_equal(fe->sink.counts[VUGPU_DMABUF_SCANOUT], 0);
		assert_int_equal(fe->sink.violations, 0);
		itest_fe_destroy();
	}
}

static int new_display_socket(struct vdgfe *fe)
{
	int sv[2], r;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	vdgfe_sink_attach(&fe->sink, sv[0]);
	vdgfe_sink_reset_state(&fe->sink);
	r = vdgfe_send(fe, VU_REQ_GPU_SET_SOCKET, NULL, 0, &sv[1], 1, true);
	close(sv[1]);
	return r;
}

static void test_second_set_socket(void **state)
{
	struct vdgfe *fe = itest_fe_start(NULL);
	char c;
	int old;

	(void)state;
	show_resource(fe, 1, XRGB, 32, 32);
	/* keep the first socket open: the daemon, not we, must let go of it */
	old = dup(fe->sink.fd);
	assert_true(old >= 0);
	assert_int_equal(new_display_socket(fe), 0);
	/* the new channel negotiates again */
	assert_int_equal(itest_wait_sink(fe, VUGPU_GET_PROTOCOL_FEATURES, 1), 0);
	/* a new surface and a frame: on the new socket */
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 1, 0, 0, 32, 32), OK);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 1, 0, 0, 32, 32), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, 1), 0);
	check_screen(fe, XRGB, 32, 32);
	/* the old socket got nothing more and was closed by the daemon */
	fcntl(old, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < 500; i++) {
		ssize_t n = recv(old, &c, 1, 0);

		if (n == 0) {
			break;
		}
		assert_true(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
		usleep(10000);
		assert_true(i < 499); /* EOF within 5 s */
	}
	close(old);
	assert_int_equal(fe->sink.violations, 0);
}

static void test_display_closed(void **state)
{
	struct vdgfe_config cfg;
	struct virtio_gpu_resp_display_info info;
	struct virtio_gpu_resp_edid edid;
	struct vdgfe_cmd *flush = NULL;
	struct vdgfe_cmd *more[4];
	struct vdgfe *fe;

	(void)state;
	itest_config(&cfg);
	cfg.mem_size = UINT64_C(128) << 20;
	fe = itest_fe_start(&cfg);
	show_resource(fe, 1, XRGB, 1920, 1080);
	/* a full frame goes out, then the frontend closes the socket without reading it */
	struct virtio_gpu_resource_flush f;

	memset(&f, 0, sizeof(f));
	f.hdr.type = htole32(VIRTIO_GPU_CMD_RESOURCE_FLUSH);
	f.r.width = htole32(1920);
	f.r.height = htole32(1080);
	f.resource_id = htole32(1);
	assert_int_equal(vdgfe_gpu_submit(fe, VDGFE_CTRLQ, &f, sizeof(f), 24, NULL, &flush), 0);
	for (unsigned int i = 0; i < 4; i++) {
		assert_int_equal(
		        vdgfe_gpu_submit(fe, VDGFE_CTRLQ, &f, sizeof(f), 24, NULL, &more[i]), 0);
	}
	usleep(20000);
	vdgfe_sink_close(&fe->sink);
	assert_int_equal(vdgfe_gpu_wait_all(fe, -1), 0);
	assert_int_equal(vdgfe_cmd_resp_type(fe, flush), OK);
	vdgfe_cmd_free(fe, flush);
	for (unsigned int i = 0; i < 4; i++) {
		assert_int_equal(vdgfe_cmd_resp_type(fe, more[i]), OK);
		vdgfe_cmd_free(fe, more[i]);
	}
	/* without a display every command still completes */
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 1, 0, 0, 64, 64), OK);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 1, 0, 0, 1920, 1080), OK);
	assert_int_equal(vdgfe_gpu_get_display_info(fe, &info), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	assert_int_equal(vdgfe_gpu_get_edid(fe, 0, &edid), VIRTIO_GPU_RESP_OK_EDID);
	assert_int_equal(vdgfe_gpu_update_cursor(fe, 0, 1, 1, 0, 0, 0), OK);
	/* the next socket (QEMU's next DRIVER_OK) works */
	assert_int_equal(vdgfe_stop(fe, false, NULL), 0);
	vdgfe_sink_reset_state(&fe->sink);
	assert_int_equal(vdgfe_start(fe), 0);
	assert_int_equal(vdgfe_gpu_get_display_info(fe, &info), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	assert_int_equal(fe->sink.counts[VUGPU_GET_DISPLAY_INFO], 1);
	assert_int_equal(le32toh(info.pmodes[0].r.width), 1280);
	show_resource(fe, 2, XRGB, 100, 50);
	check_screen(fe, XRGB, 100, 50);
	/* and a socket handed over without a stop, after the old one was closed */
	vdgfe_sink_close(&fe->sink);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 2, 0, 0, 100, 50), OK);
	assert_int_equal(new_display_socket(fe), 0);
	assert_int_equal(vdgfe_gpu_set_scanout(fe, 0, 2, 0, 0, 100, 50), OK);
	assert_int_equal(vdgfe_gpu_resource_flush(fe, 2, 0, 0, 100, 50), OK);
	assert_int_equal(itest_wait_sink(fe, VUGPU_UPDATE, 1), 0);
	check_screen(fe, XRGB, 100, 50);
	assert_int_equal(fe->sink.violations, 0);
}

/* ---- a display reply awaited ------------------------------------------------------------ */

/* GET_DISPLAY_INFO or GET_EDID of scanout, submitted (kicked), not waited for. */
static struct vdgfe_cmd *submit_query(struct vdgfe *fe, uint32_t type, uint32_t scanout)
{
	struct virtio_gpu_cmd_get_edid req;
	struct vdgfe_cmd *cmd = NULL;
	bool edid = type == VIRTIO_GPU_CMD_GET_EDID;

	memset(&req, 0, sizeof(req));
	vdgfe_gpu_hdr(fe, &req.hdr, type);
	req.scanout = htole32(scanout);
	assert_int_equal(
	        vdgfe_gpu_submit(fe, VDGFE_CTRLQ, &req, edid ? sizeof(req) : sizeof(req.hdr),
	                edid ? sizeof(struct virtio_gpu_resp_edid)
	                     : sizeof(struct virtio_gpu_resp_display_info),
	                NULL, &cmd),
	        0);
	return cmd;
}

#define QUEUED 3

/* RESOURCE_CREATE_2D of ids first.., queued behind a command the daemon holds. */
static void submit_creates(struct vdgfe *fe, uint32_t first, struct vdgfe_cmd **cmds)
{
	for (uint32_t i = 0; i < QUEUED; i++) {
		struct virtio_gpu_resource_create_2d c;

		memset(&c, 0, sizeof(c));
		vdgfe_gpu_hdr(fe, &c.hdr, VIRTIO_GPU_CMD_RESOURCE_CREATE_2D);
		c.resource_id = htole32(first + i);
		c.format = htole32(XRGB);
		c.width = c.height = htole32(8);
		assert_int_equal(
		        vdgfe_gpu_submit(fe, VDGFE_CTRLQ, &c, sizeof(c), 24, NULL, &cmds[i]), 0);
	}
}

/* Nothing of query and the queued commands was answered: the control queue waits. */
static void assert_held(struct vdgfe *fe, struct vdgfe_cmd *query, struct vdgfe_cmd **cmds)
{
	usleep(20000);
	assert_true(vdgfe_gpu_poll(fe) >= 0);
	assert_false(query->done);
	for (unsigned int i = 0; i < QUEUED; i++) {
		assert_false(cmds[i]->done);
	}
}

/*
 * Waits, answering nothing, until the daemon's next display message has
 * arrived whole; returns its request id (still unread).
 */
static uint32_t peek_display(struct vdgfe *fe)
{
	struct vugpu_msg_header h;
	struct pollfd p = {.fd = fe->sink.fd, .events = POLLIN};

	for (int i = 0; i < ITEST_TIMEOUT_MS / 10; i++) {
		ssize_t n;

		assert_true(poll(&p, 1, 10) >= 0);
		n = recv(fe->sink.fd, &h, sizeof(h), MSG_PEEK | MSG_DONTWAIT);
		if (n == (ssize_t)sizeof(h)) {
			return h.request;
		}
	}
	fail_msg("no display message within %d ms", ITEST_TIMEOUT_MS);
	return 0;
}

/* The daemon serves a fresh frontend: display info from the sink, a frame. */
static void check_serves(void)
{
	struct virtio_gpu_resp_display_info info;
	struct virtio_gpu_resp_edid edid;
	struct vdgfe *fe = itest_fe_start(NULL);

	assert_int_equal(vdgfe_gpu_get_display_info(fe, &info), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	assert_int_equal(fe->sink.counts[VUGPU_GET_DISPLAY_INFO], 1);
	assert_int_equal(vdgfe_gpu_get_edid(fe, 0, &edid), VIRTIO_GPU_RESP_OK_EDID);
	show_resource(fe, 1, XRGB, 40, 30);
	check_screen(fe, XRGB, 40, 30);
	assert_int_equal(fe->sink.violations, 0);
	itest_fe_destroy();
}

/*
 * The frontend goes away (control and display sockets closed) while the
 * daemon holds a command for a display reply, with more commands queued
 * behind it: the daemon frees the held command and serves the next one.
 */
static void test_disconnect_display_reply_awaited(void **state)
{
	struct vdgfe_cmd *cmds[QUEUED], *q;
	struct virtio_gpu_resp_display_info info;
	struct vdgfe_config cfg;
	struct vdgfe *fe;

	(void)state;
	/* GET_DISPLAY_INFO asked of a display that never answers */
	itest_config(&cfg);
	cfg.sink.no_display_info = true;
	fe = itest_fe_start(&cfg);
	q = submit_query(fe, VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 0);
	submit_creates(fe, 1, cmds);
	assert_int_equal(itest_wait_sink(fe, VUGPU_GET_DISPLAY_INFO, 1), 0);
	assert_held(fe, q, cmds);
	itest_fe_destroy();
	check_serves();

	/* GET_EDID before any display info: the daemon asks for the display info first */
	fe = itest_fe_start(&cfg);
	q = submit_query(fe, VIRTIO_GPU_CMD_GET_EDID, 0);
	submit_creates(fe, 1, cmds);
	assert_int_equal(itest_wait_sink(fe, VUGPU_GET_DISPLAY_INFO, 1), 0);
	assert_held(fe, q, cmds);
	assert_int_equal(fe->sink.counts[VUGPU_GET_EDID], 0);
	itest_fe_destroy();
	check_serves();

	/* GET_EDID asked of the display (the display info known): gone before the answer */
	itest_config(&cfg);
	cfg.sink.protocol_features = VU_BIT(VUGPU_PROTOCOL_F_EDID);
	fe = itest_fe_start(&cfg);
	assert_int_equal(vdgfe_gpu_get_display_info(fe, &info), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	itest_drain_display(fe);
	q = submit_query(fe, VIRTIO_GPU_CMD_GET_EDID, 0);
	submit_creates(fe, 1, cmds);
	assert_int_equal(peek_display(fe), VUGPU_GET_EDID);
	usleep(20000);
	assert_true(vdgfe_gpu_poll(fe) >= 0);
	assert_false(q->done);
	itest_fe_destroy();
	check_serves();
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

/* The held command and those queued behind it are all answered; checks the query's answer. */
static void wait_answers(struct vdgfe *fe, struct vdgfe_cmd *q, struct vdgfe_cmd **cmds,
        uint32_t query_type, void *resp, size_t resp_len)
{
	assert_int_equal(vdgfe_gpu_wait_all(fe, ITEST_TIMEOUT_MS), 0);
	assert_int_equal(vdgfe_cmd_resp_type(fe, q), query_type);
	assert_int_equal(vdgfe_cmd_resp(fe, q, resp, resp_len), (int)resp_len);
	vdgfe_cmd_free(fe, q);
	for (unsigned int i = 0; i < QUEUED; i++) {
		assert_int_equal(vdgfe_cmd_resp_type(fe, cmds[i]), OK);
		vdgfe_cmd_free(fe, cmds[i]);
	}
}

/*
 * Only the display socket closes while a reply is awaited: the daemon
 * answers the guest itself (its default 1280x800 output, or an EDID it
 * makes), runs what was queued, and takes the next display socket.
 */
static void test_display_closed_reply_awaited(void **state)
{
	struct vdgfe_cmd *cmds[QUEUED], *q;
	struct virtio_gpu_resp_display_info info;
	struct virtio_gpu_resp_edid edid;
	struct vdgfe_config cfg;
	struct vdgfe *fe;

	(void)state;
	itest_config(&cfg);
	cfg.sink.no_display_info = true;
	cfg.sink.width = 1024; /* not the daemon's default: the answer shows who gave it */
	cfg.sink.height = 768;
	fe = itest_fe_start(&cfg);
	q = submit_query(fe, VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 0);
	submit_creates(fe, 1, cmds);
	assert_int_equal(itest_wait_sink(fe, VUGPU_GET_DISPLAY_INFO, 1), 0);
	assert_held(fe, q, cmds);
	vdgfe_sink_close(&fe->sink);
	wait_answers(fe, q, cmds, VIRTIO_GPU_RESP_OK_DISPLAY_INFO, &info, sizeof(info));
	assert_int_equal(le32toh(info.pmodes[0].enabled), 1);
	assert_int_equal(le32toh(info.pmodes[0].r.width), 1280);
	assert_int_equal(le32toh(info.pmodes[0].r.height), 800);
	assert_int_equal(le32toh(info.pmodes[1].enabled), 0);
	/* a new display socket that answers */
	fe->sink.cfg.no_display_info = false;
	assert_int_equal(new_display_socket(fe), 0);
	assert_int_equal(vdgfe_gpu_get_display_info(fe, &info), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	assert_int_equal(le32toh(info.pmodes[0].r.width), 1024);

	/* GET_EDID asked of the display, which closes instead of answering */
	q = submit_query(fe, VIRTIO_GPU_CMD_GET_EDID, 0);
	submit_creates(fe, 10, cmds);
	assert_int_equal(peek_display(fe), VUGPU_GET_EDID);
	assert_held(fe, q, cmds);
	vdgfe_sink_close(&fe->sink);
	memset(&edid, 0, sizeof(edid));
	wait_answers(fe, q, cmds, VIRTIO_GPU_RESP_OK_EDID, &edid, sizeof(edid));
	assert_int_equal(le32toh(edid.size), 128);
	assert_true(edid_valid(edid.edid));
	/* and the next socket works for frames */
	assert_int_equal(new_display_socket(fe), 0);
	show_resource(fe, 20, XRGB, 50, 40);
	check_screen(fe, XRGB, 50, 40);
	assert_int_equal(fe->sink.violations, 0);
}

/*
 * QEMU stops a device by disabling its rings (SET_VRING_ENABLE 0) and then
 * asking for their bases (GET_VRING_BASE). A command the daemon took from
 * the ring and holds for a display reply is answered by then, in the used
 * ring, and counted in the base; what was queued behind it was not taken
 * and runs after the restart. (The answer once went nowhere: the disabled
 * ring refused the used entry, yet the base counted the command.)
 */
static void test_stop_reply_awaited(void **state)
{
	struct vdgfe_cmd *cmds[QUEUED], *q;
	struct virtio_gpu_resp_display_info info;
	uint32_t bases[VDGFE_NUM_QUEUES];
	struct vdgfe_config cfg;
	struct vdgfe *fe;
	uint16_t before;

	(void)state;
	itest_config(&cfg);
	cfg.sink.no_display_info = true;
	fe = itest_fe_start(&cfg);
	before = fe->vqs[VDGFE_CTRLQ].avail_shadow;
	q = submit_query(fe, VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 0);
	submit_creates(fe, 1, cmds);
	assert_int_equal(itest_wait_sink(fe, VUGPU_GET_DISPLAY_INFO, 1), 0);
	assert_held(fe, q, cmds);
	assert_int_equal(vdgfe_stop(fe, false, bases), 0);
	assert_int_equal((uint16_t)(bases[VDGFE_CTRLQ] - before), 1);
	assert_true(vdgfe_gpu_poll(fe) >= 0);
	assert_true(q->done);
	assert_int_equal(vdgfe_cmd_resp_type(fe, q), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	assert_int_equal(vdgfe_cmd_resp(fe, q, &info, sizeof(info)), (int)sizeof(info));
	assert_int_equal(le32toh(info.pmodes[0].r.width), 1280);
	vdgfe_cmd_free(fe, q);
	for (unsigned int i = 0; i < QUEUED; i++) {
		assert_false(cmds[i]->done);
	}
	/* the restart runs what the daemon had not taken */
	fe->sink.cfg.no_display_info = false;
	vdgfe_sink_reset_state(&fe->sink);
	assert_int_equal(vdgfe_start(fe), 0);
	assert_true(vdgfe_vq_kick(&fe->vqs[VDGFE_CTRLQ], true) >= 0);
	assert_int_equal(vdgfe_gpu_wait_all(fe, ITEST_TIMEOUT_MS), 0);
	for (unsigned int i = 0; i < QUEUED; i++) {
		assert_int_equal(vdgfe_cmd_resp_type(fe, cmds[i]), OK);
		vdgfe_cmd_free(fe, cmds[i]);
	}
	show_resource(fe, 10, XRGB, 40, 30);
	check_screen(fe, XRGB, 40, 30);
	assert_int_equal(fe->sink.violations, 0);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A display that never answers and never closes: after the reply timeout
 * (VUGPU_REPLY_TIMEOUT_MS, 5 s) the daemon answers the guest itself and the
 * queued commands run; the guest is not stuck behind the frontend.
 */
static void test_display_reply_timeout(void **state)
{
	struct vdgfe_cmd *cmds[QUEUED], *q;
	struct virtio_gpu_resp_display_info info;
	struct vdgfe_config cfg;
	struct vdgfe *fe;
	double t0, waited;

	(void)state;
	itest_config(&cfg);
	cfg.sink.no_display_info = true;
	fe = itest_fe_start(&cfg);
	t0 = now_s();
	q = submit_query(fe, VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 0);
	submit_creates(fe, 1, cmds);
	assert_int_equal(itest_wait_sink(fe, VUGPU_GET_DISPLAY_INFO, 1), 0);
	assert_held(fe, q, cmds);
	wait_answers(fe, q, cmds, VIRTIO_GPU_RESP_OK_DISPLAY_INFO, &info, sizeof(info));
	waited = now_s() - t0;
	fprintf(stderr, "it-display: an unanswered GET_DISPLAY_INFO was answered after %.2f s\n",
	        waited);
	assert_true(waited >= 4.5);
	assert_int_equal(le32toh(info.pmodes[0].enabled), 1);
	assert_int_equal(le32toh(info.pmodes[0].r.width), 1280);
	/* the session goes on */
	assert_int_equal(vdgfe_gpu_resource_unref(fe, 1), OK);
	assert_true(itest_daemon_alive(&itest_d));
	itest_fe_destroy();
	check_serves();
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_teardown(test_formats, itest_teardown),
	        cmocka_unit_test_teardown(test_full_frames, itest_teardown),
	        cmocka_unit_test_teardown(test_two_scanouts, itest_teardown),
	        cmocka_unit_test_teardown(test_protocol_features, itest_teardown),
	        cmocka_unit_test_teardown(test_second_set_socket, itest_teardown),
	        cmocka_unit_test_teardown(test_display_closed, itest_teardown),
	        cmocka_unit_test_teardown(test_disconnect_display_reply_awaited, itest_teardown),
	        cmocka_unit_test_teardown(test_display_closed_reply_awaited, itest_teardown),
	        cmocka_unit_test_teardown(test_display_reply_timeout, itest_teardown),
	        cmocka_unit_test_teardown(test_stop_reply_awaited, itest_teardown),
	};

	itest_init(argc, argv);
	return itest_exit(cmocka_run_group_tests(tests, itest_group_setup, itest_group_teardown));
}
