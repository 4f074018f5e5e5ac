/* SPDX-License-Identifier: MIT */
/* Helpers the renderer backends share. */
#ifndef VDG_RENDER_UTIL_H
#define VDG_RENDER_UTIL_H

#include <pixman.h>
#include <stddef.h>
#include <stdint.h>

/*
 * pixman format of a virtio-gpu 2D format on this (little-endian) host, or 0.
 * virtio names bytes in memory order; pixman names little-endian words.
 */
pixman_format_code_t rnd_pixman_format(uint32_t virtio_format);

/* A growable scratch buffer. */
struct rnd_scratch {
	uint8_t *data;
	size_t size;
};

/* Makes room for size bytes. Returns 0 or -ENOMEM (the old buffer stays). */
int rnd_scratch_reserve(struct rnd_scratch *s, size_t size);
void rnd_scratch_finish(struct rnd_scratch *s);

#endif /* VDG_RENDER_UTIL_H */
