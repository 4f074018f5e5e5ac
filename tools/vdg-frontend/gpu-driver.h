/* SPDX-License-Identifier: MIT */
/*
 * A minimal virtio-gpu driver on top of vdgfe: builds commands in guest RAM,
 * puts them on the controlq or cursorq, waits for the used ring and returns
 * the response header type (host order). Helpers return that type (> 0,
 * e.g. VIRTIO_GPU_RESP_OK_NODATA) or a negative errno; cursor commands
 * return 0 when the device wrote no response (QEMU's back-end does that).
 */
#ifndef VDGFE_GPU_DRIVER_H
#define VDGFE_GPU_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_gpu.h>

#include "frontend.h"

struct vdgfe_submit_opts {
	uint32_t req_split;  /* max bytes per readable descriptor (0: one descriptor) */
	uint32_t resp_split; /* max bytes per writable descriptor (0: one descriptor) */
	bool indirect;       /* submit the chain through an indirect table */
	bool no_kick;        /* queue only; vdgfe_gpu_kick() later */
};

/* One submitted command; owned by the caller until vdgfe_cmd_free(). */
struct vdgfe_cmd {
	unsigned int queue;
	uint64_t req_gpa;
	uint32_t req_len;
	uint64_t resp_gpa;
	uint32_t resp_cap;
	int head;
	bool done;
	uint32_t used_len;   /* len from the used ring */
	uint64_t submit_seq; /* order of submission (1, 2, ...) */
	uint64_t done_seq;   /* order of completion (1, 2, ...) */
	struct vdgfe_cmd *next_pending;
};

struct vdgfe_gpu {
	struct vdgfe_submit_opts defaults; /* used when opts == NULL */
	bool fence_all;          /* helpers set VIRTIO_GPU_FLAG_FENCE with fence ids 1, 2, ... */
	uint64_t next_fence;
	uint64_t submitted, completed;
	struct vdgfe_cmd *pending; /* submitted, not yet completed */
};

/* The driver state of fe (created on first use; NULL on ENOMEM). */
struct vdgfe_gpu *vdgfe_gpu(struct vdgfe *fe);
void vdgfe_gpu_destroy(struct vdgfe *fe);

/*
 * Copies req into guest RAM, reserves resp_cap writable bytes (zeroed) and
 * adds the chain to queue q (VDGFE_CTRLQ/VDGFE_CURSORQ); kicks unless
 * opts->no_kick. opts NULL = the defaults in vdgfe_gpu().
 */
int vdgfe_gpu_submit(struct vdgfe *fe, unsigned int q, const void *req, size_t req_len,
	size_t resp_cap, const struct vdgfe_submit_opts *opts, struct vdgfe_cmd **ret_cmd);
int vdgfe_gpu_kick(struct vdgfe *fe, unsigned int q);
/* Takes every used element of both queues; returns how many completed, or -EPROTO. */
int vdgfe_gpu_poll(struct vdgfe *fe);
int vdgfe_gpu_wait(struct vdgfe *fe, struct vdgfe_cmd *cmd, int timeout_ms);
int vdgfe_gpu_wait_all(struct vdgfe *fe, int timeout_ms);
/* Copies min(len, used_len) response bytes; returns the count. */
int vdgfe_cmd_resp(struct vdgfe *fe, const struct vdgfe_cmd *cmd, void *buf, size_t len);
/* Response header type, 0 if fewer than 24 bytes were written. */
uint32_t vdgfe_cmd_resp_type(struct vdgfe *fe, const struct vdgfe_cmd *cmd);
/* Frees the command's guest memory (a pending command is forgotten first). */
void vdgfe_cmd_free(struct vdgfe *fe, struct vdgfe_cmd *cmd);

/*
 * Synchronous raw command: submit, wait, copy up to resp_cap bytes into
 * resp (may be NULL), *ret_len = used len (may be NULL). Returns the
 * response type (0 if none written) or -errno.
 */
int vdgfe_gpu_exec(struct vdgfe *fe, unsigned int q, const void *req, size_t req_len,
	void *resp, size_t resp_cap, uint32_t *ret_len);

/* Fills a request header (little endian), adding a fence if fence_all. */
void vdgfe_gpu_hdr(struct vdgfe *fe, struct virtio_gpu_ctrl_hdr *hdr, uint32_t type);

int vdgfe_gpu_get_display_info(struct vdgfe *fe, struct virtio_gpu_resp_display_info *ret);
int vdgfe_gpu_get_edid(struct vdgfe *fe, uint32_t scanout, struct virtio_gpu_resp_edid *ret);
int vdgfe_gpu_resource_create_2d(struct vdgfe *fe, uint32_t res, uint32_t format, uint32_t w,
	uint32_t h);
int vdgfe_gpu_resource_unref(struct vdgfe *fe, uint32_t res);
/* Backing [gpa, gpa + size) in entries of entry_size bytes (0: one entry). */
int vdgfe_gpu_attach_backing(struct vdgfe *fe, uint32_t res, uint64_t gpa, uint64_t size,
	uint32_t entry_size);
int vdgfe_gpu_detach_backing(struct vdgfe *fe, uint32_t res);
/*
 * RESOURCE_CREATE_BLOB of `size` bytes, entries covering [gpa, gpa +
 * backing) as vdgfe_gpu_attach_backing() makes them; backing 0: no entries.
 */
int vdgfe_gpu_resource_create_blob(struct vdgfe *fe, uint32_t res, uint32_t blob_mem,
	uint32_t blob_flags, uint64_t size, uint64_t gpa, uint64_t backing, uint32_t entry_size);
/* SET_SCANOUT_BLOB: rect x,y,w,h of a fb_w x fb_h framebuffer (plane 0 only). */
int vdgfe_gpu_set_scanout_blob(struct vdgfe *fe, uint32_t scanout, uint32_t res, uint32_t x,
	uint32_t y, uint32_t w, uint32_t h, uint32_t fb_w, uint32_t fb_h, uint32_t format,
	uint32_t stride, uint32_t offset);
int vdgfe_gpu_set_scanout(struct vdgfe *fe, uint32_t scanout, uint32_t res, uint32_t x,
	uint32_t y, uint32_t w, uint32_t h);
int vdgfe_gpu_transfer_to_host_2d(struct vdgfe *fe, uint32_t res, uint32_t x, uint32_t y,
	uint32_t w, uint32_t h, uint64_t offset);
int vdgfe_gpu_resource_flush(struct vdgfe *fe, uint32_t res, uint32_t x, uint32_t y, uint32_t w,
	uint32_t h);
int vdgfe_gpu_assign_uuid(struct vdgfe *fe, uint32_t res, uint8_t ret_uuid[16]);
int vdgfe_gpu_update_cursor(struct vdgfe *fe, uint32_t scanout, uint32_t x, uint32_t y,
	uint32_t res, uint32_t hot_x, uint32_t hot_y);
int vdgfe_gpu_move_cursor(struct vdgfe *fe, uint32_t scanout, uint32_t x, uint32_t y);

#endif /* VDGFE_GPU_DRIVER_H */
