/* SPDX-License-Identifier: MIT */
/* Minimal virtio-gpu driver: commands in guest RAM over the two queues. */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gpu-driver.h"

/* Most descriptors one command may be split into. */
#define CMD_MAX_DESCS 256u

struct vdgfe_gpu *vdgfe_gpu(struct vdgfe *fe)
{
	if (!fe->gpu) {
		fe->gpu = calloc(1, sizeof(*fe->gpu));
	}
	return fe->gpu;
}

void vdgfe_gpu_destroy(struct vdgfe *fe)
{
	if (!fe->gpu) {
		return;
	}
	while (fe->gpu->pending) {
		vdgfe_cmd_free(fe, fe->gpu->pending);
	}
	free(fe->gpu);
	fe->gpu = NULL;
}

static unsigned int split(struct vdgfe_buf *bufs, unsigned int max, uint64_t gpa, uint32_t len,
	uint32_t chunk)
{
	unsigned int n = 0;
	uint32_t off = 0;

	if (len == 0) {
		return 0;
	}
	if (chunk == 0) {
		chunk = len;
	}
	while (off < len && n < max) {
		uint32_t l = len - off < chunk ? len - off : chunk;

		/* The last piece takes the rest if we ran out of slots. */
		if (n + 1 == max) {
			l = len - off;
		}
		bufs[n].gpa = gpa + off;
		bufs[n].len = l;
		off += l;
		n++;
	}
	return n;
}

int vdgfe_gpu_submit(struct vdgfe *fe, unsigned int q, const void *req, size_t req_len,
	size_t resp_cap, const struct vdgfe_submit_opts *opts, struct vdgfe_cmd **ret_cmd)
{
	struct vdgfe_gpu *gpu = vdgfe_gpu(fe);
	struct vdgfe_buf out[CMD_MAX_DESCS], in[CMD_MAX_DESCS];
	unsigned int nout, nin;
	struct vdgfe_cmd *cmd;
	int r;

	if (!gpu) {
		return -ENOMEM;
	}
	if (q >= VDGFE_NUM_QUEUES || req_len == 0 || req_len > UINT32_MAX ||
		resp_cap > UINT32_MAX) {
		return -EINVAL;
	}
	if (!opts) {
		opts = &gpu->defaults;
	}
	cmd = calloc(1, sizeof(*cmd));
	if (!cmd) {
		return -ENOMEM;
	}
	cmd->queue = q;
	cmd->req_len = (uint32_t)req_len;
	cmd->resp_cap = (uint32_t)resp_cap;
	r = vdgfe_mem_alloc(fe, req_len, 16, 0, &cmd->req_gpa);
	if (r < 0) {
		free(cmd);
		return r;
	}
	if (resp_cap) {
		r = vdgfe_mem_alloc(fe, resp_cap, 16, 0, &cmd->resp_gpa);
		if (r < 0) {
			vdgfe_mem_free(fe, cmd->req_gpa, req_len);
			free(cmd);
			return r;
		}
		vdgfe_mem_fill(fe, cmd->resp_gpa, 0, resp_cap);
	}
	vdgfe_mem_write(fe, cmd->req_gpa, req, req_len);
	/* A direct chain must fit the ring: each side gets at most half of it. */
	unsigned int maxd = opts->indirect ? CMD_MAX_DESCS : fe->vqs[q].num / 2;

	if (maxd > CMD_MAX_DESCS) {
		maxd = CMD_MAX_DESCS;
	}
	if (maxd == 0) {
		maxd = 1;
	}
	nout = split(out, maxd, cmd->req_gpa, cmd->req_len, opts->req_split);
	nin = split(in, maxd, cmd->resp_gpa, cmd->resp_cap, opts->resp_split);
	r = vdgfe_vq_add(fe, &fe->vqs[q], out, nout, in, nin,
		opts->indirect ? VDGFE_ADD_INDIRECT : 0, cmd);
	if (r < 0) {
		vdgfe_mem_free(fe, cmd->req_gpa, cmd->req_len);
		vdgfe_mem_free(fe, cmd->resp_gpa, cmd->resp_cap);
		free(cmd);
		return r;
	}
	cmd->head = r;
	cmd->submit_seq = ++gpu->submitted;
	cmd->next_pending = gpu->pending;
	gpu->pending = cmd;
	if (!opts->no_kick) {
		r = vdgfe_vq_kick(&fe->vqs[q], false);
		if (r < 0) {
			*ret_cmd = cmd;
			return r;
		}
	}
	*ret_cmd = cmd;
	return 0;
}

int vdgfe_gpu_kick(struct vdgfe *fe, unsigned int q)
{
	if (q >= VDGFE_NUM_QUEUES) {
		return -EINVAL;
	}
	return vdgfe_vq_kick(&fe->vqs[q], false);
}

static void unlink_pending(struct vdgfe_gpu *gpu, struct vdgfe_cmd *cmd)
{
	for (struct vdgfe_cmd **p = &gpu->pending; *p; p = &(*p)->next_pending) {
		if (*p == cmd) {
			*p = cmd->next_pending;
			cmd->next_pending = NULL;
			return;
		}
	}
}

int vdgfe_gpu_poll(struct vdgfe *fe)
{
	struct vdgfe_gpu *gpu = vdgfe_gpu(fe);
	int n = 0;

	if (!gpu) {
		return -ENOMEM;
	}
	for (unsigned int q = 0; q < VDGFE_NUM_QUEUES; q++) {
		for (;;) {
			uint32_t head, len;
			void *token;
			int r = vdgfe_vq_get_used(fe, &fe->vqs[q], &head, &len, &token);

			if (r < 0) {
				return r;
			}
			if (r == 0) {
				break;
			}
			struct vdgfe_cmd *cmd = token;

			if (!cmd) {
				continue;
			}
			cmd->done = true;
			cmd->used_len = len;
			cmd->done_seq = ++gpu->completed;
			unlink_pending(gpu, cmd);
			n++;
		}
	}
	return n;
}

static int cmd_done(struct vdgfe *fe, void *arg)
{
	struct vdgfe_cmd *cmd = arg;
	int r = vdgfe_gpu_poll(fe);

	if (r < 0) {
		return r;
	}
	return cmd->done ? 1 : 0;
}

int vdgfe_gpu_wait(struct vdgfe *fe, struct vdgfe_cmd *cmd, int timeout_ms)
{
	return vdgfe_wait(fe, cmd_done, cmd, timeout_ms);
}

static int all_done(struct vdgfe *fe, void *arg)
{
	int r = vdgfe_gpu_poll(fe);

	(void)arg;
	if (r < 0) {
		return r;
	}
	return fe->gpu->pending == NULL ? 1 : 0;
}

int vdgfe_gpu_wait_all(struct vdgfe *fe, int timeout_ms)
{
	if (!vdgfe_gpu(fe)) {
		return -ENOMEM;
	}
	return vdgfe_wait(fe, all_done, NULL, timeout_ms);
}

int vdgfe_cmd_resp(struct vdgfe *fe, const struct vdgfe_cmd *cmd, void *buf, size_t len)
{
	size_t n = cmd->used_len < cmd->resp_cap ? cmd->used_len : cmd->resp_cap;

	if (n > len) {
		n = len;
	}
	if (n && vdgfe_mem_read(fe, cmd->resp_gpa, buf, n) < 0) {
		return -EFAULT;
	}
	return (int)n;
}

uint32_t vdgfe_cmd_resp_type(struct vdgfe *fe, const struct vdgfe_cmd *cmd)
{
	struct virtio_gpu_ctrl_hdr hdr;

	if (vdgfe_cmd_resp(fe, cmd, &hdr, sizeof(hdr)) < (int)sizeof(hdr)) {
		return 0;
	}
	return le32toh(hdr.type);
}

void vdgfe_cmd_free(struct vdgfe *fe, struct vdgfe_cmd *cmd)
{
	if (!cmd) {
		return;
	}
	if (fe->gpu) {
		unlink_pending(fe->gpu, cmd);
	}
	vdgfe_mem_free(fe, cmd->req_gpa, cmd->req_len);
	vdgfe_mem_free(fe, cmd->resp_gpa, cmd->resp_cap);
	free(cmd);
}

int vdgfe_gpu_exec(struct vdgfe *fe, unsigned int q, const void *req, size_t req_len,
	void *resp, size_t resp_cap, uint32_t *ret_len)
{
	struct vdgfe_cmd *cmd = NULL;
	size_t cap = resp_cap < sizeof(struct virtio_gpu_ctrl_hdr) ?
		sizeof(struct virtio_gpu_ctrl_hdr) : resp_cap;
	int r = vdgfe_gpu_submit(fe, q, req, req_len, cap, NULL, &cmd);

	if (r < 0) {
		if (cmd) {
			vdgfe_cmd_free(fe, cmd);
		}
		return r;
	}
	r = vdgfe_gpu_wait(fe, cmd, -1);
	if (r < 0) {
		/* Leave its memory allocated: the device may still write it. */
		unlink_pending(fe->gpu, cmd);
		free(cmd);
		return r;
	}
	if (resp && resp_cap) {
		memset(resp, 0, resp_cap);
		vdgfe_cmd_resp(fe, cmd, resp, resp_cap);
	}
	if (ret_len) {
		*ret_len = cmd->used_len;
	}
	r = (int)vdgfe_cmd_resp_type(fe, cmd);
	vdgfe_cmd_free(fe, cmd);
	return r;
}

void vdgfe_gpu_hdr(struct vdgfe *fe, struct virtio_gpu_ctrl_hdr *hdr, uint32_t type)
{
	struct vdgfe_gpu *gpu = vdgfe_gpu(fe);

	memset(hdr, 0, sizeof(*hdr));
	hdr->type = htole32(type);
	if (gpu && gpu->fence_all) {
		hdr->flags = htole32(VIRTIO_GPU_FLAG_FENCE);
		hdr->fence_id = htole64(++gpu->next_fence);
	}
}

static int ctrl(struct vdgfe *fe, const void *req, size_t len)
{
	return vdgfe_gpu_exec(fe, VDGFE_CTRLQ, req, len, NULL, 0, NULL);
}

int vdgfe_gpu_get_display_info(struct vdgfe *fe, struct virtio_gpu_resp_display_info *ret)
{
	struct virtio_gpu_ctrl_hdr req;

	vdgfe_gpu_hdr(fe, &req, VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
	return vdgfe_gpu_exec(fe, VDGFE_CTRLQ, &req, sizeof(req), ret, sizeof(*ret), NULL);
}

int vdgfe_gpu_get_edid(struct vdgfe *fe, uint32_t scanout, struct virtio_gpu_resp_edid *ret)
{
	struct virtio_gpu_cmd_get_edid req;

	memset(&req, 0, sizeof(req));
	vdgfe_gpu_hdr(fe, &req.hdr, VIRTIO_GPU_CMD_GET_EDID);
	req.scanout = htole32(scanout);
	return vdgfe_gpu_exec(fe, VDGFE_CTRLQ, &req, sizeof(req), ret, sizeof(*ret), NULL);
}

int vdgfe_gpu_resource_create_2d(struct vdgfe *fe, uint32_t res, uint32_t format, uint32_t w,
	uint32_t h)
{
	struct virtio_gpu_resource_create_2d req;

	memset(&req, 0, sizeof(req));
	vdgfe_gpu_hdr(fe, &req.hdr, VIRTIO_GPU_CMD_RESOURCE_CREATE_2D);
	req.resource_id = htole32(res);
	req.format = htole32(format);
	req.width = htole32(w);
	req.height = htole32(h);
	return ctrl(fe, &req, sizeof(req));
}

static int res_cmd(struct vdgfe *fe, uint32_t type, uint32_t res)
{
	struct virtio_gpu_resource_unref req;

	memset(&req, 0, sizeof(req));
	vdgfe_gpu_hdr(fe, &req.hdr, type);
	req.resource_id = htole32(res);
	return ctrl(fe, &req, sizeof(req));
}

int vdgfe_gpu_resource_unref(struct vdgfe *fe, uint32_t res)
{
	return res_cmd(fe, VIRTIO_GPU_CMD_RESOURCE_UNREF, res);
}

int vdgfe_gpu_detach_backing(struct vdgfe *fe, uint32_t res)
{
	return res_cmd(fe, VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, res);
}

/* Fills n entries covering [gpa, gpa + size), entry_size bytes each (0: one entry). */
static void fill_entries(struct virtio_gpu_mem_entry *ents, uint64_t n, uint64_t gpa,
	uint64_t size, uint32_t entry_size)
{
	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = entry_size ? i * entry_size : 0;
		uint64_t l = size;

		if (entry_size) {
			l = size - off < entry_size ? size - off : entry_size;
		}
		ents[i].addr = htole64(gpa + off);
		ents[i].length = htole32((uint32_t)l);
	}
}

/* Entries needed for size bytes in entry_size pieces, or 0 if that is not possible. */
static uint64_t entry_count(uint64_t size, uint32_t entry_size)
{
	uint64_t n = entry_size ? (size + entry_size - 1) / entry_size : 1;

	if (size == 0 || size > UINT32_MAX * n || n > (1u << 20)) {
		return 0;
	}
	return n;
}

/*
 * A zeroed request of head bytes followed by the entries covering
 * [gpa, gpa + size) (none if size is 0); NULL on a bad size or ENOMEM.
 */
static void *request_with_entries(size_t head, uint64_t gpa, uint64_t size, uint32_t entry_size,
	uint32_t *ret_n, size_t *ret_len)
{
	uint64_t n = size ? entry_count(size, entry_size) : 0;
	uint8_t *req;

	if (size && n == 0) {
		return NULL;
	}
	*ret_len = head + n * sizeof(struct virtio_gpu_mem_entry);
	req = calloc(1, *ret_len);
	if (req) {
		fill_entries((struct virtio_gpu_mem_entry *)(req + head), n, gpa, size, entry_size);
	}
	*ret_n = (uint32_t)n;
	return req;
}

int vdgfe_gpu_attach_backing(struct vdgfe *fe, uint32_t res, uint64_t gpa, uint64_t size,
	uint32_t entry_size)
{
	struct virtio_gpu_resource_attach_backing *req;
	uint32_t n;
	size_t len;
	int r;

	if (size == 0) {
		return -EINVAL;
	}
	req = request_with_entries(sizeof(*req), gpa, size, entry_size, &n, &len);
	if (!req) {
		return -EINVAL;
	}
	vdgfe_gpu_hdr(fe, &req->hdr, VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING);
	req->resource_id = htole32(res);
	req->nr_entries = htole32(n);
	r = ctrl(fe, req, len);
	free(req);
	return r;
}

int vdgfe_gpu_resource_create_blob(struct vdgfe *fe, uint32_t res, uint32_t blob_mem,
	uint32_t blob_flags, uint64_t size, uint64_t gpa, uint64_t backing, uint32_t entry_size)
{
	struct virtio_gpu_resource_create_blob *req;
	uint32_t n;
	size_t len;
	int r;

	req = request_with_entries(sizeof(*req), gpa, backing, entry_size, &n, &len);
	if (!req) {
		return -EINVAL;
	}
	vdgfe_gpu_hdr(fe, &req->hdr, VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB);
	req->resource_id = htole32(res);
	req->blob_mem = htole32(blob_mem);
	req->blob_flags = htole32(blob_flags);
	req->nr_entries = htole32(n);
	req->size = htole64(size);
	r = ctrl(fe, req, len);
	free(req);
	return r;
}

static void put_rect(struct virtio_gpu_rect *r, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	r->x = htole32(x);
	r->y = htole32(y);
	r->width = htole32(w);
	r->height = htole32(h);
}

int vdgfe_gpu_set_scanout(struct vdgfe *fe, uint32_t scanout, uint32_t res, uint32_t x,
	uint32_t y, uint32_t w, uint32_t h)
{
	struct virtio_gpu_set_scanout req;

	memset(&req, 0, sizeof(req));
	vdgfe_gpu_hdr(fe, &req.hdr, VIRTIO_GPU_CMD_SET_SCANOUT);
	put_rect(&req.r, x, y, w, h);
	req.scanout_id = htole32(scanout);
	req.resource_id = htole32(res);
	return ctrl(fe, &req, sizeof(req));
}

int vdgfe_gpu_transfer_to_host_2d(struct vdgfe *fe, uint32_t res, uint32_t x, uint32_t y,
	uint32_t w, uint32_t h, uint64_t offset)
{
	struct virtio_gpu_transfer_to_host_2d req;

	memset(&req, 0, sizeof(req));
	vdgfe_gpu_hdr(fe, &req.hdr, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D);
	put_rect(&req.r, x, y, w, h);
	req.offset = htole64(offset);
	req.resource_id = htole32(res);
	return ctrl(fe, &req, sizeof(req));
}

int vdgfe_gpu_resource_flush(struct vdgfe *fe, uint32_t res, uint32_t x, uint32_t y, uint32_t w,
	uint32_t h)
{
	struct virtio_gpu_resource_flush req;

	memset(&req, 0, sizeof(req));
	vdgfe_gpu_hdr(fe, &req.hdr, VIRTIO_GPU_CMD_RESOURCE_FLUSH);
	put_rect(&req.r, x, y, w, h);
	req.resource_id = htole32(res);
	return ctrl(fe, &req, sizeof(req));
}

int vdgfe_gpu_assign_uuid(struct vdgfe *fe, uint32_t res, uint8_t ret_uuid[16])
{
	struct virtio_gpu_resource_assign_uuid req;
	struct virtio_gpu_resp_resource_uuid resp;
	int r;

	memset(&req, 0, sizeof(req));
	vdgfe_gpu_hdr(fe, &req.hdr, VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID);
	req.resource_id = htole32(res);
	r = vdgfe_gpu_exec(fe, VDGFE_CTRLQ, &req, sizeof(req), &resp, sizeof(resp), NULL);
	if (r == VIRTIO_GPU_RESP_OK_RESOURCE_UUID && ret_uuid) {
		memcpy(ret_uuid, resp.uuid, 16);
	}
	return r;
}

static int cursor_cmd(struct vdgfe *fe, uint32_t type, uint32_t scanout, uint32_t x, uint32_t y,
	uint32_t res, uint32_t hot_x, uint32_t hot_y)
{
	struct virtio_gpu_update_cursor req;
	struct vdgfe_gpu *gpu = vdgfe_gpu(fe);
	bool fence = gpu && gpu->fence_all;

	/* Cursor commands are never fenced. */
	if (gpu) {
		gpu->fence_all = false;
	}
	memset(&req, 0, sizeof(req));
	vdgfe_gpu_hdr(fe, &req.hdr, type);
	if (gpu) {
		gpu->fence_all = fence;
	}
	req.pos.scanout_id = htole32(scanout);
	req.pos.x = htole32(x);
	req.pos.y = htole32(y);
	req.resource_id = htole32(res);
	req.hot_x = htole32(hot_x);
	req.hot_y = htole32(hot_y);
	return vdgfe_gpu_exec(fe, VDGFE_CURSORQ, &req, sizeof(req), NULL, 0, NULL);
}

int vdgfe_gpu_update_cursor(struct vdgfe *fe, uint32_t scanout, uint32_t x, uint32_t y,
	uint32_t res, uint32_t hot_x, uint32_t hot_y)
{
	return cursor_cmd(fe, VIRTIO_GPU_CMD_UPDATE_CURSOR, scanout, x, y, res, hot_x, hot_y);
}

int vdgfe_gpu_move_cursor(struct vdgfe *fe, uint32_t scanout, uint32_t x, uint32_t y)
{
	return cursor_cmd(fe, VIRTIO_GPU_CMD_MOVE_CURSOR, scanout, x, y, 0, 0, 0);
}

int vdgfe_gpu_set_scanout_blob(struct vdgfe *fe, uint32_t scanout, uint32_t res, uint32_t x,
	uint32_t y, uint32_t w, uint32_t h, uint32_t fb_w, uint32_t fb_h, uint32_t format,
	uint32_t stride, uint32_t offset)
{
	struct virtio_gpu_set_scanout_blob req;

	memset(&req, 0, sizeof(req));
	vdgfe_gpu_hdr(fe, &req.hdr, VIRTIO_GPU_CMD_SET_SCANOUT_BLOB);
	put_rect(&req.r, x, y, w, h);
	req.scanout_id = htole32(scanout);
	req.resource_id = htole32(res);
	req.width = htole32(fb_w);
	req.height = htole32(fb_h);
	req.format = htole32(format);
	req.strides[0] = htole32(stride);
	req.offsets[0] = htole32(offset);
	return ctrl(fe, &req, sizeof(req));
}
