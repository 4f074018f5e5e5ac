/* SPDX-License-Identifier: MIT */
/*
 * fuzz-vu-msg: the vhost-user control stream, with fds. A vu_dev with a fake
 * device (an echo device: it pops every request, copies its readable bytes
 * into its writable ones and pushes it back) is attached to one end of a
 * socketpair; the harness plays the frontend on the other end.
 *
 * The input is a list of records, each starting with a tag byte whose two
 * low bits are the operation and whose six high bits are its argument:
 *
 *   op 0 RAW     x: nfds (bits 0-3, at most 10), bit 5: run the loop after.
 *                [kinds u8 if nfds] len u16, bytes: sent as they are, so
 *                framing can break; the fds ride on the first byte.
 *   op 1 RAM     off u16, len u16, bytes: written into the shared guest RAM
 *                (what the rings and buffers live in).
 *   op 2 ACTION  x % 5: 0 kick (write every eventfd we sent), 1 run the loop
 *                until idle, 2 half-close our end, 3 reconnect (hang up, let
 *                the device notice, attach a new socket), 4 ring the call
 *                eventfds' readers (read them, as the frontend would).
 *   op 3 MSG     x: nfds (bits 0-3), bit 4: NEED_REPLY, bit 5: bad version.
 *                request u8, [kinds u8 if nfds], len u16, payload: a framed
 *                message whose header size matches the payload sent.
 *
 * fd kinds (two bits per fd for the first four; later ones are RAM memfds):
 * 0 a new eventfd, 1 the 64 KiB guest RAM memfd, 2 a one-page memfd, 3 one
 * end of a new socketpair.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event-loop.h"
#include "fd.h"
#include "fuzz.h"
#include "vu-dev.h"

#define RAM_SIZE (64u * 1024)
#define SMALL_SIZE 4096u
#define MAX_MSG_FDS 10
#define MAX_KEPT_FDS 64
#define CONFIG_SIZE 16
#define NUM_QUEUES 2

struct harness {
	struct event_loop *loop;
	struct vu_dev *dev;
	int peer; /* the frontend's end, -1 once closed */
	bool write_shut;
	int kept[MAX_KEPT_FDS]; /* eventfds and socket ends we keep until the end */
	unsigned int nkept;
	uint8_t config[CONFIG_SIZE];
	unsigned int disconnects;
};

/* Created once: the RAM the frontend shares, and a memfd too small for most regions. */
static int ram_fd = -1, small_fd = -1;
static uint8_t *ram;

/* ---- the fake device ---- */

static uint64_t fake_get_features(void *opaque)
{
	return UINT64_C(1) << 1;
}

static void fake_get_config(void *opaque, uint8_t *buf, uint32_t offset, uint32_t len)
{
	memcpy(buf, ((struct harness *)opaque)->config + offset, len);
}

static void fake_set_config(void *opaque, const uint8_t *buf, uint32_t offset, uint32_t len)
{
	memcpy(((struct harness *)opaque)->config + offset, buf, len);
}

/* An echo device: what a real device does with a queue, minus the meaning. */
static void fake_queue_kick(void *opaque, unsigned int qidx)
{
	struct harness *h = opaque;
	struct vu_vring *vq = vu_dev_vring(h->dev, qidx);
	const struct vu_mem *mem = vu_dev_mem(h->dev);

	for (int i = 0; i < 64; i++) {
		struct vu_elem *elem;
		uint8_t buf[256];
		uint32_t written = 0;
		int r = vu_vring_pop(vq, &elem);

		if (r < 0) {
			break;
		}
		if (r == 0) {
			if (vu_vring_enable_notification(vq)) {
				continue;
			}
			break;
		}
		size_t n = elem->out_len < sizeof(buf) ? (size_t)elem->out_len : sizeof(buf);
		if (vu_elem_read(mem, elem, 0, buf, n) == 0) {
			size_t w = elem->in_len < n ? (size_t)elem->in_len : n;

			if (vu_elem_write(mem, elem, 0, buf, w) == 0) {
				written = (uint32_t)w;
			}
		}
		vu_vring_push(vq, elem, written);
		free(elem);
	}
	vu_vring_notify(vq);
}

static int fake_set_device_socket(void *opaque, int fd)
{
	close(fd);
	return 0;
}

static void fake_reset(void *opaque)
{
	memset(((struct harness *)opaque)->config, 0, CONFIG_SIZE);
}

static void fake_noop_stop(void *opaque, unsigned int qidx)
{
}

static void fake_set_features(void *opaque, uint64_t features)
{
}

static void fake_mem_changed(void *opaque)
{
}

static const struct vu_device_ops fake_ops = {
        .get_features = fake_get_features,
        .set_features = fake_set_features,
        .get_config = fake_get_config,
        .set_config = fake_set_config,
        .queue_kick = fake_queue_kick,
        .queue_stop = fake_noop_stop,
        .set_device_socket = fake_set_device_socket,
        .mem_changed = fake_mem_changed,
        .reset = fake_reset,
};

static void on_disconnect(void *data)
{
	((struct harness *)data)->disconnects++;
}

/* ---- the frontend side ---- */

static void keep_fd(struct harness *h, int fd)
{
	if (h->nkept < MAX_KEPT_FDS) {
		h->kept[h->nkept++] = fd;
	} else {
		close(fd);
	}
}

/* Reads (and drops) whatever the device answered. */
static void drain(struct harness *h)
{
	uint8_t buf[4096];

	while (h->peer >= 0 && recv(h->peer, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
	}
}

static void run_until_idle(struct harness *h)
{
	for (int i = 0; i < 256; i++) {
		drain(h);
		if (event_loop_dispatch(h->loop, 0) <= 0) {
			break;
		}
	}
	drain(h);
}

/* Makes the fds of a message: ours to close after sending (eventfds are also kept). */
static size_t make_fds(struct harness *h, unsigned int nfds, uint8_t kinds, int *fds)
{
	size_t n = 0;

	for (unsigned int i = 0; i < nfds; i++) {
		unsigned int kind = i < 4 ? (kinds >> (2 * i)) & 3 : 1;
		int fd = -1;

		switch (kind) {
		case 0:
			fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (fd >= 0) {
				keep_fd(h, dup(fd));
			}
			break;
		case 1:
			fd = dup(ram_fd);
			break;
		case 2:
			fd = dup(small_fd);
			break;
		case 3: {
			int sv[2];

			if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
			            sv) == 0) {
				fd = sv[0];
				keep_fd(h, sv[1]);
			}
			break;
		}
		}
		if (fd >= 0) {
			fds[n++] = fd;
		}
	}
	return n;
}

/* Sends everything, running the device's loop whenever our socket is full. */
static void send_bytes(
        struct harness *h, const uint8_t *buf, size_t len, const int *fds, size_t nfds)
{
	size_t done = 0;

	/* fds need a byte to ride on */
	for (int round = 0; round < 64 && done < len && h->peer >= 0 && !h->write_shut; round++) {
		ssize_t n = fuzz_send(
		        h->peer, buf + done, len - done, done ? NULL : fds, done ? 0 : nfds);

		if (n == -EAGAIN) {
			run_until_idle(h);
			continue;
		}
		if (n < 0) {
			return; /* the device hung up */
		}
		done += (size_t)n;
	}
}

static void send_with_fds(
        struct harness *h, const uint8_t *buf, size_t len, unsigned int nfds, uint8_t kinds)
{
	int fds[MAX_MSG_FDS];
	size_t n = make_fds(h, nfds, kinds, fds);

	send_bytes(h, buf, len, fds, n);
	fd_close_all(fds, n);
}

static void reconnect(struct harness *h)
{
	int sv[2];

	if (h->peer >= 0) {
		close(h->peer);
		h->peer = -1;
	}
	for (int i = 0; i < 8 && vu_dev_connected(h->dev); i++) {
		event_loop_dispatch(h->loop, 0);
	}
	if (vu_dev_connected(h->dev)) {
		vu_dev_detach(h->dev);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		return;
	}
	if (vu_dev_attach(h->dev, sv[0]) < 0) {
		close(sv[1]);
		return;
	}
	h->peer = sv[1];
	h->write_shut = false;
}

static void action(struct harness *h, unsigned int what)
{
	switch (what % 5) {
	case 0:
		for (unsigned int i = 0; i < h->nkept; i++) {
			eventfd_write(h->kept[i], 1); /* fails harmlessly on sockets */
		}
		run_until_idle(h);
		break;
	case 1:
		run_until_idle(h);
		break;
	case 2:
		if (h->peer >= 0) {
			shutdown(h->peer, SHUT_WR);
			h->write_shut = true;
		}
		run_until_idle(h);
		break;
	case 3:
		reconnect(h);
		break;
	case 4:
		for (unsigned int i = 0; i < h->nkept; i++) {
			eventfd_t v;

			eventfd_read(h->kept[i], &v);
		}
		break;
	}
}

static int setup_once(void)
{
	if (ram) {
		return 0;
	}
	fuzz_setup();
	ram_fd = memfd_create("fuzz-guest-ram", MFD_CLOEXEC);
	small_fd = memfd_create("fuzz-small", MFD_CLOEXEC);
	if (ram_fd < 0 || small_fd < 0 || ftruncate(ram_fd, RAM_SIZE) < 0 ||
	        ftruncate(small_fd, SMALL_SIZE) < 0) {
		return -1;
	}
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, ram_fd, 0);
	if (ram == MAP_FAILED) {
		ram = NULL;
		return -1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct harness h = {.peer = -1};
	struct fuzz_in in;
	int sv[2], fds_before;

	if (setup_once() < 0) {
		abort();
	}
	memset(ram, 0, RAM_SIZE);
	fds_before = fuzz_count_fds();
	fuzz_in_init(&in, data, size);

	h.loop = event_loop_create();
	struct vu_dev_config cfg = {
	        .num_queues = NUM_QUEUES,
	        .config_size = CONFIG_SIZE,
	        .ops = &fake_ops,
	        .opaque = &h,
	        .on_disconnect = on_disconnect,
	        .disconnect_data = &h,
	};
	h.dev = vu_dev_create(h.loop, &cfg);
	if (!h.loop || !h.dev || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	        vu_dev_attach(h.dev, sv[0]) < 0) {
		abort();
	}
	h.peer = sv[1];

	while (!fuzz_in_empty(&in)) {
		uint8_t tag = fuzz_u8(&in);
		unsigned int x = tag >> 2;
		const uint8_t *bytes;

		switch (tag & 3) {
		case 0: { /* RAW */
			unsigned int nfds = x & 0xf;
			uint8_t kinds = 0;

			if (nfds > MAX_MSG_FDS) {
				nfds = MAX_MSG_FDS;
			}
			if (nfds) {
				kinds = fuzz_u8(&in);
			}
			size_t len = fuzz_bytes(&in, fuzz_u16(&in), &bytes);
			send_with_fds(&h, bytes, len, nfds, kinds);
			if (x & 0x20) {
				run_until_idle(&h);
			}
			break;
		}
		case 1: { /* RAM */
			uint16_t off = fuzz_u16(&in);
			size_t len = fuzz_bytes(&in, fuzz_u16(&in), &bytes);

			/* RAM_SIZE is 64 KiB: any u16 offset is inside */
			memcpy(ram + off, bytes, len < RAM_SIZE - off ? len : RAM_SIZE - off);
			break;
		}
		case 2: /* ACTION */
			action(&h, x);
			break;
		case 3: { /* MSG */
			unsigned int nfds = x & 0xf;
			uint8_t kinds = 0;
			uint8_t msg[12 + VU_MAX_PAYLOAD + 16];
			struct vu_msg_header hdr = {
			        .request = fuzz_u8(&in),
			        .flags = ((x & 0x20) ? 0x2 : VU_VERSION) |
			                 ((x & 0x10) ? VU_FLAG_NEED_REPLY : 0),
			};

			if (nfds > MAX_MSG_FDS) {
				nfds = MAX_MSG_FDS;
			}
			if (nfds) {
				kinds = fuzz_u8(&in);
			}
			uint16_t want = fuzz_u16(&in);
			size_t len = fuzz_bytes(
			        &in, want < sizeof(msg) - 12 ? want : sizeof(msg) - 12, &bytes);
			hdr.size = (uint32_t)len;
			memcpy(msg, &hdr, sizeof(hdr));
			memcpy(msg + sizeof(hdr), bytes, len);
			send_with_fds(&h, msg, sizeof(hdr) + len, nfds, kinds);
			run_until_idle(&h);
			break;
		}
		}
	}
	run_until_idle(&h);

	/* the frontend goes away: the device must free the whole session */
	if (h.peer >= 0) {
		close(h.peer);
		h.peer = -1;
	}
	for (int i = 0; i < 8 && vu_dev_connected(h.dev); i++) {
		event_loop_dispatch(h.loop, 0);
	}
	vu_dev_destroy(h.dev);
	event_loop_destroy(h.loop);
	fd_close_all(h.kept, h.nkept);
	fuzz_check_fds(fds_before, "fuzz-vu-msg");
	return 0;
}
