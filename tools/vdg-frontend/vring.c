/* SPDX-License-Identifier: MIT */
/*
 * Driver side of a split virtqueue living in guest RAM (virtio-gpu.md §10,
 * driver view): descriptor free list, direct and indirect chains, avail
 * publishing with kick suppression (VRING_USED_F_NO_NOTIFY or avail_event),
 * used-ring consumption with used_event.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/virtio_ring.h>

#include "frontend.h"

#define VQ_MAX_CHAIN 1024u

static uint64_t desc_size(unsigned int num)
{
	return 16ull * num;
}

static uint64_t avail_size(unsigned int num)
{
	return 6ull + 2ull * num;
}

static uint64_t used_size(unsigned int num)
{
	return 6ull + 8ull * num;
}

void vdgfe_vq_reset(struct vdgfe_vq *vq)
{
	memset(vq->desc, 0, desc_size(vq->num));
	memset(vq->avail, 0, avail_size(vq->num));
	memset(vq->used, 0, used_size(vq->num));
	vq->avail_shadow = 0;
	vq->avail_kicked = 0;
	vq->last_used = 0;
	vq->free_head = 0;
	vq->num_free = vq->num;
	for (unsigned int i = 0; i < vq->num; i++) {
		vq->next[i] = (uint16_t)(i + 1);
		vq->chain_len[i] = 0;
		vq->indirect_gpa[i] = 0;
		vq->token[i] = NULL;
	}
}

int vdgfe_vq_setup(struct vdgfe *fe, struct vdgfe_vq *vq, unsigned int index, unsigned int num)
{
	int r;

	memset(vq, 0, sizeof(*vq));
	vq->kick_fd = vq->call_fd = vq->err_fd = -1;
	if (num == 0 || num > 32768 || (num & (num - 1))) {
		return -EINVAL;
	}
	vq->index = index;
	vq->num = num;
	r = vdgfe_mem_alloc(fe, desc_size(num), 16, VDGFE_MEM_CONTIG, &vq->desc_gpa);
	if (r == 0) {
		r = vdgfe_mem_alloc(fe, avail_size(num), 2, VDGFE_MEM_CONTIG, &vq->avail_gpa);
	}
	if (r == 0) {
		r = vdgfe_mem_alloc(fe, used_size(num), 4, VDGFE_MEM_CONTIG, &vq->used_gpa);
	}
	if (r < 0) {
		return r;
	}
	vq->desc = vdgfe_gpa_to_hva(fe, vq->desc_gpa, desc_size(num));
	vq->avail = vdgfe_gpa_to_hva(fe, vq->avail_gpa, avail_size(num));
	vq->used = vdgfe_gpa_to_hva(fe, vq->used_gpa, used_size(num));
	vq->next = calloc(num, sizeof(*vq->next));
	vq->chain_len = calloc(num, sizeof(*vq->chain_len));
	vq->indirect_gpa = calloc(num, sizeof(*vq->indirect_gpa));
	vq->token = calloc(num, sizeof(*vq->token));
	if (!vq->next || !vq->chain_len || !vq->indirect_gpa || !vq->token) {
		return -ENOMEM;
	}
	vq->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vq->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vq->err_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vq->kick_fd < 0 || vq->call_fd < 0 || vq->err_fd < 0) {
		return -errno;
	}
	vdgfe_vq_reset(vq);
	vq->ready = true;
	return 0;
}

void vdgfe_vq_finish(struct vdgfe *fe, struct vdgfe_vq *vq)
{
	if (vq->desc_gpa || vq->desc) {
		vdgfe_mem_free(fe, vq->desc_gpa, desc_size(vq->num));
		vdgfe_mem_free(fe, vq->avail_gpa, avail_size(vq->num));
		vdgfe_mem_free(fe, vq->used_gpa, used_size(vq->num));
	}
	for (unsigned int i = 0; vq->indirect_gpa && i < vq->num; i++) {
		if (vq->indirect_gpa[i]) {
			vdgfe_mem_free(fe, vq->indirect_gpa[i], 16ull * vq->next[i]);
		}
	}
	free(vq->next);
	free(vq->chain_len);
	free(vq->indirect_gpa);
	free(vq->token);
	if (vq->kick_fd >= 0) {
		close(vq->kick_fd);
	}
	if (vq->call_fd >= 0) {
		close(vq->call_fd);
	}
	if (vq->err_fd >= 0) {
		close(vq->err_fd);
	}
	memset(vq, 0, sizeof(*vq));
	vq->kick_fd = vq->call_fd = vq->err_fd = -1;
}

static void put_desc(struct vring_desc *d, const struct vdgfe_buf *b, uint16_t flags,
	uint16_t next)
{
	d->addr = htole64(b->gpa);
	d->len = htole32(b->len);
	d->flags = htole16(flags);
	d->next = htole16(next);
}

int vdgfe_vq_add(struct vdgfe *fe, struct vdgfe_vq *vq, const struct vdgfe_buf *out,
	unsigned int nout, const struct vdgfe_buf *in, unsigned int nin, unsigned int flags,
	void *token)
{
	unsigned int total = nout + nin;
	uint16_t head;

	if (!vq->ready || total == 0 || total > VQ_MAX_CHAIN) {
		return -EINVAL;
	}
	if (flags & VDGFE_ADD_INDIRECT) {
		uint64_t tgpa;
		struct vring_desc *table;
		int r;

		if (vq->num_free < 1) {
			return -ENOSPC;
		}
		r = vdgfe_mem_alloc(fe, 16ull * total, 16, VDGFE_MEM_CONTIG, &tgpa);
		if (r < 0) {
			return r;
		}
		table = vdgfe_gpa_to_hva(fe, tgpa, 16ull * total);
		for (unsigned int i = 0; i < total; i++) {
			bool w = i >= nout;
			const struct vdgfe_buf *b = w ? &in[i - nout] : &out[i];
			uint16_t f = (uint16_t)((w ? VRING_DESC_F_WRITE : 0) |
				(i + 1 < total ? VRING_DESC_F_NEXT : 0));

			put_desc(&table[i], b, f, (uint16_t)(i + 1 < total ? i + 1 : 0));
		}
		head = vq->free_head;
		struct vdgfe_buf tb = { .gpa = tgpa, .len = 16u * total };

		put_desc(&vq->desc[head], &tb, VRING_DESC_F_INDIRECT, 0);
		vq->free_head = vq->next[head];
		vq->num_free--;
		vq->chain_len[head] = 1;
		vq->indirect_gpa[head] = tgpa;
		/* chain_len is reused for the table size when freeing. */
		vq->next[head] = (uint16_t)total;
	} else {
		uint16_t idx;

		if (vq->num_free < total) {
			return -ENOSPC;
		}
		head = idx = vq->free_head;
		for (unsigned int i = 0; i < total; i++) {
			bool w = i >= nout;
			const struct vdgfe_buf *b = w ? &in[i - nout] : &out[i];
			uint16_t nxt = vq->next[idx];
			uint16_t f = (uint16_t)((w ? VRING_DESC_F_WRITE : 0) |
				(i + 1 < total ? VRING_DESC_F_NEXT : 0));

			put_desc(&vq->desc[idx], b, f, i + 1 < total ? nxt : 0);
			idx = nxt;
		}
		vq->free_head = idx;
		vq->num_free -= total;
		vq->chain_len[head] = (uint16_t)total;
		vq->indirect_gpa[head] = 0;
	}
	vq->token[head] = token;
	vq->avail->ring[vq->avail_shadow % vq->num] = htole16(head);
	vq->avail_shadow++;
	return head;
}

int vdgfe_vq_kick(struct vdgfe_vq *vq, bool force)
{
	uint16_t old = vq->avail_kicked, now = vq->avail_shadow;
	bool notify;

	/* Ring entries before the index, the index before reading suppression. */
	__atomic_store_n(&vq->avail->idx, htole16(now), __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->avail_kicked = now;
	if (vq->event_idx) {
		uint16_t *avail_event = (uint16_t *)&vq->used->ring[vq->num];
		uint16_t ev = le16toh(__atomic_load_n(avail_event, __ATOMIC_ACQUIRE));

		notify = vring_need_event(ev, now, old);
	} else {
		notify = !(le16toh(__atomic_load_n(&vq->used->flags, __ATOMIC_ACQUIRE)) &
			VRING_USED_F_NO_NOTIFY);
	}
	if (!notify && !force) {
		vq->kicks_suppressed++;
		return 0;
	}
	uint64_t one = 1;

	vq->kicks++;
	if (write(vq->kick_fd, &one, sizeof(one)) != sizeof(one)) {
		return -errno;
	}
	return 1;
}

bool vdgfe_vq_has_used(const struct vdgfe_vq *vq)
{
	if (!vq->ready) {
		return false;
	}
	return le16toh(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE)) != vq->last_used;
}

unsigned int vdgfe_vq_in_flight(const struct vdgfe_vq *vq)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < vq->num; i++) {
		if (vq->chain_len[i]) {
			n++;
		}
	}
	return n;
}

static void free_chain(struct vdgfe *fe, struct vdgfe_vq *vq, uint16_t head)
{
	uint16_t n = vq->chain_len[head], idx = head;

	if (vq->indirect_gpa[head]) {
		vdgfe_mem_free(fe, vq->indirect_gpa[head], 16ull * vq->next[head]);
		vq->indirect_gpa[head] = 0;
		vq->next[head] = vq->free_head;
		vq->free_head = head;
		vq->num_free++;
		vq->chain_len[head] = 0;
		return;
	}
	/* Walk our own chain (the device may have scribbled on desc[].next). */
	for (uint16_t i = 0; i + 1 < n; i++) {
		idx = vq->next[idx];
	}
	vq->next[idx] = vq->free_head;
	vq->free_head = head;
	vq->num_free += n;
	vq->chain_len[head] = 0;
}

int vdgfe_vq_get_used(struct vdgfe *fe, struct vdgfe_vq *vq, uint32_t *ret_head,
	uint32_t *ret_len, void **ret_token)
{
	uint16_t used_idx;
	uint32_t id, len;

	if (!vq->ready) {
		return 0;
	}
	used_idx = le16toh(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE));
	if (used_idx == vq->last_used) {
		return 0;
	}
	struct vring_used_elem *e = &vq->used->ring[vq->last_used % vq->num];

	id = le32toh(e->id);
	len = le32toh(e->len);
	vq->last_used++;
	if (vq->event_idx) {
		/* used_event lives at avail->ring[num]: interrupt us on the next one. */
		uint16_t *used_event = &vq->avail->ring[vq->num];

		__atomic_store_n(used_event, htole16(vq->last_used), __ATOMIC_RELEASE);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	if (id >= vq->num || vq->chain_len[id] == 0) {
		vq->bad_used++;
		return -EPROTO;
	}
	*ret_head = id;
	*ret_len = len;
	*ret_token = vq->token[id];
	vq->token[id] = NULL;
	free_chain(fe, vq, (uint16_t)id);
	return 1;
}
