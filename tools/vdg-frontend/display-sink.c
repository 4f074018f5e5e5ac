/* SPDX-License-Identifier: MIT */
/*
 * The QEMU side of the display socket (vhost-user-gpu.md). Behaves like
 * QEMU's hw/display/vhost-user-gpu.c of the configured version: replies only
 * to the ids that get replies, drops unknown ids silently, and records what
 * a real QEMU would have shown or crashed on.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "display-sink.h"
#include "frontend.h"

/* Refuse payloads larger than this (a 16k x 16k UPDATE is 1 GiB). */
#define SINK_MAX_PAYLOAD (UINT64_C(1) << 30)
/* Largest surface we allocate for a SCANOUT. */
#define SINK_MAX_DIM 16384u
#define SINK_MAX_FDS 8

void vdgfe_sink_config_init(struct vdgfe_sink_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->protocol_features = VU_BIT(VUGPU_PROTOCOL_F_EDID) | VU_BIT(VUGPU_PROTOCOL_F_DMABUF2);
	cfg->outputs = 1;
	cfg->width = 1280;
	cfg->height = 800;
	cfg->keep_pixels = true;
}

void vdgfe_sink_init(struct vdgfe_sink *sink, const struct vdgfe_sink_config *cfg)
{
	memset(sink, 0, sizeof(*sink));
	sink->cfg = *cfg;
	if (sink->cfg.outputs > VDGFE_SINK_MAX_OUTPUTS) {
		sink->cfg.outputs = VDGFE_SINK_MAX_OUTPUTS;
	}
	sink->fd = -1;
	sink->last_dmabuf_fd = -1;
}

static void drop_dmabuf_fd(struct vdgfe_sink *sink)
{
	if (sink->last_dmabuf_fd >= 0) {
		close(sink->last_dmabuf_fd);
		sink->last_dmabuf_fd = -1;
	}
}

static void fb_free(struct vdgfe_fb *fb)
{
	free(fb->pixels);
	fb->pixels = NULL;
	fb->width = 0;
	fb->height = 0;
}

void vdgfe_sink_reset_state(struct vdgfe_sink *sink)
{
	for (unsigned int i = 0; i < VDGFE_SINK_MAX_OUTPUTS; i++) {
		fb_free(&sink->fb[i]);
		sink->fb[i].ever_scanout = false;
	}
	memset(sink->counts, 0, sizeof(sink->counts));
	sink->total_msgs = 0;
	sink->violations = 0;
	sink->last_violation[0] = '\0';
	sink->set_protocol_seen = false;
	sink->set_protocol_features = 0;
	sink->edid_requests_dropped = 0;
	memset(&sink->cursor, 0, sizeof(sink->cursor));
	memset(&sink->last_update, 0, sizeof(sink->last_update));
	sink->last_update_first_px = 0;
	sink->last_update_last_px = 0;
	sink->update_bytes = 0;
	memset(&sink->last_dmabuf, 0, sizeof(sink->last_dmabuf));
	sink->last_dmabuf_had_fd = false;
	drop_dmabuf_fd(sink);
	sink->last_dmabuf_v2 = false;
	memset(&sink->last_dmabuf_update, 0, sizeof(sink->last_dmabuf_update));
	sink->dmabuf_updates_unacked = 0;
}

void vdgfe_sink_close(struct vdgfe_sink *sink)
{
	if (sink->fd >= 0) {
		close(sink->fd);
		sink->fd = -1;
	}
}

void vdgfe_sink_finish(struct vdgfe_sink *sink)
{
	vdgfe_sink_close(sink);
	drop_dmabuf_fd(sink);
	for (unsigned int i = 0; i < VDGFE_SINK_MAX_OUTPUTS; i++) {
		fb_free(&sink->fb[i]);
	}
	free(sink->scratch);
	sink->scratch = NULL;
	sink->scratch_cap = 0;
}

void vdgfe_sink_attach(struct vdgfe_sink *sink, int fd)
{
	vdgfe_sink_close(sink);
	sink->fd = fd;
	sink->closed = false;
}

static void sink_log(const struct vdgfe_sink *sink, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sink_log(const struct vdgfe_sink *sink, const char *fmt, ...)
{
	va_list ap;

	if (!sink->cfg.verbose) {
		return;
	}
	va_start(ap, fmt);
	fputs("vdgfe display: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void violation(struct vdgfe_sink *sink, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void violation(struct vdgfe_sink *sink, const char *fmt, ...)
{
	va_list ap;

	sink->violations++;
	va_start(ap, fmt);
	vsnprintf(sink->last_violation, sizeof(sink->last_violation), fmt, ap);
	va_end(ap);
	fprintf(stderr, "vdgfe display: protocol violation: %s\n", sink->last_violation);
}

static int read_exact(struct vdgfe_sink *sink, void *buf, size_t len, int *fds,
	unsigned int *nfds, int timeout_ms)
{
	return vdgfe_recv_exact(sink->fd, buf, len, fds, nfds, SINK_MAX_FDS, timeout_ms);
}

static int send_reply(struct vdgfe_sink *sink, uint32_t request, const void *payload,
	uint32_t size)
{
	struct vugpu_msg_header hdr = {
		.request = request,
		.flags = VUGPU_FLAG_REPLY,
		.size = size,
	};
	struct iovec iov[2] = {
		{ .iov_base = &hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)payload, .iov_len = size },
	};
	size_t total = sizeof(hdr) + size, sent = 0;
	int64_t deadline = vdgfe_now_ms() + VDGFE_DEFAULT_TIMEOUT_MS;

	while (sent < total) {
		struct iovec cur[2];
		int cnt = 0;
		size_t skip = sent;

		for (int i = 0; i < 2; i++) {
			if (skip >= iov[i].iov_len) {
				skip -= iov[i].iov_len;
				continue;
			}
			cur[cnt].iov_base = (uint8_t *)iov[i].iov_base + skip;
			cur[cnt].iov_len = iov[i].iov_len - skip;
			skip = 0;
			cnt++;
		}
		struct msghdr mh = { .msg_iov = cur, .msg_iovlen = (size_t)cnt };
		ssize_t n = sendmsg(sink->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n >= 0) {
			sent += (size_t)n;
			continue;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			return -ECONNRESET;
		}
		int64_t left = deadline - vdgfe_now_ms();

		if (left <= 0) {
			return -ETIMEDOUT;
		}
		struct pollfd pfd = { .fd = sink->fd, .events = POLLOUT };

		poll(&pfd, 1, (int)left);
	}
	return 0;
}

int vdgfe_sink_send_dmabuf_ack(struct vdgfe_sink *sink)
{
	if (sink->fd < 0) {
		return -ENOTCONN;
	}
	if (sink->dmabuf_updates_unacked > 0) {
		sink->dmabuf_updates_unacked--;
	}
	return send_reply(sink, VUGPU_DMABUF_UPDATE, NULL, 0);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static int answer_display_info(struct vdgfe_sink *sink)
{
	struct virtio_gpu_resp_display_info info;

	memset(&info, 0, sizeof(info));
	/* The structs are little endian; this runs on little-endian hosts only. */
	info.hdr.type = VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
	for (unsigned int i = 0; i < sink->cfg.outputs; i++) {
		info.pmodes[i].r.width = sink->cfg.width;
		info.pmodes[i].r.height = sink->cfg.height;
		info.pmodes[i].enabled = 1;
	}
	return send_reply(sink, VUGPU_GET_DISPLAY_INFO, &info, sizeof(info));
}

void vdgfe_edid_generate(uint8_t e[128], uint32_t width, uint32_t height)
{
	static const uint8_t magic[8] = { 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00 };
	static const uint8_t chroma[10] = { 0xee, 0x91, 0xa3, 0x54, 0x4c, 0x99, 0x26, 0x0f, 0x50,
		0x54 };
	uint32_t w = width > 4095 ? 4095 : (width ? width : 1024);
	uint32_t h = height > 4095 ? 4095 : (height ? height : 768);
	uint32_t hblank = 160, vblank = 23, hso = 48, hsw = 32, vso = 3, vsw = 6;
	uint64_t clock = (uint64_t)(w + hblank) * (h + vblank) * 60 / 10000;
	uint32_t wmm = w * 254 / 960, hmm = h * 254 / 960; /* ~96 dpi */
	uint16_t mfg = (uint16_t)((('V' - '@') << 10) | (('D' - '@') << 5) | ('G' - '@'));
	uint8_t *d;
	uint8_t sum = 0;

	if (clock > 0xffff) {
		clock = 0xffff;
	}
	memset(e, 0, 128);
	memcpy(e, magic, sizeof(magic));
	e[8] = (uint8_t)(mfg >> 8);
	e[9] = (uint8_t)mfg;
	e[10] = 0x01;              /* product code */
	put_le32(&e[12], 1);       /* serial */
	e[16] = 1;                 /* week */
	e[17] = 2024 - 1990;       /* year */
	e[18] = 1;                 /* EDID 1.4 */
	e[19] = 4;
	e[20] = 0xa5;              /* digital, 8 bpc, DisplayPort */
	e[21] = (uint8_t)(wmm / 10 > 255 ? 255 : wmm / 10);
	e[22] = (uint8_t)(hmm / 10 > 255 ? 255 : hmm / 10);
	e[23] = 120;               /* gamma 2.2 */
	e[24] = 0x06;              /* sRGB, preferred timing is native */
	memcpy(&e[25], chroma, sizeof(chroma));
	for (unsigned int i = 38; i < 54; i++) {
		e[i] = 0x01;       /* unused standard timings */
	}
	/* Detailed timing descriptor 1: the preferred mode. */
	d = &e[54];
	d[0] = (uint8_t)clock;
	d[1] = (uint8_t)(clock >> 8);
	d[2] = (uint8_t)w;
	d[3] = (uint8_t)hblank;
	d[4] = (uint8_t)(((w >> 8) << 4) | (hblank >> 8));
	d[5] = (uint8_t)h;
	d[6] = (uint8_t)vblank;
	d[7] = (uint8_t)(((h >> 8) << 4) | (vblank >> 8));
	d[8] = (uint8_t)hso;
	d[9] = (uint8_t)hsw;
	d[10] = (uint8_t)(((vso & 0xf) << 4) | (vsw & 0xf));
	d[11] = (uint8_t)(((hso >> 8) << 6) | ((hsw >> 8) << 4) | ((vso >> 4) << 2) | (vsw >> 4));
	d[12] = (uint8_t)wmm;
	d[13] = (uint8_t)hmm;
	d[14] = (uint8_t)((((wmm >> 8) & 0xf) << 4) | ((hmm >> 8) & 0xf));
	d[17] = 0x1e;              /* digital separate sync, +hsync +vsync */
	/* Descriptor 2: monitor name. */
	d = &e[72];
	d[3] = 0xfc;
	memcpy(&d[5], "vdg-frontend\n", 13);
	/* Descriptors 3 and 4: dummy. */
	e[90 + 3] = 0x10;
	e[108 + 3] = 0x10;
	e[126] = 0;                /* no extensions */
	for (unsigned int i = 0; i < 127; i++) {
		sum = (uint8_t)(sum + e[i]);
	}
	e[127] = (uint8_t)(0x100 - sum);
}

static int answer_edid(struct vdgfe_sink *sink, uint32_t scanout)
{
	struct virtio_gpu_resp_edid resp;

	if (scanout >= sink->cfg.outputs) {
		/* QEMU: "invalid scanout" error, no reply at all. */
		sink->edid_requests_dropped++;
		sink_log(sink, "GET_EDID for invalid scanout %u: no reply (like QEMU)", scanout);
		return 0;
	}
	memset(&resp, 0, sizeof(resp));
	resp.hdr.type = VIRTIO_GPU_RESP_OK_EDID;
	resp.size = 128;
	vdgfe_edid_generate(resp.edid, sink->cfg.width, sink->cfg.height);
	return send_reply(sink, VUGPU_GET_EDID, &resp, sizeof(resp));
}

static void handle_scanout(struct vdgfe_sink *sink, const struct vugpu_scanout *m)
{
	struct vdgfe_fb *fb;

	if (m->scanout_id >= sink->cfg.outputs) {
		sink_log(sink, "SCANOUT for invalid scanout %u ignored", m->scanout_id);
		return;
	}
	fb = &sink->fb[m->scanout_id];
	fb_free(fb);
	fb->ever_scanout = true;
	if (m->width == 0 || m->height == 0) {
		return;
	}
	if (m->width > SINK_MAX_DIM || m->height > SINK_MAX_DIM) {
		violation(sink, "SCANOUT %ux%u too large", m->width, m->height);
		return;
	}
	fb->pixels = calloc((size_t)m->width * m->height, sizeof(uint32_t));
	if (!fb->pixels) {
		violation(sink, "SCANOUT %ux%u: out of memory", m->width, m->height);
		return;
	}
	fb->width = m->width;
	fb->height = m->height;
}

static void handle_update(struct vdgfe_sink *sink, const uint8_t *payload, uint32_t size)
{
	struct vugpu_update u;
	struct vdgfe_fb *fb;
	uint64_t need;

	memcpy(&u, payload, sizeof(u));
	need = sizeof(u) + (uint64_t)u.width * u.height * 4;
	if (need != size) {
		violation(sink, "UPDATE %ux%u with payload %u bytes (want %llu)", u.width, u.height,
			size, (unsigned long long)need);
		return;
	}
	sink->last_update = u;
	sink->update_bytes += (uint64_t)u.width * u.height * 4;
	if (u.width && u.height) {
		memcpy(&sink->last_update_first_px, payload + sizeof(u), 4);
		memcpy(&sink->last_update_last_px, payload + size - 4, 4);
	}
	if (u.scanout_id >= sink->cfg.outputs) {
		sink_log(sink, "UPDATE for invalid scanout %u ignored", u.scanout_id);
		return;
	}
	fb = &sink->fb[u.scanout_id];
	if (!fb->pixels) {
		violation(sink, "UPDATE for scanout %u without a surface (QEMU would crash)",
			u.scanout_id);
		return;
	}
	if (!sink->cfg.keep_pixels) {
		return;
	}
	/* Composite at (x, y), clipped to the surface, as pixman would. */
	if (u.x >= fb->width || u.y >= fb->height) {
		return;
	}
	uint32_t cw = u.width, ch = u.height;

	if ((uint64_t)u.x + cw > fb->width) {
		cw = fb->width - u.x;
	}
	if ((uint64_t)u.y + ch > fb->height) {
		ch = fb->height - u.y;
	}
	for (uint32_t row = 0; row < ch; row++) {
		memcpy(&fb->pixels[(size_t)(u.y + row) * fb->width + u.x],
			payload + sizeof(u) + (size_t)row * u.width * 4, (size_t)cw * 4);
	}
}

static bool check_size(struct vdgfe_sink *sink, uint32_t req, uint32_t size, uint32_t want)
{
	if (size == want) {
		return true;
	}
	violation(sink, "display request %u with size %u (want %u)", req, size, want);
	return false;
}

static int handle(struct vdgfe_sink *sink, const struct vugpu_msg_header *hdr,
	const uint8_t *p, bool had_fd)
{
	uint32_t req = hdr->request;
	uint64_t u64;
	uint32_t u32;
	bool edid_ok = (sink->cfg.protocol_features & VU_BIT(VUGPU_PROTOCOL_F_EDID)) != 0;
	bool dmabuf2_ok = (sink->cfg.protocol_features & VU_BIT(VUGPU_PROTOCOL_F_DMABUF2)) != 0;

	sink->total_msgs++;
	if (req >= VUGPU_REQUEST_MAX || req == VUGPU_NONE || (req == VUGPU_GET_EDID && !edid_ok) ||
		(req == VUGPU_DMABUF_SCANOUT2 && !dmabuf2_ok)) {
		sink->counts[VUGPU_REQUEST_MAX]++;
		if (req == VUGPU_GET_EDID || req == VUGPU_DMABUF_SCANOUT2) {
			violation(sink, "display request %u not negotiated (dropped, no reply)",
				req);
		} else {
			sink_log(sink, "unhandled display request %u dropped", req);
		}
		return 0;
	}
	sink->counts[req]++;
	if (had_fd && req != VUGPU_DMABUF_SCANOUT && req != VUGPU_DMABUF_SCANOUT2) {
		violation(sink, "display request %u carried an fd", req);
	}
	switch (req) {
	case VUGPU_GET_PROTOCOL_FEATURES:
		check_size(sink, req, hdr->size, 0);
		u64 = sink->cfg.protocol_features;
		return send_reply(sink, req, &u64, sizeof(u64));
	case VUGPU_SET_PROTOCOL_FEATURES:
		if (check_size(sink, req, hdr->size, 8)) {
			memcpy(&sink->set_protocol_features, p, 8);
			sink->set_protocol_seen = true;
		}
		return 0;
	case VUGPU_GET_DISPLAY_INFO:
		check_size(sink, req, hdr->size, 0);
		if (sink->cfg.no_display_info) {
			return 0;
		}
		return answer_display_info(sink);
	case VUGPU_GET_EDID:
		if (!check_size(sink, req, hdr->size, sizeof(struct vugpu_edid_request))) {
			return 0;
		}
		memcpy(&u32, p, 4);
		return answer_edid(sink, u32);
	case VUGPU_CURSOR_POS:
	case VUGPU_CURSOR_POS_HIDE:
		if (check_size(sink, req, hdr->size, sizeof(struct vugpu_cursor_pos))) {
			struct vugpu_cursor_pos pos;

			memcpy(&pos, p, sizeof(pos));
			sink->cursor.scanout_id = pos.scanout_id;
			sink->cursor.x = pos.x;
			sink->cursor.y = pos.y;
			sink->cursor.visible = req == VUGPU_CURSOR_POS;
		}
		return 0;
	case VUGPU_CURSOR_UPDATE:
		if (check_size(sink, req, hdr->size, sizeof(struct vugpu_cursor_update))) {
			const struct vugpu_cursor_update *cu = (const void *)p;

			sink->cursor.defined = true;
			sink->cursor.visible = true;
			sink->cursor.scanout_id = cu->pos.scanout_id;
			sink->cursor.x = cu->pos.x;
			sink->cursor.y = cu->pos.y;
			sink->cursor.hot_x = cu->hot_x;
			sink->cursor.hot_y = cu->hot_y;
			memcpy(sink->cursor.image, cu->data, sizeof(sink->cursor.image));
		}
		return 0;
	case VUGPU_SCANOUT:
		if (check_size(sink, req, hdr->size, sizeof(struct vugpu_scanout))) {
			struct vugpu_scanout s;

			memcpy(&s, p, sizeof(s));
			handle_scanout(sink, &s);
		}
		return 0;
	case VUGPU_UPDATE:
		if (hdr->size < sizeof(struct vugpu_update)) {
			violation(sink, "UPDATE with size %u", hdr->size);
			return 0;
		}
		handle_update(sink, p, hdr->size);
		return 0;
	case VUGPU_DMABUF_SCANOUT:
	case VUGPU_DMABUF_SCANOUT2: {
		uint32_t want = req == VUGPU_DMABUF_SCANOUT ? sizeof(struct vugpu_dmabuf_scanout) :
							      sizeof(struct vugpu_dmabuf_scanout2);

		if (check_size(sink, req, hdr->size, want)) {
			memset(&sink->last_dmabuf, 0, sizeof(sink->last_dmabuf));
			memcpy(&sink->last_dmabuf, p, want);
			sink->last_dmabuf_had_fd = had_fd;
			sink->last_dmabuf_v2 = req == VUGPU_DMABUF_SCANOUT2;
		}
		return 0;
	}
	case VUGPU_DMABUF_UPDATE:
		if (check_size(sink, req, hdr->size, sizeof(struct vugpu_update))) {
			memcpy(&sink->last_dmabuf_update, p, sizeof(struct vugpu_update));
		}
		sink->dmabuf_updates_unacked++;
		if (sink->cfg.no_dmabuf_ack) {
			return 0;
		}
		return vdgfe_sink_send_dmabuf_ack(sink);
	default:
		return 0;
	}
}

static int service_one(struct vdgfe_sink *sink, int timeout_ms)
{
	struct vugpu_msg_header hdr;
	int fds[SINK_MAX_FDS];
	unsigned int nfds = 0;
	ssize_t n;
	int r;

	/* Is anything there? Peek one byte without blocking. */
	n = recv(sink->fd, &hdr, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		return 0;
	}
	if (n <= 0) {
		sink->closed = true;
		return -ECONNRESET;
	}
	r = read_exact(sink, &hdr, sizeof(hdr), fds, &nfds, timeout_ms);
	if (r < 0) {
		goto out;
	}
	if (hdr.size > SINK_MAX_PAYLOAD) {
		violation(sink, "display request %u with absurd size %u", hdr.request, hdr.size);
		r = -EPROTO;
		goto out;
	}
	if (hdr.size > sink->scratch_cap) {
		uint8_t *s = realloc(sink->scratch, hdr.size);

		if (!s) {
			r = -ENOMEM;
			goto out;
		}
		sink->scratch = s;
		sink->scratch_cap = hdr.size;
	}
	r = read_exact(sink, sink->scratch, hdr.size, fds, &nfds, timeout_ms);
	if (r < 0) {
		goto out;
	}
	sink_log(sink, "request %u size %u fds %u", hdr.request, hdr.size, nfds);
	r = handle(sink, &hdr, sink->scratch, nfds > 0);
	if (r >= 0) {
		r = 1;
	}
	if (r >= 0 && nfds > 0 &&
		(hdr.request == VUGPU_DMABUF_SCANOUT || hdr.request == VUGPU_DMABUF_SCANOUT2)) {
		/* keep the buffer, as QEMU does, so tests can look into it */
		drop_dmabuf_fd(sink);
		sink->last_dmabuf_fd = fds[0];
		fds[0] = -1;
	}
out:
	for (unsigned int i = 0; i < nfds; i++) {
		if (fds[i] >= 0) {
			close(fds[i]);
		}
	}
	if (r == -ECONNRESET) {
		sink->closed = true;
	}
	return r;
}

int vdgfe_sink_service(struct vdgfe_sink *sink, int timeout_ms)
{
	int handled = 0;

	if (sink->fd < 0 || sink->closed) {
		return 0;
	}
	for (;;) {
		int r = service_one(sink, timeout_ms);

		if (r < 0) {
			return handled > 0 && r == -ECONNRESET ? handled : r;
		}
		if (r == 0) {
			return handled;
		}
		handled++;
	}
}

uint32_t vdgfe_sink_pixel(const struct vdgfe_sink *sink, unsigned int scanout, uint32_t x,
	uint32_t y, bool *ok)
{
	const struct vdgfe_fb *fb;

	if (scanout >= VDGFE_SINK_MAX_OUTPUTS) {
		*ok = false;
		return 0;
	}
	fb = &sink->fb[scanout];
	if (!fb->pixels || x >= fb->width || y >= fb->height) {
		*ok = false;
		return 0;
	}
	*ok = true;
	return fb->pixels[(size_t)y * fb->width + x];
}
