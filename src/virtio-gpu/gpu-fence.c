/* SPDX-License-Identifier: MIT */
/*
 * Fenced commands under a renderer that works asynchronously (virgl): the
 * command is carried out, a fence with our next 64-bit sequence number is
 * created behind it, and the response waits here until the renderer says
 * that sequence number retired. Fences retire in order, so the list is a
 * FIFO and responses leave in the order the guest submitted them.
 */
#include <stdlib.h>

#include "gpu-priv.h"
#include "log.h"

bool gpu_fence_hold(struct gpu_device *dev, struct gpu_cmd *cmd, gpu_resp_t type)
{
	uint64_t seq = dev->fence_seq + 1;

	if (dev->fence_count >= GPU_MAX_PENDING_FENCES ||
		rnd_create_fence(dev->renderer, seq) < 0) {
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
	log_trace("fence %llu held (%u pending)", (unsigned long long)seq, dev->fence_count);
	return true;
}

static struct gpu_cmd *pop_head(struct gpu_device *dev)
{
	struct gpu_cmd *cmd = dev->fence_head;

	dev->fence_head = cmd->next_pending;
	if (!dev->fence_head) {
		dev->fence_tail = NULL;
	}
	dev->fence_count--;
	return cmd;
}

void gpu_fence_retired(void *data, uint64_t seq)
{
	struct gpu_device *dev = data;

	log_trace("fence %llu retired", (unsigned long long)seq);
	while (dev->fence_head && dev->fence_head->fence_seq <= seq) {
		struct gpu_cmd *cmd = pop_head(dev);

		gpu_cmd_finish(dev, cmd, cmd->resp_type, NULL);
	}
	gpu_notify_queues(dev);
}

void gpu_fences_flush(struct gpu_device *dev, bool answer)
{
	while (dev->fence_head) {
		struct gpu_cmd *cmd = pop_head(dev);

		if (answer) {
			gpu_cmd_finish(dev, cmd, cmd->resp_type, NULL);
		} else {
			free(cmd->elem);
			free(cmd);
		}
	}
}
