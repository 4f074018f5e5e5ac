/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-gpu display protocol (docs/interop/vhost-user-gpu.rst): the
 * socket handed over by VHOST_USER_GPU_SET_SOCKET. The back-end sends the
 * requests; QEMU answers some of them. Host-endian, packed.
 */
#ifndef VDG_VUGPU_PROTO_H
#define VDG_VUGPU_PROTO_H

#include <stdint.h>
#include <linux/virtio_gpu.h>

enum vugpu_request {
	VUGPU_NONE = 0,
	VUGPU_GET_PROTOCOL_FEATURES = 1,
	VUGPU_SET_PROTOCOL_FEATURES = 2,
	VUGPU_GET_DISPLAY_INFO = 3,
	VUGPU_CURSOR_POS = 4,
	VUGPU_CURSOR_POS_HIDE = 5,
	VUGPU_CURSOR_UPDATE = 6,
	VUGPU_SCANOUT = 7,
	VUGPU_UPDATE = 8,
	VUGPU_DMABUF_SCANOUT = 9,
	VUGPU_DMABUF_UPDATE = 10,
	VUGPU_GET_EDID = 11,
	VUGPU_DMABUF_SCANOUT2 = 12,
	VUGPU_REQUEST_MAX,
};

#define VUGPU_FLAG_REPLY (1u << 2)

/* Display protocol feature bit numbers. */
#define VUGPU_PROTOCOL_F_EDID 0
#define VUGPU_PROTOCOL_F_DMABUF2 1

struct vugpu_msg_header {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
} __attribute__((packed));
_Static_assert(sizeof(struct vugpu_msg_header) == 12, "display header is 12 bytes");

struct vugpu_cursor_pos {
	uint32_t scanout_id;
	uint32_t x;
	uint32_t y;
} __attribute__((packed));
_Static_assert(sizeof(struct vugpu_cursor_pos) == 12, "cursor pos is 12 bytes");

#define VUGPU_CURSOR_DIM 64u
struct vugpu_cursor_update {
	struct vugpu_cursor_pos pos;
	uint32_t hot_x;
	uint32_t hot_y;
	uint32_t data[VUGPU_CURSOR_DIM * VUGPU_CURSOR_DIM];
} __attribute__((packed));
_Static_assert(sizeof(struct vugpu_cursor_update) == 16404, "cursor update is 16404 bytes");

struct vugpu_scanout {
	uint32_t scanout_id;
	uint32_t width;
	uint32_t height;
} __attribute__((packed));
_Static_assert(sizeof(struct vugpu_scanout) == 12, "scanout is 12 bytes");

/* UPDATE is followed by width*height*4 bytes of x8r8g8b8, stride width*4. */
struct vugpu_update {
	uint32_t scanout_id;
	uint32_t x;
	uint32_t y;
	uint32_t width;
	uint32_t height;
} __attribute__((packed));
_Static_assert(sizeof(struct vugpu_update) == 20, "update header is 20 bytes");

struct vugpu_dmabuf_scanout {
	uint32_t scanout_id;
	uint32_t x;
	uint32_t y;
	uint32_t width;
	uint32_t height;
	uint32_t fd_width;
	uint32_t fd_height;
	uint32_t fd_stride;
	uint32_t fd_flags;
	int32_t fd_drm_fourcc;
} __attribute__((packed));
_Static_assert(sizeof(struct vugpu_dmabuf_scanout) == 40, "dmabuf scanout is 40 bytes");

struct vugpu_dmabuf_scanout2 {
	struct vugpu_dmabuf_scanout dmabuf_scanout;
	uint64_t modifier;
} __attribute__((packed));
_Static_assert(sizeof(struct vugpu_dmabuf_scanout2) == 48, "dmabuf scanout2 is 48 bytes");

struct vugpu_edid_request {
	uint32_t scanout_id;
} __attribute__((packed));

_Static_assert(sizeof(struct virtio_gpu_resp_display_info) == 408, "display info reply is 408 bytes");
_Static_assert(sizeof(struct virtio_gpu_resp_edid) == 1056, "edid reply is 1056 bytes");

#endif /* VDG_VUGPU_PROTO_H */
