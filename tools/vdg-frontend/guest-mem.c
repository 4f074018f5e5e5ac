/* SPDX-License-Identifier: MIT */
/*
 * Guest RAM: one or two memfds mapped in this process (their addresses are
 * the "userspace_addr" of SET_MEM_TABLE, as in QEMU), and a first-fit
 * allocator of guest-physical ranges with a sorted free list.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "frontend.h"

static int region_create(struct vdgfe_region *r, uint64_t gpa, uint64_t size, const char *name)
{
	void *p;

	r->fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (r->fd < 0) {
		return -errno;
	}
	if (ftruncate(r->fd, (off_t)size) < 0) {
		int e = -errno;

		close(r->fd);
		r->fd = -1;
		return e;
	}
	/* Like QEMU's memfd backend: no shrinking behind the back-end's mapping. */
	fcntl(r->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (p == MAP_FAILED) {
		int e = -errno;

		close(r->fd);
		r->fd = -1;
		return e;
	}
	r->hva = p;
	r->gpa = gpa;
	r->size = size;
	return 0;
}

static int ext_insert(struct vdgfe *fe, size_t at, uint64_t start, uint64_t len)
{
	if (fe->nfree_ext == fe->cap_free_ext) {
		size_t cap = fe->cap_free_ext ? fe->cap_free_ext * 2 : 64;
		struct vdgfe_extent *n = realloc(fe->free_ext, cap * sizeof(*n));

		if (!n) {
			return -ENOMEM;
		}
		fe->free_ext = n;
		fe->cap_free_ext = cap;
	}
	memmove(&fe->free_ext[at + 1], &fe->free_ext[at],
		(fe->nfree_ext - at) * sizeof(fe->free_ext[0]));
	fe->free_ext[at].start = start;
	fe->free_ext[at].len = len;
	fe->nfree_ext++;
	return 0;
}

static void ext_remove(struct vdgfe *fe, size_t at)
{
	memmove(&fe->free_ext[at], &fe->free_ext[at + 1],
		(fe->nfree_ext - at - 1) * sizeof(fe->free_ext[0]));
	fe->nfree_ext--;
}

int vdgfe_mem_init(struct vdgfe *fe)
{
	uint64_t size = fe->cfg.mem_size, half;
	int r;

	fe->nregions = 0;
	fe->nfree_ext = 0;
	if (size < (UINT64_C(1) << 20) || (size & 0xfff)) {
		return -EINVAL;
	}
	if (!fe->cfg.split_mem) {
		r = region_create(&fe->regions[0], fe->cfg.gpa_base, size, "vdgfe-ram0");
		if (r < 0) {
			return r;
		}
		fe->nregions = 1;
		return ext_insert(fe, 0, fe->cfg.gpa_base, size);
	}
	half = (size / 2) & ~UINT64_C(0xfff);
	r = region_create(&fe->regions[0], fe->cfg.gpa_base, half, "vdgfe-ram0");
	if (r < 0) {
		return r;
	}
	fe->nregions = 1;
	r = region_create(&fe->regions[1], fe->cfg.gpa_base + half + fe->cfg.region_gap,
		size - half, "vdgfe-ram1");
	if (r < 0) {
		return r;
	}
	fe->nregions = 2;
	/* Adjacent regions form one free extent so allocations may straddle. */
	if (fe->cfg.region_gap == 0) {
		return ext_insert(fe, 0, fe->cfg.gpa_base, size);
	}
	r = ext_insert(fe, 0, fe->regions[0].gpa, fe->regions[0].size);
	if (r < 0) {
		return r;
	}
	return ext_insert(fe, 1, fe->regions[1].gpa, fe->regions[1].size);
}

void vdgfe_mem_finish(struct vdgfe *fe)
{
	for (unsigned int i = 0; i < fe->nregions; i++) {
		munmap(fe->regions[i].hva, fe->regions[i].size);
		close(fe->regions[i].fd);
	}
	fe->nregions = 0;
	free(fe->free_ext);
	fe->free_ext = NULL;
	fe->nfree_ext = 0;
	fe->cap_free_ext = 0;
}

uint64_t vdgfe_mem_boundary(const struct vdgfe *fe)
{
	return fe->regions[0].gpa + fe->regions[0].size;
}

/* Does [start, start + len) cross the end of a region? */
static bool crosses(const struct vdgfe *fe, uint64_t start, uint64_t len, uint64_t *ret_end)
{
	for (unsigned int i = 0; i < fe->nregions; i++) {
		uint64_t end = fe->regions[i].gpa + fe->regions[i].size;

		if (start >= fe->regions[i].gpa && start < end && start + len > end) {
			*ret_end = end;
			return true;
		}
	}
	return false;
}

/* Takes [start, start + len) out of free extent i (which contains it). */
static int ext_take(struct vdgfe *fe, size_t i, uint64_t start, uint64_t len)
{
	struct vdgfe_extent e = fe->free_ext[i];
	uint64_t tail = e.start + e.len - (start + len);

	if (start == e.start && tail == 0) {
		ext_remove(fe, i);
		return 0;
	}
	if (start == e.start) {
		fe->free_ext[i].start += len;
		fe->free_ext[i].len -= len;
		return 0;
	}
	fe->free_ext[i].len = start - e.start;
	if (tail) {
		return ext_insert(fe, i + 1, start + len, tail);
	}
	return 0;
}

int vdgfe_mem_alloc(struct vdgfe *fe, uint64_t size, uint64_t align, unsigned int flags,
	uint64_t *ret_gpa)
{
	if (size == 0 || (align & (align - 1))) {
		return -EINVAL;
	}
	if (align == 0) {
		align = 1;
	}
	for (size_t i = 0; i < fe->nfree_ext; i++) {
		uint64_t end = fe->free_ext[i].start + fe->free_ext[i].len;
		uint64_t start = (fe->free_ext[i].start + align - 1) & ~(align - 1);

		while (start < end && end - start >= size) {
			uint64_t rend;

			if ((flags & VDGFE_MEM_CONTIG) && crosses(fe, start, size, &rend)) {
				start = (rend + align - 1) & ~(align - 1);
				continue;
			}
			int r = ext_take(fe, i, start, size);

			if (r < 0) {
				return r;
			}
			*ret_gpa = start;
			return 0;
		}
	}
	return -ENOMEM;
}

int vdgfe_mem_alloc_at(struct vdgfe *fe, uint64_t gpa, uint64_t size)
{
	for (size_t i = 0; i < fe->nfree_ext; i++) {
		struct vdgfe_extent *e = &fe->free_ext[i];

		if (gpa >= e->start && gpa - e->start <= e->len &&
			e->len - (gpa - e->start) >= size) {
			return ext_take(fe, i, gpa, size);
		}
	}
	return -EBUSY;
}

void vdgfe_mem_free(struct vdgfe *fe, uint64_t gpa, uint64_t size)
{
	size_t i = 0;

	if (size == 0) {
		return;
	}
	while (i < fe->nfree_ext && fe->free_ext[i].start < gpa) {
		i++;
	}
	/* Merge with the previous and/or next extent when touching. */
	bool prev = i > 0 && fe->free_ext[i - 1].start + fe->free_ext[i - 1].len == gpa;
	bool next = i < fe->nfree_ext && gpa + size == fe->free_ext[i].start;

	if (prev && next) {
		fe->free_ext[i - 1].len += size + fe->free_ext[i].len;
		ext_remove(fe, i);
	} else if (prev) {
		fe->free_ext[i - 1].len += size;
	} else if (next) {
		fe->free_ext[i].start = gpa;
		fe->free_ext[i].len += size;
	} else {
		ext_insert(fe, i, gpa, size);
	}
}

void *vdgfe_gpa_to_hva(struct vdgfe *fe, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < fe->nregions; i++) {
		struct vdgfe_region *r = &fe->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size && r->size - (gpa - r->gpa) >= len) {
			return r->hva + (gpa - r->gpa);
		}
	}
	return NULL;
}

/* Calls fn on each contiguous piece of [gpa, gpa + len). */
static int mem_walk(struct vdgfe *fe, uint64_t gpa, size_t len,
	void (*fn)(uint8_t *hva, size_t off, size_t n, void *arg), void *arg)
{
	size_t done = 0;

	while (done < len) {
		uint64_t cur = gpa + done;
		bool found = false;

		for (unsigned int i = 0; i < fe->nregions; i++) {
			struct vdgfe_region *r = &fe->regions[i];

			if (cur >= r->gpa && cur - r->gpa < r->size) {
				uint64_t avail = r->size - (cur - r->gpa);
				size_t n = len - done < avail ? len - done : (size_t)avail;

				fn(r->hva + (cur - r->gpa), done, n, arg);
				done += n;
				found = true;
				break;
			}
		}
		if (!found) {
			return -EFAULT;
		}
	}
	return 0;
}

static void piece_write(uint8_t *hva, size_t off, size_t n, void *arg)
{
	memcpy(hva, (const uint8_t *)arg + off, n);
}

static void piece_read(uint8_t *hva, size_t off, size_t n, void *arg)
{
	memcpy((uint8_t *)arg + off, hva, n);
}

static void piece_fill(uint8_t *hva, size_t off, size_t n, void *arg)
{
	memset(hva, *(int *)arg, n);
}

int vdgfe_mem_write(struct vdgfe *fe, uint64_t gpa, const void *buf, size_t len)
{
	return mem_walk(fe, gpa, len, piece_write, (void *)buf);
}

int vdgfe_mem_read(struct vdgfe *fe, uint64_t gpa, void *buf, size_t len)
{
	return mem_walk(fe, gpa, len, piece_read, buf);
}

int vdgfe_mem_fill(struct vdgfe *fe, uint64_t gpa, int c, size_t len)
{
	return mem_walk(fe, gpa, len, piece_fill, &c);
}
