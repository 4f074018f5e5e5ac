/* SPDX-License-Identifier: MIT */
/*
 * The virtio-gpu command table and the decoder in front of it: each request
 * is copied out of guest memory once, its header converted from
 * little-endian and checked against the table (queue, feature, size) before
 * any handler runs.
 */
#include <endian.h>
#include <string.h>

#include "cleanup.h"
#include "gpu-priv.h"
#include "log.h"

#define Q_CTRL (1u << GPU_QUEUE_CTRL)
#define Q_CURSOR (1u << GPU_QUEUE_CURSOR)
#define NO_FEATURE (-1)

#define CMD(type_, handler_, struct_, queues_, feature_)                                           \
	[(type_) & 0xff] = { .name = #type_, .size = sizeof(struct struct_), .queues = (queues_),  \
		.feature = (feature_), .handle = (handler_) }

/* 0x01xx: 2D and resource commands */
static const struct gpu_cmd_desc cmds_2d[] = {
	CMD(VIRTIO_GPU_CMD_GET_DISPLAY_INFO, gpu_cmd_get_display_info, virtio_gpu_ctrl_hdr, Q_CTRL,
		NO_FEATURE),
	CMD(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, gpu_cmd_resource_create_2d,
		virtio_gpu_resource_create_2d, Q_CTRL, NO_FEATURE),
	CMD(VIRTIO_GPU_CMD_RESOURCE_UNREF, gpu_cmd_resource_unref, virtio_gpu_resource_unref,
		Q_CTRL, NO_FEATURE),
	CMD(VIRTIO_GPU_CMD_SET_SCANOUT, gpu_cmd_set_scanout, virtio_gpu_set_scanout, Q_CTRL,
		NO_FEATURE),
	CMD(VIRTIO_GPU_CMD_RESOURCE_FLUSH, gpu_cmd_resource_flush, virtio_gpu_resource_flush,
		Q_CTRL, NO_FEATURE),
	CMD(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, gpu_cmd_transfer_to_host_2d,
		virtio_gpu_transfer_to_host_2d, Q_CTRL, NO_FEATURE),
	CMD(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, gpu_cmd_attach_backing,
		virtio_gpu_resource_attach_backing, Q_CTRL, NO_FEATURE),
	CMD(VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, gpu_cmd_detach_backing,
		virtio_gpu_resource_detach_backing, Q_CTRL, NO_FEATURE),
	CMD(VIRTIO_GPU_CMD_GET_CAPSET_INFO, gpu_cmd_get_capset_info, virtio_gpu_get_capset_info,
		Q_CTRL, VIRTIO_GPU_F_VIRGL),
	CMD(VIRTIO_GPU_CMD_GET_CAPSET, gpu_cmd_get_capset, virtio_gpu_get_capset, Q_CTRL,
		VIRTIO_GPU_F_VIRGL),
	CMD(VIRTIO_GPU_CMD_GET_EDID, gpu_cmd_get_edid, virtio_gpu_cmd_get_edid, Q_CTRL,
		VIRTIO_GPU_F_EDID),
	CMD(VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID, gpu_cmd_assign_uuid,
		virtio_gpu_resource_assign_uuid, Q_CTRL, VIRTIO_GPU_F_RESOURCE_UUID),
	CMD(VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, gpu_cmd_resource_create_blob,
		virtio_gpu_resource_create_blob, Q_CTRL, VIRTIO_GPU_F_RESOURCE_BLOB),
	CMD(VIRTIO_GPU_CMD_SET_SCANOUT_BLOB, gpu_cmd_set_scanout_blob, virtio_gpu_set_scanout_blob,
		Q_CTRL, VIRTIO_GPU_F_RESOURCE_BLOB),
};

/* 0x02xx: 3D commands */
static const struct gpu_cmd_desc cmds_3d[] = {
	CMD(VIRTIO_GPU_CMD_CTX_CREATE, gpu_cmd_ctx_create, virtio_gpu_ctx_create, Q_CTRL,
		VIRTIO_GPU_F_VIRGL),
	CMD(VIRTIO_GPU_CMD_CTX_DESTROY, gpu_cmd_ctx_destroy, virtio_gpu_ctx_destroy, Q_CTRL,
		VIRTIO_GPU_F_VIRGL),
	CMD(VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, gpu_cmd_ctx_attach_resource,
		virtio_gpu_ctx_resource, Q_CTRL, VIRTIO_GPU_F_VIRGL),
	CMD(VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, gpu_cmd_ctx_detach_resource,
		virtio_gpu_ctx_resource, Q_CTRL, VIRTIO_GPU_F_VIRGL),
	CMD(VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, gpu_cmd_resource_create_3d,
		virtio_gpu_resource_create_3d, Q_CTRL, VIRTIO_GPU_F_VIRGL),
	CMD(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, gpu_cmd_transfer_to_host_3d,
		virtio_gpu_transfer_host_3d, Q_CTRL, VIRTIO_GPU_F_VIRGL),
	CMD(VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, gpu_cmd_transfer_from_host_3d,
		virtio_gpu_transfer_host_3d, Q_CTRL, VIRTIO_GPU_F_VIRGL),
	CMD(VIRTIO_GPU_CMD_SUBMIT_3D, gpu_cmd_submit_3d, virtio_gpu_cmd_submit, Q_CTRL,
		VIRTIO_GPU_F_VIRGL),
};

/* 0x03xx: cursor queue */
static const struct gpu_cmd_desc cmds_cursor[] = {
	CMD(VIRTIO_GPU_CMD_UPDATE_CURSOR, gpu_cmd_update_cursor, virtio_gpu_update_cursor,
		Q_CURSOR, NO_FEATURE),
	CMD(VIRTIO_GPU_CMD_MOVE_CURSOR, gpu_cmd_move_cursor, virtio_gpu_update_cursor, Q_CURSOR,
		NO_FEATURE),
};

const struct gpu_cmd_desc *gpu_cmd_lookup(uint32_t type)
{
	const struct gpu_cmd_desc *table;
	size_t n, idx = type & 0xff;

	switch (type & ~0xffu) {
	case 0x100:
		table = cmds_2d;
		n = ARRAY_SIZE(cmds_2d);
		break;
	case 0x200:
		table = cmds_3d;
		n = ARRAY_SIZE(cmds_3d);
		break;
	case 0x300:
		table = cmds_cursor;
		n = ARRAY_SIZE(cmds_cursor);
		break;
	default:
		return NULL;
	}
	if (idx >= n || !table[idx].handle) {
		return NULL;
	}
	return &table[idx];
}

static void hdr_from_le(struct virtio_gpu_ctrl_hdr *h)
{
	h->type = le32toh(h->type);
	h->flags = le32toh(h->flags);
	h->fence_id = le64toh(h->fence_id);
	h->ctx_id = le32toh(h->ctx_id);
}

gpu_resp_t gpu_decode(const struct vu_mem *mem, struct gpu_cmd *cmd, uint64_t acked_features,
	const struct gpu_cmd_desc **ret_desc)
{
	const struct vu_elem *elem = cmd->elem;
	const struct gpu_cmd_desc *desc;

	memset(&cmd->hdr, 0, sizeof(cmd->hdr));
	if (elem->out_len < sizeof(struct virtio_gpu_ctrl_hdr) ||
		vu_elem_read(mem, elem, 0, &cmd->req.hdr, sizeof(cmd->req.hdr)) < 0) {
		log_guest("command shorter than its header (%llu bytes)",
			(unsigned long long)elem->out_len);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	cmd->hdr = cmd->req.hdr;
	hdr_from_le(&cmd->hdr);

	desc = gpu_cmd_lookup(cmd->hdr.type);
	if (!desc) {
		log_guest("unknown command 0x%x", cmd->hdr.type);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	if (!(desc->queues & (1u << cmd->qidx))) {
		log_guest("%s on the wrong queue (%u)", desc->name, cmd->qidx);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	if (desc->feature != NO_FEATURE && !(acked_features & (UINT64_C(1) << desc->feature))) {
		log_guest("%s without its feature bit %d", desc->name, desc->feature);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	if (elem->out_len < desc->size || desc->size > sizeof(cmd->req)) {
		log_guest("%s: size %llu, needs %u", desc->name, (unsigned long long)elem->out_len,
			desc->size);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	/*
	 * the single copy of the request; handlers read only this. The header is
	 * in it already: read only the rest, or the guest could change the
	 * header between the check above and the copy.
	 */
	if (vu_elem_read(mem, elem, sizeof(cmd->req.hdr), cmd->req.bytes + sizeof(cmd->req.hdr),
		    desc->size - sizeof(cmd->req.hdr)) < 0) {
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	*ret_desc = desc;
	return 0;
}

void gpu_dispatch(struct gpu_device *dev, struct gpu_cmd *cmd)
{
	const struct gpu_cmd_desc *desc = NULL;
	struct gpu_resp_body body = { .len = 0 };
	gpu_resp_t resp;

	resp = gpu_decode(vu_dev_mem(dev->vu), cmd, vu_dev_acked_features(dev->vu), &desc);
	if (resp == 0) {
		log_trace("command %s", desc->name);
		resp = desc->handle(dev, cmd, &body);
		if (resp == GPU_RESP_DEFERRED) {
			return; /* the handler owns cmd now */
		}
		/*
		 * A fenced command answers once the renderer has done the work.
		 * Bodies only come with queries, which are never left waiting.
		 */
		if ((cmd->hdr.flags & VIRTIO_GPU_FLAG_FENCE) && resp < VIRTIO_GPU_RESP_ERR_UNSPEC &&
			body.len == 0 && rnd_has_fences(dev->renderer) &&
			gpu_fence_hold(dev, cmd, resp)) {
			return;
		}
	}
	gpu_cmd_finish(dev, cmd, resp, &body);
}
