/* SPDX-License-Identifier: MIT */
/*
 * 2D formats and the one function that computes a resource's stride and
 * size. Allocation and every later bounds check use its result, so a huge
 * width cannot give a small stride (STYLE.md §4.1, ZDI-CAN-27578).
 */
#ifndef VDG_GPU_FORMAT_H
#define VDG_GPU_FORMAT_H

#include <stdbool.h>
#include <stdint.h>

/* Largest width or height of a 2D resource: GL's usual texture limit. */
#define GPU_MAX_DIMENSION 16384u

/* Is this one of the eight virtio-gpu 2D formats? All are 4 bytes per pixel. */
bool gpu_format_valid(uint32_t format);
uint32_t gpu_format_bpp(uint32_t format);

/*
 * stride = width * bpp (rows are packed, as the guest lays out its backing),
 * size = stride * height. Fails (false) for 0, > GPU_MAX_DIMENSION, unknown
 * formats or any overflow; outputs untouched then.
 */
bool gpu_format_size(uint32_t format, uint32_t width, uint32_t height, uint32_t *ret_stride,
	uint64_t *ret_size);

#endif /* VDG_GPU_FORMAT_H */
