/* SPDX-License-Identifier: MIT */
/*
 * --headless, or no display socket yet: frames and cursors are dropped; the
 * guest sees one enabled 1280x800 output, and the device generates EDIDs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "display.h"

struct disp_headless {
	struct disp_sink base;
};

static void headless_destroy(struct disp_sink *sink)
{
	free(sink);
}

static bool headless_busy(struct disp_sink *sink)
{
	return false;
}

static int headless_scanout(struct disp_sink *sink, uint32_t scanout_id, uint32_t width,
	uint32_t height)
{
	return 0;
}

static int headless_update(struct disp_sink *sink, uint32_t scanout_id, uint32_t x, uint32_t y,
	uint32_t width, uint32_t height, const uint8_t *data, uint32_t stride, bool stable)
{
	return 0;
}

static int headless_cursor_update(struct disp_sink *sink, const struct vugpu_cursor_update *c)
{
	return 0;
}

static int headless_cursor_move(struct disp_sink *sink, uint32_t scanout_id, uint32_t x,
	uint32_t y, bool visible)
{
	return 0;
}

static int headless_get_display_info(struct disp_sink *sink, disp_reply_fn fn, void *data)
{
	struct virtio_gpu_resp_display_info info;

	memset(&info, 0, sizeof(info));
	info.hdr.type = VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
	info.pmodes[0].r.width = DISP_DEFAULT_WIDTH;
	info.pmodes[0].r.height = DISP_DEFAULT_HEIGHT;
	info.pmodes[0].enabled = 1;
	fn(data, 0, &info, sizeof(info));
	return 0;
}

static const struct disp_ops headless_ops = {
	.name = "headless",
	.destroy = headless_destroy,
	.busy = headless_busy,
	.scanout = headless_scanout,
	.update = headless_update,
	.cursor_update = headless_cursor_update,
	.cursor_move = headless_cursor_move,
	.get_display_info = headless_get_display_info,
	.get_edid = NULL, /* the device generates one */
};

struct disp_sink *disp_headless_create(const struct disp_events *events)
{
	struct disp_headless *h = calloc(1, sizeof(*h));

	if (!h) {
		return NULL;
	}
	disp_init(&h->base, &headless_ops, events);
	return &h->base;
}
