/* SPDX-License-Identifier: MIT */
/*
* Unit tests for checked arithmetic (src/util/checked.h): 64- and 32-bit add/mul, align,
 * range and rect checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "checked.h"
#include "cleanup.h"

static void test_checked_add_u64(void **state)
{
	static const struct {
		uint64_t a, b;
		bool ok;
		uint64_t r;
	} cases[] = {
		{ 0, 0, true, 0 },
		{ 1, 2, true, 3 },
		{ UINT64_MAX, 0, true, UINT64_MAX },
		{ UINT64_MAX - 1, 1, true, UINT64_MAX },
		{ UINT64_MAX, 1, false, 0 },
		{ UINT64_MAX / 2 + 1, UINT64_MAX / 2 + 1, false, 0 },
		{ UINT64_MAX, UINT64_MAX, false, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t r = 0xdeadbeef;

		assert_int_equal(checked_add_u64(cases[i].a, cases[i].b, &r), cases[i].ok);
		/* on overflow the output is left alone */
		assert_true(r == (cases[i].ok ? cases[i].r : 0xdeadbeef));
	}
}

static void test_checked_mul_u64(void **state)
{
	static const struct {
		uint64_t a, b;
		bool ok;
		uint64_t r;
	} cases[] = {
		{ 0, UINT64_MAX, true, 0 },
		{ UINT64_MAX, 1, true, UINT64_MAX },
		{ UINT64_C(1) << 32, UINT64_C(1) << 31, true, UINT64_C(1) << 63 },
		{ UINT64_C(1) << 32, UINT64_C(1) << 32, false, 0 },
		{ UINT64_MAX, 2, false, 0 },
		{ 0x40000001, 4, true, 0x100000004 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t r = 0xdeadbeef;

		assert_int_equal(checked_mul_u64(cases[i].a, cases[i].b, &r), cases[i].ok);
		assert_true(r == (cases[i].ok ? cases[i].r : 0xdeadbeef));
	}
}

static void test_checked_u32(void **state)
{
	static const struct {
		bool mul;
		uint32_t a, b;
		bool ok;
		uint32_t r;
	} cases[] = {
		{ false, UINT32_MAX - 1, 1, true, UINT32_MAX },
		{ false, UINT32_MAX, 1, false, 0 },
		{ false, 0x80000000u, 0x80000000u, false, 0 },
		{ true, 0xffffu, 0x10001u, true, UINT32_MAX },
		{ true, 0x10000u, 0x10000u, false, 0 },
		/* the QEMU stride bug: 0x40000001 * 4 wraps to 4 in 32 bits */
		{ true, 0x40000001u, 4, false, 0 },
		{ true, 0x3fffffffu, 4, true, 0xfffffffcu },
		{ true, 0, UINT32_MAX, true, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint32_t r = 0xdeadbeef;
		bool ok = cases[i].mul ? checked_mul_u32(cases[i].a, cases[i].b, &r)
				       : checked_add_u32(cases[i].a, cases[i].b, &r);

		assert_int_equal(ok, cases[i].ok);
		assert_true(r == (cases[i].ok ? cases[i].r : 0xdeadbeef));
	}
}

static void test_checked_align(void **state)
{
	static const struct {
		uint64_t a, align;
		bool ok;
		uint64_t r;
	} cases[] = {
		{ 0, 4096, true, 0 },
		{ 1, 4096, true, 4096 },
		{ 4096, 4096, true, 4096 },
		{ 4097, 4096, true, 8192 },
		{ 5, 1, true, 5 },
		{ 7, 0, false, 0 },        /* align 0 */
		{ 7, 3, false, 0 },        /* not a power of two */
		{ 7, 4097, false, 0 },     /* not a power of two */
		{ UINT64_MAX - 4094, 4096, false, 0 }, /* rounding up overflows */
		{ UINT64_MAX - 4095, 4096, true, UINT64_MAX - 4095 },
		{ UINT64_C(1) << 63, UINT64_C(1) << 63, true, UINT64_C(1) << 63 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t r = 0xdeadbeef;

		assert_int_equal(checked_align_u64(cases[i].a, cases[i].align, &r), cases[i].ok);
		assert_true(r == (cases[i].ok ? cases[i].r : 0xdeadbeef));
	}
}

static void test_range_within(void **state)
{
	static const struct {
		uint64_t off, len, size;
		bool ok;
	} cases[] = {
		{ 0, 0, 0, true },
		{ 0, 10, 10, true },
		{ 10, 0, 10, true },
		{ 9, 1, 10, true },
		{ 9, 2, 10, false },
		{ 11, 0, 10, false },
		{ 1, UINT64_MAX, 10, false },
		{ UINT64_MAX, 1, UINT64_MAX, false },
		{ UINT64_MAX - 1, 1, UINT64_MAX, true },
		{ 2, UINT64_MAX - 1, UINT64_MAX, false }, /* off + len wraps to 0 */
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(range_within(cases[i].off, cases[i].len, cases[i].size),
			cases[i].ok);
	}
}

static void test_rect_within(void **state)
{
	static const struct {
		uint32_t x, y, w, h, w_max, h_max;
		bool ok;
	} cases[] = {
		{ 0, 0, 1024, 768, 1024, 768, true },
		{ 1023, 767, 1, 1, 1024, 768, true },
		{ 1024, 0, 0, 768, 1024, 768, true },
		{ 1024, 0, 1, 1, 1024, 768, false },
		{ 0, 768, 1, 1, 1024, 768, false },
		{ 1, 0, 1024, 768, 1024, 768, false },
		{ 0, 1, 1024, 768, 1024, 768, false },
		/* x + w wraps to 0 in 32 bits */
		{ UINT32_MAX, 0, 1, 1, 1024, 768, false },
		{ 1, 0, UINT32_MAX, 1, 1024, 768, false },
		{ 0, UINT32_MAX, 1, 2, 1024, 768, false },
		{ 0, 0, UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX, true },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(rect_within(cases[i].x, cases[i].y, cases[i].w, cases[i].h,
					 cases[i].w_max, cases[i].h_max),
			cases[i].ok);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checked_add_u64),
		cmocka_unit_test(test_checked_mul_u64),
		cmocka_unit_test(test_checked_u32),
		cmocka_unit_test(test_checked_align),
		cmocka_unit_test(test_range_within),
		cmocka_unit_test(test_rect_within),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
