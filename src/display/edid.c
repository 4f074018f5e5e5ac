/* SPDX-License-Identifier: MIT */
#include "edid.h"

#include <errno.h>
#include <string.h>

static const uint8_t edid_header[8] = { 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00 };

/* Detailed timing descriptor (18 bytes) for w x h at about 60 Hz, CVT-RB-like blanking. */
static void detailed_timing(uint8_t *d, uint32_t w, uint32_t h)
{
	const uint32_t hblank = 160, vblank = 35, hfront = 48, hsync = 32, vfront = 3, vsync = 6;
	uint64_t htotal = w + hblank, vtotal = h + vblank;
	uint64_t clock_10khz = (htotal * vtotal * 60 + 5000) / 10000;
	uint32_t width_mm = w * 264 / 1000, height_mm = h * 264 / 1000; /* ~96 dpi */

	if (clock_10khz > 0xffff) {
		clock_10khz = 0xffff;
	}
	d[0] = (uint8_t)(clock_10khz & 0xff);
	d[1] = (uint8_t)(clock_10khz >> 8);
	d[2] = (uint8_t)(w & 0xff);
	d[3] = (uint8_t)(hblank & 0xff);
	d[4] = (uint8_t)(((w >> 8) & 0xf) << 4 | ((hblank >> 8) & 0xf));
	d[5] = (uint8_t)(h & 0xff);
	d[6] = (uint8_t)(vblank & 0xff);
	d[7] = (uint8_t)(((h >> 8) & 0xf) << 4 | ((vblank >> 8) & 0xf));
	d[8] = (uint8_t)(hfront & 0xff);
	d[9] = (uint8_t)(hsync & 0xff);
	d[10] = (uint8_t)((vfront & 0xf) << 4 | (vsync & 0xf));
	d[11] = 0;
	d[12] = (uint8_t)(width_mm & 0xff);
	d[13] = (uint8_t)(height_mm & 0xff);
	d[14] = (uint8_t)(((width_mm >> 8) & 0xf) << 4 | ((height_mm >> 8) & 0xf));
	d[15] = 0;
	d[16] = 0;
	d[17] = 0x1e; /* digital separate sync, +hsync +vsync */
}

static void text_descriptor(uint8_t *d, uint8_t tag, const char *text)
{
	size_t len = strlen(text);

	memset(d, 0, 18);
	d[3] = tag;
	memset(d + 5, ' ', 13);
	if (len > 13) {
		len = 13;
	}
	memcpy(d + 5, text, len);
	if (len < 13) {
		d[5 + len] = '\n'; /* a full 13-character text has no terminator */
	}
}

void edid_generate(uint8_t out[EDID_BLOCK_SIZE], uint32_t width, uint32_t height)
{
	uint8_t sum = 0;

	if (width == 0 || width > 4095) {
		width = width ? 4095 : 1280;
	}
	if (height == 0 || height > 4095) {
		height = height ? 4095 : 800;
	}
	memset(out, 0, EDID_BLOCK_SIZE);
	memcpy(out, edid_header, sizeof(edid_header));
	/* manufacturer "VDG": 5-bit letters, big-endian */
	uint16_t mfg = (uint16_t)((('V' - '@') << 10) | (('D' - '@') << 5) | ('G' - '@'));
	out[8] = (uint8_t)(mfg >> 8);
	out[9] = (uint8_t)(mfg & 0xff);
	out[10] = 0x01; /* product code */
	out[16] = 1;    /* week */
	out[17] = 36;   /* year 2026 - 1990 */
	out[18] = 1;    /* EDID 1.4 */
	out[19] = 4;
	out[20] = 0xa5; /* digital, 8 bits per colour, DisplayPort */
	out[21] = (uint8_t)((width * 264 / 1000 + 5) / 10);  /* cm */
	out[22] = (uint8_t)((height * 264 / 1000 + 5) / 10);
	out[23] = 120;  /* gamma 2.2 */
	out[24] = 0x06; /* RGB 4:4:4, preferred timing is native, sRGB */
	/* chromaticity: sRGB primaries */
	static const uint8_t srgb[10] = { 0xee, 0x91, 0xa3, 0x54, 0x4c, 0x99, 0x26, 0x0f, 0x50,
		0x54 };
	memcpy(out + 25, srgb, sizeof(srgb));
	/* no established or standard timings */
	for (int i = 38; i < 54; i++) {
		out[i] = 0x01;
	}
	detailed_timing(out + 54, width, height);
	text_descriptor(out + 72, 0xfc, "vhost-dev-gpu");
	text_descriptor(out + 90, 0xff, "0001");
	text_descriptor(out + 108, 0x10, ""); /* dummy */
	memset(out + 108, 0, 18);
	out[108 + 3] = 0x10;
	out[126] = 0; /* no extension blocks */
	for (int i = 0; i < EDID_BLOCK_SIZE - 1; i++) {
		sum = (uint8_t)(sum + out[i]);
	}
	out[127] = (uint8_t)(0x100 - sum);
}

int edid_valid(const uint8_t *block, size_t len)
{
	uint8_t sum = 0;

	if (len < EDID_BLOCK_SIZE || memcmp(block, edid_header, sizeof(edid_header)) != 0) {
		return -EINVAL;
	}
	for (size_t i = 0; i < EDID_BLOCK_SIZE; i++) {
		sum = (uint8_t)(sum + block[i]);
	}
	return sum == 0 ? 0 : -EINVAL;
}
