/* SPDX-License-Identifier: MIT */
#include "guest-mem.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

int test_guest_mem_create(struct test_guest_mem *g, size_t size, uint64_t gpa_base)
{
	g->fd = memfd_create("test-guest-ram", MFD_CLOEXEC);
	if (g->fd < 0 || ftruncate(g->fd, (off_t)size) < 0) {
		return -errno;
	}
	g->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd, 0);
	if (g->map == MAP_FAILED) {
		return -errno;
	}
	g->size = size;
	g->gpa_base = gpa_base;
	return 0;
}

void test_guest_mem_destroy(struct test_guest_mem *g)
{
	munmap(g->map, g->size);
	close(g->fd);
}

struct vu_mem_region test_guest_mem_region(const struct test_guest_mem *g)
{
	return (struct vu_mem_region){
		.guest_phys_addr = g->gpa_base,
		.memory_size = g->size,
		.userspace_addr = (uint64_t)(uintptr_t)g->map,
		.mmap_offset = 0,
	};
}

int test_guest_mem_add_to(const struct test_guest_mem *g, struct vu_mem *mem)
{
	struct vu_mem_region r = test_guest_mem_region(g);

	return vu_mem_add(mem, &r, g->fd, VU_MAX_MEM_SLOTS);
}
