/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/virtio-gpu/gpu-format.c: the eight 2D formats and the
 * one checked stride/size function (STYLE.md §4.1, ZDI-CAN-27578).
 */
#include <linux/virtio_gpu.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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

/* SET_SCANOUT_BLOB layouts: the framebuffer must lie wholly inside the blob. */
static void test_blob_layout(void **state)
{
	const uint32_t X = VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM;
	static const struct {
		uint32_t format, width, height, stride, offset;
		uint64_t blob;
		bool fits;
		uint64_t host;
	} cases[] = {
		/* packed 1024x768, exactly the blob */
		{ X, 1024, 768, 4096, 0, 4096u * 768, true, 4096u * 768 },
		/* one byte short */
		{ X, 1024, 768, 4096, 0, 4096u * 768 - 1, false, 0 },
		/* padded rows: the last row needs only width * 4 bytes */
		{ X, 1000, 10, 4096, 0, 4096u * 9 + 4000, true, 40960 },
		{ X, 1000, 10, 4096, 0, 4096u * 9 + 3999, false, 0 },
		/* an offset moves the end */
		{ X, 16, 16, 64, 4096, 4096 + 64 * 16, true, 1024 },
		{ X, 16, 16, 64, 4097, 4096 + 64 * 16, false, 0 },
		/* stride shorter than a row, or not a multiple of 4 */
		{ X, 16, 16, 60, 0, 1 << 20, false, 0 },
		{ X, 16, 16, 66, 0, 1 << 20, false, 0 },
		/* unknown format, empty, over GPU_MAX_DIMENSION */
		{ 0, 16, 16, 64, 0, 1 << 20, false, 0 },
		{ 999, 16, 16, 64, 0, 1 << 20, false, 0 },
		{ X, 0, 16, 64, 0, 1 << 20, false, 0 },
		{ X, 16, 0, 64, 0, 1 << 20, false, 0 },
		{ X, GPU_MAX_DIMENSION + 1, 1, (GPU_MAX_DIMENSION + 1) * 4, 0, UINT64_MAX, false, 0 },
		/* the largest stride and offset: no 32-bit wrap, simply too big for the blob */
		{ X, 1, GPU_MAX_DIMENSION, UINT32_MAX - 3, UINT32_MAX, UINT64_C(1) << 30, false, 0 },
		/* ... and they fit a blob that large (the size limit is the caller's) */
		{ X, 1, 2, UINT32_MAX - 3, UINT32_MAX, UINT64_C(1) << 34, true,
			(UINT64_C(4294967292)) * 2 },
		/* 0x40000001 wide: the stride overflow of ZDI-CAN-27578 is refused */
		{ X, 0x40000001u, 1, 4, 0, UINT64_MAX, false, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t host = 12345;
		bool fits = gpu_blob_layout_fits(cases[i].format, cases[i].width, cases[i].height,
			cases[i].stride, cases[i].offset, cases[i].blob, &host);

		if (fits != cases[i].fits) {
			fail_msg("case %zu: fits %d, expected %d", i, fits, cases[i].fits);
		}
		assert_int_equal(host, fits ? cases[i].host : 12345);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_formats),
		cmocka_unit_test(test_invalid_formats),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_blob_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
