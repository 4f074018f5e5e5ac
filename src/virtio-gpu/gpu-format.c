/* SPDX-License-Identifier: MIT */
#include "gpu-format.h"

#include <linux/virtio_gpu.h>

#include "checked.h"

bool gpu_format_valid(uint32_t format)
{
	switch (format) {
	case VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM:
	case VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM:
	case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM:
	case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
	case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM:
	case VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM:
	case VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM:
	case VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM:
		return true;
	}
	return false;
}

uint32_t gpu_format_bpp(uint32_t format)
{
	return gpu_format_valid(format) ? 4 : 0;
}

bool gpu_format_size(uint32_t format, uint32_t width, uint32_t height, uint32_t *ret_stride,
	uint64_t *ret_size)
{
	uint32_t bpp = gpu_format_bpp(format), stride;
	uint64_t size;

	if (bpp == 0 || width == 0 || height == 0 || width > GPU_MAX_DIMENSION ||
		height > GPU_MAX_DIMENSION) {
		return false;
	}
	if (!checked_mul_u32(width, bpp, &stride) || !checked_mul_u64(stride, height, &size)) {
		return false;
	}
	*ret_stride = stride;
	*ret_size = size;
	return true;
}

bool gpu_blob_layout_fits(uint32_t format, uint32_t width, uint32_t height, uint32_t stride,
	uint32_t offset, uint64_t blob_size, uint64_t *ret_host_bytes)
{
	uint32_t row;
	uint64_t packed, end, host;

	/* the packed row and its size first: they bound width and height */
	if (!gpu_format_size(format, width, height, &row, &packed)) {
		return false;
	}
	if (stride % 4 != 0 || stride < row) {
		return false;
	}
	if (!checked_mul_u64(stride, (uint64_t)height - 1, &end) ||
		!checked_add_u64(end, offset, &end) || !checked_add_u64(end, row, &end) ||
		end > blob_size || !checked_mul_u64(stride, height, &host)) {
		return false;
	}
	*ret_host_bytes = host;
	return true;
}
