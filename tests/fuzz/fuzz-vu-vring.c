/* SPDX-License-Identifier: MIT */
/*
 * fuzz-vu-vring: descriptor walking. A split virtqueue lives in memfd guest
 * RAM (tests/helpers/guest-mem.h) whose bytes come from the input; the
 * harness plays a device that pops every request, reads its readable bytes,
 * writes its writable ones, pushes it and notifies, as gpu-device.c does.
 *
 * Input: a 24-byte header, then the RAM image (copied from guest address
 * base + 0 on; the rest of RAM is zero).
 *
 *   u8  log2 of the queue size (mod 11: 1..1024)
 *   u8  flags: 0 EVENT_IDX, 1 INDIRECT_DESC, 2 NOTIFY_ON_EMPTY, 3 a call
 *       eventfd, 4 a second region right after the first, 5 remap guest
 *       memory after the first pop, 6 the "guest" adds a request after each
 *       pop (bumps avail->idx), 7 the ring is not enabled
 *   u8  guest-physical base (mod 4): 0, 0x1000, 4 GiB, just below 2^64
 *   u8  most requests to pop (mod 64, + 1)
 *   u16 desc table offset in RAM (x 16), u16 avail offset (x 2),
 *   u16 used offset (x 4): UVAs, so they may lie past the region
 *   u16 last_avail_idx, u16 used_idx (as SET_VRING_BASE/ADDR would set them)
 *   u16 read offset, u16 write offset into each request
 *   u32 bytes to write (capped), the rest padding
 */
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fuzz.h"
#include "guest-mem.h"
#include "vu-mem.h"
#include "vu-vring.h"

#define RAM_SIZE (64u * 1024)
#define RAM2_SIZE (16u * 1024)
#define HEADER_SIZE 24
#define MAX_COPY 8192u

enum {
	F_EVENT_IDX = 1 << 0,
	F_INDIRECT = 1 << 1,
	F_NOTIFY_ON_EMPTY = 1 << 2,
	F_CALL_FD = 1 << 3,
	F_SECOND_REGION = 1 << 4,
	F_REMAP = 1 << 5,
	F_GUEST_ADDS = 1 << 6,
	F_DISABLED = 1 << 7,
};

static const uint64_t gpa_bases[4] = {
        0, 0x1000, UINT64_C(1) << 32,
        UINT64_MAX - 2 * RAM_SIZE + 1, /* the second region ends just below 2^64 */
};

static uint8_t copy_buf[MAX_COPY];

/* What the device does with one request. */
static void handle(struct vu_vring *vq, const struct vu_mem *mem, struct vu_elem *elem,
        uint16_t read_off, uint16_t write_off, uint32_t write_len)
{
	uint32_t written = 0;
	size_t rlen = elem->out_len > MAX_COPY ? MAX_COPY : (size_t)elem->out_len;
	size_t wlen = write_len > MAX_COPY ? MAX_COPY : write_len;

	/* all of it, then a window at an offset that may run past the end */
	vu_elem_read(mem, elem, 0, copy_buf, rlen);
	vu_elem_read(mem, elem, read_off, copy_buf, rlen / 2 + 1);
	if (vu_elem_write(mem, elem, write_off, copy_buf, wlen) == 0) {
		written = (uint32_t)(write_off + wlen);
	}
	vu_elem_write(
	        mem, elem, 0, copy_buf, elem->in_len > MAX_COPY ? MAX_COPY : (size_t)elem->in_len);
	vu_vring_push(vq, elem, written);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct test_guest_mem g = {.fd = -1}, g2 = {.fd = -1};
	struct vu_mem mem;
	struct vu_vring vq;
	struct fuzz_in in;
	const uint8_t *image;
	int fds_before;

	fuzz_setup();
	fds_before = fuzz_count_fds();
	fuzz_in_init(&in, data, size);

	unsigned int log2num = fuzz_u8(&in) % 11;
	uint8_t flags = fuzz_u8(&in);
	uint64_t base = gpa_bases[fuzz_u8(&in) % 4];
	unsigned int max_pops = fuzz_u8(&in) % 64 + 1;
	uint64_t desc_off = (uint64_t)fuzz_u16(&in) * 16;
	uint64_t avail_off = (uint64_t)fuzz_u16(&in) * 2;
	uint64_t used_off = (uint64_t)fuzz_u16(&in) * 4;
	uint16_t last_avail = fuzz_u16(&in), used_idx = fuzz_u16(&in);
	uint16_t read_off = fuzz_u16(&in), write_off = fuzz_u16(&in);
	uint32_t write_len = fuzz_u32(&in);
	const uint8_t *pad;
	fuzz_bytes(&in, HEADER_SIZE - 22, &pad);

	if (test_guest_mem_create(&g, RAM_SIZE, base) < 0) {
		abort();
	}
	size_t n = fuzz_bytes(&in, RAM_SIZE, &image);
	memcpy(g.map, image, n);
	vu_mem_init(&mem);
	if (test_guest_mem_add_to(&g, &mem) < 0) {
		abort();
	}
	if (flags & F_SECOND_REGION) {
		if (test_guest_mem_create(&g2, RAM2_SIZE, base + RAM_SIZE) < 0) {
			abort();
		}
		n = fuzz_bytes(&in, RAM2_SIZE, &image);
		memcpy(g2.map, image, n);
		if (test_guest_mem_add_to(&g2, &mem) < 0) {
			abort();
		}
	}

	/* the ring as SET_FEATURES, SET_VRING_NUM/BASE/ADDR/KICK/CALL leave it */
	vu_vring_init(&vq, 0, &mem);
	vq.num = (uint16_t)(1u << log2num);
	vq.event_idx = flags & F_EVENT_IDX;
	vq.indirect = flags & F_INDIRECT;
	vq.notify_on_empty = flags & F_NOTIFY_ON_EMPTY;
	vq.addr = (struct vu_vring_addr){
	        .desc_user_addr = (uint64_t)(uintptr_t)g.map + desc_off,
	        .avail_user_addr = (uint64_t)(uintptr_t)g.map + avail_off,
	        .used_user_addr = (uint64_t)(uintptr_t)g.map + used_off,
	};
	vq.addr_set = true;
	vq.last_avail_idx = last_avail;
	vq.used_idx = used_idx;
	if (flags & F_CALL_FD) {
		vq.call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	}
	if (vu_vring_addr_valid(&vq.addr) && vu_vring_map(&vq) == 0) {
		vq.started = true;
		vq.enabled = !(flags & F_DISABLED);
	}

	for (unsigned int i = 0; i < max_pops; i++) {
		struct vu_elem *elem = NULL;
		int r = vu_vring_pop(&vq, &elem);

		if (r < 0) {
			break;
		}
		if (r == 0) {
			if (vu_vring_enable_notification(&vq)) {
				continue;
			}
			break;
		}
		if (i == 0 && (flags & F_REMAP)) {
			/* the frontend re-sends the table: same RAM, new mapping, new generation */
			struct vu_mem_region reg = test_guest_mem_region(&g);

			vu_mem_remove(&mem, &reg);
			if (vu_mem_add(&mem, &reg, g.fd, VU_MAX_MEM_SLOTS) < 0) {
				abort();
			}
		}
		handle(&vq, &mem, elem, read_off, write_off, write_len);
		free(elem);
		if ((flags & F_GUEST_ADDS) && avail_off + 4 <= RAM_SIZE) {
			/* through the guest's own view: the device's may be remapped */
			uint16_t *idx = (uint16_t *)(g.map + avail_off + 2);

			__atomic_store_n(idx, (uint16_t)(*idx + 1), __ATOMIC_RELEASE);
		}
		if (i % 4 == 3) {
			vu_vring_notify(&vq);
		}
	}
	vu_vring_notify(&vq);
	vu_vring_enable_notification(&vq);

	vu_vring_reset(&vq); /* closes the call fd */
	vu_mem_finish(&mem);
	test_guest_mem_destroy(&g);
	if (g2.fd >= 0) {
		test_guest_mem_destroy(&g2);
	}
	fuzz_check_fds(fds_before, "fuzz-vu-vring");
	return 0;
}
