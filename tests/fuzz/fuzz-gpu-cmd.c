/* SPDX-License-Identifier: MIT */
/*
 * fuzz-gpu-cmd: the virtio-gpu command decoder over the 2d (pixman)
 * renderer, in a whole daemon session: an event loop and a gpu_device
 * attached to a socketpair, with the harness playing QEMU (raw vhost-user
 * messages: features, a memfd mem table, both rings, kicks; optionally the
 * display socket of GPU_SET_SOCKET, answering what the device asks) and the
 * guest driver (commands placed in guest RAM, published on the rings).
 *
 * Input: one mode byte, then records. Mode bits:
 *   0 prelude: first create three valid resources with backing, scanouts,
 *     a flush and a cursor, so later commands can reach deep paths (ids 1-3:
 *     64x64 B8G8R8X8, 64x64 B8G8R8A8 cursor, 32x16 R8G8B8A8)
 *   1 hand over a display socket (GPU_SET_SOCKET) and answer on it
 *   2 negotiate protocol features (REPLY_ACK, CONFIG, ...; rings need ENABLE)
 *   3 headless device
 *   4 EVENT_IDX    5 indirect descriptors (the driver uses them when asked)
 *   6 3D: the device in virgl mode over a stand-in 3D renderer (fake-3d.c:
 *     contexts, fences retired from a timer, dma-buf export of memfds),
 *     VIRGL and CONTEXT_INIT acked (without it, RESOURCE_BLOB is acked: 2d mode
 *     offers guest blobs)
 *   7 at the end, QEMU closes the display socket before hanging up
 *
 * Records start with a kind byte; its low three bits say what follows:
 *   0 / 1  a command on the control / cursor queue: len u16, bytes. Kind
 *          bits 3-4: response buffer 24, 4096, 8 or none; bit 5: the request
 *          split over two descriptors; bit 6: in an indirect table; bit 7:
 *          do not kick yet (batch)
 *   2      a display reply: len u16, bytes sent raw on the display socket,
 *          at once (kind bit 3) or instead of the next valid answer
 *   3      config space access: bit 3 SET (events_clear u32), else GET
 *          (offset u8, size u8)
 *   4      another vhost-user message: request u8, len u8, payload
 *   5      guest RAM write: gpa u32 (mod 1 MiB), len u16, bytes
 *   6      run the loop; wait for timers (2 ms) if display bytes came from the
 *          input since the last wait
 *   7      kick both queues and run the loop
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/virtio_gpu.h>

#include "edid.h"
#include "event-loop.h"
#include "fake-3d.h"
#include "fuzz.h"
#include "gpu-device.h"
#include "guest-mem.h"
#include "renderer.h"
#include "ring.h"
#include "vu-proto.h"
#include "vugpu-proto.h"

#define RAM_SIZE (1u << 20)
#define SLOT_SIZE 0x3000u /* command 4 KiB, response 4 KiB, indirect table */
#define CMD_MAX 0x1000u
#define RESP_OFF 0x1000u
#define INDIRECT_OFF 0x2000u
#define BACKING_GPA 0x80000u
#define MAX_REPLIES 8
#define DISPLAY_W 1024
#define DISPLAY_H 768

enum {
	M_PRELUDE = 1 << 0,
	M_DISPLAY = 1 << 1,
	M_PROTOCOL = 1 << 2,
	M_HEADLESS = 1 << 3,
	M_EVENT_IDX = 1 << 4,
	M_INDIRECT = 1 << 5,
	M_VIRGL = 1 << 6,
	M_HANGUP_DISPLAY = 1 << 7,
};

enum {
	S_RESP_MASK = 3,
	S_SPLIT = 1 << 2,
	S_INDIRECT = 1 << 3,
};

static const uint32_t resp_sizes[4] = {sizeof(struct virtio_gpu_ctrl_hdr), 4096, 8, 0};

struct queue {
	struct test_ring ring;
	uint16_t num;
	unsigned int slots; /* chains of at most 4 descriptors each */
	uint64_t slot_gpa;
	int kick, call; /* our copies of the eventfds */
};

struct harness {
	struct event_loop *loop;
	struct gpu_device *dev;
	int peer; /* vhost-user, QEMU's end */
	int disp; /* display socket, QEMU's end, or -1 */
	struct queue q[2];
	bool indirect;
	unsigned int disconnects;
	/* we sent fuzz bytes on the display socket: a protocol error may have armed its 1 ms timer
	 */
	bool display_suspect;

	/* what the device sent on the display socket, parsed as it comes */
	struct vugpu_msg_header dhdr;
	size_t dhave;
	uint64_t dskip;

	/* fuzz replies to send instead of the next valid ones */
	const uint8_t *replies[MAX_REPLIES];
	size_t reply_len[MAX_REPLIES];
	unsigned int nreplies;
};

static struct test_guest_mem ram = {.fd = -1};

static void on_disconnect(void *data)
{
	((struct harness *)data)->disconnects++;
}

/* ---- sockets ---- */

static size_t drain_vu(struct harness *h)
{
	uint8_t buf[4096];
	size_t total = 0;
	ssize_t n;

	while (h->peer >= 0 && (n = recv(h->peer, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		total += (size_t)n;
	}
	return total;
}

static void pump(struct harness *h, int first_wait_ms);

/* Sends all of buf on fd, running the loop while the socket is full. */
static void send_all(
        struct harness *h, int fd, const void *buf, size_t len, const int *fds, size_t nfds)
{
	size_t done = 0;

	for (int round = 0; round < 64 && done < len; round++) {
		ssize_t n = fuzz_send(fd, (const uint8_t *)buf + done, len - done,
		        done ? NULL : fds, done ? 0 : nfds);

		if (n == -EAGAIN) {
			pump(h, 0);
			continue;
		}
		if (n < 0) {
			return;
		}
		done += (size_t)n;
	}
}

static void send_vu(struct harness *h, uint32_t request, const void *payload, uint32_t size,
        const int *fds, size_t nfds)
{
	uint8_t buf[sizeof(struct vu_msg_header) + 512];
	struct vu_msg_header hdr = {request, VU_VERSION, size};

	if (h->peer < 0 || size > sizeof(buf) - sizeof(hdr)) {
		return;
	}
	memcpy(buf, &hdr, sizeof(hdr));
	if (size) {
		memcpy(buf + sizeof(hdr), payload, size);
	}
	send_all(h, h->peer, buf, sizeof(hdr) + size, fds, nfds);
}

static void send_vu_u64(struct harness *h, uint32_t request, uint64_t value)
{
	send_vu(h, request, &value, sizeof(value), NULL, 0);
}

/* ---- the display socket, QEMU's side ---- */

static void display_answer(struct harness *h, uint32_t request)
{
	union {
		uint8_t bytes[1];
		uint64_t features;
		struct virtio_gpu_resp_display_info info;
		struct virtio_gpu_resp_edid edid;
	} body;
	struct vugpu_msg_header hdr = {request, VUGPU_FLAG_REPLY, 0};
	uint8_t msg[sizeof(hdr) + sizeof(body)];

	if (request != VUGPU_GET_PROTOCOL_FEATURES && request != VUGPU_GET_DISPLAY_INFO &&
	        request != VUGPU_GET_EDID && request != VUGPU_DMABUF_UPDATE) {
		return;
	}
	if (h->nreplies > 0) {
		send_all(h, h->disp, h->replies[0], h->reply_len[0], NULL, 0);
		h->nreplies--;
		memmove(h->replies, h->replies + 1, sizeof(h->replies[0]) * h->nreplies);
		memmove(h->reply_len, h->reply_len + 1, sizeof(h->reply_len[0]) * h->nreplies);
		return;
	}
	memset(&body, 0, sizeof(body));
	switch (request) {
	case VUGPU_GET_PROTOCOL_FEATURES:
		body.features = (UINT64_C(1) << VUGPU_PROTOCOL_F_EDID) |
		                (UINT64_C(1) << VUGPU_PROTOCOL_F_DMABUF2);
		hdr.size = sizeof(body.features);
		break;
	case VUGPU_GET_DISPLAY_INFO:
		body.info.hdr.type = VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
		body.info.pmodes[0].r.width = DISPLAY_W;
		body.info.pmodes[0].r.height = DISPLAY_H;
		body.info.pmodes[0].enabled = 1;
		hdr.size = sizeof(body.info);
		break;
	case VUGPU_DMABUF_UPDATE:
		break; /* the ack: no payload */
	case VUGPU_GET_EDID:
		body.edid.hdr.type = VIRTIO_GPU_RESP_OK_EDID;
		body.edid.size = EDID_BLOCK_SIZE;
		edid_generate(body.edid.edid, DISPLAY_W, DISPLAY_H);
		hdr.size = sizeof(body.edid);
		break;
	}
	memcpy(msg, &hdr, sizeof(hdr));
	memcpy(msg + sizeof(hdr), &body, hdr.size);
	send_all(h, h->disp, msg, sizeof(hdr) + hdr.size, NULL, 0);
}

/* Reads what the device sent on the display socket and answers its requests. */
static size_t service_display(struct harness *h)
{
	static uint8_t buf[64 * 1024];
	size_t total = 0;

	while (h->disp >= 0) {
		ssize_t n = recv(h->disp, buf, sizeof(buf), MSG_DONTWAIT);
		size_t pos = 0;

		if (n <= 0) {
			break;
		}
		total += (size_t)n;
		while (pos < (size_t)n) {
			size_t left = (size_t)n - pos;

			if (h->dskip > 0) {
				size_t take = left < h->dskip ? left : (size_t)h->dskip;

				h->dskip -= take;
				pos += take;
				continue;
			}
			size_t take = sizeof(h->dhdr) - h->dhave;
			if (take > left) {
				take = left;
			}
			memcpy((uint8_t *)&h->dhdr + h->dhave, buf + pos, take);
			h->dhave += take;
			pos += take;
			if (h->dhave == sizeof(h->dhdr)) {
				h->dhave = 0;
				h->dskip = h->dhdr.size;
				display_answer(h, h->dhdr.request);
			}
		}
	}
	return total;
}

static void pump(struct harness *h, int first_wait_ms)
{
	static int depth;

	/* send_all() may pump; one level of nesting is enough to make progress */
	if (depth > 1) {
		return;
	}
	depth++;
	for (int i = 0; i < 512; i++) {
		int n = event_loop_dispatch(h->loop, i == 0 ? first_wait_ms : 0);
		size_t io = drain_vu(h) + service_display(h);

		if (n <= 0 && io == 0) {
			break;
		}
	}
	depth--;
}

/* ---- the guest driver ---- */

static uint16_t used_idx(const struct queue *q)
{
	return __atomic_load_n(&q->ring.used->idx, __ATOMIC_ACQUIRE);
}

/* Places one command in guest RAM and publishes it. False if the queue stayed full. */
static bool submit(
        struct harness *h, unsigned int qi, const uint8_t *cmd, size_t len, unsigned int shape)
{
	struct queue *q = &h->q[qi];
	struct vring_desc descs[3];
	unsigned int n = 0, slot;
	uint32_t resp = resp_sizes[shape & S_RESP_MASK];
	uint64_t gpa;

	if ((uint16_t)(q->ring.avail_idx - used_idx(q)) >= q->slots) {
		pump(h, 0);
		if ((uint16_t)(q->ring.avail_idx - used_idx(q)) >= q->slots) {
			return false;
		}
	}
	if (len > CMD_MAX) {
		len = CMD_MAX;
	}
	slot = q->ring.avail_idx % q->slots;
	gpa = q->slot_gpa + (uint64_t)slot * SLOT_SIZE;
	memcpy(test_gpa(&ram, gpa), cmd, len);
	memset(test_gpa(&ram, gpa + RESP_OFF), 0, 4096);
	if ((shape & S_SPLIT) && len >= 2) {
		descs[n++] = (struct vring_desc){gpa, (uint32_t)(len / 2), VRING_DESC_F_NEXT, 0};
		descs[n++] = (struct vring_desc){
		        gpa + len / 2, (uint32_t)(len - len / 2), VRING_DESC_F_NEXT, 0};
	} else {
		descs[n++] = (struct vring_desc){gpa, (uint32_t)len, VRING_DESC_F_NEXT, 0};
	}
	if (resp) {
		descs[n++] = (struct vring_desc){
		        gpa + RESP_OFF, resp, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 0};
	}
	descs[n - 1].flags &= (uint16_t)~VRING_DESC_F_NEXT;

	uint16_t head = (uint16_t)(slot * 4);
	if ((shape & S_INDIRECT) && h->indirect) {
		struct vring_desc *table = test_gpa(&ram, gpa + INDIRECT_OFF);

		for (unsigned int i = 0; i < n; i++) {
			table[i] = descs[i];
			table[i].next = (uint16_t)(i + 1);
		}
		test_ring_set_desc(&q->ring, head, gpa + INDIRECT_OFF,
		        (uint32_t)(n * sizeof(struct vring_desc)), VRING_DESC_F_INDIRECT, 0);
	} else {
		for (unsigned int i = 0; i < n; i++) {
			test_ring_set_desc(&q->ring, (uint16_t)(head + i), descs[i].addr,
			        descs[i].len, descs[i].flags, (uint16_t)(head + i + 1));
		}
	}
	test_ring_publish(&q->ring, head);
	return true;
}

static void kick(struct harness *h, unsigned int qi)
{
	eventfd_write(h->q[qi].kick, 1);
	pump(h, 0);
}

/* ---- session set-up ---- */

static void setup_queue(struct harness *h, unsigned int qi, uint16_t num, uint64_t ring_gpa,
        unsigned int slots, uint64_t slot_gpa, bool protocol)
{
	struct queue *q = &h->q[qi];
	struct vu_vring_state state = {qi, num};
	struct vu_vring_addr addr;

	q->num = num;
	q->slots = slots;
	q->slot_gpa = slot_gpa;
	test_ring_init(&q->ring, &ram, num, ring_gpa);
	addr = test_ring_addr(&q->ring, qi);
	q->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	send_vu(h, VU_REQ_SET_VRING_NUM, &state, sizeof(state), NULL, 0);
	state.num = 0;
	send_vu(h, VU_REQ_SET_VRING_BASE, &state, sizeof(state), NULL, 0);
	send_vu(h, VU_REQ_SET_VRING_ADDR, &addr, sizeof(addr), NULL, 0);
	uint64_t file = qi;
	send_vu(h, VU_REQ_SET_VRING_CALL, &file, sizeof(file), &q->call, 1);
	send_vu(h, VU_REQ_SET_VRING_KICK, &file, sizeof(file), &q->kick, 1);
	if (protocol) {
		state.num = 1;
		send_vu(h, VU_REQ_SET_VRING_ENABLE, &state, sizeof(state), NULL, 0);
	}
}

static void start_session(struct harness *h, uint8_t mode)
{
	uint64_t features = VU_BIT(VIRTIO_F_VERSION_1_BIT) | VU_BIT(VIRTIO_GPU_F_EDID) |
	                    VU_BIT(VIRTIO_GPU_F_RESOURCE_UUID);
	bool protocol = mode & M_PROTOCOL;

	send_vu(h, VU_REQ_GET_FEATURES, NULL, 0, NULL, 0);
	if (protocol) {
		send_vu(h, VU_REQ_GET_PROTOCOL_FEATURES, NULL, 0, NULL, 0);
		send_vu_u64(h, VU_REQ_SET_PROTOCOL_FEATURES,
		        VU_BIT(VU_PROTOCOL_F_MQ) | VU_BIT(VU_PROTOCOL_F_REPLY_ACK) |
		                VU_BIT(VU_PROTOCOL_F_CONFIG) | VU_BIT(VU_PROTOCOL_F_RESET_DEVICE) |
		                VU_BIT(VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS) |
		                VU_BIT(VU_PROTOCOL_F_STATUS));
		features |= VU_BIT(VHOST_USER_F_PROTOCOL_FEATURES_BIT);
	}
	send_vu(h, VU_REQ_SET_OWNER, NULL, 0, NULL, 0);
	if (mode & M_EVENT_IDX) {
		features |= VU_BIT(VIRTIO_RING_F_EVENT_IDX_BIT);
	}
	if (mode & M_INDIRECT) {
		features |= VU_BIT(VIRTIO_RING_F_INDIRECT_DESC_BIT);
		h->indirect = true;
	}
	if (mode & M_VIRGL) {
		features |= VU_BIT(VIRTIO_GPU_F_VIRGL) | VU_BIT(VIRTIO_GPU_F_CONTEXT_INIT);
	} else {
		features |= VU_BIT(VIRTIO_GPU_F_RESOURCE_BLOB); /* offered in 2d mode */
	}
	send_vu_u64(h, VU_REQ_SET_FEATURES, features);

	struct {
		uint32_t nregions, padding;
		struct vu_mem_region region;
	} __attribute__((packed)) table = {1, 0, test_guest_mem_region(&ram)};
	send_vu(h, VU_REQ_SET_MEM_TABLE, &table, sizeof(table), &ram.fd, 1);

	/* control 64 entries, 16 chains; cursor 16 entries, 4 chains */
	setup_queue(h, 0, 64, 0x0000, 16, 0x10000, protocol);
	setup_queue(h, 1, 16, 0x4000, 4, 0x40000, protocol);

	if (mode & M_DISPLAY) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) == 0) {
			send_vu(h, VU_REQ_GPU_SET_SOCKET, NULL, 0, &sv[0], 1);
			close(sv[0]);
			h->disp = sv[1];
		}
	}
	pump(h, 0);
}

/* ---- prelude: a few valid resources, so the fuzz commands go deep ---- */

static void put_cmd(struct harness *h, unsigned int qi, const void *cmd, size_t len)
{
	submit(h, qi, cmd, len, 0);
}

static void prelude(struct harness *h)
{
	struct virtio_gpu_ctrl_hdr info = {.type = VIRTIO_GPU_CMD_GET_DISPLAY_INFO};
	static const struct {
		uint32_t id, format, w, h;
	} res[3] = {
	        {1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64},
	        {2, VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 64, 64},
	        {3, VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, 32, 16},
	};
	static uint8_t pattern[0x10000];

	if (pattern[1] == 0) {
		for (unsigned int i = 0; i < sizeof(pattern); i++) {
			pattern[i] = (uint8_t)(i * 7);
		}
	}
	memcpy(test_gpa(&ram, BACKING_GPA), pattern, sizeof(pattern));
	put_cmd(h, 0, &info, sizeof(info));
	for (unsigned int i = 0; i < 3; i++) {
		struct virtio_gpu_resource_create_2d c = {
		        .hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
		        .resource_id = res[i].id,
		        .format = res[i].format,
		        .width = res[i].w,
		        .height = res[i].h,
		};

		put_cmd(h, 0, &c, sizeof(c));
	}
	/* resource 1 gets two entries, to cross an entry boundary mid-row */
	struct {
		struct virtio_gpu_resource_attach_backing a;
		struct virtio_gpu_mem_entry e[2];
	} attach = {
	        {.hdr.type = VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
	                .resource_id = 1,
	                .nr_entries = 2},
	        {{BACKING_GPA, 8190, 0}, {BACKING_GPA + 0x4000, 8194, 0}},
	};
	put_cmd(h, 0, &attach, sizeof(attach));
	attach.a.resource_id = 2;
	attach.a.nr_entries = 1;
	attach.e[0] = (struct virtio_gpu_mem_entry){BACKING_GPA + 0x8000, 16384, 0};
	put_cmd(h, 0, &attach, sizeof(attach.a) + sizeof(attach.e[0]));
	attach.a.resource_id = 3;
	attach.e[0] = (struct virtio_gpu_mem_entry){BACKING_GPA + 0xc000, 2048, 0};
	put_cmd(h, 0, &attach, sizeof(attach.a) + sizeof(attach.e[0]));
	for (uint32_t id = 1; id <= 3; id += 2) {
		struct virtio_gpu_transfer_to_host_2d t = {
		        .hdr.type = VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
		        .r = {0, 0, res[id - 1].w, res[id - 1].h},
		        .resource_id = id,
		};
		struct virtio_gpu_set_scanout s = {
		        .hdr.type = VIRTIO_GPU_CMD_SET_SCANOUT,
		        .r = {0, 0, res[id - 1].w, res[id - 1].h},
		        .scanout_id = id / 2,
		        .resource_id = id,
		};
		struct virtio_gpu_resource_flush f = {
		        .hdr.type = VIRTIO_GPU_CMD_RESOURCE_FLUSH,
		        .r = {0, 0, res[id - 1].w, res[id - 1].h},
		        .resource_id = id,
		};

		put_cmd(h, 0, &t, sizeof(t));
		put_cmd(h, 0, &s, sizeof(s));
		put_cmd(h, 0, &f, sizeof(f));
	}
	kick(h, 0);
	struct virtio_gpu_update_cursor cur = {
	        .hdr.type = VIRTIO_GPU_CMD_UPDATE_CURSOR,
	        .pos = {0, 10, 10, 0},
	        .resource_id = 2,
	        .hot_x = 1,
	        .hot_y = 1,
	};
	put_cmd(h, 1, &cur, sizeof(cur));
	kick(h, 1);
}

/* ---- records ---- */

static void config_access(struct harness *h, struct fuzz_in *in, bool set)
{
	struct {
		uint32_t offset, size, flags;
		uint8_t region[32];
	} __attribute__((packed)) cfg = {0};

	if (set) {
		uint32_t clear = fuzz_u32(in);

		cfg.offset = 4; /* events_clear */
		cfg.size = 4;
		memcpy(cfg.region, &clear, 4);
		send_vu(h, VU_REQ_SET_CONFIG, &cfg, 12 + 4, NULL, 0);
	} else {
		cfg.offset = fuzz_u8(in) % 32;
		cfg.size = fuzz_u8(in) % 33;
		send_vu(h, VU_REQ_GET_CONFIG, &cfg, 12 + cfg.size, NULL, 0);
	}
	pump(h, 0);
}

static void run_record(struct harness *h, struct fuzz_in *in)
{
	uint8_t kind = fuzz_u8(in);
	const uint8_t *bytes;
	size_t len;

	switch (kind & 7) {
	case 0:
	case 1: {
		unsigned int qi = kind & 1;

		len = fuzz_bytes(in, fuzz_u16(in), &bytes);
		submit(h, qi, bytes, len, (kind >> 3) & 0xf);
		if (!(kind & 0x80)) {
			kick(h, qi);
		}
		break;
	}
	case 2:
		len = fuzz_bytes(in, fuzz_u16(in), &bytes);
		if (h->disp < 0) {
			break;
		}
		h->display_suspect = true;
		if ((kind & 8) || h->nreplies == MAX_REPLIES) {
			send_all(h, h->disp, bytes, len, NULL, 0);
			pump(h, 0);
		} else {
			h->replies[h->nreplies] = bytes;
			h->reply_len[h->nreplies++] = len;
		}
		break;
	case 3:
		config_access(h, in, kind & 8);
		break;
	case 4: {
		uint8_t request = fuzz_u8(in);

		len = fuzz_bytes(in, fuzz_u8(in), &bytes);
		send_vu(h, request, bytes, (uint32_t)len, NULL, 0);
		pump(h, 0);
		break;
	}
	case 5: {
		uint32_t gpa = fuzz_u32(in) % RAM_SIZE;

		len = fuzz_bytes(in, fuzz_u16(in), &bytes);
		if (len > RAM_SIZE - gpa) {
			len = RAM_SIZE - gpa;
		}
		memcpy(test_gpa(&ram, gpa), bytes, len);
		break;
	}
	case 6:
		/* sleeping costs executions: only when a timer may be armed */
		pump(h, h->display_suspect ? 2 : 0);
		h->display_suspect = false;
		break;
	case 7:
		eventfd_write(h->q[0].kick, 1);
		kick(h, 1);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct harness h = {.peer = -1, .disp = -1};
	struct fuzz_in in;
	int sv[2], fds_before;

	fuzz_setup();
	if (ram.fd < 0 && test_guest_mem_create(&ram, RAM_SIZE, 0) < 0) {
		abort();
	}
	memset(ram.map, 0, RAM_SIZE);
	fds_before = fuzz_count_fds();
	fuzz_in_init(&in, data, size);
	uint8_t mode = fuzz_u8(&in);

	struct gpu_device_config cfg = {
	        .headless = mode & M_HEADLESS,
	        .virgl = mode & M_VIRGL,
	        .on_disconnect = on_disconnect,
	        .disconnect_data = &h,
	};
	h.loop = event_loop_create();
	struct rnd_renderer *renderer = !h.loop            ? NULL :
	                                (mode & M_VIRGL) ? fake3d_create(h.loop) :
	                                                   rnd_pixman_create();
	if (!h.loop || !renderer) {
		abort();
	}
	h.dev = gpu_device_create(h.loop, renderer, &cfg);
	if (!h.dev || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0 ||
	        gpu_device_attach(h.dev, sv[0]) < 0) {
		abort();
	}
	h.peer = sv[1];

	start_session(&h, mode);
	if (mode & M_PRELUDE) {
		prelude(&h);
	}
	while (!fuzz_in_empty(&in)) {
		run_record(&h, &in);
	}
	eventfd_write(h.q[0].kick, 1);
	kick(&h, 1);

	if ((mode & M_HANGUP_DISPLAY) && h.disp >= 0) {
		/* QEMU goes first: the device falls back to headless (a 1 ms timer) */
		close(h.disp);
		h.disp = -1;
		pump(&h, 2);
	}
	close(h.peer);
	h.peer = -1;
	for (int i = 0; i < 8 && gpu_device_connected(h.dev); i++) {
		event_loop_dispatch(h.loop, 0);
	}
	gpu_device_destroy(h.dev);
	event_loop_destroy(h.loop);
	for (unsigned int i = 0; i < 2; i++) {
		if (h.q[i].kick >= 0) {
			close(h.q[i].kick);
		}
		if (h.q[i].call >= 0) {
			close(h.q[i].call);
		}
	}
	if (h.disp >= 0) {
		close(h.disp);
	}
	fuzz_check_fds(fds_before, "fuzz-gpu-cmd");
	return 0;
}
