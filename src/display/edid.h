/* SPDX-License-Identifier: MIT */
/* A minimal EDID 1.4 block for a given preferred mode, for when the frontend gives none. */
#ifndef VDG_EDID_H
#define VDG_EDID_H

#include <stddef.h>
#include <stdint.h>

#define EDID_BLOCK_SIZE 128

/*
 * Writes one 128-byte base block: a digital display whose preferred (first
 * detailed) timing is width x height at 60 Hz, named "vhost-dev-gpu".
 * width/height are clamped to what EDID can express (4095 x 4095).
 */
void edid_generate(uint8_t out[EDID_BLOCK_SIZE], uint32_t width, uint32_t height);

/* Checks the header and checksum of a 128-byte block. */
int edid_valid(const uint8_t *block, size_t len);

#endif /* VDG_EDID_H */
