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

/*
 * A framebuffer laid over a guest blob (SET_SCANOUT_BLOB, plane 0): `width`
 * x `height` pixels of `format`, rows `stride` bytes apart, the first at
 * byte `offset` of a blob of `blob_size` bytes. True if it is a valid
 * layout that lies wholly inside the blob: known format, 1..GPU_MAX_DIMENSION
 * pixels each way, stride a multiple of 4 and at least a row, and
 * offset + stride * (height - 1) + width * bpp <= blob_size, all without
 * overflow. *ret_host_bytes is then stride * height (a copy of it).
 */
bool gpu_blob_layout_fits(uint32_t format, uint32_t width, uint32_t height, uint32_t stride,
	uint32_t offset, uint64_t blob_size, uint64_t *ret_host_bytes);

#endif /* VDG_GPU_FORMAT_H */
