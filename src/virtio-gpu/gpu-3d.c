/* SPDX-License-Identifier: MIT */
/*
 * The 3D commands (VIRTIO_GPU_F_VIRGL): capsets, contexts, 3D resources,
 * 3D transfers and SUBMIT_3D. Ids are checked here, so the renderer only
 * sees contexts and resources that exist; virglrenderer checks the gallium
 * parameters itself.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "checked.h"
#include "gpu-priv.h"
#include "log.h"

struct gpu_context {
	uint32_t id;
	uint32_t capset_id;
};

static struct gpu_context *context_lookup(struct gpu_device *dev, uint32_t id)
{
	return id == 0 ? NULL : id_table_lookup(&dev->contexts, id);
}

void gpu_contexts_destroy_all(struct gpu_device *dev)
{
	size_t iter = 0;
	uint32_t id;
	void *value;

	while (id_table_next(&dev->contexts, &iter, &id, &value)) {
		rnd_ctx_destroy(dev->renderer, id);
		free(value);
	}
	id_table_finish(&dev->contexts);
}

gpu_resp_t gpu_cmd_get_capset_info(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body)
{
	uint32_t index = le32toh(cmd->req.get_capset_info.capset_index);
	uint32_t id, max_version, max_size;

	if (rnd_capset_info(dev->renderer, index, &id, &max_version, &max_size) < 0) {
		log_guest("GET_CAPSET_INFO: index %u of %u", index, rnd_num_capsets(dev->renderer));
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	/* every byte of the answer is ours: no stack contents leak (CVE-2021-3545) */
	memset(&body->u.capset_info, 0, sizeof(body->u.capset_info));
	body->u.capset_info.capset_id = htole32(id);
	body->u.capset_info.capset_max_version = htole32(max_version);
	body->u.capset_info.capset_max_size = htole32(max_size);
	body->len = sizeof(body->u.capset_info);
	return VIRTIO_GPU_RESP_OK_CAPSET_INFO;
}

gpu_resp_t gpu_cmd_get_capset(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body)
{
	uint32_t id = le32toh(cmd->req.get_capset.capset_id);
	uint32_t version = le32toh(cmd->req.get_capset.capset_version);
	uint32_t max_size = 0;

	for (unsigned int i = 0; i < rnd_num_capsets(dev->renderer); i++) {
		uint32_t cid, cver, csize;

		if (rnd_capset_info(dev->renderer, i, &cid, &cver, &csize) == 0 && cid == id &&
			version <= cver) {
			max_size = csize;
		}
	}
	if (max_size == 0 || max_size > GPU_MAX_CAPSET_SIZE) {
		log_guest("GET_CAPSET: capset %u version %u not offered", id, version);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	/*
	 * The response is header + max_size bytes; gpu_cmd_finish() writes at
	 * most what the guest's buffer holds (CVE-2021-3546 wrote past it).
	 */
	body->heap = calloc(1, sizeof(struct virtio_gpu_resp_capset) + max_size);
	if (!body->heap) {
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	if (rnd_fill_capset(dev->renderer, id, version,
		    body->heap + sizeof(struct virtio_gpu_resp_capset), max_size) < 0) {
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	body->len = sizeof(struct virtio_gpu_resp_capset) + max_size;
	return VIRTIO_GPU_RESP_OK_CAPSET;
}

gpu_resp_t gpu_cmd_ctx_create(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body)
{
	const struct virtio_gpu_ctx_create *c = &cmd->req.ctx_create;
	uint32_t id = cmd->hdr.ctx_id, nlen = le32toh(c->nlen);
	uint32_t capset_id = 0;
	struct gpu_context *ctx;
	int r;

	if (id == 0 || context_lookup(dev, id)) {
		log_guest("CTX_CREATE: context id %u is %s", id, id ? "in use" : "invalid");
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	}
	if (id_table_count(&dev->contexts) >= GPU_MAX_CONTEXTS) {
		log_guest("CTX_CREATE: %u contexts already", GPU_MAX_CONTEXTS);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	if (vu_dev_acked_features(dev->vu) & (UINT64_C(1) << VIRTIO_GPU_F_CONTEXT_INIT)) {
		capset_id = le32toh(c->context_init) & VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK;
	}
	if (capset_id) {
		bool offered = false;

		for (unsigned int i = 0; i < rnd_num_capsets(dev->renderer); i++) {
			uint32_t cid, cver, csize;

			offered |= rnd_capset_info(dev->renderer, i, &cid, &cver, &csize) == 0 &&
				cid == capset_id;
		}
		if (!offered) {
			log_guest("CTX_CREATE: capset %u not offered", capset_id);
			return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
		}
	}
	/* the name is guest bytes: never trust its length beyond the array */
	if (nlen > sizeof(c->debug_name)) {
		nlen = sizeof(c->debug_name);
	}
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	ctx->id = id;
	ctx->capset_id = capset_id;
	r = rnd_ctx_create(dev->renderer, id, capset_id, c->debug_name, nlen);
	if (r < 0 || id_table_insert(&dev->contexts, id, ctx) < 0) {
		if (r == 0) {
			rnd_ctx_destroy(dev->renderer, id);
		}
		free(ctx);
		return r == -ENOMEM ? VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY
				    : VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

gpu_resp_t gpu_cmd_ctx_destroy(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body)
{
	uint32_t id = cmd->hdr.ctx_id;
	struct gpu_context *ctx = context_lookup(dev, id);

	if (!ctx) {
		log_guest("CTX_DESTROY: no context %u", id);
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	}
	id_table_remove(&dev->contexts, id);
	rnd_ctx_destroy(dev->renderer, id);
	/* its rings' fences went with it: answer what still waits on them */
	gpu_fences_context_gone(dev, id);
	free(ctx);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* The checks CTX_ATTACH_RESOURCE and CTX_DETACH_RESOURCE share. */
static gpu_resp_t ctx_resource_check(struct gpu_device *dev, struct gpu_cmd *cmd,
	const char *what, uint32_t *ret_res)
{
	uint32_t id = le32toh(cmd->req.ctx_resource.resource_id);

	if (!context_lookup(dev, cmd->hdr.ctx_id)) {
		log_guest("%s: no context %u", what, cmd->hdr.ctx_id);
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	}
	if (!gpu_resource_lookup(dev, id)) {
		log_guest("%s: no resource %u", what, id);
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	*ret_res = id;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

gpu_resp_t gpu_cmd_ctx_attach_resource(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body)
{
	uint32_t res = 0;
	gpu_resp_t r = ctx_resource_check(dev, cmd, "CTX_ATTACH_RESOURCE", &res);

	if (r == VIRTIO_GPU_RESP_OK_NODATA) {
		rnd_ctx_attach_resource(dev->renderer, cmd->hdr.ctx_id, res);
	}
	return r;
}

gpu_resp_t gpu_cmd_ctx_detach_resource(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body)
{
	uint32_t res = 0;
	gpu_resp_t r = ctx_resource_check(dev, cmd, "CTX_DETACH_RESOURCE", &res);

	if (r == VIRTIO_GPU_RESP_OK_NODATA) {
		rnd_ctx_detach_resource(dev->renderer, cmd->hdr.ctx_id, res);
	}
	return r;
}

gpu_resp_t gpu_cmd_resource_create_3d(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body)
{
	const struct virtio_gpu_resource_create_3d *c = &cmd->req.create_3d;
	struct rnd_create_3d args = {
		.resource_id = le32toh(c->resource_id),
		.target = le32toh(c->target),
		.format = le32toh(c->format),
		.bind = le32toh(c->bind),
		.width = le32toh(c->width),
		.height = le32toh(c->height),
		.depth = le32toh(c->depth),
		.array_size = le32toh(c->array_size),
		.last_level = le32toh(c->last_level),
		.nr_samples = le32toh(c->nr_samples),
		.flags = le32toh(c->flags),
	};
	uint64_t bytes;

	/*
	 * What the host may spend on it, estimated at 4 bytes a texel (more for
	 * mip levels: x 2 bounds the whole chain); checked, never wrapping.
	 */
	if (!checked_mul_u64(args.width ? args.width : 1, args.height ? args.height : 1, &bytes) ||
		!checked_mul_u64(bytes, args.depth ? args.depth : 1, &bytes) ||
		!checked_mul_u64(bytes, args.array_size ? args.array_size : 1, &bytes) ||
		!checked_mul_u64(bytes, args.last_level ? 8 : 4, &bytes)) {
		log_guest("RESOURCE_CREATE_3D: size overflows");
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	return gpu_resource_create(dev, args.resource_id, args.format, args.width, args.height,
		bytes, &args);
}

static gpu_resp_t transfer_3d(struct gpu_device *dev, struct gpu_cmd *cmd, bool to_host)
{
	const struct virtio_gpu_transfer_host_3d *t = &cmd->req.transfer_3d;
	struct rnd_transfer_3d args = {
		.to_host = to_host,
		.ctx_id = cmd->hdr.ctx_id,
		.resource_id = le32toh(t->resource_id),
		.x = le32toh(t->box.x),
		.y = le32toh(t->box.y),
		.z = le32toh(t->box.z),
		.w = le32toh(t->box.w),
		.h = le32toh(t->box.h),
		.d = le32toh(t->box.d),
		.level = le32toh(t->level),
		.stride = le32toh(t->stride),
		.layer_stride = le32toh(t->layer_stride),
		.offset = le64toh(t->offset),
	};
	struct gpu_resource *res = gpu_resource_lookup(dev, args.resource_id);
	const char *what = to_host ? "TRANSFER_TO_HOST_3D" : "TRANSFER_FROM_HOST_3D";

	if (!res) {
		log_guest("%s: no resource %u", what, args.resource_id);
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	if (args.ctx_id != 0 && !context_lookup(dev, args.ctx_id)) {
		log_guest("%s: no context %u", what, args.ctx_id);
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	}
	if (!res->backing) {
		log_guest("%s: resource %u has no backing", what, args.resource_id);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	if (rnd_transfer_3d(dev->renderer, &args) < 0) {
		log_guest("%s: refused by the renderer (resource %u)", what, args.resource_id);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

gpu_resp_t gpu_cmd_transfer_to_host_3d(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body)
{
	return transfer_3d(dev, cmd, true);
}

gpu_resp_t gpu_cmd_transfer_from_host_3d(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body)
{
	return transfer_3d(dev, cmd, false);
}

gpu_resp_t gpu_cmd_submit_3d(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body)
{
	uint32_t size = le32toh(cmd->req.submit.size);
	const size_t head = sizeof(cmd->req.submit);
	uint64_t *buf;
	int r;

	if (!context_lookup(dev, cmd->hdr.ctx_id)) {
		log_guest("SUBMIT_3D: no context %u", cmd->hdr.ctx_id);
		return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
	}
	if (size % 4 != 0 || size > GPU_MAX_SUBMIT_SIZE || cmd->elem->out_len < head + size) {
		log_guest("SUBMIT_3D: size %u (sent %llu bytes, limit %u)", size,
			(unsigned long long)(cmd->elem->out_len - head), GPU_MAX_SUBMIT_SIZE);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	if (size == 0) {
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	/* our own 8-byte aligned copy: the guest cannot change it under the decoder */
	buf = malloc(size);
	if (!buf) {
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	if (vu_elem_read(vu_dev_mem(dev->vu), cmd->elem, head, buf, size) < 0) {
		free(buf);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	r = rnd_submit_3d(dev->renderer, cmd->hdr.ctx_id, buf, size);
	free(buf);
	if (r < 0) {
		log_guest("SUBMIT_3D: context %u: command stream refused", cmd->hdr.ctx_id);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}
