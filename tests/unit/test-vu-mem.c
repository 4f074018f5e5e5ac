/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/vhost-user/vu-mem.c: the guest memory table and the
 * one checked guest → host translation, at every boundary.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "guest-mem.h"
#include "vu-mem.h"

#define PAGE 4096u

/* A memfd of size bytes, mapped so the test can look at what the table maps. */
struct backing {
	int fd;
	uint8_t *map;
	size_t size;
};

static void backing_create(struct backing *b, size_t size)
{
	b->fd = memfd_create("test-vu-mem", MFD_CLOEXEC);
	assert_true(b->fd >= 0);
	assert_int_equal(ftruncate(b->fd, (off_t)size), 0);
	b->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
	assert_true(b->map != MAP_FAILED);
	b->size = size;
	for (size_t i = 0; i < size; i++) {
		b->map[i] = (uint8_t)(i * 13 + (size_t)b->fd);
	}
}

static void backing_destroy(struct backing *b)
{
	munmap(b->map, b->size);
	close(b->fd);
}

static struct vu_mem_region region(uint64_t gpa, uint64_t size, uint64_t uva, uint64_t off)
{
	return (struct vu_mem_region){
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = uva,
		.mmap_offset = off,
	};
}

/* ---- translation at region boundaries ----------------------------------------------------- */

static void test_translate_boundaries(void **state)
{
	struct test_guest_mem g;
	struct vu_mem mem;
	const uint64_t base = 0x100000, size = 16 * PAGE;
	uint64_t uva, contig;

	assert_int_equal(test_guest_mem_create(&g, size, base), 0);
	for (size_t i = 0; i < size; i++) {
		g.map[i] = (uint8_t)(i ^ (i >> 8));
	}
	uva = (uint64_t)(uintptr_t)g.map;
	vu_mem_init(&mem);
	assert_int_equal(test_guest_mem_add_to(&g, &mem), 0);
	assert_int_equal(mem.nmaps, 1);

	const struct {
		enum vu_addr_space space;
		uint64_t addr, len;
		bool mapped;
		uint64_t off, contig;
	} cases[] = {
		{ VU_ADDR_GPA, base, 16, true, 0, 16 },
		{ VU_ADDR_GPA, base, size, true, 0, size },
		{ VU_ADDR_GPA, base, size + 1, true, 0, size },
		{ VU_ADDR_GPA, base + 1, UINT64_MAX, true, 1, size - 1 },
		{ VU_ADDR_GPA, base + size - 1, 16, true, size - 1, 1 },
		{ VU_ADDR_GPA, base + size - 1, 1, true, size - 1, 1 },
		{ VU_ADDR_GPA, base + size, 1, false, 0, 0 },
		{ VU_ADDR_GPA, base - 1, 2, false, 0, 0 },
		{ VU_ADDR_GPA, 0, 1, false, 0, 0 },
		{ VU_ADDR_GPA, UINT64_MAX, 1, false, 0, 0 },
		{ VU_ADDR_UVA, uva, 16, true, 0, 16 },
		{ VU_ADDR_UVA, uva + size - 1, 16, true, size - 1, 1 },
		{ VU_ADDR_UVA, uva + size, 1, false, 0, 0 },
		{ VU_ADDR_UVA, uva - 1, 1, false, 0, 0 },
		/* a GPA is not a UVA and the other way round */
		{ VU_ADDR_UVA, base, 1, false, 0, 0 },
		{ VU_ADDR_GPA, uva, 1, false, 0, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t *host;

		contig = 0xdead;
		host = vu_mem_translate(&mem, cases[i].space, cases[i].addr, cases[i].len, &contig);
		if (!cases[i].mapped) {
			if (host) {
				fail_msg("case %zu: 0x%llx should be unmapped", i,
					(unsigned long long)cases[i].addr);
			}
			continue;
		}
		assert_non_null(host);
		assert_true(contig == cases[i].contig);
		/* the same bytes as the guest's view, through a different mapping */
		assert_ptr_not_equal(host, g.map + cases[i].off);
		assert_int_equal(*host, g.map[cases[i].off]);
		*host = (uint8_t)(*host + 1);
		assert_int_equal(*host, g.map[cases[i].off]);
	}

	/* vu_mem_range: the whole range or nothing */
	assert_non_null(vu_mem_range(&mem, VU_ADDR_GPA, base, size));
	assert_null(vu_mem_range(&mem, VU_ADDR_GPA, base, size + 1));
	assert_non_null(vu_mem_range(&mem, VU_ADDR_GPA, base + size - 1, 1));
	assert_null(vu_mem_range(&mem, VU_ADDR_GPA, base + size - 1, 2));
	assert_null(vu_mem_range(&mem, VU_ADDR_GPA, base + size, 1));
	assert_null(vu_mem_range(&mem, VU_ADDR_GPA, base - 1, 2));
	assert_non_null(vu_mem_range(&mem, VU_ADDR_UVA, uva + PAGE, PAGE));
	assert_null(vu_mem_range(&mem, VU_ADDR_UVA, uva + size - PAGE, PAGE + 1));
	assert_null(vu_mem_range(&mem, VU_ADDR_GPA, base + 8, UINT64_MAX));
	assert_ptr_equal(vu_mem_range(&mem, VU_ADDR_GPA, base + 100, 4),
		vu_mem_range(&mem, VU_ADDR_UVA, uva + 100, 4));

	vu_mem_finish(&mem);
	assert_int_equal(mem.nmaps, 0);
	assert_null(vu_mem_translate(&mem, VU_ADDR_GPA, base, 1, &contig));
	test_guest_mem_destroy(&g);
}

static void test_unaligned_offset(void **state)
{
	struct backing b;
	struct vu_mem mem;
	struct vu_mem_region r = region(0x40000, PAGE, 0x7f0000001000, 0x10);
	uint8_t *host;

	/* the offset need not be page aligned: the host pointer follows it */
	backing_create(&b, 2 * PAGE);
	vu_mem_init(&mem);
	assert_int_equal(vu_mem_add(&mem, &r, b.fd, VU_MAX_MEM_SLOTS), 0);
	host = vu_mem_range(&mem, VU_ADDR_GPA, 0x40000, PAGE);
	assert_non_null(host);
	assert_memory_equal(host, b.map + 0x10, PAGE);
	assert_ptr_equal(vu_mem_range(&mem, VU_ADDR_UVA, 0x7f0000001000 + 7, 1), host + 7);
	vu_mem_finish(&mem);
	backing_destroy(&b);
}

/* ---- refused regions ---------------------------------------------------------------------- */

static void test_add_invalid(void **state)
{
	struct backing b;
	struct vu_mem mem;
	int pfd[2], sv[2];

	backing_create(&b, 4 * PAGE);
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);

	const struct {
		struct vu_mem_region r;
		int fd;
		int ret;
	} cases[] = {
		/* zero size */
		{ region(0x10000, 0, 0x1000, 0), b.fd, -EINVAL },
		/* gpa + size, uva + size, offset + size overflow */
		{ region(UINT64_MAX - PAGE + 1, 2 * PAGE, 0x1000, 0), b.fd, -EINVAL },
		{ region(UINT64_MAX, 1, 0x1000, 0), b.fd, -EINVAL },
		{ region(0x10000, PAGE, UINT64_MAX - 10, 0), b.fd, -EINVAL },
		{ region(0x10000, PAGE, 0x1000, UINT64_MAX - 10), b.fd, -EINVAL },
		{ region(0x10000, UINT64_MAX, 0x1000, 0), b.fd, -EINVAL },
		/* the fd is shorter than offset + size: later accesses would SIGBUS */
		{ region(0x10000, 4 * PAGE + 1, 0x1000, 0), b.fd, -EINVAL },
		{ region(0x10000, 8 * PAGE, 0x1000, 0), b.fd, -EINVAL },
		{ region(0x10000, PAGE, 0x1000, 3 * PAGE + 1), b.fd, -EINVAL },
		{ region(0x10000, 1, 0x1000, 4 * PAGE), b.fd, -EINVAL },
		{ region(0x10000, PAGE, 0x1000, UINT64_C(1) << 40), b.fd, -EINVAL },
		/* not a regular file */
		{ region(0x10000, PAGE, 0x1000, 0), pfd[0], -EINVAL },
		{ region(0x10000, PAGE, 0x1000, 0), sv[0], -EINVAL },
		{ region(0x10000, PAGE, 0x1000, 0), -1, -EBADF },
	};

	vu_mem_init(&mem);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t gen = mem.generation;
		int r = vu_mem_add(&mem, &cases[i].r, cases[i].fd, VU_MAX_MEM_SLOTS);

		if (r != cases[i].ret) {
			fail_msg("case %zu: returned %d, expected %d", i, r, cases[i].ret);
		}
		/* a refused region leaves the table as it was */
		assert_int_equal(mem.nmaps, 0);
		assert_true(mem.generation == gen);
	}

	/* exactly as long as the fd: accepted, and every byte is reachable */
	struct vu_mem_region full = region(0x10000, PAGE, 0x1000, 3 * PAGE);
	uint8_t last;

	assert_int_equal(vu_mem_add(&mem, &full, b.fd, VU_MAX_MEM_SLOTS), 0);
	assert_int_equal(vu_mem_read(&mem, 0x10000 + PAGE - 1, &last, 1), 0);
	assert_int_equal(last, b.map[4 * PAGE - 1]);

	vu_mem_finish(&mem);
	close(pfd[0]);
	close(pfd[1]);
	close(sv[0]);
	close(sv[1]);
	backing_destroy(&b);
}

static void test_overlap(void **state)
{
	struct backing b;
	struct vu_mem mem;

	backing_create(&b, 0x100000);
	vu_mem_init(&mem);
	/* [0x10000, 0x20000) and [0x40000, 0x50000), added out of order */
	struct vu_mem_region r1 = region(0x40000, 0x10000, 0x1040000, 0);
	struct vu_mem_region r2 = region(0x10000, 0x10000, 0x1010000, 0);

	assert_int_equal(vu_mem_add(&mem, &r1, b.fd, VU_MAX_MEM_SLOTS), 0);
	assert_int_equal(vu_mem_add(&mem, &r2, b.fd, VU_MAX_MEM_SLOTS), 0);

	const struct {
		uint64_t gpa, size;
		int ret;
	} cases[] = {
		{ 0x10000, 0x10000, -EEXIST },  /* the same */
		{ 0xf000, 0x2000, -EEXIST },    /* over the start */
		{ 0x1f000, 0x2000, -EEXIST },   /* over the end */
		{ 0x12000, 0x1000, -EEXIST },   /* inside */
		{ 0x1ffff, 1, -EEXIST },        /* the last byte */
		{ 0, 0x100000, -EEXIST },       /* around both */
		{ 0x20000, 0x20001, -EEXIST },  /* fills the hole, one byte too many */
		{ 0x3ffff, 0x2, -EEXIST },      /* into the later region */
		{ 0x4ffff, 0x1000, -EEXIST },   /* the later region's last byte */
		{ 0xf000, 0x1000, 0 },          /* adjacent below */
		{ 0x20000, 0x20000, 0 },        /* exactly the hole */
		{ 0x50000, 0x1000, 0 },         /* adjacent above */
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vu_mem_region r = region(cases[i].gpa, cases[i].size, 0x9000000, 0);
		int ret = vu_mem_add(&mem, &r, b.fd, VU_MAX_MEM_SLOTS);

		if (ret != cases[i].ret) {
			fail_msg("case %zu [0x%llx, +0x%llx): returned %d, expected %d", i,
				(unsigned long long)cases[i].gpa, (unsigned long long)cases[i].size,
				ret, cases[i].ret);
		}
	}
	assert_int_equal(mem.nmaps, 5);
	/* kept sorted by gpa */
	for (unsigned int i = 1; i < mem.nmaps; i++) {
		assert_true(mem.maps[i - 1].gpa + mem.maps[i - 1].size <= mem.maps[i].gpa);
	}
	/* now one contiguous range [0xf000, 0x51000) */
	assert_true(vu_mem_gpa_mapped(&mem, 0xf000, 0x42000));
	assert_false(vu_mem_gpa_mapped(&mem, 0xf000, 0x42001));
	assert_false(vu_mem_gpa_mapped(&mem, 0xefff, 2));
	vu_mem_finish(&mem);
	backing_destroy(&b);
}

/* ---- add, remove, replace ----------------------------------------------------------------- */

static void test_remove(void **state)
{
	struct backing b;
	struct vu_mem mem;
	struct vu_mem_region r1 = region(0x10000, PAGE, 0x5000000, 0);
	struct vu_mem_region r2 = region(0x20000, PAGE, 0x6000000, PAGE);
	struct vu_mem_region wrong;
	uint64_t gen, contig;

	backing_create(&b, 2 * PAGE);
	vu_mem_init(&mem);
	gen = mem.generation;
	assert_int_equal(vu_mem_add(&mem, &r1, b.fd, VU_MAX_MEM_SLOTS), 0);
	assert_true(mem.generation > gen);
	assert_int_equal(vu_mem_add(&mem, &r2, b.fd, VU_MAX_MEM_SLOTS), 0);

	/* every field that identifies the region must match */
	wrong = r1;
	wrong.memory_size = PAGE / 2;
	assert_int_equal(vu_mem_remove(&mem, &wrong), -ENOENT);
	wrong = r1;
	wrong.userspace_addr += PAGE;
	assert_int_equal(vu_mem_remove(&mem, &wrong), -ENOENT);
	wrong = r1;
	wrong.guest_phys_addr = 0x30000;
	assert_int_equal(vu_mem_remove(&mem, &wrong), -ENOENT);
	assert_int_equal(mem.nmaps, 2);

	gen = mem.generation;
	assert_int_equal(vu_mem_remove(&mem, &r1), 0);
	assert_true(mem.generation > gen);
	assert_int_equal(mem.nmaps, 1);
	assert_null(vu_mem_translate(&mem, VU_ADDR_GPA, 0x10000, 1, &contig));
	assert_null(vu_mem_translate(&mem, VU_ADDR_UVA, 0x5000000, 1, &contig));
	/* the other one is untouched */
	uint8_t *host = vu_mem_range(&mem, VU_ADDR_GPA, 0x20000, PAGE);
	assert_non_null(host);
	assert_memory_equal(host, b.map + PAGE, PAGE);
	assert_int_equal(vu_mem_remove(&mem, &r1), -ENOENT);

	/* the same slot can be added again */
	assert_int_equal(vu_mem_add(&mem, &r1, b.fd, VU_MAX_MEM_SLOTS), 0);
	assert_int_equal(vu_mem_remove(&mem, &r2), 0);
	assert_int_equal(vu_mem_remove(&mem, &r1), 0);
	assert_int_equal(mem.nmaps, 0);
	assert_int_equal(vu_mem_remove(&mem, &r1), -ENOENT);
	vu_mem_finish(&mem);
	backing_destroy(&b);
}

static void test_replace(void **state)
{
	struct backing a, b;
	struct vu_mem mem, next;
	struct vu_mem_region ra = region(0x10000, PAGE, 0x5000000, 0);
	struct vu_mem_region rb = region(0x80000, 2 * PAGE, 0x7000000, 0);
	uint64_t gen, contig;
	uint8_t byte;

	backing_create(&a, PAGE);
	backing_create(&b, 2 * PAGE);
	vu_mem_init(&mem);
	vu_mem_init(&next);
	assert_int_equal(vu_mem_add(&mem, &ra, a.fd, VU_MAX_MEM_SLOTS), 0);
	assert_int_equal(vu_mem_add(&next, &rb, b.fd, VU_MAX_MEM_SLOTS), 0);
	gen = mem.generation;

	vu_mem_replace(&mem, &next);
	assert_true(mem.generation > gen);
	assert_int_equal(mem.nmaps, 1);
	assert_null(vu_mem_translate(&mem, VU_ADDR_GPA, 0x10000, 1, &contig));
	assert_int_equal(vu_mem_read(&mem, 0x80000 + PAGE + 5, &byte, 1), 0);
	assert_int_equal(byte, b.map[PAGE + 5]);
	/* the new table was taken over: next is empty and safe to finish */
	assert_int_equal(next.nmaps, 0);
	assert_null(next.maps);
	vu_mem_finish(&next);

	/* replacing with an empty table empties it */
	gen = mem.generation;
	vu_mem_replace(&mem, &next);
	assert_true(mem.generation > gen);
	assert_int_equal(mem.nmaps, 0);
	assert_int_equal(vu_mem_read(&mem, 0x80000, &byte, 1), -EFAULT);
	vu_mem_finish(&mem);
	backing_destroy(&a);
	backing_destroy(&b);
}

static void test_max_slots(void **state)
{
	struct backing b;
	struct vu_mem mem;
	struct vu_mem_region r;
	uint8_t byte;

	backing_create(&b, PAGE);
	vu_mem_init(&mem);
	/* at the limit: every slot taken, one page each with a hole after it */
	for (unsigned int i = 0; i < VU_MAX_MEM_SLOTS; i++) {
		r = region((uint64_t)i * 2 * PAGE, PAGE, 0x10000000 + (uint64_t)i * PAGE, 0);
		assert_int_equal(vu_mem_add(&mem, &r, b.fd, VU_MAX_MEM_SLOTS), 0);
	}
	assert_int_equal(mem.nmaps, VU_MAX_MEM_SLOTS);
	/* one past */
	r = region((uint64_t)VU_MAX_MEM_SLOTS * 2 * PAGE, PAGE, 0x20000000, 0);
	assert_int_equal(vu_mem_add(&mem, &r, b.fd, VU_MAX_MEM_SLOTS), -ENOSPC);
	assert_int_equal(mem.nmaps, VU_MAX_MEM_SLOTS);

	/* lookups in a full table: first, middle, last slot, and the holes */
	for (unsigned int i = 0; i < VU_MAX_MEM_SLOTS; i += 127) {
		assert_int_equal(vu_mem_read(&mem, (uint64_t)i * 2 * PAGE + 9, &byte, 1), 0);
		assert_int_equal(byte, b.map[9]);
		assert_int_equal(vu_mem_read(&mem, (uint64_t)i * 2 * PAGE + PAGE, &byte, 1),
			-EFAULT);
	}
	assert_int_equal(vu_mem_read(&mem, (uint64_t)(VU_MAX_MEM_SLOTS - 1) * 2 * PAGE, &byte, 1),
		0);
	assert_int_equal(vu_mem_read(&mem, (uint64_t)VU_MAX_MEM_SLOTS * 2 * PAGE, &byte, 1),
		-EFAULT);

	/* freeing a slot makes room for one */
	r = region(2 * PAGE, PAGE, 0x10000000 + PAGE, 0);
	assert_int_equal(vu_mem_remove(&mem, &r), 0);
	r = region((uint64_t)VU_MAX_MEM_SLOTS * 2 * PAGE, PAGE, 0x20000000, 0);
	assert_int_equal(vu_mem_add(&mem, &r, b.fd, VU_MAX_MEM_SLOTS), 0);
	r.guest_phys_addr += 2 * PAGE;
	assert_int_equal(vu_mem_add(&mem, &r, b.fd, VU_MAX_MEM_SLOTS), -ENOSPC);
	vu_mem_finish(&mem);

	/* a smaller limit given by the caller */
	static const unsigned int limits[] = { 0, 1, 8 };
	for (size_t l = 0; l < ARRAY_SIZE(limits); l++) {
		vu_mem_init(&mem);
		for (unsigned int i = 0; i < limits[l]; i++) {
			r = region((uint64_t)i * PAGE, PAGE, 0x10000000 + (uint64_t)i * PAGE, 0);
			assert_int_equal(vu_mem_add(&mem, &r, b.fd, limits[l]), 0);
		}
		r = region((uint64_t)limits[l] * PAGE, PAGE, 0x30000000, 0);
		assert_int_equal(vu_mem_add(&mem, &r, b.fd, limits[l]), -ENOSPC);
		assert_int_equal(mem.nmaps, limits[l]);
		vu_mem_finish(&mem);
	}
	backing_destroy(&b);
}

/* ---- ranges across regions and holes ------------------------------------------------------ */

static void test_straddle(void **state)
{
	struct backing a, b;
	struct vu_mem mem;
	/* adjacent in GPA and in UVA, but two files: not contiguous on the host */
	struct vu_mem_region ra = region(0x10000, PAGE, 0x7000000, 0);
	struct vu_mem_region rb = region(0x10000 + PAGE, PAGE, 0x7000000 + PAGE, 0);
	uint8_t buf[64], pattern[64], expect[2 * PAGE];
	uint64_t contig;

	backing_create(&a, PAGE);
	backing_create(&b, PAGE);
	vu_mem_init(&mem);
	assert_int_equal(vu_mem_add(&mem, &rb, b.fd, VU_MAX_MEM_SLOTS), 0);
	assert_int_equal(vu_mem_add(&mem, &ra, a.fd, VU_MAX_MEM_SLOTS), 0);

	const uint64_t at = 0x10000 + PAGE - 32; /* 32 bytes in a, 32 in b */

	/* one pointer cannot cover two regions */
	assert_null(vu_mem_range(&mem, VU_ADDR_GPA, at, 64));
	assert_null(vu_mem_range(&mem, VU_ADDR_UVA, 0x7000000 + PAGE - 32, 64));
	assert_null(vu_mem_range(&mem, VU_ADDR_GPA, 0x10000, 2 * PAGE));
	assert_non_null(vu_mem_range(&mem, VU_ADDR_GPA, at, 32));
	assert_non_null(vu_mem_range(&mem, VU_ADDR_GPA, at + 32, 32));
	assert_non_null(vu_mem_translate(&mem, VU_ADDR_GPA, at, 64, &contig));
	assert_true(contig == 32);
	assert_non_null(vu_mem_translate(&mem, VU_ADDR_UVA, 0x7000000 + PAGE - 32, 64, &contig));
	assert_true(contig == 32);

	/* but they are mapped, and copies walk across */
	assert_true(vu_mem_gpa_mapped(&mem, at, 64));
	assert_true(vu_mem_gpa_mapped(&mem, 0x10000, 2 * PAGE));
	assert_false(vu_mem_gpa_mapped(&mem, 0x10000, 2 * PAGE + 1));
	assert_false(vu_mem_gpa_mapped(&mem, 0xffff, 2));

	assert_int_equal(vu_mem_read(&mem, at, buf, sizeof(buf)), 0);
	assert_memory_equal(buf, a.map + PAGE - 32, 32);
	assert_memory_equal(buf + 32, b.map, 32);

	for (size_t i = 0; i < sizeof(pattern); i++) {
		pattern[i] = (uint8_t)(0xa0 + i);
	}
	assert_int_equal(vu_mem_write(&mem, at, pattern, sizeof(pattern)), 0);
	assert_memory_equal(a.map + PAGE - 32, pattern, 32);
	assert_memory_equal(b.map, pattern + 32, 32);

	/* the whole of both */
	memcpy(expect, a.map, PAGE);
	memcpy(expect + PAGE, b.map, PAGE);
	uint8_t all[2 * PAGE + 1];
	assert_int_equal(vu_mem_read(&mem, 0x10000, all, 2 * PAGE), 0);
	assert_memory_equal(all, expect, 2 * PAGE);
	/* one byte more runs off the end */
	assert_int_equal(vu_mem_read(&mem, 0x10000, all, 2 * PAGE + 1), -EFAULT);

	vu_mem_finish(&mem);
	backing_destroy(&a);
	backing_destroy(&b);
}

static void test_holes(void **state)
{
	struct backing b;
	struct vu_mem mem;
	struct vu_mem_region r1 = region(0x10000, PAGE, 0x7000000, 0);
	struct vu_mem_region r2 = region(0x10000 + 2 * PAGE, PAGE, 0x7000000 + PAGE, PAGE);
	uint8_t buf[3 * PAGE];
	uint64_t contig;

	backing_create(&b, 2 * PAGE);
	vu_mem_init(&mem);
	assert_int_equal(vu_mem_add(&mem, &r1, b.fd, VU_MAX_MEM_SLOTS), 0);
	assert_int_equal(vu_mem_add(&mem, &r2, b.fd, VU_MAX_MEM_SLOTS), 0);

	/* a page-sized hole in guest space between the two */
	assert_null(vu_mem_translate(&mem, VU_ADDR_GPA, 0x10000 + PAGE, 1, &contig));
	assert_null(vu_mem_translate(&mem, VU_ADDR_GPA, 0x10000 + 2 * PAGE - 1, 1, &contig));
	assert_non_null(vu_mem_translate(&mem, VU_ADDR_GPA, 0x10000 + 2 * PAGE, 1, &contig));
	assert_false(vu_mem_gpa_mapped(&mem, 0x10000, 3 * PAGE));
	assert_false(vu_mem_gpa_mapped(&mem, 0x10000 + PAGE - 1, 2));
	assert_false(vu_mem_gpa_mapped(&mem, 0x10000 + 2 * PAGE - 1, 2));
	assert_true(vu_mem_gpa_mapped(&mem, 0x10000 + 2 * PAGE, PAGE));
	assert_int_equal(vu_mem_read(&mem, 0x10000, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(vu_mem_read(&mem, 0x10000 + PAGE, buf, 1), -EFAULT);

	/* a write that would run into, or start in, the hole fails */
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(vu_mem_write(&mem, 0x10000 + PAGE - 8, buf, 16), -EFAULT);
	assert_int_equal(vu_mem_write(&mem, 0x10000 + PAGE + 8, buf, 16), -EFAULT);
	assert_int_equal(vu_mem_write(&mem, 0x10000 + 2 * PAGE - 8, buf, 16), -EFAULT);
	/* the second region starts at its own file offset */
	assert_int_equal(vu_mem_read(&mem, 0x10000 + 2 * PAGE, buf, 16), 0);
	assert_memory_equal(buf, b.map + PAGE, 16);
	vu_mem_finish(&mem);
	backing_destroy(&b);
}

static void test_zero_length(void **state)
{
	struct backing b;
	struct vu_mem mem;
	struct vu_mem_region r = region(0x10000, PAGE, 0x7000000, 0);
	uint64_t contig = 0xdead;
	uint8_t byte = 0;

	backing_create(&b, PAGE);
	vu_mem_init(&mem);
	assert_int_equal(vu_mem_add(&mem, &r, b.fd, VU_MAX_MEM_SLOTS), 0);

	/* an empty range at a mapped address */
	assert_non_null(vu_mem_translate(&mem, VU_ADDR_GPA, 0x10000 + 5, 0, &contig));
	assert_true(contig == 0);
	assert_non_null(vu_mem_range(&mem, VU_ADDR_GPA, 0x10000 + PAGE - 1, 0));
	assert_true(vu_mem_gpa_mapped(&mem, 0x10000, 0));
	assert_int_equal(vu_mem_read(&mem, 0x10000, &byte, 0), 0);
	assert_int_equal(vu_mem_write(&mem, 0x10000, &byte, 0), 0);

	/* at an unmapped address there is no pointer to give */
	assert_null(vu_mem_range(&mem, VU_ADDR_GPA, 0x10000 + PAGE, 0));
	assert_null(vu_mem_range(&mem, VU_ADDR_GPA, 0, 0));
	/* copying nothing touches nothing and succeeds */
	assert_int_equal(vu_mem_read(&mem, 0x90000, &byte, 0), 0);
	assert_int_equal(vu_mem_write(&mem, 0x90000, &byte, 0), 0);
	vu_mem_finish(&mem);
	backing_destroy(&b);
}

static void test_near_uint64_max(void **state)
{
	struct backing b;
	struct vu_mem mem;
	const uint64_t top = UINT64_MAX - 2 * PAGE + 1; /* last byte at UINT64_MAX - PAGE */
	struct vu_mem_region r = region(top, PAGE, UINT64_MAX - 2 * PAGE + 1, 0);
	uint64_t contig;
	uint8_t buf[8];

	backing_create(&b, PAGE);
	vu_mem_init(&mem);
	assert_int_equal(vu_mem_add(&mem, &r, b.fd, VU_MAX_MEM_SLOTS), 0);

	assert_non_null(vu_mem_range(&mem, VU_ADDR_GPA, top, PAGE));
	assert_non_null(vu_mem_range(&mem, VU_ADDR_GPA, top + PAGE - 1, 1));
	assert_null(vu_mem_range(&mem, VU_ADDR_GPA, top + PAGE - 1, 2));
	assert_null(vu_mem_range(&mem, VU_ADDR_GPA, top + PAGE, 1));
	assert_null(vu_mem_range(&mem, VU_ADDR_GPA, UINT64_MAX, 1));
	assert_null(vu_mem_range(&mem, VU_ADDR_GPA, top, UINT64_MAX));
	assert_null(vu_mem_range(&mem, VU_ADDR_GPA, top + 1, UINT64_MAX));
	assert_non_null(vu_mem_range(&mem, VU_ADDR_UVA, top + PAGE - 1, 1));
	assert_null(vu_mem_range(&mem, VU_ADDR_UVA, top + PAGE, 1));
	assert_null(vu_mem_range(&mem, VU_ADDR_UVA, UINT64_MAX, 1));

	assert_non_null(vu_mem_translate(&mem, VU_ADDR_GPA, top + 10, UINT64_MAX, &contig));
	assert_true(contig == PAGE - 10);
	assert_null(vu_mem_translate(&mem, VU_ADDR_GPA, UINT64_MAX, UINT64_MAX, &contig));

	/* gpa + len wrapping past zero must not look like a small, mapped range */
	assert_true(vu_mem_gpa_mapped(&mem, top, PAGE));
	assert_false(vu_mem_gpa_mapped(&mem, top, PAGE + 1));
	assert_false(vu_mem_gpa_mapped(&mem, top, UINT64_MAX));
	assert_false(vu_mem_gpa_mapped(&mem, UINT64_MAX, 1));
	assert_false(vu_mem_gpa_mapped(&mem, UINT64_MAX, UINT64_MAX));
	assert_int_equal(vu_mem_read(&mem, top + PAGE - 4, buf, 4), 0);
	assert_memory_equal(buf, b.map + PAGE - 4, 4);
	assert_int_equal(vu_mem_read(&mem, top + PAGE - 4, buf, 8), -EFAULT);
	assert_int_equal(vu_mem_read(&mem, UINT64_MAX - 3, buf, 8), -EFAULT);
	assert_int_equal(vu_mem_write(&mem, UINT64_MAX - 3, buf, 8), -EFAULT);
	vu_mem_finish(&mem);
	backing_destroy(&b);
}

static void test_generation(void **state)
{
	struct test_guest_mem g;
	struct vu_mem mem;
	struct vu_mem_region r;
	uint64_t gen;

	assert_int_equal(test_guest_mem_create(&g, 2 * PAGE, 0x1000000), 0);
	r = test_guest_mem_region(&g);
	vu_mem_init(&mem);
	assert_int_equal(mem.nmaps, 0);
	gen = mem.generation;
	/* every change is visible to holders of cached pointers */
	assert_int_equal(vu_mem_add(&mem, &r, g.fd, VU_MAX_MEM_SLOTS), 0);
	assert_true(mem.generation > gen);
	gen = mem.generation;
	assert_int_equal(vu_mem_add(&mem, &r, g.fd, VU_MAX_MEM_SLOTS), -EEXIST);
	assert_true(mem.generation == gen);
	assert_int_equal(vu_mem_remove(&mem, &r), 0);
	assert_true(mem.generation > gen);
	gen = mem.generation;
	assert_int_equal(test_guest_mem_add_to(&g, &mem), 0);
	vu_mem_finish(&mem);
	assert_true(mem.generation > gen);
	assert_int_equal(mem.nmaps, 0);
	assert_null(mem.maps);
	/* finishing an empty table is fine */
	vu_mem_finish(&mem);
	test_guest_mem_destroy(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_translate_boundaries),
		cmocka_unit_test(test_unaligned_offset),
		cmocka_unit_test(test_add_invalid),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_max_slots),
		cmocka_unit_test(test_straddle),
		cmocka_unit_test(test_holes),
		cmocka_unit_test(test_zero_length),
		cmocka_unit_test(test_near_uint64_max),
		cmocka_unit_test(test_generation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
