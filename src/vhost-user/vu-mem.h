/* SPDX-License-Identifier: MIT */
/*
 * Guest memory as the frontend shares it: a table of mmap'd regions and the
 * one checked function that turns a guest-physical (GPA) or frontend-virtual
 * (UVA) address into a host pointer. Nothing else in the daemon computes a
 * host address from a guest one.
 *
 * Host pointers are borrowed: they are valid only until the next memory
 * table change. Long-lived objects keep guest addresses and translate again
 * at each use (STYLE.md §4.7).
 */
#ifndef VDG_VU_MEM_H
#define VDG_VU_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vu-proto.h"

/*
 * Most regions a frontend may add with ADD_MEM_REG: libvhost-user's limit,
 * which stays below KVM's 512 memory slots minus those QEMU keeps for itself.
 */
#define VU_MAX_MEM_SLOTS 509

enum vu_addr_space {
	VU_ADDR_GPA, /* guest physical: descriptors, backing pages */
	VU_ADDR_UVA, /* frontend virtual: SET_VRING_ADDR */
};

struct vu_mem_map {
	uint64_t gpa;
	uint64_t size;
	uint64_t uva;
	uint64_t mmap_offset;
	void *mmap_addr;
	size_t mmap_size;
	uint8_t *host; /* mmap_addr + mmap_offset */
};

struct vu_mem {
	struct vu_mem_map *maps; /* sorted by gpa, no overlaps */
	unsigned int nmaps;
	unsigned int capacity;
	/* Bumped on every change, so users can tell cached pointers are stale. */
	uint64_t generation;
};

void vu_mem_init(struct vu_mem *mem);
/* Unmaps every region. */
void vu_mem_finish(struct vu_mem *mem);

/*
 * Maps region r from fd (not taken) and inserts it. Checks: non-zero size,
 * no overflow of gpa/uva/offset + size, the fd really holds that many bytes
 * (so a later access cannot SIGBUS), no overlap in guest-physical space,
 * at most max_slots regions. Returns 0 or -errno.
 */
int vu_mem_add(struct vu_mem *mem, const struct vu_mem_region *r, int fd, unsigned int max_slots);

/* Removes the region with this gpa, size and uva. Returns 0 or -ENOENT. */
int vu_mem_remove(struct vu_mem *mem, const struct vu_mem_region *r);

/* Swaps in new's regions and frees the old ones; new is left empty. */
void vu_mem_replace(struct vu_mem *mem, struct vu_mem *new_mem);

/*
 * The one translation function. Returns the host address of addr and sets
 * *contig to how many bytes, at most len, are contiguous there (the rest lie
 * in another region or nowhere). Returns NULL if addr itself is unmapped.
 */
void *vu_mem_translate(const struct vu_mem *mem, enum vu_addr_space space, uint64_t addr,
	uint64_t len, uint64_t *contig);

/* Host pointer for [addr, addr+len) if it lies in a single region, else NULL. */
void *vu_mem_range(const struct vu_mem *mem, enum vu_addr_space space, uint64_t addr, uint64_t len);

/* Is every byte of [gpa, gpa+len) mapped (possibly across regions)? */
bool vu_mem_gpa_mapped(const struct vu_mem *mem, uint64_t gpa, uint64_t len);

/*
 * Copies between guest memory and a host buffer, across region boundaries.
 * Return 0 or -EFAULT (nothing is promised about partial copies then).
 */
int vu_mem_read(const struct vu_mem *mem, uint64_t gpa, void *buf, size_t len);
int vu_mem_write(const struct vu_mem *mem, uint64_t gpa, const void *buf, size_t len);

#endif /* VDG_VU_MEM_H */
