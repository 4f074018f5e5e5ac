/* SPDX-License-Identifier: MIT */
/* Test helper: a memfd "guest RAM" mapped in the test, as a frontend would share it. */
#ifndef VDG_TEST_GUEST_MEM_H
#define VDG_TEST_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "vu-mem.h"

struct test_guest_mem {
	int fd;
	uint8_t *map; /* the test's view: guest address gpa_base is map[0] */
	size_t size;
	uint64_t gpa_base;
};

/* Creates size bytes of guest RAM starting at guest address gpa_base. */
int test_guest_mem_create(struct test_guest_mem *g, size_t size, uint64_t gpa_base);
void test_guest_mem_destroy(struct test_guest_mem *g);
/* The region as SET_MEM_TABLE would describe it (uva = our mapping). */
struct vu_mem_region test_guest_mem_region(const struct test_guest_mem *g);
/* Adds the whole RAM to a vu_mem table. */
int test_guest_mem_add_to(const struct test_guest_mem *g, struct vu_mem *mem);
static inline void *test_gpa(const struct test_guest_mem *g, uint64_t gpa)
{
	return g->map + (gpa - g->gpa_base);
}

#endif
