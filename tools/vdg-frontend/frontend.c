/* SPDX-License-Identifier: MIT */
/*
 * vhost-user client: connection, framing with fds, QEMU's message sequence
 * (vhost-user.md §11 A, C, D), raw messages for dispatcher tests and the
 * central bounded wait loop that also serves the display socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "frontend.h"
#include "gpu-driver.h"

#define STATUS_ACK 1u
#define STATUS_DRIVER 2u
#define STATUS_DRIVER_OK 4u
#define STATUS_FEATURES_OK 8u

int64_t vdgfe_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void vdgfe_log(const struct vdgfe *fe, const char *fmt, ...)
{
	va_list ap;

	if (!fe->cfg.verbose) {
		return;
	}
	va_start(ap, fmt);
	fputs("vdgfe: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void vdgfe_config_init(struct vdgfe_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->timeout_ms = VDGFE_DEFAULT_TIMEOUT_MS;
	cfg->mem_size = VDGFE_DEFAULT_MEM_SIZE;
	vdgfe_sink_config_init(&cfg->sink);
}

/* ---- connection ------------------------------------------------------------ */

static int connect_socket(struct vdgfe *fe)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int tmo = fe->cfg.connect_timeout_ms > 0 ? fe->cfg.connect_timeout_ms : fe->cfg.timeout_ms;
	int64_t deadline = vdgfe_now_ms() + tmo;
	int err = 0;

	if (!fe->cfg.socket_path || strlen(fe->cfg.socket_path) >= sizeof(sa.sun_path)) {
		return -EINVAL;
	}
	strcpy(sa.sun_path, fe->cfg.socket_path);
	do {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

		if (fd < 0) {
			return -errno;
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			fe->sock = fd;
			return 0;
		}
		err = errno;
		close(fd);
		if (err != ENOENT && err != ECONNREFUSED && err != EAGAIN) {
			return -err;
		}
		usleep(10000);
	} while (vdgfe_now_ms() < deadline);
	return -ETIMEDOUT;
}

struct vdgfe *vdgfe_create(const struct vdgfe_config *cfg)
{
	struct vdgfe *fe = calloc(1, sizeof(*fe));
	int r;

	if (!fe) {
		return NULL;
	}
	fe->cfg = *cfg;
	if (fe->cfg.timeout_ms <= 0) {
		fe->cfg.timeout_ms = VDGFE_DEFAULT_TIMEOUT_MS;
	}
	if (fe->cfg.mem_size == 0) {
		fe->cfg.mem_size = VDGFE_DEFAULT_MEM_SIZE;
	}
	fe->sock = -1;
	for (unsigned int q = 0; q < VDGFE_NUM_QUEUES; q++) {
		fe->vqs[q].kick_fd = fe->vqs[q].call_fd = fe->vqs[q].err_fd = -1;
	}
	vdgfe_sink_init(&fe->sink, &fe->cfg.sink);
	r = vdgfe_mem_init(fe);
	if (r == 0) {
		r = connect_socket(fe);
	}
	if (r < 0) {
		vdgfe_destroy(fe);
		errno = -r;
		return NULL;
	}
	return fe;
}

struct vdgfe *vdgfe_destroy(struct vdgfe *fe)
{
	if (!fe) {
		return NULL;
	}
	vdgfe_gpu_destroy(fe);
	for (unsigned int q = 0; q < VDGFE_NUM_QUEUES; q++) {
		vdgfe_vq_finish(fe, &fe->vqs[q]);
	}
	vdgfe_sink_finish(&fe->sink);
	if (fe->sock >= 0) {
		close(fe->sock);
	}
	vdgfe_mem_finish(fe);
	free(fe);
	return NULL;
}

int vdgfe_reconnect(struct vdgfe *fe)
{
	if (fe->sock >= 0) {
		close(fe->sock);
		fe->sock = -1;
	}
	vdgfe_sink_close(&fe->sink);
	fe->started = false;
	fe->rings_used = false;
	fe->mem_sent = false;
	fe->protocol = 0;
	for (unsigned int q = 0; q < VDGFE_NUM_QUEUES; q++) {
		vdgfe_vq_finish(fe, &fe->vqs[q]);
	}
	return connect_socket(fe);
}

/* ---- requests ------------------------------------------------------------------- */

bool vdgfe_reply_ack(const struct vdgfe *fe)
{
	return vu_has_bit(fe->protocol, VU_PROTOCOL_F_REPLY_ACK);
}

static void close_fds(int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		close(fds[i]);
	}
}

/* Receives the reply to req into reply (exactly len bytes), validated. */
static int recv_reply(struct vdgfe *fe, uint32_t req, void *reply, uint32_t len)
{
	struct vu_msg_header hdr;
	int fds[VU_MAX_FDS];
	unsigned int nfds = 0;
	int r = vdgfe_recv_raw(fe, &hdr, reply, len, fds, &nfds, -1);

	if (r < 0) {
		fprintf(stderr, "vdgfe: no reply to request %u: %s\n", req, strerror(-r));
		return r;
	}
	close_fds(fds, nfds);
	if (hdr.flags != (VU_VERSION | VU_FLAG_REPLY) || hdr.request != req || hdr.size != len ||
		nfds) {
		fprintf(stderr,
			"vdgfe: bad reply to request %u: request %u flags 0x%x size %u "
			"(want %u) fds %u\n",
			req, hdr.request, hdr.flags, hdr.size, len, nfds);
		return -EPROTO;
	}
	return 0;
}

int vdgfe_call(struct vdgfe *fe, uint32_t req, const void *payload, uint32_t len,
	const int *fds, unsigned int nfds, void *reply, uint32_t reply_len)
{
	int r = vdgfe_send_raw(fe, req, VU_VERSION, len, payload, len, fds, nfds);

	if (r < 0) {
		return r;
	}
	return recv_reply(fe, req, reply, reply_len);
}

int vdgfe_send(struct vdgfe *fe, uint32_t req, const void *payload, uint32_t len,
	const int *fds, unsigned int nfds, bool need_reply)
{
	bool ack = (need_reply || fe->cfg.ack_all) && vdgfe_reply_ack(fe);
	uint32_t flags = VU_VERSION | (ack ? VU_FLAG_NEED_REPLY : 0);
	uint64_t status;
	int r = vdgfe_send_raw(fe, req, flags, len, payload, len, fds, nfds);

	if (r < 0 || !ack) {
		return r;
	}
	r = recv_reply(fe, req, &status, sizeof(status));
	if (r < 0) {
		return r;
	}
	if (status != 0) {
		fprintf(stderr, "vdgfe: request %u acked with failure %llu\n", req,
			(unsigned long long)status);
		return -EIO;
	}
	return 0;
}

int vdgfe_get_u64(struct vdgfe *fe, uint32_t req, uint64_t *ret)
{
	return vdgfe_call(fe, req, NULL, 0, NULL, 0, ret, sizeof(*ret));
}

int vdgfe_set_u64(struct vdgfe *fe, uint32_t req, uint64_t val, bool need_reply)
{
	return vdgfe_send(fe, req, &val, sizeof(val), NULL, 0, need_reply);
}

int vdgfe_set_vring_state(struct vdgfe *fe, uint32_t req, uint32_t index, uint32_t num,
	bool need_reply)
{
	struct vu_vring_state st = { .index = index, .num = num };

	return vdgfe_send(fe, req, &st, sizeof(st), NULL, 0, need_reply);
}

int vdgfe_set_vring_file(struct vdgfe *fe, uint32_t req, unsigned int index, int fd)
{
	uint64_t v = index & VU_VRING_IDX_MASK;

	if (fd < 0) {
		v |= VU_VRING_NOFD_MASK;
		return vdgfe_send(fe, req, &v, sizeof(v), NULL, 0, false);
	}
	return vdgfe_send(fe, req, &v, sizeof(v), &fd, 1, false);
}

int vdgfe_get_config(struct vdgfe *fe, uint32_t offset, void *buf, uint32_t size)
{
	struct vu_config cfg = { .offset = offset, .size = size, .flags = 0 };
	struct vu_config reply;
	int r;

	if (size > VU_CONFIG_MAX_SIZE) {
		return -EINVAL;
	}
	r = vdgfe_call(fe, VU_REQ_GET_CONFIG, &cfg, VU_CONFIG_HDR_SIZE + size, NULL, 0, &reply,
		VU_CONFIG_HDR_SIZE + size);
	if (r < 0) {
		return r;
	}
	if (reply.offset != offset || reply.size != size) {
		return -EPROTO;
	}
	memcpy(buf, reply.region, size);
	return 0;
}

/* ---- QEMU's sequence ----------------------------------------------------------- */

static uint64_t wish_list(const struct vdgfe *fe)
{
	uint64_t w = fe->cfg.features_set ? fe->cfg.features : VDGFE_DEFAULT_FEATURES;

	if (fe->cfg.want_virgl) {
		w |= VU_BIT(VDGFE_GPU_F_VIRGL);
	}
	return w;
}

int vdgfe_negotiate(struct vdgfe *fe)
{
	uint64_t supported = VDGFE_PROTOCOL_SUPPORTED, f2;
	int r;

	r = vdgfe_get_u64(fe, VU_REQ_GET_FEATURES, &fe->backend_features);
	if (r < 0) {
		return r;
	}
	fe->protocol = 0;
	fe->backend_protocol = 0;
	if (vu_has_bit(fe->backend_features, VHOST_USER_F_PROTOCOL_FEATURES_BIT)) {
		r = vdgfe_get_u64(fe, VU_REQ_GET_PROTOCOL_FEATURES, &fe->backend_protocol);
		if (r < 0) {
			return r;
		}
		if (fe->cfg.use_mem_slots) {
			supported |= VU_BIT(VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS);
		}
		if (fe->cfg.use_status) {
			supported |= VU_BIT(VU_PROTOCOL_F_STATUS);
		}
		fe->protocol = fe->backend_protocol & supported & (VU_BIT(17) - 1);
		r = vdgfe_set_u64(fe, VU_REQ_SET_PROTOCOL_FEATURES, fe->protocol, false);
		if (r < 0) {
			return r;
		}
		if (!vu_has_bit(fe->protocol, VU_PROTOCOL_F_CONFIG)) {
			fprintf(stderr, "vdgfe: warning: back-end lacks PROTOCOL_F_CONFIG "
					"(QEMU refuses such a vhost-user-gpu back-end)\n");
		}
	}
	fe->queue_num = VDGFE_NUM_QUEUES;
	if (vu_has_bit(fe->protocol, VU_PROTOCOL_F_MQ)) {
		r = vdgfe_get_u64(fe, VU_REQ_GET_QUEUE_NUM, &fe->queue_num);
		if (r < 0) {
			return r;
		}
		if (fe->queue_num < VDGFE_NUM_QUEUES) {
			fprintf(stderr, "vdgfe: back-end has only %llu queues\n",
				(unsigned long long)fe->queue_num);
			return -EPROTO;
		}
	}
	if (vu_has_bit(fe->protocol, VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS)) {
		r = vdgfe_get_u64(fe, VU_REQ_GET_MAX_MEM_SLOTS, &fe->max_mem_slots);
		if (r < 0) {
			return r;
		}
	}
	r = vdgfe_send(fe, VU_REQ_SET_OWNER, NULL, 0, NULL, 0, false);
	if (r < 0) {
		return r;
	}
	r = vdgfe_get_u64(fe, VU_REQ_GET_FEATURES, &f2);
	if (r < 0) {
		return r;
	}
	if (f2 != fe->backend_features) {
		fprintf(stderr, "vdgfe: warning: GET_FEATURES changed from 0x%llx to 0x%llx\n",
			(unsigned long long)fe->backend_features, (unsigned long long)f2);
		fe->backend_features = f2;
	}
	/* Queues: controlq 256 if the back-end offers VIRGL else 64, cursorq 16. */
	unsigned int sizes[VDGFE_NUM_QUEUES] = {
		fe->cfg.ctrl_qsize ? fe->cfg.ctrl_qsize :
			(vu_has_bit(fe->backend_features, VDGFE_GPU_F_VIRGL) ? 256 : 64),
		fe->cfg.cursor_qsize ? fe->cfg.cursor_qsize : 16,
	};

	for (unsigned int q = 0; q < VDGFE_NUM_QUEUES; q++) {
		if (!fe->vqs[q].ready) {
			r = vdgfe_vq_setup(fe, &fe->vqs[q], q, sizes[q]);
			if (r < 0) {
				return r;
			}
		}
		r = vdgfe_set_vring_file(fe, VU_REQ_SET_VRING_CALL, q, fe->vqs[q].call_fd);
		if (r == 0) {
			r = vdgfe_set_vring_file(fe, VU_REQ_SET_VRING_ERR, q, fe->vqs[q].err_fd);
		}
		if (r < 0) {
			return r;
		}
	}
	return 0;
}

static int send_mem(struct vdgfe *fe)
{
	int fds[VDGFE_MAX_REGIONS];
	int r;

	if (vu_has_bit(fe->protocol, VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS)) {
		if (fe->mem_sent) {
			return 0;
		}
		for (unsigned int i = 0; i < fe->nregions; i++) {
			struct vu_single_mem_region m = { 0 };

			m.region.guest_phys_addr = fe->regions[i].gpa;
			m.region.memory_size = fe->regions[i].size;
			m.region.userspace_addr = (uintptr_t)fe->regions[i].hva;
			m.region.mmap_offset = 0;
			r = vdgfe_send(fe, VU_REQ_ADD_MEM_REG, &m, sizeof(m), &fe->regions[i].fd, 1,
				true);
			if (r < 0) {
				return r;
			}
		}
		fe->mem_sent = true;
		return 0;
	}
	struct vu_mem_table t;

	memset(&t, 0, sizeof(t));
	t.nregions = fe->nregions;
	for (unsigned int i = 0; i < fe->nregions; i++) {
		t.regions[i].guest_phys_addr = fe->regions[i].gpa;
		t.regions[i].memory_size = fe->regions[i].size;
		t.regions[i].userspace_addr = (uintptr_t)fe->regions[i].hva;
		t.regions[i].mmap_offset = 0;
		fds[i] = fe->regions[i].fd;
	}
	return vdgfe_send(fe, VU_REQ_SET_MEM_TABLE, &t,
		VU_MEM_TABLE_HDR_SIZE + fe->nregions * (uint32_t)sizeof(struct vu_mem_region), fds,
		fe->nregions, true);
}

static int set_status(struct vdgfe *fe, uint64_t add, bool replace)
{
	uint64_t st = 0;
	int r;

	if (!vu_has_bit(fe->protocol, VU_PROTOCOL_F_STATUS)) {
		return 0;
	}
	if (!replace) {
		r = vdgfe_get_u64(fe, VU_REQ_GET_STATUS, &st);
		if (r < 0) {
			return r;
		}
	}
	return vdgfe_set_u64(fe, VU_REQ_SET_STATUS, (st & 0xff) | add, true);
}

int vdgfe_start(struct vdgfe *fe)
{
	int sv[2];
	uint64_t f;
	int r;

	if (!fe->vqs[0].ready) {
		return -EINVAL;
	}
	/* Guest probe: the driver reads the config space (num_scanouts, capsets). */
	if (vu_has_bit(fe->protocol, VU_PROTOCOL_F_CONFIG)) {
		r = vdgfe_get_config(fe, 0, fe->gpu_config, sizeof(fe->gpu_config));
		if (r < 0) {
			return r;
		}
		fe->have_config = true;
	}
	/* Blocking, like QEMU's pair: the back-end's end must stay blocking. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		return -errno;
	}
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	vdgfe_sink_attach(&fe->sink, sv[0]);
	r = vdgfe_send(fe, VU_REQ_GPU_SET_SOCKET, NULL, 0, &sv[1], 1, false);
	close(sv[1]);
	if (r < 0) {
		return r;
	}
	fe->acked_features = fe->backend_features & wish_list(fe);
	if (vu_has_bit(fe->backend_features, VHOST_USER_F_PROTOCOL_FEATURES_BIT)) {
		fe->acked_features |= VU_BIT(VHOST_USER_F_PROTOCOL_FEATURES_BIT);
	}
	r = vdgfe_set_u64(fe, VU_REQ_SET_FEATURES, fe->acked_features, false);
	if (r == 0) {
		r = set_status(fe, STATUS_FEATURES_OK, false);
	}
	if (r == 0) {
		r = send_mem(fe);
	}
	if (r < 0) {
		return r;
	}
	for (unsigned int q = 0; q < VDGFE_NUM_QUEUES; q++) {
		struct vdgfe_vq *vq = &fe->vqs[q];
		struct vu_vring_addr a = { .index = q };

		vq->event_idx = vu_has_bit(fe->acked_features, VIRTIO_RING_F_EVENT_IDX_BIT);
		vq->indirect_ok = vu_has_bit(fe->acked_features, VIRTIO_RING_F_INDIRECT_DESC_BIT);
		if (!fe->rings_used) {
			vdgfe_vq_reset(vq);
			fe->vq_base[q] = 0;
		}
		a.desc_user_addr = (uintptr_t)vq->desc;
		a.used_user_addr = (uintptr_t)vq->used;
		a.avail_user_addr = (uintptr_t)vq->avail;
		r = vdgfe_set_vring_state(fe, VU_REQ_SET_VRING_NUM, q, vq->num, false);
		if (r == 0) {
			r = vdgfe_set_vring_state(fe, VU_REQ_SET_VRING_BASE, q, fe->vq_base[q],
				false);
		}
		if (r == 0) {
			r = vdgfe_send(fe, VU_REQ_SET_VRING_ADDR, &a, sizeof(a), NULL, 0, false);
		}
		if (r == 0) {
			r = vdgfe_set_vring_file(fe, VU_REQ_SET_VRING_KICK, q, vq->kick_fd);
		}
		if (r < 0) {
			return r;
		}
	}
	if (vu_has_bit(fe->acked_features, VHOST_USER_F_PROTOCOL_FEATURES_BIT)) {
		for (unsigned int q = 0; q < VDGFE_NUM_QUEUES; q++) {
			r = vdgfe_set_vring_state(fe, VU_REQ_SET_VRING_ENABLE, q, 1, false);
			if (r < 0) {
				return r;
			}
		}
	}
	r = set_status(fe, STATUS_ACK | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK,
		false);
	if (r < 0) {
		return r;
	}
	/* Unmask: QEMU hands over the irqfds now; we re-send our call eventfds. */
	for (unsigned int q = 0; q < VDGFE_NUM_QUEUES; q++) {
		r = vdgfe_set_vring_file(fe, VU_REQ_SET_VRING_CALL, q, fe->vqs[q].call_fd);
		if (r < 0) {
			return r;
		}
	}
	if (!fe->cfg.no_start_sync) {
		/* A round trip so that every message above has been handled. */
		r = vdgfe_get_u64(fe, VU_REQ_GET_FEATURES, &f);
		if (r < 0) {
			return r;
		}
	}
	fe->started = true;
	fe->rings_used = true;
	return 0;
}

int vdgfe_stop(struct vdgfe *fe, bool close_display, uint32_t ret_bases[VDGFE_NUM_QUEUES])
{
	int r;

	if (close_display) {
		vdgfe_sink_close(&fe->sink);
	}
	r = set_status(fe, 0, true);
	if (r < 0) {
		return r;
	}
	if (vu_has_bit(fe->acked_features, VHOST_USER_F_PROTOCOL_FEATURES_BIT)) {
		for (unsigned int q = 0; q < VDGFE_NUM_QUEUES; q++) {
			r = vdgfe_set_vring_state(fe, VU_REQ_SET_VRING_ENABLE, q, 0, false);
			if (r < 0) {
				return r;
			}
		}
	}
	for (unsigned int q = 0; q < VDGFE_NUM_QUEUES; q++) {
		struct vu_vring_state st = { .index = q, .num = 0 };
		struct vu_vring_state rep;

		r = vdgfe_call(fe, VU_REQ_GET_VRING_BASE, &st, sizeof(st), NULL, 0, &rep,
			sizeof(rep));
		if (r < 0) {
			return r;
		}
		if (rep.index != q) {
			fprintf(stderr, "vdgfe: GET_VRING_BASE(%u) answered index %u\n", q,
				rep.index);
			return -EPROTO;
		}
		fe->vq_base[q] = rep.num;
		if (ret_bases) {
			ret_bases[q] = rep.num;
		}
	}
	fe->started = false;
	return 0;
}
