/* SPDX-License-Identifier: MIT */
/*
 * id → object hash table with a count limit, for guest-chosen ids
 * (resources, contexts). Lookups are O(1) on average; a guest cannot make
 * it grow past its limit.
 */
#ifndef VDG_ID_TABLE_H
#define VDG_ID_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct id_table {
	struct id_table_slot {
		uint32_t id;
		uint32_t state; /* 0 empty, 1 used, 2 deleted */
		void *value;
	} *slots;
	size_t capacity; /* power of two, or 0 */
	size_t count;
	size_t deleted;
	size_t limit;
};

void id_table_init(struct id_table *t, size_t limit);
/* Frees the slots, not the values. */
void id_table_finish(struct id_table *t);

/* Returns 0, -EEXIST if id is present, -ENOSPC at the limit, -ENOMEM. */
int id_table_insert(struct id_table *t, uint32_t id, void *value);
void *id_table_lookup(const struct id_table *t, uint32_t id);
/* Returns the removed value or NULL. */
void *id_table_remove(struct id_table *t, uint32_t id);

/* Iteration: index from 0 while it returns true. */
bool id_table_next(const struct id_table *t, size_t *iter, uint32_t *ret_id, void **ret_value);

static inline size_t id_table_count(const struct id_table *t)
{
	return t->count;
}

#endif /* VDG_ID_TABLE_H */
