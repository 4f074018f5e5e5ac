/* SPDX-License-Identifier: MIT */
#include "ring.h"

#include <string.h>

void test_ring_init(struct test_ring *r, struct test_guest_mem *g, uint16_t num, uint64_t gpa)
{
	memset(r, 0, sizeof(*r));
	r->g = g;
	r->num = num;
	r->desc_gpa = gpa;
	r->avail_gpa = gpa + 16u * num;
	r->used_gpa = (r->avail_gpa + 6 + 2u * num + 4095) & ~4095ull;
	r->desc = test_gpa(g, r->desc_gpa);
	r->avail = test_gpa(g, r->avail_gpa);
	r->used = test_gpa(g, r->used_gpa);
	memset(r->desc, 0, 16u * num);
	memset(r->avail, 0, 6 + 2u * num);
	memset(r->used, 0, 6 + 8u * num);
}

void test_ring_set_desc(struct test_ring *r, uint16_t i, uint64_t addr, uint32_t len,
	uint16_t flags, uint16_t next)
{
	r->desc[i].addr = addr;
	r->desc[i].len = len;
	r->desc[i].flags = flags;
	r->desc[i].next = next;
}

void test_ring_publish(struct test_ring *r, uint16_t head)
{
	r->avail->ring[r->avail_idx % r->num] = head;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	r->avail->idx = ++r->avail_idx;
}

struct vu_vring_addr test_ring_addr(const struct test_ring *r, uint32_t index)
{
	return (struct vu_vring_addr){
		.index = index,
		.desc_user_addr = (uint64_t)(uintptr_t)r->desc,
		.avail_user_addr = (uint64_t)(uintptr_t)r->avail,
		.used_user_addr = (uint64_t)(uintptr_t)r->used,
	};
}
