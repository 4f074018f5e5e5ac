/* SPDX-License-Identifier: MIT */
#include "vu-mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "checked.h"
#include "log.h"

void vu_mem_init(struct vu_mem *mem)
{
	memset(mem, 0, sizeof(*mem));
}

static void map_release(struct vu_mem_map *m)
{
	if (m->mmap_addr) {
		munmap(m->mmap_addr, m->mmap_size);
		m->mmap_addr = NULL;
	}
}

void vu_mem_finish(struct vu_mem *mem)
{
	for (unsigned int i = 0; i < mem->nmaps; i++) {
		map_release(&mem->maps[i]);
	}
	free(mem->maps);
	uint64_t generation = mem->generation;
	vu_mem_init(mem);
	mem->generation = generation + 1;
}

int vu_mem_add(struct vu_mem *mem, const struct vu_mem_region *r, int fd, unsigned int max_slots)
{
	uint64_t gpa_end, uva_end, file_end;
	struct stat st;
	unsigned int pos;
	void *addr;

	if (r->memory_size == 0 || !checked_add_u64(r->guest_phys_addr, r->memory_size, &gpa_end) ||
		!checked_add_u64(r->userspace_addr, r->memory_size, &uva_end) ||
		!checked_add_u64(r->mmap_offset, r->memory_size, &file_end) ||
		file_end > SIZE_MAX) {
		return -EINVAL;
	}
	if (mem->nmaps >= max_slots) {
		return -ENOSPC;
	}
	/* Find the insert position and refuse any overlap in guest space. */
	for (pos = 0; pos < mem->nmaps; pos++) {
		const struct vu_mem_map *m = &mem->maps[pos];

		if (r->guest_phys_addr < m->gpa + m->size && m->gpa < gpa_end) {
			return -EEXIST;
		}
		if (m->gpa > r->guest_phys_addr) {
			break;
		}
	}
	for (unsigned int i = pos; i < mem->nmaps; i++) {
		const struct vu_mem_map *m = &mem->maps[i];

		if (r->guest_phys_addr < m->gpa + m->size && m->gpa < gpa_end) {
			return -EEXIST;
		}
	}
	/* An fd shorter than the region would turn guest accesses into SIGBUS. */
	if (fstat(fd, &st) < 0) {
		return -errno;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t)st.st_size < file_end) {
		return -EINVAL;
	}
	if (mem->nmaps == mem->capacity) {
		unsigned int cap = mem->capacity ? mem->capacity * 2 : 8;
		struct vu_mem_map *maps = realloc(mem->maps, sizeof(*maps) * cap);

		if (!maps) {
			return -ENOMEM;
		}
		mem->maps = maps;
		mem->capacity = cap;
	}
	/* Map from offset 0 and add the offset ourselves: it need not be page aligned. */
	addr = mmap(NULL, (size_t)file_end, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (addr == MAP_FAILED) {
		return -errno;
	}
	memmove(&mem->maps[pos + 1], &mem->maps[pos], sizeof(mem->maps[0]) * (mem->nmaps - pos));
	mem->maps[pos] = (struct vu_mem_map){
		.gpa = r->guest_phys_addr,
		.size = r->memory_size,
		.uva = r->userspace_addr,
		.mmap_offset = r->mmap_offset,
		.mmap_addr = addr,
		.mmap_size = (size_t)file_end,
		.host = (uint8_t *)addr + r->mmap_offset,
	};
	mem->nmaps++;
	mem->generation++;
	return 0;
}

int vu_mem_remove(struct vu_mem *mem, const struct vu_mem_region *r)
{
	for (unsigned int i = 0; i < mem->nmaps; i++) {
		struct vu_mem_map *m = &mem->maps[i];

		if (m->gpa == r->guest_phys_addr && m->size == r->memory_size &&
			m->uva == r->userspace_addr) {
			map_release(m);
			memmove(m, m + 1, sizeof(*m) * (mem->nmaps - i - 1));
			mem->nmaps--;
			mem->generation++;
			return 0;
		}
	}
	return -ENOENT;
}

void vu_mem_replace(struct vu_mem *mem, struct vu_mem *new_mem)
{
	uint64_t generation = mem->generation;

	vu_mem_finish(mem);
	*mem = *new_mem;
	mem->generation = generation + 1;
	vu_mem_init(new_mem);
}

static const struct vu_mem_map *find_map(const struct vu_mem *mem, enum vu_addr_space space,
	uint64_t addr)
{
	if (space == VU_ADDR_GPA) {
		/* binary search: maps are sorted by gpa */
		unsigned int lo = 0, hi = mem->nmaps;

		while (lo < hi) {
			unsigned int mid = lo + (hi - lo) / 2;
			const struct vu_mem_map *m = &mem->maps[mid];

			if (addr < m->gpa) {
				hi = mid;
			} else if (addr - m->gpa >= m->size) {
				lo = mid + 1;
			} else {
				return m;
			}
		}
		return NULL;
	}
	for (unsigned int i = 0; i < mem->nmaps; i++) {
		const struct vu_mem_map *m = &mem->maps[i];

		if (addr >= m->uva && addr - m->uva < m->size) {
			return m;
		}
	}
	return NULL;
}

void *vu_mem_translate(const struct vu_mem *mem, enum vu_addr_space space, uint64_t addr,
	uint64_t len, uint64_t *contig)
{
	const struct vu_mem_map *m = find_map(mem, space, addr);
	uint64_t off, avail;

	if (!m) {
		return NULL;
	}
	off = addr - (space == VU_ADDR_GPA ? m->gpa : m->uva);
	avail = m->size - off;
	*contig = len < avail ? len : avail;
	return m->host + off;
}

void *vu_mem_range(const struct vu_mem *mem, enum vu_addr_space space, uint64_t addr, uint64_t len)
{
	uint64_t contig = 0;
	void *host = vu_mem_translate(mem, space, addr, len, &contig);

	if (!host || contig != len) {
		return NULL;
	}
	return host;
}

bool vu_mem_gpa_mapped(const struct vu_mem *mem, uint64_t gpa, uint64_t len)
{
	uint64_t end;

	if (!checked_add_u64(gpa, len, &end)) {
		return false;
	}
	while (len > 0) {
		uint64_t contig;

		if (!vu_mem_translate(mem, VU_ADDR_GPA, gpa, len, &contig)) {
			return false;
		}
		gpa += contig;
		len -= contig;
	}
	return true;
}

static int mem_copy(const struct vu_mem *mem, uint64_t gpa, void *buf, size_t len, bool to_guest)
{
	uint8_t *p = buf;
	uint64_t end;

	if (!checked_add_u64(gpa, len, &end)) {
		return -EFAULT;
	}
	while (len > 0) {
		uint64_t contig;
		uint8_t *host = vu_mem_translate(mem, VU_ADDR_GPA, gpa, len, &contig);

		if (!host) {
			return -EFAULT;
		}
		if (to_guest) {
			memcpy(host, p, (size_t)contig);
		} else {
			memcpy(p, host, (size_t)contig);
		}
		p += contig;
		gpa += contig;
		len -= (size_t)contig;
	}
	return 0;
}

int vu_mem_read(const struct vu_mem *mem, uint64_t gpa, void *buf, size_t len)
{
	return mem_copy(mem, gpa, buf, len, false);
}

int vu_mem_write(const struct vu_mem *mem, uint64_t gpa, const void *buf, size_t len)
{
	return mem_copy(mem, gpa, (void *)buf, len, true);
}
