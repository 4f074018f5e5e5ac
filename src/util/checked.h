/* SPDX-License-Identifier: MIT */
/*
 * Overflow-checked arithmetic for values that come from the guest or the
 * frontend. Every function returns false on overflow and leaves *ret alone.
 */
#ifndef VDG_CHECKED_H
#define VDG_CHECKED_H

#include <stdbool.h>
#include <stdint.h>

static inline bool checked_add_u64(uint64_t a, uint64_t b, uint64_t *ret)
{
	uint64_t r;

	if (__builtin_add_overflow(a, b, &r)) {
		return false;
	}
	*ret = r;
	return true;
}

static inline bool checked_mul_u64(uint64_t a, uint64_t b, uint64_t *ret)
{
	uint64_t r;

	if (__builtin_mul_overflow(a, b, &r)) {
		return false;
	}
	*ret = r;
	return true;
}

static inline bool checked_add_u32(uint32_t a, uint32_t b, uint32_t *ret)
{
	uint32_t r;

	if (__builtin_add_overflow(a, b, &r)) {
		return false;
	}
	*ret = r;
	return true;
}

static inline bool checked_mul_u32(uint32_t a, uint32_t b, uint32_t *ret)
{
	uint32_t r;

	if (__builtin_mul_overflow(a, b, &r)) {
		return false;
	}
	*ret = r;
	return true;
}

/* Rounds a up to a multiple of align (a power of two). */
static inline bool checked_align_u64(uint64_t a, uint64_t align, uint64_t *ret)
{
	uint64_t r;

	if (align == 0 || (align & (align - 1)) != 0) {
		return false;
	}
	if (!checked_add_u64(a, align - 1, &r)) {
		return false;
	}
	*ret = r & ~(align - 1);
	return true;
}

/* Is [off, off+len) inside [0, size)? No overflow possible. */
static inline bool range_within(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/*
 * Is the rectangle (x, y, w, h) inside a w_max × h_max area? Computed in 64
 * bits so x + w cannot wrap. The one rect check shared by every command.
 */
static inline bool rect_within(uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t w_max,
	uint32_t h_max)
{
	return range_within(x, w, w_max) && range_within(y, h, h_max);
}

#endif /* VDG_CHECKED_H */
