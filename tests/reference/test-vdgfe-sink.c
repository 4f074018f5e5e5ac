/* SPDX-License-Identifier: MIT */
/*
 * Self-test of vdgfe's display sink (the QEMU side of the display socket):
 * this program plays the back-end on a socketpair and checks the replies
 * and recorded state, including the paths QEMU 7.2's back-end never uses
 * (GET_EDID, DMABUF_*). No external process needed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "display-sink.h"
#include "frontend.h"

static int failures;

#define CHECK(cond, ...)                                                                         \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "FAIL %s:%d: %s: ", __func__, __LINE__, #cond);          \
			fprintf(stderr, __VA_ARGS__);                                            \
			fputc('\n', stderr);                                                     \
			failures++;                                                              \
			return -1;                                                               \
		}                                                                                \
	} while (0)

struct pair {
	struct vdgfe_sink sink;
	int be; /* the back-end's end */
};

static int pair_init(struct pair *p, uint64_t proto)
{
	struct vdgfe_sink_config cfg;
	int sv[2];

	vdgfe_sink_config_init(&cfg);
	cfg.protocol_features = proto;
	cfg.outputs = 2;
	cfg.width = 800;
	cfg.height = 600;
	vdgfe_sink_init(&p->sink, &cfg);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		return -errno;
	}
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	vdgfe_sink_attach(&p->sink, sv[0]);
	p->be = sv[1];
	return 0;
}

static void pair_finish(struct pair *p)
{
	vdgfe_sink_finish(&p->sink);
	close(p->be);
}

static int be_send(struct pair *p, uint32_t req, const void *payload, uint32_t size, int fd)
{
	struct vugpu_msg_header hdr = { .request = req, .flags = 0, .size = size };
	struct iovec iov[2] = {
		{ .iov_base = &hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)payload, .iov_len = size },
	};
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = size ? 2 : 1 };

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(p->be, &mh, MSG_NOSIGNAL) == (ssize_t)(sizeof(hdr) + size) ? 0 : -EIO;
}

/* Reads one reply on the back-end's end; returns its size, -ETIMEDOUT if none. */
static int be_recv(struct pair *p, struct vugpu_msg_header *hdr, void *payload, size_t cap)
{
	struct pollfd pfd = { .fd = p->be, .events = POLLIN };

	if (poll(&pfd, 1, 200) <= 0) {
		return -ETIMEDOUT;
	}
	if (vdgfe_recv_exact(p->be, hdr, sizeof(*hdr), NULL, NULL, 0, 1000) < 0 ||
		hdr->size > cap ||
		vdgfe_recv_exact(p->be, payload, hdr->size, NULL, NULL, 0, 1000) < 0) {
		return -EPROTO;
	}
	return (int)hdr->size;
}

static int test_queries(void)
{
	struct pair p;
	struct vugpu_msg_header hdr;
	struct virtio_gpu_resp_edid edid;
	struct virtio_gpu_resp_display_info info;
	uint64_t u64 = 0;
	uint32_t scanout = 0;
	uint8_t sum = 0;

	CHECK(pair_init(&p, 0x3) == 0, "init");
	be_send(&p, VUGPU_GET_PROTOCOL_FEATURES, NULL, 0, -1);
	CHECK(vdgfe_sink_service(&p.sink, 1000) == 1, "service");
	CHECK(be_recv(&p, &hdr, &u64, sizeof(u64)) == 8, "no reply");
	CHECK(hdr.request == 1 && hdr.flags == 0x4 && u64 == 0x3, "reply %u 0x%x 0x%llx",
		hdr.request, hdr.flags, (unsigned long long)u64);
	u64 = 1;
	be_send(&p, VUGPU_SET_PROTOCOL_FEATURES, &u64, 8, -1);
	be_send(&p, VUGPU_GET_DISPLAY_INFO, NULL, 0, -1);
	CHECK(vdgfe_sink_service(&p.sink, 1000) == 2, "service");
	CHECK(p.sink.set_protocol_seen && p.sink.set_protocol_features == 1, "set proto");
	CHECK(be_recv(&p, &hdr, &info, sizeof(info)) == sizeof(info), "display info");
	CHECK(hdr.request == 3 && info.hdr.type == VIRTIO_GPU_RESP_OK_DISPLAY_INFO, "type");
	CHECK(info.pmodes[1].enabled && info.pmodes[1].r.width == 800 && !info.pmodes[2].enabled,
		"modes");
	be_send(&p, VUGPU_GET_EDID, &scanout, 4, -1);
	CHECK(vdgfe_sink_service(&p.sink, 1000) == 1, "service");
	CHECK(be_recv(&p, &hdr, &edid, sizeof(edid)) == sizeof(edid), "edid");
	CHECK(hdr.request == 11 && edid.hdr.type == VIRTIO_GPU_RESP_OK_EDID && edid.size == 128,
		"edid type 0x%x size %u", edid.hdr.type, edid.size);
	for (unsigned int i = 0; i < 128; i++) {
		sum = (uint8_t)(sum + edid.edid[i]);
	}
	CHECK(sum == 0 && edid.edid[1] == 0xff && edid.edid[7] == 0, "edid checksum/magic");
	CHECK((edid.edid[56] | ((edid.edid[58] & 0xf0) << 4)) == 800, "edid width");
	CHECK((edid.edid[59] | ((edid.edid[61] & 0xf0) << 4)) == 600, "edid height");
	/* Invalid scanout: QEMU logs and sends nothing. */
	scanout = 2;
	be_send(&p, VUGPU_GET_EDID, &scanout, 4, -1);
	CHECK(vdgfe_sink_service(&p.sink, 1000) == 1, "service");
	CHECK(be_recv(&p, &hdr, &edid, sizeof(edid)) == -ETIMEDOUT, "reply for bad scanout");
	CHECK(p.sink.edid_requests_dropped == 1 && p.sink.violations == 0, "dropped count");
	pair_finish(&p);

	/* QEMU 7.2 mode: GET_EDID is an unknown id, dropped, counted as violation. */
	CHECK(pair_init(&p, 0) == 0, "init");
	scanout = 0;
	be_send(&p, VUGPU_GET_EDID, &scanout, 4, -1);
	CHECK(vdgfe_sink_service(&p.sink, 1000) == 1, "service");
	CHECK(be_recv(&p, &hdr, &edid, sizeof(edid)) == -ETIMEDOUT, "7.2 answered GET_EDID");
	CHECK(p.sink.violations == 1 && p.sink.counts[VUGPU_REQUEST_MAX] == 1, "7.2 violation");
	pair_finish(&p);
	return 0;
}

static int test_pixels(void)
{
	struct pair p;
	struct vugpu_scanout so = { .scanout_id = 0, .width = 100, .height = 50 };
	uint8_t buf[sizeof(struct vugpu_update) + 10 * 10 * 4];
	struct vugpu_update *u = (struct vugpu_update *)buf;
	uint32_t px[100];
	bool ok;

	CHECK(pair_init(&p, 0x3) == 0, "init");
	memset(buf, 0, sizeof(buf));
	*u = (struct vugpu_update){ .scanout_id = 0, .x = 0, .y = 0, .width = 10, .height = 10 };
	be_send(&p, VUGPU_UPDATE, buf, sizeof(buf), -1);
	CHECK(vdgfe_sink_service(&p.sink, 1000) == 1, "service");
	CHECK(p.sink.violations == 1, "UPDATE before SCANOUT not flagged");
	be_send(&p, VUGPU_SCANOUT, &so, sizeof(so), -1);
	for (unsigned int i = 0; i < 100; i++) {
		px[i] = 0x00010000u * i + 7;
	}
	memcpy(buf + sizeof(*u), px, sizeof(px));
	*u = (struct vugpu_update){ .scanout_id = 0, .x = 95, .y = 45, .width = 10, .height = 10 };
	be_send(&p, VUGPU_UPDATE, buf, sizeof(buf), -1);
	CHECK(vdgfe_sink_service(&p.sink, 1000) == 2, "service");
	CHECK(p.sink.violations == 1, "violation: %s", p.sink.last_violation);
	CHECK(p.sink.fb[0].width == 100 && p.sink.fb[0].height == 50, "surface");
	/* Row 0 of the update is px[0..9]; clipped to 5x5 at (95,45). */
	CHECK(vdgfe_sink_pixel(&p.sink, 0, 95, 45, &ok) == px[0] && ok, "pixel (95,45)");
	CHECK(vdgfe_sink_pixel(&p.sink, 0, 99, 46, &ok) == px[14] && ok, "pixel (99,46)");
	CHECK(vdgfe_sink_pixel(&p.sink, 0, 94, 45, &ok) == 0 && ok, "pixel outside rect");
	so.width = 0;
	be_send(&p, VUGPU_SCANOUT, &so, sizeof(so), -1);
	CHECK(vdgfe_sink_service(&p.sink, 1000) == 1, "service");
	vdgfe_sink_pixel(&p.sink, 0, 0, 0, &ok);
	CHECK(!ok && p.sink.fb[0].ever_scanout, "scanout not disabled");
	pair_finish(&p);
	return 0;
}

static int test_dmabuf_and_cursor(void)
{
	struct pair p;
	struct vugpu_msg_header hdr;
	struct vugpu_dmabuf_scanout2 d2 = { 0 };
	struct vugpu_update du = { .scanout_id = 0, .width = 8, .height = 8 };
	static struct vugpu_cursor_update cu;
	struct vugpu_cursor_pos pos = { .scanout_id = 0, .x = 5, .y = 6 };
	uint8_t junk[8];
	int fd = dup(0);

	CHECK(pair_init(&p, 0x3) == 0, "init");
	d2.dmabuf_scanout.fd_width = 640;
	d2.modifier = 0x123;
	be_send(&p, VUGPU_DMABUF_SCANOUT2, &d2, sizeof(d2), fd);
	close(fd);
	be_send(&p, VUGPU_DMABUF_UPDATE, &du, sizeof(du), -1);
	CHECK(vdgfe_sink_service(&p.sink, 1000) == 2, "service");
	CHECK(p.sink.last_dmabuf_had_fd && p.sink.last_dmabuf_v2 &&
			p.sink.last_dmabuf.modifier == 0x123 &&
			p.sink.last_dmabuf.dmabuf_scanout.fd_width == 640,
		"dmabuf scanout2 record");
	CHECK(be_recv(&p, &hdr, junk, sizeof(junk)) == 0, "no DMABUF_UPDATE ack");
	CHECK(hdr.request == 10 && hdr.flags == 0x4, "ack header");
	cu.pos.x = 1;
	cu.hot_x = 2;
	cu.data[0] = 0xdeadbeef;
	be_send(&p, VUGPU_CURSOR_UPDATE, &cu, sizeof(cu), -1);
	be_send(&p, VUGPU_CURSOR_POS_HIDE, &pos, sizeof(pos), -1);
	CHECK(vdgfe_sink_service(&p.sink, 1000) == 2, "service");
	CHECK(p.sink.cursor.defined && !p.sink.cursor.visible && p.sink.cursor.x == 5 &&
			p.sink.cursor.hot_x == 2 && p.sink.cursor.image[0] == 0xdeadbeef, "cursor");
	CHECK(p.sink.violations == 0, "violation: %s", p.sink.last_violation);
	close(p.be);
	p.be = -1;
	CHECK(vdgfe_sink_service(&p.sink, 1000) == -ECONNRESET && p.sink.closed, "EOF");
	vdgfe_sink_finish(&p.sink);
	return 0;
}

/* A 1080p UPDATE written by another process while the sink reads it. */
static int test_big_update(void)
{
	const uint32_t w = 1920, h = 1080;
	struct vugpu_scanout so = { .scanout_id = 0, .width = w, .height = h };
	struct pair p;
	pid_t pid;
	int status, r;
	bool ok;

	CHECK(pair_init(&p, 0x3) == 0, "init");
	be_send(&p, VUGPU_SCANOUT, &so, sizeof(so), -1);
	pid = fork();
	if (pid == 0) {
		size_t len = sizeof(struct vugpu_update) + (size_t)w * h * 4;
		uint8_t *m = malloc(len);
		struct vugpu_update u = { .scanout_id = 0, .width = w, .height = h };

		memcpy(m, &u, sizeof(u));
		for (size_t i = 0; i < (size_t)w * h; i++) {
			uint32_t v = (uint32_t)i;

			memcpy(m + sizeof(u) + i * 4, &v, 4);
		}
		_exit(be_send(&p, VUGPU_UPDATE, m, (uint32_t)len, -1) == 0 ? 0 : 1);
	}
	int64_t deadline = vdgfe_now_ms() + 5000;

	while (p.sink.counts[VUGPU_UPDATE] == 0 && vdgfe_now_ms() < deadline) {
		struct pollfd pfd = { .fd = p.sink.fd, .events = POLLIN };

		poll(&pfd, 1, 100);
		r = vdgfe_sink_service(&p.sink, 2000);
		CHECK(r >= 0, "service: %d", r);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer failed");
	CHECK(p.sink.counts[VUGPU_UPDATE] == 1 && p.sink.violations == 0, "update not received");
	CHECK(vdgfe_sink_pixel(&p.sink, 0, w - 1, h - 1, &ok) == w * h - 1 && ok, "last pixel");
	CHECK(p.sink.last_update_last_px == w * h - 1, "last_update_last_px");
	pair_finish(&p);
	return 0;
}

int main(void)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} tests[] = {
		{ "queries", test_queries },
		{ "pixels", test_pixels },
		{ "dmabuf_and_cursor", test_dmabuf_and_cursor },
		{ "big_update", test_big_update },
	};

	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		int before = failures;

		tests[i].fn();
		printf("%s %s\n", failures == before ? "ok" : "not ok", tests[i].name);
	}
	printf("%s\n", failures ? "FAIL" : "PASS");
	return failures ? 1 : 0;
}
