/* SPDX-License-Identifier: MIT */
/*
 * fuzz-display: the display channel of VHOST_USER_GPU_SET_SOCKET
 * (vugpu_chan_create, src/display/display.h), with the harness as QEMU: it
 * writes fuzz bytes as "QEMU's replies" while the device side asks for
 * display info and EDIDs and sends scanouts, frames and cursors. When the
 * channel reports it closed, the harness destroys it, as gpu-device.c does.
 *
 * Input: one flags byte, then records of an op byte (mod 13) and its fields:
 *   flags bit 0: shrink the channel's send buffer, so frames queue up and
 *   the EPOLLOUT and partial-send paths run; bit 1: answer the protocol
 *   features request validly at once; bit 2: valid answers offer DMABUF2
 *   0  raw reply bytes: len u8, bytes written to QEMU's end
 *   1  disp_get_display_info()
 *   2  disp_get_edid(): scanout u8
 *   3  disp_update(): scanout u8, x u16, y u16, w u8 (mod 65), h u8 (mod 65),
 *      stride padding u8 (mod 64), stable u8 (bit 0); the pixels come from a
 *      harness buffer that always holds what the rect and stride promise
 *   4  disp_scanout(): scanout u8, width u16, height u16
 *   5  disp_cursor_update(): scanout u8, x u16, y u16
 *   6  disp_cursor_move(): scanout u8, x u16, y u16, visible u8
 *   7  run the loop until idle (QEMU does not read)
 *   8  QEMU reads what was sent and answers each request validly
 *   9  run the loop, waiting for timers (2 ms) if the channel closed its end
 *   10 a well-formed reply: request u8, size u16, then size bytes (capped)
 *   11 disp_dmabuf_scanout(): scanout u8, kind u8 (0: no buffer, else a
 *      memfd with modifier linear (1), implicit (2) or tiled (3)), width
 *      u16, height u16
 *   12 disp_dmabuf_update(): scanout u8, x u16, y u16, w u16, h u16; the
 *      ack is QEMU's to send (op 8 sends it, op 0/10 may fake it)
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "display.h"
#include "edid.h"
#include "event-loop.h"
#include "fuzz.h"

#define MAX_W 64u
#define MAX_STRIDE_PAD 63u
#define PIXELS_SIZE ((MAX_W * 4 + MAX_STRIDE_PAD) * MAX_W)

struct harness {
	struct event_loop *loop;
	struct disp_sink *sink; /* NULL once closed and destroyed */
	int peer;               /* QEMU's end */
	bool closed;
	bool offer_dmabuf2;
	unsigned int next_unstable;
	unsigned int idles;
	unsigned int replies;
	/* what the channel sent, parsed as it comes (for op 8) */
	struct vugpu_msg_header hdr;
	size_t hhave;
	uint64_t skip;
	uint64_t payload_pos;
};

/* Written over unstable pixels once the call returned: must never reach QEMU. */
#define CLOBBER 0xee

#define UNSTABLE_BUFS 4

/* Stable pixels stay put; each unstable call gets the next buffer, clobbered after it. */
static uint8_t pristine[PIXELS_SIZE], stable_px[PIXELS_SIZE],
        unstable_px[UNSTABLE_BUFS][PIXELS_SIZE];
static struct vugpu_cursor_update cursor;

static void on_idle(void *data)
{
	struct harness *h = data;

	h->idles++;
}

static void on_closed(void *data)
{
	struct harness *h = data;

	disp_destroy(h->sink);
	h->sink = NULL;
	h->closed = true;
}

static void on_reply(void *data, int status, const void *reply, size_t len)
{
	struct harness *h = data;
	uint8_t copy[sizeof(struct virtio_gpu_resp_edid)];

	h->replies++;
	/* every byte the channel hands over must be readable (ASan checks) */
	if (status == 0 && len > 0) {
		memcpy(copy, reply, len < sizeof(copy) ? len : sizeof(copy));
		if (len > sizeof(copy)) {
			abort(); /* longer than any reply the protocol has */
		}
	}
}

static void run_until_idle(struct harness *h, int first_wait_ms)
{
	for (int i = 0; i < 64; i++) {
		if (event_loop_dispatch(h->loop, i == 0 ? first_wait_ms : 0) <= 0) {
			break;
		}
	}
}

/*
 * A channel that failed has closed its end (then its 1 ms fail timer is
 * armed): only then is waiting for timers worth its time.
 */
static bool channel_gone(struct harness *h)
{
	struct pollfd p = {.fd = h->peer, .events = POLLRDHUP};

	return h->sink && poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLRDHUP));
}

static void send_bytes(struct harness *h, const void *buf, size_t len)
{
	size_t done = 0;

	for (int round = 0; round < 16 && done < len && h->peer >= 0; round++) {
		ssize_t n = fuzz_send(h->peer, (const uint8_t *)buf + done, len - done, NULL, 0);

		if (n == -EAGAIN) {
			run_until_idle(h, 0);
			continue;
		}
		if (n < 0) {
			return;
		}
		done += (size_t)n;
	}
}

static void valid_reply(struct harness *h, uint32_t request)
{
	union {
		uint64_t features;
		struct virtio_gpu_resp_display_info info;
		struct virtio_gpu_resp_edid edid;
	} body;
	struct vugpu_msg_header hdr = {request, VUGPU_FLAG_REPLY, 0};
	uint8_t msg[sizeof(hdr) + sizeof(body)];

	memset(&body, 0, sizeof(body));
	switch (request) {
	case VUGPU_GET_PROTOCOL_FEATURES:
		body.features = UINT64_C(1) << VUGPU_PROTOCOL_F_EDID;
		if (h->offer_dmabuf2) {
			body.features |= UINT64_C(1) << VUGPU_PROTOCOL_F_DMABUF2;
		}
		hdr.size = sizeof(body.features);
		break;
	case VUGPU_DMABUF_UPDATE:
		hdr.size = 0; /* the ack: no payload */
		break;
	case VUGPU_GET_DISPLAY_INFO:
		body.info.hdr.type = VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
		body.info.pmodes[0].r.width = 1280;
		body.info.pmodes[0].r.height = 800;
		body.info.pmodes[0].enabled = 1;
		hdr.size = sizeof(body.info);
		break;
	case VUGPU_GET_EDID:
		body.edid.hdr.type = VIRTIO_GPU_RESP_OK_EDID;
		body.edid.size = EDID_BLOCK_SIZE;
		edid_generate(body.edid.edid, 1280, 800);
		hdr.size = sizeof(body.edid);
		break;
	default:
		return;
	}
	memcpy(msg, &hdr, sizeof(hdr));
	memcpy(msg + sizeof(hdr), &body, hdr.size);
	send_bytes(h, msg, sizeof(hdr) + hdr.size);
}

/* Pixels of an UPDATE (after its 20-byte header) must be what the caller lent. */
static void check_frame(struct harness *h, const uint8_t *bytes, size_t len)
{
	const size_t head = sizeof(struct vugpu_update);

	if (h->hdr.request == VUGPU_UPDATE) {
		size_t from = h->payload_pos < head ? head - (size_t)h->payload_pos : 0;

		if (from < len && memchr(bytes + from, CLOBBER, len - from)) {
			fprintf(stderr,
			        "fuzz-display: UPDATE carried pixels overwritten after the call\n");
			abort();
		}
	}
	h->payload_pos += len;
}

/* QEMU reads everything the channel sent and answers its requests. */
static void qemu_reads(struct harness *h)
{
	static uint8_t buf[64 * 1024];

	for (int round = 0; round < 64; round++) {
		ssize_t n = recv(h->peer, buf, sizeof(buf), MSG_DONTWAIT);
		size_t pos = 0;

		if (n <= 0) {
			break;
		}
		while (pos < (size_t)n) {
			size_t left = (size_t)n - pos, take;

			if (h->skip > 0) {
				take = left < h->skip ? left : (size_t)h->skip;
				check_frame(h, buf + pos, take);
				h->skip -= take;
				pos += take;
				continue;
			}
			take = sizeof(h->hdr) - h->hhave;
			take = take < left ? take : left;
			memcpy((uint8_t *)&h->hdr + h->hhave, buf + pos, take);
			h->hhave += take;
			pos += take;
			if (h->hhave == sizeof(h->hdr)) {
				h->hhave = 0;
				h->skip = h->hdr.size;
				h->payload_pos = 0;
				valid_reply(h, h->hdr.request);
			}
		}
		run_until_idle(h, 0);
	}
}

static void op_update(struct harness *h, struct fuzz_in *in)
{
	uint32_t scanout = fuzz_u8(in), x = fuzz_u16(in), y = fuzz_u16(in);
	uint32_t w = fuzz_u8(in) % (MAX_W + 1), ht = fuzz_u8(in) % (MAX_W + 1);
	uint32_t stride = w * 4 + fuzz_u8(in) % (MAX_STRIDE_PAD + 1);
	bool stable = fuzz_u8(in) & 1;

	/* the caller's promise: height rows of stride bytes, the last one w * 4 long */
	uint8_t *px = stable ? stable_px : unstable_px[h->next_unstable];

	disp_update(h->sink, scanout, x, y, w, ht, px, stride, stable);
	if (!stable) {
		/* unstable pixels may change as soon as the call returns */
		memset(px, CLOBBER, PIXELS_SIZE);
		h->next_unstable = (h->next_unstable + 1) % UNSTABLE_BUFS;
		memcpy(unstable_px[h->next_unstable], pristine, PIXELS_SIZE);
	}
}

/* Modifiers the device may hand over: linear, implicit, and a tiled one QEMU 7.2 cannot take. */
static const uint64_t modifiers[] = { 0, DISP_DMABUF_MOD_INVALID, UINT64_C(0x0100000000000001) };

static void op_dmabuf_scanout(struct harness *h, struct fuzz_in *in)
{
	uint32_t scanout = fuzz_u8(in), kind = fuzz_u8(in) % 4;
	uint32_t w = fuzz_u16(in), ht = fuzz_u16(in);
	struct disp_dmabuf buf = {
		.width = w, .height = ht, .stride = w * 4, .drm_fourcc = 0x34325258u,
	};

	if (kind == 0) {
		disp_dmabuf_scanout(h->sink, scanout, NULL, 0, 0, 0, 0);
		return;
	}
	buf.modifier = modifiers[kind - 1];
	buf.fd = memfd_create("fuzz-dmabuf", MFD_CLOEXEC);
	if (buf.fd < 0) {
		abort();
	}
	/* the fd is the channel's now, whatever it answers */
	disp_dmabuf_scanout(h->sink, scanout, &buf, 0, 0, w, ht);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct harness h = {.peer = -1};
	struct disp_events events = {on_idle, on_closed, &h};
	struct fuzz_in in;
	int sv[2], fds_before;

	fuzz_setup();
	fds_before = fuzz_count_fds();
	fuzz_in_init(&in, data, size);
	if (pristine[1] == 0) {
		/* never CLOBBER: a frame on the wire with that byte was read too late */
		for (size_t i = 0; i < sizeof(pristine); i++) {
			pristine[i] = (uint8_t)(i % CLOBBER);
		}
	}
	memcpy(stable_px, pristine, PIXELS_SIZE);
	memcpy(unstable_px[0], pristine, PIXELS_SIZE);

	uint8_t flags = fuzz_u8(&in);
	h.loop = event_loop_create();
	if (!h.loop || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		abort();
	}
	h.peer = sv[1];
	h.sink = vugpu_chan_create(h.loop, sv[0], &events);
	if (!h.sink) {
		abort();
	}
	if (flags & 1) {
		/* the channel asked for 8 MiB; a slow QEMU is easier to play with less */
		int small = 4096;

		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	}
	h.offer_dmabuf2 = flags & 4;
	if (flags & 2) {
		qemu_reads(&h);
	}

	while (!fuzz_in_empty(&in)) {
		uint8_t op = fuzz_u8(&in) % 13;
		const uint8_t *bytes;
		size_t len;

		if (!h.sink && ((op >= 1 && op <= 6) || op >= 11)) {
			continue; /* closed: nothing to call */
		}
		switch (op) {
		case 0:
			len = fuzz_bytes(&in, fuzz_u8(&in), &bytes);
			send_bytes(&h, bytes, len);
			run_until_idle(&h, 0);
			break;
		case 1:
			disp_get_display_info(h.sink, on_reply, &h);
			break;
		case 2:
			disp_get_edid(h.sink, fuzz_u8(&in), on_reply, &h);
			break;
		case 3:
			op_update(&h, &in);
			break;
		case 4: {
			uint32_t id = fuzz_u8(&in), w = fuzz_u16(&in), ht = fuzz_u16(&in);

			disp_scanout(h.sink, id, w, ht);
			break;
		}
		case 5:
			cursor.pos.scanout_id = fuzz_u8(&in);
			cursor.pos.x = fuzz_u16(&in);
			cursor.pos.y = fuzz_u16(&in);
			disp_cursor_update(h.sink, &cursor);
			break;
		case 6: {
			uint32_t id = fuzz_u8(&in), x = fuzz_u16(&in), y = fuzz_u16(&in);

			disp_cursor_move(h.sink, id, x, y, fuzz_u8(&in) & 1);
			break;
		}
		case 7:
			run_until_idle(&h, 0);
			break;
		case 8:
			qemu_reads(&h);
			break;
		case 9:
			run_until_idle(&h, channel_gone(&h) ? 2 : 0);
			break;
		case 10: {
			uint8_t msg[sizeof(struct vugpu_msg_header) + 1100];
			struct vugpu_msg_header hdr = {
			        fuzz_u8(&in), VUGPU_FLAG_REPLY, fuzz_u16(&in)};

			memcpy(msg, &hdr, sizeof(hdr));
			len = fuzz_bytes(&in, hdr.size < 1100 ? hdr.size : 1100, &bytes);
			memcpy(msg + sizeof(hdr), bytes, len);
			send_bytes(&h, msg, sizeof(hdr) + len);
			run_until_idle(&h, 0);
			break;
		}
		case 11:
			op_dmabuf_scanout(&h, &in);
			break;
		case 12: {
			uint32_t id = fuzz_u8(&in), x = fuzz_u16(&in), y = fuzz_u16(&in);
			uint32_t w = fuzz_u16(&in), ht = fuzz_u16(&in);

			disp_dmabuf_update(h.sink, id, x, y, w, ht, on_reply, &h);
			break;
		}
		}
		if (h.sink) {
			disp_busy(h.sink);
		}
	}
	run_until_idle(&h, 0);

	disp_destroy(h.sink);
	close(h.peer);
	/* sources the channel removed mid-dispatch are freed at the end of a round */
	event_loop_dispatch(h.loop, 0);
	event_loop_destroy(h.loop);
	fuzz_check_fds(fds_before, "fuzz-display");
	return 0;
}
