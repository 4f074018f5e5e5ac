/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/virtio-gpu/gpu-format.c: the eight 2D formats and the
 * one checked stride/size function (STYLE.md §4.1, ZDI-CAN-27578).
 */
#include <linux/virtio_gpu.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cleanup.h"
#include "gpu-format.h"

static const uint32_t valid_formats[] = {
	VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
	VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM,
	VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM,
	VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM,
};

static void test_valid_formats(void **state)
{
	/* the wire numbers of the virtio spec, so a renumbered header is caught */
	static const uint32_t spec_numbers[] = { 1, 2, 3, 4, 67, 68, 121, 134 };

	for (size_t i = 0; i < ARRAY_SIZE(valid_formats); i++) {
		assert_int_equal(valid_formats[i], spec_numbers[i]);
		assert_true(gpu_format_valid(valid_formats[i]));
		assert_int_equal(gpu_format_bpp(valid_formats[i]), 4);
	}
}

static void test_invalid_formats(void **state)
{
	uint32_t stride = 77;
	uint64_t size = 88;
	unsigned int nvalid = 0;

	/* every number up to 1024 that is not one of the eight */
	for (uint32_t f = 0; f <= 1024; f++) {
		bool listed = false;

		for (size_t i = 0; i < ARRAY_SIZE(valid_formats); i++) {
			listed |= valid_formats[i] == f;
		}
		assert_int_equal(gpu_format_valid(f), listed);
		assert_int_equal(gpu_format_bpp(f), listed ? 4 : 0);
		nvalid += listed;
		if (!listed) {
			assert_false(gpu_format_size(f, 64, 64, &stride, &size));
		}
	}
	assert_int_equal(nvalid, 8);

	static const uint32_t others[] = { 0x10001, 0x80000001u, UINT32_MAX, UINT32_MAX - 1 };
	for (size_t i = 0; i < ARRAY_SIZE(others); i++) {
		assert_false(gpu_format_valid(others[i]));
		assert_int_equal(gpu_format_bpp(others[i]), 0);
		assert_false(gpu_format_size(others[i], 64, 64, &stride, &size));
	}
	assert_int_equal(stride, 77);
	assert_true(size == 88);
}

static void test_size(void **state)
{
	static const struct {
		uint32_t width, height;
		bool ok;
		uint32_t stride;
		uint64_t size;
	} cases[] = {
		{ 1, 1, true, 4, 4 },
		{ 3, 5, true, 12, 60 },
		{ 1024, 768, true, 4096, 3145728 },
		{ 1920, 1080, true, 7680, 8294400 },
		{ 3840, 2160, true, 15360, 33177600 },
		{ GPU_MAX_DIMENSION, 1, true, GPU_MAX_DIMENSION * 4, GPU_MAX_DIMENSION * 4 },
		{ 1, GPU_MAX_DIMENSION, true, 4, GPU_MAX_DIMENSION * 4 },
		{ GPU_MAX_DIMENSION, GPU_MAX_DIMENSION, true, 65536, UINT64_C(1) << 30 },
		/* zero */
		{ 0, 0, false, 0, 0 },
		{ 0, 768, false, 0, 0 },
		{ 1024, 0, false, 0, 0 },
		/* one past the limit */
		{ GPU_MAX_DIMENSION + 1, 1, false, 0, 0 },
		{ 1, GPU_MAX_DIMENSION + 1, false, 0, 0 },
		{ GPU_MAX_DIMENSION + 1, GPU_MAX_DIMENSION + 1, false, 0, 0 },
		/* 0x40000001 * 4 wraps to 4 in 32 bits: QEMU's out-of-bounds write */
		{ 0x40000001u, 1, false, 0, 0 },
		{ 0x40000001u, 0x40000001u, false, 0, 0 },
		{ 0x40000000u, 1, false, 0, 0 },
		{ UINT32_MAX, 1, false, 0, 0 },
		{ 1, UINT32_MAX, false, 0, 0 },
		{ UINT32_MAX, UINT32_MAX, false, 0, 0 },
		{ 64, 0x80000000u, false, 0, 0 },
	};

	for (size_t f = 0; f < ARRAY_SIZE(valid_formats); f++) {
		for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
			uint32_t stride = 0xabcd;
			uint64_t size = 0x1234;
			bool ok = gpu_format_size(valid_formats[f], cases[i].width, cases[i].height,
				&stride, &size);

			if (ok != cases[i].ok) {
				fail_msg("format %u %ux%u: returned %d", valid_formats[f],
					cases[i].width, cases[i].height, ok);
			}
			if (ok) {
				assert_int_equal(stride, cases[i].stride);
				assert_true(size == cases[i].size);
				/* stride and size agree with each other */
				assert_true((uint64_t)stride * cases[i].height == size);
			} else {
				/* outputs untouched on failure */
				assert_int_equal(stride, 0xabcd);
				assert_true(size == 0x1234);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_formats),
		cmocka_unit_test(test_invalid_formats),
		cmocka_unit_test(test_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
