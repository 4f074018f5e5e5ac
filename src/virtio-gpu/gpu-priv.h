/* SPDX-License-Identifier: MIT */
/* Shared between the gpu-*.c files of the device; nothing outside includes it. */
#ifndef VDG_GPU_PRIV_H
#define VDG_GPU_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_gpu.h>

#include "display.h"
#include "gpu-device.h"
#include "id-table.h"
#include "renderer.h"
#include "vu-dev.h"

#define GPU_QUEUE_CTRL 0
#define GPU_QUEUE_CURSOR 1
#define GPU_NUM_QUEUES 2

/*
 * Most resources a guest may have at once. Linux guests use a few per
 * output plus one per buffer object; this bounds the table and per-resource
 * host memory.
 */
#define GPU_MAX_RESOURCES 16384u

/*
 * Host memory all resources may take (images plus backing tables): four 4K
 * outputs triple-buffered are about 400 MiB; 1 GiB leaves room for
 * 64 full-HD resources (the benchmark) and cursors while bounding what a
 * guest can make us allocate.
 */
#define GPU_MAX_HOST_MEMORY (UINT64_C(1) << 30)

/* Backing entries of one ATTACH_BACKING: QEMU's limit, 64 MiB of 4 KiB pages. */
#define GPU_MAX_BACKING_ENTRIES 16384u

/*
 * Largest guest blob. Its pixels are guest memory, but a framebuffer shown
 * from it is copied into host memory, so no blob needs to be larger than
 * the host budget.
 */
#define GPU_MAX_BLOB_SIZE GPU_MAX_HOST_MEMORY

/*
 * 3D contexts a guest may have at once: Linux makes one per GL process; this
 * bounds the table and what virglrenderer keeps per context.
 */
#define GPU_MAX_CONTEXTS 1024u

/* Largest SUBMIT_3D command stream: QEMU's limit, copied before submission. */
#define GPU_MAX_SUBMIT_SIZE (4u << 20)

/* Largest capset we return (virgl2 is 1376 bytes in virglrenderer 0.10.4). */
#define GPU_MAX_CAPSET_SIZE (64u << 10)

/*
 * Fenced commands waiting for the renderer. Each holds a descriptor chain,
 * so the ring size bounds them anyway; this is the same bound, explicit.
 */
#define GPU_MAX_PENDING_FENCES VU_VRING_MAX_SIZE

/* Guest-visible response codes are little-endian u32 on the wire. */
typedef uint32_t gpu_resp_t;
/* A handler returns this when it completes the command later itself. */
#define GPU_RESP_DEFERRED 0u

struct gpu_resource {
	uint32_t id;
	uint32_t format;
	uint32_t width;
	uint32_t height;
	uint32_t stride;
	uint64_t host_bytes; /* counted against GPU_MAX_HOST_MEMORY */
	struct rnd_backing_entry *backing;
	unsigned int backing_n;
	uint64_t backing_size;
	uint32_t scanout_mask; /* scanouts showing this resource */
	bool has_uuid;
	uint8_t uuid[16];
	/*
	 * A guest blob (RESOURCE_CREATE_BLOB, BLOB_MEM_GUEST): its pixels live
	 * in its backing. format/width/height/stride above are those of the
	 * last SET_SCANOUT_BLOB (blob_layout), and the renderer then holds a
	 * host copy of that framebuffer, refreshed from the backing at each
	 * flush (gpu-blob.c).
	 */
	bool blob;
	bool blob_layout;
	uint64_t blob_size;
	uint32_t blob_offset; /* byte of the framebuffer's first pixel in the blob */
};

/* Backing entries read from a request (gpu_backing_read), not yet a resource's. */
struct gpu_backing {
	struct rnd_backing_entry *entries;
	unsigned int n;
	uint64_t size;
};

struct gpu_scanout {
	uint32_t resource_id; /* 0: disabled */
	struct virtio_gpu_rect rect;
	bool dmabuf; /* the frontend shows an exported dma-buf, not our UPDATEs */
};

/* One command being handled: the copied request and the chain to answer. */
struct gpu_cmd {
	unsigned int qidx;
	struct vu_elem *elem;
	struct virtio_gpu_ctrl_hdr hdr; /* host-endian */
	union {
		uint8_t bytes[128];
		struct virtio_gpu_ctrl_hdr hdr;
		struct virtio_gpu_resource_create_2d create_2d;
		struct virtio_gpu_resource_unref unref;
		struct virtio_gpu_set_scanout set_scanout;
		struct virtio_gpu_resource_flush flush;
		struct virtio_gpu_transfer_to_host_2d transfer_2d;
		struct virtio_gpu_resource_attach_backing attach_backing;
		struct virtio_gpu_resource_detach_backing detach_backing;
		struct virtio_gpu_cmd_get_edid get_edid;
		struct virtio_gpu_resource_assign_uuid assign_uuid;
		struct virtio_gpu_update_cursor cursor;
		struct virtio_gpu_get_capset_info get_capset_info;
		struct virtio_gpu_get_capset get_capset;
		struct virtio_gpu_ctx_create ctx_create;
		struct virtio_gpu_ctx_destroy ctx_destroy;
		struct virtio_gpu_ctx_resource ctx_resource;
		struct virtio_gpu_resource_create_3d create_3d;
		struct virtio_gpu_transfer_host_3d transfer_3d;
		struct virtio_gpu_cmd_submit submit;
		struct virtio_gpu_resource_create_blob create_blob;
		struct virtio_gpu_set_scanout_blob set_scanout_blob;
	} req; /* the wire bytes (little-endian), copied once */

	/* set while the command waits for its fence */
	uint64_t fence_seq;
	bool fence_on_ring;          /* a context fence of (ctx_id, ring_idx), else global */
	uint32_t fence_ctx, fence_ring;
	gpu_resp_t resp_type;
	struct gpu_cmd *next_pending;
};

/* The response body a handler fills; the header is built by the device. */
struct gpu_resp_body {
	size_t len; /* bytes after the header */
	union {
		uint8_t bytes[1];
		struct virtio_gpu_resp_display_info display_info;
		struct virtio_gpu_resp_edid edid;
		struct virtio_gpu_resp_resource_uuid uuid;
		struct virtio_gpu_resp_capset_info capset_info;
	} u; /* whole structs, header included; only the header is overwritten */
	uint8_t *heap; /* a large body (GET_CAPSET) instead of u, freed with the response */
};

struct gpu_device {
	struct event_loop *loop;
	struct gpu_device_config config;
	struct vu_dev *vu;
	struct rnd_renderer *renderer;

	struct disp_sink *sink;     /* the channel, or the headless sink */
	struct disp_sink *headless; /* always there: used when no channel is */
	int ignored_socket_fd;      /* --headless keeps QEMU's socket open, unused */

	struct id_table resources;
	uint64_t host_bytes;
	uint32_t num_scanouts;
	struct gpu_scanout scanouts[VIRTIO_GPU_MAX_SCANOUTS];

	struct virtio_gpu_resp_display_info display_info; /* as the frontend gave it */
	bool display_info_valid;

	uint32_t events_read;
	uint64_t features;

	/* the control-queue command waiting for the display, at most one */
	struct gpu_cmd *deferred;
	/* DMABUF_UPDATE acks a deferred RESOURCE_FLUSH still waits for */
	unsigned int flush_acks_pending;

	/* 3D */
	struct id_table contexts;
	uint64_t fence_seq;            /* last sequence number given to the renderer */
	struct gpu_cmd *fence_head;    /* fenced commands in submission order */
	struct gpu_cmd *fence_tail;
	unsigned int fence_count;
	bool processing;
	bool needs_notify[GPU_NUM_QUEUES];
};

/* gpu-device.c */
void gpu_cmd_finish(struct gpu_device *dev, struct gpu_cmd *cmd, gpu_resp_t type,
	struct gpu_resp_body *body);
void gpu_notify_queues(struct gpu_device *dev);
void gpu_ctrl_resume(struct gpu_device *dev);

/* gpu-decode.c: the command table */
typedef gpu_resp_t (*gpu_cmd_handler)(struct gpu_device *dev, struct gpu_cmd *cmd,
	struct gpu_resp_body *body);
struct gpu_cmd_desc {
	const char *name;
	uint32_t size; /* request struct bytes, header included */
	uint8_t queues; /* bit per queue the command may arrive on */
	int feature;    /* VIRTIO_GPU_F_* bit the guest must have acked, or -1 */
	gpu_cmd_handler handle;
};
const struct gpu_cmd_desc *gpu_cmd_lookup(uint32_t type);
/*
 * Copies the request out of the chain once and checks it against the table.
 * Returns 0 (cmd filled, *ret_desc set) or the error response to give.
 */
gpu_resp_t gpu_decode(const struct vu_mem *mem, struct gpu_cmd *cmd, uint64_t acked_features,
	const struct gpu_cmd_desc **ret_desc);
void gpu_dispatch(struct gpu_device *dev, struct gpu_cmd *cmd);

/* gpu-resource.c */
gpu_resp_t gpu_cmd_resource_create_2d(struct gpu_device *, struct gpu_cmd *, struct gpu_resp_body *);
gpu_resp_t gpu_cmd_resource_unref(struct gpu_device *, struct gpu_cmd *, struct gpu_resp_body *);
gpu_resp_t gpu_cmd_attach_backing(struct gpu_device *, struct gpu_cmd *, struct gpu_resp_body *);
gpu_resp_t gpu_cmd_detach_backing(struct gpu_device *, struct gpu_cmd *, struct gpu_resp_body *);
gpu_resp_t gpu_cmd_assign_uuid(struct gpu_device *, struct gpu_cmd *, struct gpu_resp_body *);
struct gpu_resource *gpu_resource_lookup(struct gpu_device *dev, uint32_t id);
/*
 * Creates a resource within the limits. 2D (args_3d NULL): format and size
 * are checked and the host size computed; 3D: host_bytes is the caller's
 * checked estimate and the renderer checks the rest.
 */
gpu_resp_t gpu_resource_create(struct gpu_device *dev, uint32_t id, uint32_t format,
	uint32_t width, uint32_t height, uint64_t host_bytes, const struct rnd_create_3d *args_3d);
/* Takes res off screen, out of the table, and frees it with its host memory. */
void gpu_resource_remove(struct gpu_device *dev, struct gpu_resource *res);
/* A blob resource of blob_size bytes, no backing and no layout yet, within the limits. */
gpu_resp_t gpu_resource_create_blob(struct gpu_device *dev, uint32_t id, uint64_t blob_size,
	struct gpu_resource **ret_res);
/*
 * Checks a request (command `what`) announcing n backing entries after its
 * first head_bytes: 1..GPU_MAX_BACKING_ENTRIES, all of them sent. Returns
 * OK_NODATA or the error (logged).
 */
gpu_resp_t gpu_backing_check(const struct gpu_cmd *cmd, const char *what, size_t head_bytes,
	uint32_t n);
/*
 * Reads those n entries (gpu_backing_check() passed), checks each against
 * guest memory and the host budget, and keeps the non-empty ones in *ret
 * (entries malloc'd). Returns OK_NODATA or the error.
 */
gpu_resp_t gpu_backing_read(struct gpu_device *dev, const struct gpu_cmd *cmd, size_t head_bytes,
	uint32_t n, struct gpu_backing *ret);
/* Gives b to res (b->entries taken) and to the renderer; -EIO (b freed) if that fails. */
int gpu_backing_set(struct gpu_device *dev, struct gpu_resource *res, struct gpu_backing *b);
/* Gives the renderer its view of the backing; again after guest memory changed. */
int gpu_resource_attach_renderer(struct gpu_device *dev, struct gpu_resource *res);
void gpu_resources_remap(struct gpu_device *dev);
void gpu_resources_destroy_all(struct gpu_device *dev);
/* Builds the renderer's view of a resource's backing. */
void gpu_resource_backing(struct gpu_device *dev, const struct gpu_resource *res,
	struct rnd_backing *ret);

/* gpu-transfer.c */
/*
 * Does rect r, its first pixel at backing byte `offset` and its rows
 * res->stride apart, lie inside res's backing? 64-bit, overflow-checked.
 */
bool gpu_transfer_fits_backing(const struct gpu_resource *res, const struct virtio_gpu_rect *r,
	uint64_t offset);
gpu_resp_t gpu_cmd_transfer_to_host_2d(struct gpu_device *, struct gpu_cmd *,
	struct gpu_resp_body *);

/* gpu-scanout.c */
gpu_resp_t gpu_cmd_get_display_info(struct gpu_device *, struct gpu_cmd *, struct gpu_resp_body *);
gpu_resp_t gpu_cmd_get_edid(struct gpu_device *, struct gpu_cmd *, struct gpu_resp_body *);
gpu_resp_t gpu_cmd_set_scanout(struct gpu_device *, struct gpu_cmd *, struct gpu_resp_body *);
gpu_resp_t gpu_cmd_resource_flush(struct gpu_device *, struct gpu_cmd *, struct gpu_resp_body *);
/* Turns off every scanout showing res (before it goes away). */
void gpu_scanouts_detach(struct gpu_device *dev, struct gpu_resource *res);
/* Shows rect r of res (already checked) on the scanout: SET_SCANOUT's and SET_SCANOUT_BLOB's end. */
void gpu_scanout_attach(struct gpu_device *dev, uint32_t scanout_id, struct gpu_resource *res,
	const struct virtio_gpu_rect *r);
void gpu_scanout_disable(struct gpu_device *dev, uint32_t scanout_id);

/* gpu-blob.c */
gpu_resp_t gpu_cmd_resource_create_blob(struct gpu_device *, struct gpu_cmd *,
	struct gpu_resp_body *);
gpu_resp_t gpu_cmd_set_scanout_blob(struct gpu_device *, struct gpu_cmd *,
	struct gpu_resp_body *);
/* Copies rect (inside the blob's layout) from the guest's pages into the host copy. */
int gpu_blob_refresh(struct gpu_device *dev, struct gpu_resource *res,
	const struct virtio_gpu_rect *rect);
/* Finishes a deferred display command with what we know, if the display cannot. */
void gpu_deferred_fallback(struct gpu_device *dev);
/* The display sink changed: no scanout is shown from a dma-buf any more. */
void gpu_scanouts_forget_dmabufs(struct gpu_device *dev);

/* gpu-3d.c */
gpu_resp_t gpu_cmd_get_capset_info(struct gpu_device *, struct gpu_cmd *, struct gpu_resp_body *);
gpu_resp_t gpu_cmd_get_capset(struct gpu_device *, struct gpu_cmd *, struct gpu_resp_body *);
gpu_resp_t gpu_cmd_ctx_create(struct gpu_device *, struct gpu_cmd *, struct gpu_resp_body *);
gpu_resp_t gpu_cmd_ctx_destroy(struct gpu_device *, struct gpu_cmd *, struct gpu_resp_body *);
gpu_resp_t gpu_cmd_ctx_attach_resource(struct gpu_device *, struct gpu_cmd *,
	struct gpu_resp_body *);
gpu_resp_t gpu_cmd_ctx_detach_resource(struct gpu_device *, struct gpu_cmd *,
	struct gpu_resp_body *);
gpu_resp_t gpu_cmd_resource_create_3d(struct gpu_device *, struct gpu_cmd *,
	struct gpu_resp_body *);
gpu_resp_t gpu_cmd_transfer_to_host_3d(struct gpu_device *, struct gpu_cmd *,
	struct gpu_resp_body *);
gpu_resp_t gpu_cmd_transfer_from_host_3d(struct gpu_device *, struct gpu_cmd *,
	struct gpu_resp_body *);
gpu_resp_t gpu_cmd_submit_3d(struct gpu_device *, struct gpu_cmd *, struct gpu_resp_body *);
void gpu_contexts_destroy_all(struct gpu_device *dev);

/* gpu-fence.c */
/* Holds a fenced command until the renderer has done the work. Returns false if it cannot. */
bool gpu_fence_hold(struct gpu_device *dev, struct gpu_cmd *cmd, gpu_resp_t type);
void gpu_fence_retired(void *data, uint64_t seq);
void gpu_fence_context_retired(void *data, uint32_t ctx_id, uint32_t ring_idx, uint64_t seq);
/* The context is destroyed: its ring fences will never retire; answer their commands. */
void gpu_fences_context_gone(struct gpu_device *dev, uint32_t ctx_id);
/* Answers every held command now (ring stopping) or drops them (reset). */
void gpu_fences_flush(struct gpu_device *dev, bool answer);

/* gpu-cursor.c */
gpu_resp_t gpu_cmd_update_cursor(struct gpu_device *, struct gpu_cmd *, struct gpu_resp_body *);
gpu_resp_t gpu_cmd_move_cursor(struct gpu_device *, struct gpu_cmd *, struct gpu_resp_body *);


#endif /* VDG_GPU_PRIV_H */
