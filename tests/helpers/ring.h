/* SPDX-License-Identifier: MIT */
/* Test helper: the driver side of a split virtqueue laid out in test guest RAM. */
#ifndef VDG_TEST_RING_H
#define VDG_TEST_RING_H

#include <stdint.h>
#include <linux/virtio_ring.h>

#include "guest-mem.h"

struct test_ring {
	struct test_guest_mem *g;
	uint16_t num;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t avail_idx;
};

/* Lays out a ring of num entries at gpa (16-byte aligned) in g. */
void test_ring_init(struct test_ring *r, struct test_guest_mem *g, uint16_t num, uint64_t gpa);
void test_ring_set_desc(struct test_ring *r, uint16_t i, uint64_t addr, uint32_t len,
	uint16_t flags, uint16_t next);
/* Publishes head in the avail ring and bumps the index. */
void test_ring_publish(struct test_ring *r, uint16_t head);
/* The vhost-user ring addresses (frontend addresses = our mapping). */
struct vu_vring_addr test_ring_addr(const struct test_ring *r, uint32_t index);

#endif
