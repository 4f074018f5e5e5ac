/* SPDX-License-Identifier: MIT */
/*
 * vdgfe: a test front-end that plays QEMU's role towards a vhost-user GPU
 * back-end. It owns the control socket, guest RAM (memfds), the driver side
 * of the two split virtqueues and the display socket (display-sink.h).
 *
 * Everything is single-threaded and bounded: every wait takes a timeout and
 * returns -ETIMEDOUT when it expires. Functions return >= 0 on success or a
 * negative errno. A peer that closed its end is always reported as
 * VDGFE_ERR_CLOSED, whatever the kernel said (EOF, EPIPE, ECONNRESET).
 */
#ifndef VDGFE_FRONTEND_H
#define VDGFE_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vu-proto.h"
#include "display-sink.h"

/* Returned when the back-end closed the control socket (EOF/EPIPE/ECONNRESET). */
#define VDGFE_ERR_CLOSED (-ECONNRESET)

#define VDGFE_DEFAULT_TIMEOUT_MS 5000
#define VDGFE_DEFAULT_MEM_SIZE (UINT64_C(64) << 20)
#define VDGFE_MAX_REGIONS 2
#define VDGFE_NUM_QUEUES 2
#define VDGFE_CTRLQ 0
#define VDGFE_CURSORQ 1

/* Virtio-gpu device feature bits (bit numbers). */
#define VDGFE_GPU_F_VIRGL 0
#define VDGFE_GPU_F_EDID 1
#define VDGFE_GPU_F_RESOURCE_UUID 2
#define VDGFE_GPU_F_RESOURCE_BLOB 3

/* Default feature wish list, intersected with what the back-end offers. */
#define VDGFE_DEFAULT_FEATURES                                                                   \
	(VU_BIT(VDGFE_GPU_F_EDID) | VU_BIT(VIRTIO_F_VERSION_1_BIT) |                             \
		VU_BIT(VIRTIO_RING_F_INDIRECT_DESC_BIT) | VU_BIT(VIRTIO_RING_F_EVENT_IDX_BIT) |  \
		VU_BIT(VIRTIO_F_NOTIFY_ON_EMPTY_BIT))

/* Protocol features we can speak. CONFIGURE_MEM_SLOTS/STATUS need opt-in. */
#define VDGFE_PROTOCOL_SUPPORTED                                                                 \
	(VU_BIT(VU_PROTOCOL_F_MQ) | VU_BIT(VU_PROTOCOL_F_REPLY_ACK) |                            \
		VU_BIT(VU_PROTOCOL_F_CONFIG) | VU_BIT(VU_PROTOCOL_F_RESET_DEVICE))

struct vdgfe_config {
	const char *socket_path;
	int timeout_ms;            /* every wait; default VDGFE_DEFAULT_TIMEOUT_MS */
	int connect_timeout_ms;    /* retrying connect(); default = timeout_ms */
	uint64_t mem_size;         /* total guest RAM; default 64 MiB */
	uint64_t gpa_base;         /* guest_phys_addr of region 0; default 0 */
	bool split_mem;            /* two regions (two memfds), each mem_size / 2 */
	uint64_t region_gap;       /* GPA hole between region 0 and 1 (0 = adjacent) */
	bool use_mem_slots;        /* ADD_MEM_REG if the back-end offers CONFIGURE_MEM_SLOTS */
	bool use_status;           /* negotiate STATUS and send GET/SET_STATUS like QEMU */
	bool ack_all;              /* NEED_REPLY on every ack-able message (REPLY_ACK only) */
	bool no_start_sync;        /* skip the final GET_FEATURES round trip of start */
	bool want_virgl;           /* add VIRGL to the wish list */
	bool features_set;         /* use 'features' instead of the default wish list */
	uint64_t features;         /* wish list (bit 30 is added automatically) */
	unsigned int ctrl_qsize;   /* 0: 256 if VIRGL offered, else 64 (like QEMU) */
	unsigned int cursor_qsize; /* 0: 16 */
	bool spin;                 /* busy-poll instead of blocking in poll() */
	bool verbose;              /* log messages to stderr */
	struct vdgfe_sink_config sink;
};

/* Fill a config with the defaults above (sink included). */
void vdgfe_config_init(struct vdgfe_config *cfg);

struct vdgfe_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
	int fd;
};

struct vdgfe_extent {
	uint64_t start;
	uint64_t len;
};

struct vring_desc;
struct vring_avail;
struct vring_used;

/* Driver side of one split virtqueue. */
struct vdgfe_vq {
	unsigned int index;
	unsigned int num;
	bool ready;
	bool event_idx;
	bool indirect_ok;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t avail_shadow;   /* next avail idx we will publish */
	uint16_t avail_kicked;   /* avail idx at the last kick decision */
	uint16_t last_used;      /* next used idx we will consume */
	uint16_t free_head;
	unsigned int num_free;
	uint16_t *next;          /* shadow of desc[].next (free list and chains) */
	uint16_t *chain_len;     /* per head: descriptors in the chain, 0 = free */
	uint64_t *indirect_gpa;  /* per head: indirect table to free, 0 if none */
	void **token;            /* per head: caller's token */
	int kick_fd, call_fd, err_fd;
	uint64_t kicks, kicks_suppressed, bad_used;
};

struct vdgfe {
	struct vdgfe_config cfg;
	int sock;
	uint64_t backend_features;
	uint64_t backend_protocol;
	uint64_t protocol;         /* what we SET_PROTOCOL_FEATURES */
	uint64_t acked_features;   /* what we SET_FEATURES */
	uint64_t queue_num;
	uint64_t max_mem_slots;
	bool started;
	struct vdgfe_region regions[VDGFE_MAX_REGIONS];
	unsigned int nregions;
	struct vdgfe_extent *free_ext;
	size_t nfree_ext, cap_free_ext;
	struct vdgfe_vq vqs[VDGFE_NUM_QUEUES];
	struct vdgfe_sink sink;
	struct vdgfe_gpu *gpu;     /* gpu-driver.c state, lazily created */
	uint64_t msgs_sent;
	bool wait_ctrl;            /* vdgfe_wait: a control reply is awaited */
	bool rings_used;           /* rings ran before: a restart resumes them */
	bool mem_sent;             /* ADD_MEM_REG already done for this connection */
	uint32_t vq_base[VDGFE_NUM_QUEUES]; /* last GET_VRING_BASE answers */
	uint8_t gpu_config[16];    /* last GET_CONFIG (struct virtio_gpu_config) */
	bool have_config;
};

/* ---- life cycle --------------------------------------------------------- */

/*
 * Allocates the front-end, creates guest RAM and connects to cfg->socket_path
 * (retrying until connect_timeout_ms). Returns NULL on failure (errno set).
 */
struct vdgfe *vdgfe_create(const struct vdgfe_config *cfg);
/* Closes everything (without a stop sequence). Accepts NULL; returns NULL. */
struct vdgfe *vdgfe_destroy(struct vdgfe *fe);

/* §11.A: GET_FEATURES ... SET_VRING_CALL/ERR. */
int vdgfe_negotiate(struct vdgfe *fe);
/* §11.C: GPU_SET_SOCKET ... SET_VRING_ENABLE 1, rings ready for commands. */
int vdgfe_start(struct vdgfe *fe);
/*
 * §11.D: close the display socket if close_display, [SET_STATUS 0],
 * SET_VRING_ENABLE 0, GET_VRING_BASE per queue. ret_bases (may be NULL)
 * receives the returned indexes.
 */
int vdgfe_stop(struct vdgfe *fe, bool close_display, uint32_t ret_bases[VDGFE_NUM_QUEUES]);

/* ---- control-socket messages ---------------------------------------------- */

/*
 * Request with its own reply (GET_*): sends {req, 0x1, len} + payload + fds,
 * waits for a reply with flags 0x5, the same request id and exactly
 * reply_len bytes. -EPROTO on any mismatch.
 */
int vdgfe_call(struct vdgfe *fe, uint32_t req, const void *payload, uint32_t len,
	const int *fds, unsigned int nfds, void *reply, uint32_t reply_len);
/*
 * Request without its own reply. With need_reply (and REPLY_ACK negotiated)
 * NEED_REPLY is set and the u64 ack is awaited: returns -EIO if non-zero.
 */
int vdgfe_send(struct vdgfe *fe, uint32_t req, const void *payload, uint32_t len,
	const int *fds, unsigned int nfds, bool need_reply);
int vdgfe_get_u64(struct vdgfe *fe, uint32_t req, uint64_t *ret);
int vdgfe_set_u64(struct vdgfe *fe, uint32_t req, uint64_t val, bool need_reply);
int vdgfe_set_vring_state(struct vdgfe *fe, uint32_t req, uint32_t index, uint32_t num,
	bool need_reply);
/* KICK/CALL/ERR: fd < 0 sends the "no fd" flag. */
int vdgfe_set_vring_file(struct vdgfe *fe, uint32_t req, unsigned int index, int fd);
int vdgfe_get_config(struct vdgfe *fe, uint32_t offset, void *buf, uint32_t size);
/* True if REPLY_ACK was negotiated. */
bool vdgfe_reply_ack(const struct vdgfe *fe);

/* ---- raw messages (dispatcher tests) ---------------------------------------- */

/*
 * Sends a header {request, flags, hdr_size} followed by exactly payload_len
 * bytes (which need not equal hdr_size) with nfds fds in one sendmsg.
 */
int vdgfe_send_raw(struct vdgfe *fe, uint32_t request, uint32_t flags, uint32_t hdr_size,
	const void *payload, size_t payload_len, const int *fds, unsigned int nfds);
/* Sends arbitrary bytes (e.g. half a header). */
int vdgfe_send_bytes(struct vdgfe *fe, const void *buf, size_t len);
/*
 * Receives one message: header into *hdr, up to cap payload bytes into
 * payload (the rest of a larger payload is drained), fds into fds[*nfds]
 * (at most VU_MAX_FDS, caller closes). Returns the header size field as
 * int, -ETIMEDOUT, VDGFE_ERR_CLOSED, -EPROTO (truncated). Services the
 * display socket while waiting.
 */
int vdgfe_recv_raw(struct vdgfe *fe, struct vu_msg_header *hdr, void *payload, size_t cap,
	int *fds, unsigned int *nfds, int timeout_ms);
/* shutdown(SHUT_WR) of the control socket: a truncated message stays truncated. */
int vdgfe_shutdown_write(struct vdgfe *fe);
/* 0 once the back-end closed the control socket, -ETIMEDOUT if not within timeout. */
int vdgfe_wait_closed(struct vdgfe *fe, int timeout_ms);
/* Reconnect (new socket; rings and memory reset to unstarted). */
int vdgfe_reconnect(struct vdgfe *fe);

/* ---- guest memory ------------------------------------------------------------ */

/* Flags for vdgfe_mem_alloc. */
#define VDGFE_MEM_CONTIG 0x1u /* must not cross a region boundary */

/* Allocates size bytes of guest RAM aligned to align (power of two): 0 or -ENOMEM. */
int vdgfe_mem_alloc(struct vdgfe *fe, uint64_t size, uint64_t align, unsigned int flags,
	uint64_t *ret_gpa);
/* Reserve exactly [gpa, gpa + size) if free (e.g. to straddle a boundary). */
int vdgfe_mem_alloc_at(struct vdgfe *fe, uint64_t gpa, uint64_t size);
void vdgfe_mem_free(struct vdgfe *fe, uint64_t gpa, uint64_t size);
/* Our pointer for [gpa, gpa + len) if it lies within one region, else NULL. */
void *vdgfe_gpa_to_hva(struct vdgfe *fe, uint64_t gpa, uint64_t len);
/* Copies that may straddle regions. -EFAULT if any byte is outside guest RAM. */
int vdgfe_mem_write(struct vdgfe *fe, uint64_t gpa, const void *buf, size_t len);
int vdgfe_mem_read(struct vdgfe *fe, uint64_t gpa, void *buf, size_t len);
int vdgfe_mem_fill(struct vdgfe *fe, uint64_t gpa, int c, size_t len);
/* Boundary GPA between region 0 and region 1 (end of region 0). */
uint64_t vdgfe_mem_boundary(const struct vdgfe *fe);

/* guest-mem.c internals shared with frontend.c */
int vdgfe_mem_init(struct vdgfe *fe);
void vdgfe_mem_finish(struct vdgfe *fe);

/* ---- virtqueues (vring.c) ---------------------------------------------------- */

struct vdgfe_buf {
	uint64_t gpa;
	uint32_t len;
};

#define VDGFE_ADD_INDIRECT 0x1u /* put the whole chain in an indirect table */

int vdgfe_vq_setup(struct vdgfe *fe, struct vdgfe_vq *vq, unsigned int index, unsigned int num);
void vdgfe_vq_finish(struct vdgfe *fe, struct vdgfe_vq *vq);
/* Reset ring memory and indexes for a fresh start (after vdgfe_vq_setup). */
void vdgfe_vq_reset(struct vdgfe_vq *vq);
/*
 * Adds a chain (nout readable, then nin writable buffers); not visible to the
 * device until vdgfe_vq_kick(). Returns the head index or -ENOSPC/-EINVAL.
 */
int vdgfe_vq_add(struct vdgfe *fe, struct vdgfe_vq *vq, const struct vdgfe_buf *out,
	unsigned int nout, const struct vdgfe_buf *in, unsigned int nin, unsigned int flags,
	void *token);
/* Publishes avail->idx and writes the kick eventfd unless suppressed (or force). */
int vdgfe_vq_kick(struct vdgfe_vq *vq, bool force);
/*
 * Takes one used element: returns 1 with *ret_head/len/token, 0 if none,
 * -EPROTO if the device returned an id that is not in flight (counted).
 */
int vdgfe_vq_get_used(struct vdgfe *fe, struct vdgfe_vq *vq, uint32_t *ret_head,
	uint32_t *ret_len, void **ret_token);
/* Number of chains handed to the device and not yet used. */
unsigned int vdgfe_vq_in_flight(const struct vdgfe_vq *vq);
/* True if the used ring has elements we did not consume. */
bool vdgfe_vq_has_used(const struct vdgfe_vq *vq);

/* ---- waiting ----------------------------------------------------------------- */

/*
 * The central loop: calls done(fe, arg) until it returns non-zero (returns 0,
 * or its value if negative) while servicing the display socket and draining
 * call eventfds; blocks in poll() (or spins with cfg.spin). timeout_ms < 0
 * means cfg.timeout_ms. Returns -ETIMEDOUT when the time is up.
 */
int vdgfe_wait(struct vdgfe *fe, int (*done)(struct vdgfe *fe, void *arg), void *arg,
	int timeout_ms);
/* Services the display socket once without blocking. */
int vdgfe_service(struct vdgfe *fe);

int64_t vdgfe_now_ms(void);
/*
 * Reads exactly len bytes from a stream socket with recvmsg(), appending any
 * fds to fds[*nfds] (at most max_fds, extra ones closed), waiting at most
 * timeout_ms for data. Returns 0, -ETIMEDOUT, or -ECONNRESET on EOF/error.
 */
int vdgfe_recv_exact(int fd, void *buf, size_t len, int *fds, unsigned int *nfds,
	unsigned int max_fds, int timeout_ms);
void vdgfe_log(const struct vdgfe *fe, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* VDGFE_FRONTEND_H */
