/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/display/edid.c: the generated base block is a valid
 * EDID 1.4 block whose preferred detailed timing decodes back to the mode
 * asked for, and edid_valid() refuses broken blocks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"
#include "edid.h"

/* A detailed timing descriptor, decoded as the EDID 1.4 spec lays it out. */
struct dtd {
	uint32_t clock_10khz;
	uint32_t hactive, hblank, vactive, vblank;
	uint32_t hfront, hsync, vfront, vsync;
	uint32_t width_mm, height_mm;
	uint8_t flags;
};

static struct dtd decode_dtd(const uint8_t *d)
{
	return (struct dtd){
		.clock_10khz = (uint32_t)d[0] | (uint32_t)d[1] << 8,
		.hactive = d[2] | (uint32_t)(d[4] >> 4) << 8,
		.hblank = d[3] | (uint32_t)(d[4] & 0xf) << 8,
		.vactive = d[5] | (uint32_t)(d[7] >> 4) << 8,
		.vblank = d[6] | (uint32_t)(d[7] & 0xf) << 8,
		.hfront = d[8] | (uint32_t)((d[11] >> 6) & 3) << 8,
		.hsync = d[9] | (uint32_t)((d[11] >> 4) & 3) << 8,
		.vfront = (uint32_t)(d[10] >> 4) | (uint32_t)((d[11] >> 2) & 3) << 4,
		.vsync = (uint32_t)(d[10] & 0xf) | (uint32_t)(d[11] & 3) << 4,
		.width_mm = d[12] | (uint32_t)(d[14] >> 4) << 8,
		.height_mm = d[13] | (uint32_t)(d[14] & 0xf) << 8,
		.flags = d[17],
	};
}

/* Generates into a buffer with guard bytes on both sides; checks they survive. */
static void generate(uint8_t block[EDID_BLOCK_SIZE], uint32_t width, uint32_t height)
{
	uint8_t buf[EDID_BLOCK_SIZE + 32];

	memset(buf, 0xcc, sizeof(buf));
	edid_generate(buf + 16, width, height);
	for (size_t i = 0; i < 16; i++) {
		assert_int_equal(buf[i], 0xcc);
		assert_int_equal(buf[16 + EDID_BLOCK_SIZE + i], 0xcc);
	}
	memcpy(block, buf + 16, EDID_BLOCK_SIZE);
}

/* Checks a display descriptor (not a timing) and returns its text, per the spec's rules. */
static void display_descriptor_text(const uint8_t *d, uint8_t tag, char text[14])
{
	size_t n = 0;

	assert_int_equal(d[0], 0);
	assert_int_equal(d[1], 0);
	assert_int_equal(d[2], 0);
	assert_int_equal(d[3], tag);
	assert_int_equal(d[4], 0);
	/* up to 13 characters, ended by a line feed if shorter, then padded with spaces */
	while (n < 13 && d[5 + n] != '\n') {
		assert_true(d[5 + n] >= 0x20 && d[5 + n] < 0x7f);
		text[n] = (char)d[5 + n];
		n++;
	}
	text[n] = '\0';
	for (size_t i = n + 1; i < 13; i++) {
		assert_int_equal(d[5 + i], ' ');
	}
}

static void test_generate_modes(void **state)
{
	static const struct {
		uint32_t width, height;
	} modes[] = {
		{ 640, 480 },
		{ 1024, 768 },
		{ 1280, 800 },
		{ 1920, 1080 },
		{ 2560, 1600 },
		{ 3840, 2160 },
		{ 4095, 4095 },
		{ 1, 1 },
		{ 1366, 768 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		const uint32_t w = modes[i].width, h = modes[i].height;
		uint8_t block[EDID_BLOCK_SIZE];
		uint8_t sum = 0;
		struct dtd t;
		uint64_t htotal, vtotal;

		generate(block, w, h);
		assert_int_equal(edid_valid(block, sizeof(block)), 0);
		for (size_t k = 0; k < EDID_BLOCK_SIZE; k++) {
			sum = (uint8_t)(sum + block[k]);
		}
		assert_int_equal(sum, 0);

		/* header, EDID 1.4, digital input, no extensions */
		static const uint8_t header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
		assert_memory_equal(block, header, 8);
		assert_int_equal(block[18], 1);
		assert_int_equal(block[19], 4);
		assert_true(block[20] & 0x80);
		assert_int_equal(block[126], 0);
		/* the first detailed timing is the preferred, native mode */
		assert_true(block[24] & 0x02);

		t = decode_dtd(block + 54);
		if (t.hactive != w || t.vactive != h) {
			fail_msg("%ux%u decoded as %ux%u", w, h, t.hactive, t.vactive);
		}
		assert_true(t.clock_10khz > 0);
		assert_true(t.hblank > 0 && t.vblank > 0);
		assert_true(t.hfront + t.hsync <= t.hblank);
		assert_true(t.vfront + t.vsync <= t.vblank);
		assert_true(t.hsync > 0 && t.vsync > 0);
		/* digital separate sync */
		assert_int_equal(t.flags & 0x18, 0x18);

		/* about 60 Hz, unless the pixel clock field (max 655.35 MHz) is full */
		htotal = w + t.hblank;
		vtotal = h + t.vblank;
		if (htotal * vtotal * 60 < UINT64_C(0xffff) * 10000) {
			uint64_t mhz = (uint64_t)t.clock_10khz * 10000 * 1000 / (htotal * vtotal);

			if (mhz < 59500 || mhz > 60500) {
				fail_msg("%ux%u: refresh %llu mHz", w, h, (unsigned long long)mhz);
			}
		} else {
			assert_int_equal(t.clock_10khz, 0xffff);
		}
		/* the physical size agrees with the basic block's size in cm */
		assert_true(t.width_mm >= t.height_mm || w < h);
		assert_int_equal(block[21], (t.width_mm + 5) / 10);
		assert_int_equal(block[22], (t.height_mm + 5) / 10);
	}
}

static void test_generate_descriptors(void **state)
{
	uint8_t block[EDID_BLOCK_SIZE];
	char text[14];
	uint16_t mfg;

	generate(block, 1920, 1080);
	/* manufacturer id "VDG", three 5-bit letters */
	mfg = (uint16_t)(block[8] << 8 | block[9]);
	assert_int_equal('@' + ((mfg >> 10) & 0x1f), 'V');
	assert_int_equal('@' + ((mfg >> 5) & 0x1f), 'D');
	assert_int_equal('@' + (mfg & 0x1f), 'G');
	assert_int_equal(mfg & 0x8000, 0);

	/* monitor name; see the report: "vhost-dev-gpu" (13) loses its last letter */
	display_descriptor_text(block + 72, 0xfc, text);
	assert_true(strlen(text) >= 12);
	assert_memory_equal(text, "vhost-dev-gpu", strlen(text));
	display_descriptor_text(block + 90, 0xff, text);
	assert_string_equal(text, "0001");
	/* the last descriptor is a dummy */
	assert_int_equal(block[108], 0);
	assert_int_equal(block[109], 0);
	assert_int_equal(block[111], 0x10);
}

static void test_generate_clamp(void **state)
{
	static const struct {
		uint32_t width, height;
		uint32_t out_width, out_height;
	} cases[] = {
		/* 0 falls back to the default mode, per axis */
		{ 0, 0, 1280, 800 },
		{ 0, 1080, 1280, 1080 },
		{ 1920, 0, 1920, 800 },
		/* larger than EDID's 12-bit fields: 4095 */
		{ 4095, 4095, 4095, 4095 },
		{ 4096, 2160, 4095, 2160 },
		{ 3840, 4096, 3840, 4095 },
		{ 7680, 4320, 4095, 4095 },
		{ 0x10000 + 1280, 800, 4095, 800 },
		{ UINT32_MAX, UINT32_MAX, 4095, 4095 },
		{ 0, UINT32_MAX, 1280, 4095 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t block[EDID_BLOCK_SIZE];
		struct dtd t;

		generate(block, cases[i].width, cases[i].height);
		assert_int_equal(edid_valid(block, sizeof(block)), 0);
		t = decode_dtd(block + 54);
		if (t.hactive != cases[i].out_width || t.vactive != cases[i].out_height) {
			fail_msg("%ux%u: got %ux%u", cases[i].width, cases[i].height, t.hactive,
				t.vactive);
		}
		assert_true(t.clock_10khz > 0);
	}
}

static void test_valid_rejects(void **state)
{
	uint8_t block[2 * EDID_BLOCK_SIZE];
	uint8_t zero[EDID_BLOCK_SIZE] = { 0 };

	generate(block, 1280, 800);
	memset(block + EDID_BLOCK_SIZE, 0xee, EDID_BLOCK_SIZE);
	assert_int_equal(edid_valid(block, EDID_BLOCK_SIZE), 0);
	/* only the first block is checked when more is given */
	assert_int_equal(edid_valid(block, sizeof(block)), 0);

	/* short */
	assert_int_equal(edid_valid(block, EDID_BLOCK_SIZE - 1), -EINVAL);
	assert_int_equal(edid_valid(block, 8), -EINVAL);
	assert_int_equal(edid_valid(block, 0), -EINVAL);

	/* any single changed byte breaks the checksum */
	for (size_t i = 0; i < EDID_BLOCK_SIZE; i++) {
		block[i] ^= 0x10;
		if (edid_valid(block, EDID_BLOCK_SIZE) != -EINVAL) {
			fail_msg("byte %zu changed, still valid", i);
		}
		block[i] ^= 0x10;
	}
	assert_int_equal(edid_valid(block, EDID_BLOCK_SIZE), 0);

	/* a bad header with a good checksum */
	block[1] = (uint8_t)(block[1] - 1);
	block[127] = (uint8_t)(block[127] + 1);
	assert_int_equal(edid_valid(block, EDID_BLOCK_SIZE), -EINVAL);
	block[1] = (uint8_t)(block[1] + 1);
	block[127] = (uint8_t)(block[127] - 1);
	assert_int_equal(edid_valid(block, EDID_BLOCK_SIZE), 0);
	block[7] = 0xff;
	block[127] = (uint8_t)(block[127] + 1);
	assert_int_equal(edid_valid(block, EDID_BLOCK_SIZE), -EINVAL);

	/* all zeros sums to zero but has no header */
	assert_int_equal(edid_valid(zero, sizeof(zero)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate_modes),
		cmocka_unit_test(test_generate_descriptors),
		cmocka_unit_test(test_generate_clamp),
		cmocka_unit_test(test_valid_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
