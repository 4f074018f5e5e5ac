/* SPDX-License-Identifier: MIT */
/*
 * vhost-user wire format: message ids, flags, feature bits and payload
 * structs. Everything here is host-endian and packed, as the protocol says.
 * Shared by the daemon and by tools/vdg-frontend (which plays QEMU).
 */
#ifndef VDG_VU_PROTO_H
#define VDG_VU_PROTO_H

#include <stdint.h>

/* Front-end → back-end request ids (docs/interop/vhost-user.rst). */
enum vu_request {
	VU_REQ_NONE = 0,
	VU_REQ_GET_FEATURES = 1,
	VU_REQ_SET_FEATURES = 2,
	VU_REQ_SET_OWNER = 3,
	VU_REQ_RESET_OWNER = 4,
	VU_REQ_SET_MEM_TABLE = 5,
	VU_REQ_SET_LOG_BASE = 6,
	VU_REQ_SET_LOG_FD = 7,
	VU_REQ_SET_VRING_NUM = 8,
	VU_REQ_SET_VRING_ADDR = 9,
	VU_REQ_SET_VRING_BASE = 10,
	VU_REQ_GET_VRING_BASE = 11,
	VU_REQ_SET_VRING_KICK = 12,
	VU_REQ_SET_VRING_CALL = 13,
	VU_REQ_SET_VRING_ERR = 14,
	VU_REQ_GET_PROTOCOL_FEATURES = 15,
	VU_REQ_SET_PROTOCOL_FEATURES = 16,
	VU_REQ_GET_QUEUE_NUM = 17,
	VU_REQ_SET_VRING_ENABLE = 18,
	VU_REQ_SEND_RARP = 19,
	VU_REQ_NET_SET_MTU = 20,
	VU_REQ_SET_BACKEND_REQ_FD = 21,
	VU_REQ_IOTLB_MSG = 22,
	VU_REQ_SET_VRING_ENDIAN = 23,
	VU_REQ_GET_CONFIG = 24,
	VU_REQ_SET_CONFIG = 25,
	VU_REQ_CREATE_CRYPTO_SESSION = 26,
	VU_REQ_CLOSE_CRYPTO_SESSION = 27,
	VU_REQ_POSTCOPY_ADVISE = 28,
	VU_REQ_POSTCOPY_LISTEN = 29,
	VU_REQ_POSTCOPY_END = 30,
	VU_REQ_GET_INFLIGHT_FD = 31,
	VU_REQ_SET_INFLIGHT_FD = 32,
	VU_REQ_GPU_SET_SOCKET = 33,
	VU_REQ_RESET_DEVICE = 34,
	VU_REQ_VRING_KICK = 35,
	VU_REQ_GET_MAX_MEM_SLOTS = 36,
	VU_REQ_ADD_MEM_REG = 37,
	VU_REQ_REM_MEM_REG = 38,
	VU_REQ_SET_STATUS = 39,
	VU_REQ_GET_STATUS = 40,
	VU_REQ_GET_SHARED_OBJECT = 41,
	VU_REQ_SET_DEVICE_STATE_FD = 42,
	VU_REQ_CHECK_DEVICE_STATE = 43,
	VU_REQ_GET_SHMEM_CONFIG = 44,
	VU_REQ_MAX, /* one past the last id the dispatch table knows */
};

/* Header flags. */
#define VU_VERSION_MASK 0x3u
#define VU_VERSION 0x1u
#define VU_FLAG_REPLY (1u << 2)
#define VU_FLAG_NEED_REPLY (1u << 3)

/* Virtio feature bit numbers (not masks: test with vu_has_bit()). */
#define VIRTIO_F_NOTIFY_ON_EMPTY_BIT 24
#define VIRTIO_F_ANY_LAYOUT_BIT 27
#define VIRTIO_RING_F_INDIRECT_DESC_BIT 28
#define VIRTIO_RING_F_EVENT_IDX_BIT 29
#define VHOST_USER_F_PROTOCOL_FEATURES_BIT 30
#define VIRTIO_F_VERSION_1_BIT 32
#define VIRTIO_F_RING_RESET_BIT 40

/* Protocol feature bit numbers. */
#define VU_PROTOCOL_F_MQ 0
#define VU_PROTOCOL_F_LOG_SHMFD 1
#define VU_PROTOCOL_F_REPLY_ACK 3
#define VU_PROTOCOL_F_BACKEND_REQ 5
#define VU_PROTOCOL_F_CONFIG 9
#define VU_PROTOCOL_F_RESET_DEVICE 13
#define VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS 15
#define VU_PROTOCOL_F_STATUS 16

#define VU_BIT(n) (UINT64_C(1) << (n))

static inline int vu_has_bit(uint64_t features, unsigned int bit)
{
	return bit < 64 && (features & VU_BIT(bit)) != 0;
}

struct vu_msg_header {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
} __attribute__((packed));
_Static_assert(sizeof(struct vu_msg_header) == 12, "vhost-user header is 12 bytes");

struct vu_vring_state {
	uint32_t index;
	uint32_t num;
} __attribute__((packed));
_Static_assert(sizeof(struct vu_vring_state) == 8, "vring state is 8 bytes");

struct vu_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc_user_addr;
	uint64_t used_user_addr;
	uint64_t avail_user_addr;
	uint64_t log_guest_addr;
} __attribute__((packed));
_Static_assert(sizeof(struct vu_vring_addr) == 40, "vring addr is 40 bytes");

/* SET_VRING_KICK/CALL/ERR u64: queue index in bits 0-7, "no fd" in bit 8. */
#define VU_VRING_IDX_MASK 0xffu
#define VU_VRING_NOFD_MASK (1u << 8)

struct vu_mem_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;
} __attribute__((packed));
_Static_assert(sizeof(struct vu_mem_region) == 32, "memory region is 32 bytes");

/* SET_MEM_TABLE carries at most this many regions (one fd each). */
#define VU_MEM_TABLE_MAX_REGIONS 8

struct vu_mem_table {
	uint32_t nregions;
	uint32_t padding;
	struct vu_mem_region regions[VU_MEM_TABLE_MAX_REGIONS];
} __attribute__((packed));
#define VU_MEM_TABLE_HDR_SIZE 8u

struct vu_single_mem_region {
	uint64_t padding;
	struct vu_mem_region region;
} __attribute__((packed));
_Static_assert(sizeof(struct vu_single_mem_region) == 40, "single region is 40 bytes");

struct vu_log {
	uint64_t mmap_size;
	uint64_t mmap_offset;
} __attribute__((packed));

/* GET/SET_CONFIG: 12-byte header followed by up to 256 config bytes. */
#define VU_CONFIG_HDR_SIZE 12u
#define VU_CONFIG_MAX_SIZE 256u
struct vu_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t region[VU_CONFIG_MAX_SIZE];
} __attribute__((packed));

struct vu_inflight {
	uint64_t mmap_size;
	uint64_t mmap_offset;
	uint16_t num_queues;
	uint16_t queue_size;
	uint8_t padding[4];
} __attribute__((packed));
_Static_assert(sizeof(struct vu_inflight) == 24, "inflight is 24 bytes on the wire");

/*
 * Largest payload any request may carry. GET_SHMEM_CONFIG replies are the
 * biggest legitimate message (2056 bytes); rust-vmm caps at 4096 too.
 */
#define VU_MAX_PAYLOAD 4096u

/* Most fds one message may carry (SET_MEM_TABLE: one per region). */
#define VU_MAX_FDS VU_MEM_TABLE_MAX_REGIONS

#endif /* VDG_VU_PROTO_H */
