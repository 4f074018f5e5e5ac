/* SPDX-License-Identifier: MIT */
#include "id-table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { SLOT_EMPTY, SLOT_USED, SLOT_DELETED };

void id_table_init(struct id_table *t, size_t limit)
{
	memset(t, 0, sizeof(*t));
	t->limit = limit;
}

void id_table_finish(struct id_table *t)
{
	free(t->slots);
	id_table_init(t, t->limit);
}

static size_t hash_id(uint32_t id)
{
	/* guests pick sequential ids; mix the bits so they spread */
	uint64_t h = (uint64_t)id * UINT64_C(0x9e3779b97f4a7c15);
	return (size_t)(h >> 32);
}

static struct id_table_slot *find_slot(const struct id_table *t, uint32_t id)
{
	size_t mask, i;

	if (t->capacity == 0) {
		return NULL;
	}
	mask = t->capacity - 1;
	for (i = hash_id(id) & mask;; i = (i + 1) & mask) {
		struct id_table_slot *s = &t->slots[i];

		if (s->state == SLOT_EMPTY) {
			return NULL;
		}
		if (s->state == SLOT_USED && s->id == id) {
			return s;
		}
	}
}

static int grow(struct id_table *t)
{
	size_t cap = t->capacity ? t->capacity : 16;
	struct id_table_slot *old = t->slots;
	size_t old_cap = t->capacity;

	/* keep the load (used + deleted) under 1/2 so probes stay short */
	while ((t->count + 1) * 2 > cap) {
		cap *= 2;
	}
	t->slots = calloc(cap, sizeof(*t->slots));
	if (!t->slots) {
		t->slots = old;
		return -ENOMEM;
	}
	t->capacity = cap;
	t->deleted = 0;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i].state == SLOT_USED) {
			size_t mask = cap - 1, j;

			for (j = hash_id(old[i].id) & mask; t->slots[j].state != SLOT_EMPTY;
				j = (j + 1) & mask) {
			}
			t->slots[j] = old[i];
		}
	}
	free(old);
	return 0;
}

int id_table_insert(struct id_table *t, uint32_t id, void *value)
{
	size_t mask, i;

	if (find_slot(t, id)) {
		return -EEXIST;
	}
	if (t->count >= t->limit) {
		return -ENOSPC;
	}
	if ((t->count + t->deleted + 1) * 2 > t->capacity) {
		int r = grow(t);
		if (r < 0) {
			return r;
		}
	}
	mask = t->capacity - 1;
	for (i = hash_id(id) & mask; t->slots[i].state == SLOT_USED; i = (i + 1) & mask) {
	}
	if (t->slots[i].state == SLOT_DELETED) {
		t->deleted--;
	}
	t->slots[i] = (struct id_table_slot){ .id = id, .state = SLOT_USED, .value = value };
	t->count++;
	return 0;
}

void *id_table_lookup(const struct id_table *t, uint32_t id)
{
	struct id_table_slot *s = find_slot(t, id);

	return s ? s->value : NULL;
}

void *id_table_remove(struct id_table *t, uint32_t id)
{
	struct id_table_slot *s = find_slot(t, id);
	void *value;

	if (!s) {
		return NULL;
	}
	value = s->value;
	s->state = SLOT_DELETED;
	s->value = NULL;
	t->count--;
	t->deleted++;
	return value;
}

bool id_table_next(const struct id_table *t, size_t *iter, uint32_t *ret_id, void **ret_value)
{
	for (; *iter < t->capacity; (*iter)++) {
		const struct id_table_slot *s = &t->slots[*iter];

		if (s->state == SLOT_USED) {
			*ret_id = s->id;
			*ret_value = s->value;
			(*iter)++;
			return true;
		}
	}
	return false;
}
