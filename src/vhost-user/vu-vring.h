/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues, device side. The guest owns the ring memory and may
 * change it at any time, so every index and descriptor is read once into a
 * local copy and checked before use; a ring that breaks the rules is marked
 * broken and no longer touched until the frontend sets it up again.
 */
#ifndef VDG_VU_VRING_H
#define VDG_VU_VRING_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_ring.h>

#include "vu-mem.h"
#include "vu-proto.h"

/*
 * Largest queue a frontend may configure: QEMU's VIRTQUEUE_MAX_SIZE, and
 * what rust-vmm's GPU device accepts. The GPU queues are 256/64 and 16.
 */
#define VU_VRING_MAX_SIZE 1024u

/*
 * Most buffers (descriptors) in one chain, direct or indirect. A chain
 * cannot legitimately be longer than the largest queue.
 */
#define VU_ELEM_MAX_BUFS VU_VRING_MAX_SIZE

/* One guest buffer of a request, kept as a guest address (see vu-mem.h). */
struct vu_buf {
	uint64_t gpa;
	uint32_t len;
};

/*
 * A request popped from the avail ring. Device-readable ("out") buffers come
 * first, then device-writable ("in") buffers.
 */
struct vu_elem {
	uint16_t head;
	unsigned int out_num;
	unsigned int in_num;
	uint64_t out_len; /* sum of out buffer lengths */
	uint64_t in_len;
	struct vu_buf bufs[]; /* out_num + in_num entries */
};

struct vu_vring {
	unsigned int index;
	const struct vu_mem *mem; /* the device's table; contents change, pointer does not */

	uint16_t num; /* queue size; 0 until SET_VRING_NUM */
	struct vu_vring_addr addr;
	bool addr_set;

	/* Host views of the ring, valid only while mapped_generation == mem->generation. */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint64_t mapped_generation;

	uint16_t last_avail_idx;
	uint16_t used_idx;
	uint16_t signalled_used;
	bool signalled_used_valid;
	unsigned int inflight; /* popped, not yet pushed */

	int kick_fd;
	int call_fd;
	int err_fd;

	bool started; /* by SET_VRING_KICK, until GET_VRING_BASE */
	bool enabled; /* by SET_VRING_ENABLE or SET_FEATURES without bit 30 */
	bool broken;  /* the guest broke a rule; untouched until set up again */
	bool event_idx;
	bool indirect;
	bool notify_on_empty;
};

void vu_vring_init(struct vu_vring *vq, unsigned int index, const struct vu_mem *mem);
/* Closes the fds and returns the ring to its initial state. */
void vu_vring_reset(struct vu_vring *vq);

/* Validates the size: a power of two, 1..VU_VRING_MAX_SIZE. */
bool vu_vring_num_valid(uint32_t num);

/* Validates the alignment rules of SET_VRING_ADDR (desc 16, avail 2, used 4). */
bool vu_vring_addr_valid(const struct vu_vring_addr *addr);

/*
 * (Re)computes the host pointers from the frontend addresses. Fails with
 * -EFAULT if a ring does not lie inside one memory region, -EINVAL if the
 * size or addresses are not set yet.
 */
int vu_vring_map(struct vu_vring *vq);

/*
 * started && enabled && !broken && mapped for the current memory table: the
 * ring may be popped. Pushes and calls need all but enabled (see vu-vring.c).
 */
bool vu_vring_usable(struct vu_vring *vq);

/*
 * Pops the next request. Returns 1 and a malloc'd element in *ret_elem, 0 if
 * the ring is empty, or -EIO if the guest broke the ring (then vq->broken is
 * set and the reason is logged once).
 */
int vu_vring_pop(struct vu_vring *vq, struct vu_elem **ret_elem);

/* Puts a finished request on the used ring with `written` bytes written. */
void vu_vring_push(struct vu_vring *vq, const struct vu_elem *elem, uint32_t written);

/*
 * Tells the guest about used buffers if it asked to be told (EVENT_IDX or
 * the NO_INTERRUPT flag), by writing the call eventfd.
 */
void vu_vring_notify(struct vu_vring *vq);

/*
 * With EVENT_IDX, publishes how far we have read and returns true if more
 * requests arrived meanwhile (the caller must pop again). Without it,
 * returns whether the avail ring has anything left.
 */
bool vu_vring_enable_notification(struct vu_vring *vq);

/* Copies bytes out of / into the element's buffers, translating on each use. */
int vu_elem_read(const struct vu_mem *mem, const struct vu_elem *elem, uint64_t offset, void *buf,
	size_t len);
int vu_elem_write(const struct vu_mem *mem, const struct vu_elem *elem, uint64_t offset,
	const void *buf, size_t len);

#endif /* VDG_VU_VRING_H */
