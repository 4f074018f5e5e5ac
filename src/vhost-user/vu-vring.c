/* SPDX-License-Identifier: MIT */
#include "vu-vring.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "checked.h"
#include "log.h"

#define VRING_DESC_SIZE 16u

void vu_vring_init(struct vu_vring *vq, unsigned int index, const struct vu_mem *mem)
{
	memset(vq, 0, sizeof(*vq));
	vq->index = index;
	vq->mem = mem;
	vq->kick_fd = -1;
	vq->call_fd = -1;
	vq->err_fd = -1;
}

void vu_vring_reset(struct vu_vring *vq)
{
	if (vq->kick_fd >= 0) {
		close(vq->kick_fd);
	}
	if (vq->call_fd >= 0) {
		close(vq->call_fd);
	}
	if (vq->err_fd >= 0) {
		close(vq->err_fd);
	}
	vu_vring_init(vq, vq->index, vq->mem);
}

bool vu_vring_num_valid(uint32_t num)
{
	return num > 0 && num <= VU_VRING_MAX_SIZE && (num & (num - 1)) == 0;
}

bool vu_vring_addr_valid(const struct vu_vring_addr *addr)
{
	return (addr->desc_user_addr & 15) == 0 && (addr->avail_user_addr & 1) == 0 &&
		(addr->used_user_addr & 3) == 0;
}

/* Logs why the guest broke this ring, once, and stops using it. */
static int ring_broken(struct vu_vring *vq, const char *why, unsigned long long value)
{
	if (!vq->broken) {
		log_guest("queue %u stopped: %s (%llu)", vq->index, why, value);
	}
	vq->broken = true;
	return -EIO;
}

int vu_vring_map(struct vu_vring *vq)
{
	uint64_t desc_size, avail_size, used_size;
	uint16_t extra = vq->event_idx ? 2 : 0;

	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	if (!vq->addr_set || vq->num == 0) {
		return -EINVAL;
	}
	desc_size = (uint64_t)VRING_DESC_SIZE * vq->num;
	avail_size = 4 + 2 * (uint64_t)vq->num + extra;
	used_size = 4 + 8 * (uint64_t)vq->num + extra;
	vq->desc = vu_mem_range(vq->mem, VU_ADDR_UVA, vq->addr.desc_user_addr, desc_size);
	vq->avail = vu_mem_range(vq->mem, VU_ADDR_UVA, vq->addr.avail_user_addr, avail_size);
	vq->used = vu_mem_range(vq->mem, VU_ADDR_UVA, vq->addr.used_user_addr, used_size);
	if (!vq->desc || !vq->avail || !vq->used) {
		vq->desc = NULL;
		vq->avail = NULL;
		vq->used = NULL;
		return -EFAULT;
	}
	vq->mapped_generation = vq->mem->generation;
	return 0;
}

/*
 * The ring may take used entries and calls: it is started (or stopping: the
 * stop handler runs before `started` drops), mapped and not broken. Being
 * disabled does not matter here: QEMU disables the rings before it asks for
 * their bases, and a buffer already taken must be answered in the ring, as
 * the base it reads counts it (libvhost-user pushes regardless of enable).
 */
static bool ring_writable(struct vu_vring *vq)
{
	if (!vq->started || vq->broken || !vq->desc) {
		return false;
	}
	if (vq->mapped_generation != vq->mem->generation && vu_vring_map(vq) < 0) {
		ring_broken(vq, "ring no longer inside guest memory", vq->addr.desc_user_addr);
		return false;
	}
	return true;
}

bool vu_vring_usable(struct vu_vring *vq)
{
	return vq->enabled && ring_writable(vq);
}

static uint16_t load_avail_idx(const struct vu_vring *vq)
{
	return le16toh(__atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE));
}

static void read_desc(const struct vring_desc *table, unsigned int i, struct vring_desc *out)
{
	/* one copy of the guest's descriptor; only the copy is used afterwards */
	memcpy(out, (const void *)&table[i], sizeof(*out));
	out->addr = le64toh(out->addr);
	out->len = le32toh(out->len);
	out->flags = le16toh(out->flags);
	out->next = le16toh(out->next);
}

int vu_vring_pop(struct vu_vring *vq, struct vu_elem **ret_elem)
{
	struct vu_buf bufs[VU_ELEM_MAX_BUFS];
	struct vring_desc indirect_copy[VU_ELEM_MAX_BUFS];
	const struct vring_desc *table;
	unsigned int max, count = 0, out_num = 0, in_num = 0, idx;
	uint64_t out_len = 0, in_len = 0;
	uint16_t avail_idx, pending, head;
	bool in_indirect = false;
	struct vu_elem *elem;

	if (!vu_vring_usable(vq)) {
		return 0;
	}
	avail_idx = load_avail_idx(vq);
	pending = (uint16_t)(avail_idx - vq->last_avail_idx);
	if (pending > vq->num) {
		return ring_broken(vq, "avail index moved further than the ring size", pending);
	}
	if (pending == 0) {
		return 0;
	}
	head = le16toh(
		__atomic_load_n(&vq->avail->ring[vq->last_avail_idx & (vq->num - 1)], __ATOMIC_RELAXED));
	if (head >= vq->num) {
		return ring_broken(vq, "head descriptor index out of range", head);
	}

	table = vq->desc;
	max = vq->num;
	idx = head;
	for (;;) {
		struct vring_desc d;

		read_desc(table, idx, &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (!vq->indirect) {
				return ring_broken(vq, "indirect descriptor not negotiated", idx);
			}
			if (in_indirect || count != 0) {
				return ring_broken(vq, "indirect descriptor not at the head", idx);
			}
			if (d.flags & VRING_DESC_F_NEXT) {
				return ring_broken(vq, "indirect descriptor with NEXT", idx);
			}
			if (d.len == 0 || d.len % VRING_DESC_SIZE != 0 ||
				d.len / VRING_DESC_SIZE > VU_ELEM_MAX_BUFS) {
				return ring_broken(vq, "bad indirect table length", d.len);
			}
			/* copy the table once: the guest may rewrite it while we walk */
			if (vu_mem_read(vq->mem, d.addr, indirect_copy, d.len) < 0) {
				return ring_broken(vq, "indirect table outside guest memory", d.addr);
			}
			table = indirect_copy;
			max = d.len / VRING_DESC_SIZE;
			idx = 0;
			in_indirect = true;
			continue;
		}
		if (++count > max) {
			return ring_broken(vq, "descriptor chain loops or is too long", count);
		}
		if (!vu_mem_gpa_mapped(vq->mem, d.addr, d.len)) {
			return ring_broken(vq, "descriptor outside guest memory", d.addr);
		}
		if (d.flags & VRING_DESC_F_WRITE) {
			in_len += d.len;
			bufs[out_num + in_num++] = (struct vu_buf){ d.addr, d.len };
		} else {
			if (in_num > 0) {
				return ring_broken(vq, "readable descriptor after a writable one", idx);
			}
			out_len += d.len;
			bufs[out_num++] = (struct vu_buf){ d.addr, d.len };
		}
		if (!(d.flags & VRING_DESC_F_NEXT)) {
			break;
		}
		idx = d.next;
		if (idx >= max) {
			return ring_broken(vq, "next descriptor index out of range", idx);
		}
	}

	elem = malloc(sizeof(*elem) + sizeof(elem->bufs[0]) * (out_num + in_num));
	if (!elem) {
		return -ENOMEM;
	}
	elem->head = head;
	elem->out_num = out_num;
	elem->in_num = in_num;
	elem->out_len = out_len;
	elem->in_len = in_len;
	memcpy(elem->bufs, bufs, sizeof(bufs[0]) * (out_num + in_num));

	vq->last_avail_idx++;
	vq->inflight++;
	*ret_elem = elem;
	return 1;
}

void vu_vring_push(struct vu_vring *vq, const struct vu_elem *elem, uint32_t written)
{
	struct vring_used_elem *slot;

	if (vq->inflight > 0) {
		vq->inflight--;
	}
	/* A stopped or broken ring must not be written; a disabled one is (above). */
	if (!ring_writable(vq)) {
		return;
	}
	slot = &vq->used->ring[vq->used_idx & (vq->num - 1)];
	__atomic_store_n(&slot->id, htole32(elem->head), __ATOMIC_RELAXED);
	__atomic_store_n(&slot->len, htole32(written), __ATOMIC_RELAXED);
	vq->used_idx++;
	__atomic_store_n(&vq->used->idx, htole16(vq->used_idx), __ATOMIC_RELEASE);
}

void vu_vring_notify(struct vu_vring *vq)
{
	if (vq->call_fd < 0 || !ring_writable(vq)) {
		return;
	}
	/* the used index must be visible before we read the guest's wishes */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->event_idx) {
		uint16_t old = vq->signalled_used, new_idx = vq->used_idx;
		bool valid = vq->signalled_used_valid;
		uint16_t used_event = le16toh(
			__atomic_load_n(&vq->avail->ring[vq->num], __ATOMIC_RELAXED));

		vq->signalled_used = new_idx;
		vq->signalled_used_valid = true;
		if (valid && !vring_need_event(used_event, new_idx, old)) {
			return;
		}
	} else {
		uint16_t flags = le16toh(__atomic_load_n(&vq->avail->flags, __ATOMIC_RELAXED));
		bool empty = load_avail_idx(vq) == vq->last_avail_idx;

		if ((flags & VRING_AVAIL_F_NO_INTERRUPT) &&
			!(vq->notify_on_empty && vq->inflight == 0 && empty)) {
			return;
		}
	}
	if (eventfd_write(vq->call_fd, 1) < 0) {
		log_debug("queue %u: call eventfd write failed", vq->index);
	}
}

bool vu_vring_enable_notification(struct vu_vring *vq)
{
	if (!vu_vring_usable(vq)) {
		return false;
	}
	if (vq->event_idx) {
		uint16_t *avail_event = (uint16_t *)&vq->used->ring[vq->num];

		__atomic_store_n(avail_event, htole16(vq->last_avail_idx), __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	return load_avail_idx(vq) != vq->last_avail_idx;
}

static int elem_copy(const struct vu_mem *mem, const struct vu_elem *elem, bool out,
	uint64_t offset, void *buf, size_t len)
{
	const struct vu_buf *bufs = out ? elem->bufs : elem->bufs + elem->out_num;
	unsigned int n = out ? elem->out_num : elem->in_num;
	uint8_t *p = buf;

	for (unsigned int i = 0; i < n && len > 0; i++) {
		uint64_t chunk;
		int r;

		if (offset >= bufs[i].len) {
			offset -= bufs[i].len;
			continue;
		}
		chunk = bufs[i].len - offset;
		if (chunk > len) {
			chunk = len;
		}
		r = out ? vu_mem_read(mem, bufs[i].gpa + offset, p, (size_t)chunk)
			: vu_mem_write(mem, bufs[i].gpa + offset, p, (size_t)chunk);
		if (r < 0) {
			return r;
		}
		p += chunk;
		len -= (size_t)chunk;
		offset = 0;
	}
	return len == 0 ? 0 : -EMSGSIZE;
}

int vu_elem_read(const struct vu_mem *mem, const struct vu_elem *elem, uint64_t offset, void *buf,
	size_t len)
{
	return elem_copy(mem, elem, true, offset, buf, len);
}

int vu_elem_write(const struct vu_mem *mem, const struct vu_elem *elem, uint64_t offset,
	const void *buf, size_t len)
{
	return elem_copy(mem, elem, false, offset, (void *)buf, len);
}
