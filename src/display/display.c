/* SPDX-License-Identifier: MIT */
#include "display.h"

#include <assert.h>
#include <errno.h>
#include <unistd.h>

void disp_init(struct disp_sink *sink, const struct disp_ops *ops,
	const struct disp_events *events)
{
	assert(ops->destroy && ops->busy && ops->scanout && ops->update && ops->cursor_update &&
		ops->cursor_move && ops->get_display_info);
	sink->ops = ops;
	sink->events = *events;
}

void disp_destroy(struct disp_sink *sink)
{
	if (sink) {
		sink->ops->destroy(sink);
	}
}

bool disp_busy(struct disp_sink *sink)
{
	return sink->ops->busy(sink);
}

int disp_scanout(struct disp_sink *sink, uint32_t scanout_id, uint32_t width, uint32_t height)
{
	return sink->ops->scanout(sink, scanout_id, width, height);
}

int disp_update(struct disp_sink *sink, uint32_t scanout_id, uint32_t x, uint32_t y,
	uint32_t width, uint32_t height, const uint8_t *data, uint32_t stride, bool stable)
{
	return sink->ops->update(sink, scanout_id, x, y, width, height, data, stride, stable);
}

int disp_cursor_update(struct disp_sink *sink, const struct vugpu_cursor_update *cursor)
{
	return sink->ops->cursor_update(sink, cursor);
}

int disp_cursor_move(struct disp_sink *sink, uint32_t scanout_id, uint32_t x, uint32_t y,
	bool visible)
{
	return sink->ops->cursor_move(sink, scanout_id, x, y, visible);
}

int disp_get_display_info(struct disp_sink *sink, disp_reply_fn fn, void *data)
{
	return sink->ops->get_display_info(sink, fn, data);
}

int disp_get_edid(struct disp_sink *sink, uint32_t scanout_id, disp_reply_fn fn, void *data)
{
	if (!sink->ops->get_edid) {
		return -EOPNOTSUPP;
	}
	return sink->ops->get_edid(sink, scanout_id, fn, data);
}

bool disp_has_dmabuf(struct disp_sink *sink)
{
	return sink->ops->dmabuf_scanout != NULL && sink->ops->dmabuf_update != NULL;
}

int disp_dmabuf_scanout(struct disp_sink *sink, uint32_t scanout_id, const struct disp_dmabuf *buf,
	uint32_t x, uint32_t y, uint32_t width, uint32_t height)
{
	if (!disp_has_dmabuf(sink)) {
		if (buf && buf->fd >= 0) {
			close(buf->fd);
		}
		return -EOPNOTSUPP;
	}
	return sink->ops->dmabuf_scanout(sink, scanout_id, buf, x, y, width, height);
}

int disp_dmabuf_update(struct disp_sink *sink, uint32_t scanout_id, uint32_t x, uint32_t y,
	uint32_t width, uint32_t height, disp_reply_fn fn, void *data)
{
	if (!disp_has_dmabuf(sink)) {
		return -EOPNOTSUPP;
	}
	return sink->ops->dmabuf_update(sink, scanout_id, x, y, width, height, fn, data);
}
