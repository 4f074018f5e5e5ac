/* SPDX-License-Identifier: MIT */
/*
 * Resources: creation with the host-memory budget, backing (kept as guest
 * addresses, translated at each use), UUIDs, destruction.
 */
#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "checked.h"
#include "gpu-format.h"
#include "gpu-priv.h"
#include "log.h"

struct gpu_resource *gpu_resource_lookup(struct gpu_device *dev, uint32_t id)
{
	return id == 0 ? NULL : id_table_lookup(&dev->resources, id);
}

static void backing_clear(struct gpu_device *dev, struct gpu_resource *res)
{
	uint64_t bytes = (uint64_t)res->backing_n * sizeof(*res->backing);

	if (res->backing) {
		rnd_detach_backing(dev->renderer, res->id);
	}
	dev->host_bytes -= bytes;
	res->host_bytes -= bytes;
	free(res->backing);
	res->backing = NULL;
	res->backing_n = 0;
	res->backing_size = 0;
}

static void resource_destroy(struct gpu_device *dev, struct gpu_resource *res)
{
	backing_clear(dev, res);
	rnd_resource_destroy(dev->renderer, res->id);
	dev->host_bytes -= res->host_bytes;
	free(res);
}

void gpu_resources_destroy_all(struct gpu_device *dev)
{
	size_t iter = 0;
	uint32_t id;
	void *value;

	while (id_table_next(&dev->resources, &iter, &id, &value)) {
		resource_destroy(dev, value);
	}
	id_table_finish(&dev->resources);
	dev->host_bytes = 0;
}

int gpu_resource_attach_renderer(struct gpu_device *dev, struct gpu_resource *res)
{
	struct rnd_backing backing;

	gpu_resource_backing(dev, res, &backing);
	return rnd_attach_backing(dev->renderer, res->id, &backing);
}

void gpu_resources_remap(struct gpu_device *dev)
{
	size_t iter = 0;
	uint32_t id;
	void *value;

	/* renderers that keep host pointers to the backing must take them again */
	while (id_table_next(&dev->resources, &iter, &id, &value)) {
		struct gpu_resource *res = value;

		if (res->backing && gpu_resource_attach_renderer(dev, res) < 0) {
			log_guest("resource %u: backing no longer in guest memory", id);
			rnd_detach_backing(dev->renderer, id);
		}
	}
}

void gpu_resource_backing(struct gpu_device *dev, const struct gpu_resource *res,
	struct rnd_backing *ret)
{
	ret->mem = vu_dev_mem(dev->vu);
	ret->entries = res->backing;
	ret->n = res->backing_n;
	ret->size = res->backing_size;
}

/* A new resource may take this id: not 0, not in use. */
static gpu_resp_t resource_id_free(struct gpu_device *dev, uint32_t id)
{
	if (id == 0 || gpu_resource_lookup(dev, id)) {
		log_guest("resource id %u is %s", id, id ? "in use" : "invalid");
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* One more resource of host_bytes fits the limits; *ret_total is the new host total. */
static gpu_resp_t resource_fits(struct gpu_device *dev, uint32_t id, uint64_t host_bytes,
	uint64_t *ret_total)
{
	if (id_table_count(&dev->resources) >= GPU_MAX_RESOURCES ||
		!checked_add_u64(dev->host_bytes, host_bytes, ret_total) ||
		*ret_total > GPU_MAX_HOST_MEMORY) {
		log_guest("resource %u: over the resource limits (%zu resources, %llu bytes)", id,
			id_table_count(&dev->resources), (unsigned long long)dev->host_bytes);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

gpu_resp_t gpu_resource_create_blob(struct gpu_device *dev, uint32_t id, uint64_t blob_size,
	struct gpu_resource **ret_res)
{
	struct gpu_resource *res;
	gpu_resp_t err;
	uint64_t total;

	err = resource_id_free(dev, id);
	if (err == VIRTIO_GPU_RESP_OK_NODATA) {
		err = resource_fits(dev, id, 0, &total);
	}
	if (err != VIRTIO_GPU_RESP_OK_NODATA) {
		return err;
	}
	res = calloc(1, sizeof(*res));
	if (!res) {
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	res->id = id;
	res->blob = true;
	res->blob_size = blob_size;
	if (id_table_insert(&dev->resources, id, res) < 0) {
		free(res);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	*ret_res = res;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

gpu_resp_t gpu_resource_create(struct gpu_device *dev, uint32_t id, uint32_t format,
	uint32_t width, uint32_t height, uint64_t host_bytes, const struct rnd_create_3d *args_3d)
{
	struct gpu_resource *res;
	gpu_resp_t err;
	uint64_t total;
	uint32_t stride = 0;
	int r;

	err = resource_id_free(dev, id);
	if (err != VIRTIO_GPU_RESP_OK_NODATA) {
		return err;
	}
	if (!args_3d) {
		/* 2D: the one size function gives stride and bytes (STYLE.md section 4.1) */
		if (!gpu_format_valid(format)) {
			log_guest("RESOURCE_CREATE_2D: unknown format %u", format);
			return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
		}
		if (!gpu_format_size(format, width, height, &stride, &host_bytes)) {
			log_guest("RESOURCE_CREATE_2D: bad size %ux%u", width, height);
			return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
		}
	}
	err = resource_fits(dev, id, host_bytes, &total);
	if (err != VIRTIO_GPU_RESP_OK_NODATA) {
		return err;
	}
	res = calloc(1, sizeof(*res));
	if (!res) {
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	*res = (struct gpu_resource){
		.id = id,
		.format = format,
		.width = width,
		.height = height,
		.stride = stride,
		.host_bytes = host_bytes,
	};
	if (args_3d) {
		r = rnd_resource_create_3d(dev->renderer, args_3d);
	} else {
		struct rnd_create_2d args = { id, format, width, height, stride };

		r = rnd_resource_create_2d(dev->renderer, &args);
	}
	if (r < 0) {
		free(res);
		log_guest("resource %u: refused by the renderer", id);
		return r == -ENOMEM ? VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY
				    : VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	if (id_table_insert(&dev->resources, id, res) < 0) {
		rnd_resource_destroy(dev->renderer, id);
		free(res);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	dev->host_bytes = total;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

gpu_resp_t gpu_cmd_resource_create_2d(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body)
{
	const struct virtio_gpu_resource_create_2d *c = &cmd->req.create_2d;

	return gpu_resource_create(dev, le32toh(c->resource_id), le32toh(c->format),
		le32toh(c->width), le32toh(c->height), 0, NULL);
}

gpu_resp_t gpu_cmd_resource_unref(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body)
{
	uint32_t id = le32toh(cmd->req.unref.resource_id);
	struct gpu_resource *res = gpu_resource_lookup(dev, id);

	if (!res) {
		log_guest("RESOURCE_UNREF: no resource %u", id);
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	gpu_resource_remove(dev, res);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

void gpu_resource_remove(struct gpu_device *dev, struct gpu_resource *res)
{
	/* like QEMU: a resource on screen is taken off screen first */
	gpu_scanouts_detach(dev, res);
	id_table_remove(&dev->resources, res->id);
	resource_destroy(dev, res);
}

gpu_resp_t gpu_backing_check(const struct gpu_cmd *cmd, const char *what, size_t head_bytes,
	uint32_t n)
{
	if (n == 0 || n > GPU_MAX_BACKING_ENTRIES) {
		log_guest("%s: %u entries (limit %u)", what, n, GPU_MAX_BACKING_ENTRIES);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	if (cmd->elem->out_len < head_bytes + (uint64_t)n * sizeof(struct virtio_gpu_mem_entry)) {
		log_guest("%s: %u entries announced, fewer sent", what, n);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

gpu_resp_t gpu_backing_read(struct gpu_device *dev, const struct gpu_cmd *cmd, size_t head_bytes,
	uint32_t n, struct gpu_backing *ret)
{
	const struct vu_mem *mem = vu_dev_mem(dev->vu);
	struct virtio_gpu_mem_entry *wire;
	struct rnd_backing_entry *entries;
	uint64_t table_bytes, total, offset = 0;
	unsigned int kept = 0;

	/* the caller ran gpu_backing_check(): n is within the limit and all sent */
	assert(n > 0 && n <= GPU_MAX_BACKING_ENTRIES);
	table_bytes = (uint64_t)n * sizeof(*entries);
	if (!checked_add_u64(dev->host_bytes, table_bytes, &total) || total > GPU_MAX_HOST_MEMORY) {
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	wire = malloc((size_t)n * sizeof(*wire));
	entries = malloc((size_t)table_bytes);
	if (!wire || !entries) {
		free(wire);
		free(entries);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	/* one copy of the entries, then every one is checked against guest memory */
	if (vu_elem_read(mem, cmd->elem, head_bytes, wire, (size_t)n * sizeof(*wire)) < 0) {
		goto err_unspec;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint64_t gpa = le64toh(wire[i].addr);
		uint32_t len = le32toh(wire[i].length);

		if (!vu_mem_gpa_mapped(mem, gpa, len)) {
			log_guest("backing entry %u (0x%llx+%u) outside guest memory", i,
				(unsigned long long)gpa, len);
			goto err_unspec;
		}
		if (len == 0) {
			continue;
		}
		entries[kept++] = (struct rnd_backing_entry){ gpa, len, offset };
		offset += len; /* at most 16384 * 4 GiB: cannot wrap */
	}
	free(wire);
	*ret = (struct gpu_backing){ entries, kept, offset };
	return VIRTIO_GPU_RESP_OK_NODATA;

err_unspec:
	free(wire);
	free(entries);
	return VIRTIO_GPU_RESP_ERR_UNSPEC;
}

int gpu_backing_set(struct gpu_device *dev, struct gpu_resource *res, struct gpu_backing *b)
{
	uint64_t bytes = (uint64_t)b->n * sizeof(*b->entries);

	res->backing = b->entries;
	res->backing_n = b->n;
	res->backing_size = b->size;
	b->entries = NULL;
	dev->host_bytes += bytes;
	res->host_bytes += bytes;
	if (gpu_resource_attach_renderer(dev, res) < 0) {
		backing_clear(dev, res);
		return -EIO;
	}
	return 0;
}

gpu_resp_t gpu_cmd_attach_backing(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body)
{
	const struct virtio_gpu_resource_attach_backing *a = &cmd->req.attach_backing;
	uint32_t id = le32toh(a->resource_id), n = le32toh(a->nr_entries);
	struct gpu_resource *res;
	struct gpu_backing b;
	gpu_resp_t err;

	err = gpu_backing_check(cmd, "ATTACH_BACKING", sizeof(*a), n);
	if (err != VIRTIO_GPU_RESP_OK_NODATA) {
		return err;
	}
	res = gpu_resource_lookup(dev, id);
	if (!res) {
		log_guest("ATTACH_BACKING: no resource %u", id);
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	if (res->backing) {
		log_guest("ATTACH_BACKING: resource %u already has backing", id);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	err = gpu_backing_read(dev, cmd, sizeof(*a), n, &b);
	if (err != VIRTIO_GPU_RESP_OK_NODATA) {
		return err;
	}
	return gpu_backing_set(dev, res, &b) < 0 ? VIRTIO_GPU_RESP_ERR_UNSPEC
						    : VIRTIO_GPU_RESP_OK_NODATA;
}

gpu_resp_t gpu_cmd_detach_backing(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body)
{
	uint32_t id = le32toh(cmd->req.detach_backing.resource_id);
	struct gpu_resource *res = gpu_resource_lookup(dev, id);

	if (!res) {
		log_guest("DETACH_BACKING: no resource %u", id);
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	if (!res->backing) {
		log_guest("DETACH_BACKING: resource %u has no backing", id);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	backing_clear(dev, res);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

gpu_resp_t gpu_cmd_assign_uuid(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body)
{
	uint32_t id = le32toh(cmd->req.assign_uuid.resource_id);
	struct gpu_resource *res = gpu_resource_lookup(dev, id);

	if (!res) {
		log_guest("ASSIGN_UUID: no resource %u", id);
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	if (!res->has_uuid) {
		/* a random (version 4) UUID, stable for the resource's life */
		if (getrandom(res->uuid, sizeof(res->uuid), 0) != (ssize_t)sizeof(res->uuid)) {
			return VIRTIO_GPU_RESP_ERR_UNSPEC;
		}
		res->uuid[6] = (uint8_t)((res->uuid[6] & 0x0f) | 0x40);
		res->uuid[8] = (uint8_t)((res->uuid[8] & 0x3f) | 0x80);
		res->has_uuid = true;
	}
	memset(&body->u.uuid, 0, sizeof(body->u.uuid));
	memcpy(body->u.uuid.uuid, res->uuid, sizeof(res->uuid));
	body->len = sizeof(body->u.uuid);
	return VIRTIO_GPU_RESP_OK_RESOURCE_UUID;
}
