/* SPDX-License-Identifier: MIT */
#include "render-util.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <linux/virtio_gpu.h>

pixman_format_code_t rnd_pixman_format(uint32_t format)
{
#if __BYTE_ORDER == __LITTLE_ENDIAN
	switch (format) {
	case VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM:
		return PIXMAN_a8r8g8b8;
	case VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM:
		return PIXMAN_x8r8g8b8;
	case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM:
		return PIXMAN_b8g8r8a8;
	case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
		return PIXMAN_b8g8r8x8;
	case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM:
		return PIXMAN_a8b8g8r8;
	case VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM:
		return PIXMAN_r8g8b8x8;
	case VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM:
		return PIXMAN_r8g8b8a8;
	case VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM:
		return PIXMAN_x8b8g8r8;
	}
#else
#error "big-endian hosts are not supported yet"
#endif
	return 0;
}

int rnd_scratch_reserve(struct rnd_scratch *s, size_t size)
{
	if (s->size < size) {
		uint8_t *p = realloc(s->data, size);

		if (!p) {
			return -ENOMEM;
		}
		s->data = p;
		s->size = size;
	}
	return 0;
}

void rnd_scratch_finish(struct rnd_scratch *s)
{
	free(s->data);
	s->data = NULL;
	s->size = 0;
}
