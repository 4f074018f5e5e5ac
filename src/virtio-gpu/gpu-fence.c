/* SPDX-License-Identifier: MIT */
/*
 * Fenced commands under a renderer that works asynchronously (virgl): the
 * command is carried out, a fence with our next 64-bit sequence number is
 * created behind it, and the response waits here until the renderer says
 * that fence retired.
 *
 * Timelines: a command with VIRTIO_GPU_FLAG_INFO_RING_IDX (CONTEXT_INIT
 * negotiated) gets a fence of its own context and ring, so one ring's slow
 * work does not hold another's answers; every other fenced command goes on
 * the device's global timeline. All wait in one list in submission order,
 * and a retirement answers only the entries of its own timeline, oldest
 * first: answers stay in order within each timeline.
 */
#include <stdlib.h>

#include "gpu-priv.h"
#include "log.h"

/* Rings a context may have (VIRTGPU_CONTEXT_PARAM_NUM_RINGS is at most 64). */
#define GPU_MAX_RINGS 64

static bool wants_ring(struct gpu_device *dev, const struct gpu_cmd *cmd)
{
	return (cmd->hdr.flags & VIRTIO_GPU_FLAG_INFO_RING_IDX) && cmd->hdr.ctx_id != 0 &&
		cmd->hdr.ring_idx < GPU_MAX_RINGS &&
		(vu_dev_acked_features(dev->vu) & (UINT64_C(1) << VIRTIO_GPU_F_CONTEXT_INIT));
}

bool gpu_fence_hold(struct gpu_device *dev, struct gpu_cmd *cmd, gpu_resp_t type)
{
	uint64_t seq = dev->fence_seq + 1;

	if (dev->fence_count >= GPU_MAX_PENDING_FENCES) {
		return false;
	}
	cmd->fence_on_ring = false;
	if (wants_ring(dev, cmd) &&
		rnd_create_context_fence(dev->renderer, cmd->hdr.ctx_id, cmd->hdr.ring_idx, seq) == 0) {
		cmd->fence_on_ring = true;
		cmd->fence_ctx = cmd->hdr.ctx_id;
		cmd->fence_ring = cmd->hdr.ring_idx;
	} else if (rnd_create_fence(dev->renderer, seq) < 0) {
		return false;
	}
	dev->fence_seq = seq;
	cmd->fence_seq = seq;
	cmd->resp_type = type;
	cmd->next_pending = NULL;
	if (dev->fence_tail) {
		dev->fence_tail->next_pending = cmd;
	} else {
		dev->fence_head = cmd;
	}
	dev->fence_tail = cmd;
	dev->fence_count++;
	log_trace("fence %llu held on %s (%u pending)", (unsigned long long)seq,
		cmd->fence_on_ring ? "a context ring" : "the global timeline", dev->fence_count);
	return true;
}

/* Answers, in list order, every waiting command that `done` says is finished. */
static void answer_done(struct gpu_device *dev, bool (*done)(const struct gpu_cmd *, const void *),
	const void *arg)
{
	struct gpu_cmd **link = &dev->fence_head, *prev = NULL;

	while (*link) {
		struct gpu_cmd *cmd = *link;

		if (!done(cmd, arg)) {
			prev = cmd;
			link = &cmd->next_pending;
			continue;
		}
		*link = cmd->next_pending;
		if (dev->fence_tail == cmd) {
			dev->fence_tail = prev;
		}
		dev->fence_count--;
		gpu_cmd_finish(dev, cmd, cmd->resp_type, NULL);
	}
	gpu_notify_queues(dev);
}

static bool global_done(const struct gpu_cmd *cmd, const void *arg)
{
	return !cmd->fence_on_ring && cmd->fence_seq <= *(const uint64_t *)arg;
}

void gpu_fence_retired(void *data, uint64_t seq)
{
	log_trace("fence %llu retired", (unsigned long long)seq);
	answer_done(data, global_done, &seq);
}

struct ring_point {
	uint32_t ctx, ring;
	uint64_t seq;
};

static bool ring_done(const struct gpu_cmd *cmd, const void *arg)
{
	const struct ring_point *p = arg;

	return cmd->fence_on_ring && cmd->fence_ctx == p->ctx && cmd->fence_ring == p->ring &&
		cmd->fence_seq <= p->seq;
}

void gpu_fence_context_retired(void *data, uint32_t ctx_id, uint32_t ring_idx, uint64_t seq)
{
	struct ring_point p = { ctx_id, ring_idx, seq };

	log_trace("context %u ring %u fence %llu retired", ctx_id, ring_idx,
		(unsigned long long)seq);
	answer_done(data, ring_done, &p);
}

static bool context_gone(const struct gpu_cmd *cmd, const void *arg)
{
	return cmd->fence_on_ring && cmd->fence_ctx == *(const uint32_t *)arg;
}

void gpu_fences_context_gone(struct gpu_device *dev, uint32_t ctx_id)
{
	answer_done(dev, context_gone, &ctx_id);
}

void gpu_fences_flush(struct gpu_device *dev, bool answer)
{
	while (dev->fence_head) {
		struct gpu_cmd *cmd = dev->fence_head;

		dev->fence_head = cmd->next_pending;
		dev->fence_count--;
		if (answer) {
			gpu_cmd_finish(dev, cmd, cmd->resp_type, NULL);
		} else {
			free(cmd->elem);
			free(cmd);
		}
	}
	dev->fence_tail = NULL;
}
