/* SPDX-License-Identifier: MIT */
/*
 * The vhost-user-gpu display channel: the socket QEMU hands over with
 * VHOST_USER_GPU_SET_SOCKET. We send requests; QEMU answers some of them,
 * strictly in order.
 *
 * Nothing here blocks the event loop: output goes out with non-blocking
 * sends and waits in a queue when the socket is full (QEMU may be busy, or
 * even waiting on *our* control socket); replies arrive through the loop.
 * While output is queued or a reply is awaited the sink reports busy, so the
 * device holds further commands; pixel data stays borrowed until then.
 *
 * Everything the device is told (replies, idle, closed) is told from this
 * channel's own loop callbacks, never from inside a call the device made,
 * so the device can destroy the channel from its closed() handler.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "display.h"
#include "fd.h"
#include "log.h"

/* How long QEMU may take to answer. It answers at once unless a GL frame is in flight. */
#define VUGPU_REPLY_TIMEOUT_MS 5000
/*
 * Replies we may wait for at once: the device asks nothing new while one is
 * awaited (see busy), but one RESOURCE_FLUSH sends a DMABUF_UPDATE to every
 * scanout showing the resource, each acked; plus protocol features and one
 * display info or EDID request.
 */
#define VUGPU_MAX_PENDING (VIRTIO_GPU_MAX_SCANOUTS + 2)
/* The largest reply: struct virtio_gpu_resp_edid. */
#define VUGPU_MAX_REPLY sizeof(struct virtio_gpu_resp_edid)
/* Frames are large; a deeper socket buffer means fewer wake-ups per frame. */
#define VUGPU_SNDBUF_BYTES (8 * 1024 * 1024)

struct out_msg {
	struct out_msg *next;
	struct iovec iov[2];
	int iovcnt;
	int fd; /* sent with the first byte, then closed; -1 if none */
	void *owned_data;
	uint8_t head[]; /* header + fixed payload */
};

struct pending_reply {
	uint32_t request;
	uint32_t size;
	disp_reply_fn fn;
	void *data;
};

struct vugpu_chan {
	struct disp_sink base;
	struct event_loop *loop;
	int fd;
	struct event_source *src;
	struct event_source *reply_timer;
	struct event_source *fail_timer;
	bool failed;
	bool want_out;

	struct out_msg *out_head, *out_tail;

	struct pending_reply pending[VUGPU_MAX_PENDING];
	unsigned int pending_first, npending;

	struct vugpu_msg_header rhdr;
	uint8_t rbuf[VUGPU_MAX_REPLY];
	size_t rhave;

	uint64_t protocol_features;
};

static const struct disp_ops vugpu_ops;

static struct vugpu_chan *chan_from_sink(struct disp_sink *sink)
{
	return sink->ops == &vugpu_ops ? (struct vugpu_chan *)sink : NULL;
}

static void out_free(struct out_msg *m)
{
	if (m->fd >= 0) {
		close(m->fd);
	}
	free(m->owned_data);
	free(m);
}

/* Stops using the socket now; tells the device from the loop, see the file comment. */
static void chan_fail(struct vugpu_chan *chan, const char *why, int err)
{
	if (chan->failed) {
		return;
	}
	if (err == -EPIPE || err == -ECONNRESET || err == 0) {
		log_info("display channel closed by the frontend");
	} else {
		log_frontend("display channel dropped: %s (%s)", why, strerror(-err));
	}
	chan->failed = true;
	event_source_remove(chan->src);
	chan->src = NULL;
	close(chan->fd);
	chan->fd = -1;
	event_source_timer_arm(chan->reply_timer, 0);
	event_source_timer_arm(chan->fail_timer, 1);
}

static bool chan_busy(struct vugpu_chan *chan)
{
	return !chan->failed && (chan->npending > 0 || chan->out_head != NULL);
}

static void set_want_out(struct vugpu_chan *chan, bool want)
{
	if (chan->want_out != want && chan->src) {
		event_source_set_events(chan->src, EPOLLIN | (want ? EPOLLOUT : 0));
		chan->want_out = want;
	}
}

/* Sends queued output until done or the socket is full. Returns 0 or -errno. */
static int flush_out(struct vugpu_chan *chan)
{
	while (chan->out_head && !chan->failed) {
		struct out_msg *m = chan->out_head;
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} control;
		struct msghdr msg = { .msg_iov = m->iov, .msg_iovlen = (size_t)m->iovcnt };
		ssize_t n;

		if (m->fd >= 0) {
			memset(&control, 0, sizeof(control));
			msg.msg_control = control.buf;
			msg.msg_controllen = sizeof(control.buf);
			struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &m->fd, sizeof(int));
		}
		n = sendmsg(chan->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			if (errno == EAGAIN) {
				set_want_out(chan, true);
				return 0;
			}
			int err = -errno;
			chan_fail(chan, "send failed", err);
			return err;
		}
		if (m->fd >= 0) {
			close(m->fd);
			m->fd = -1;
		}
		/* advance the iov past what went out */
		size_t left = (size_t)n;
		int i = 0;
		while (i < m->iovcnt && left >= m->iov[i].iov_len) {
			left -= m->iov[i].iov_len;
			i++;
		}
		if (i == m->iovcnt) {
			chan->out_head = m->next;
			if (!chan->out_head) {
				chan->out_tail = NULL;
			}
			out_free(m);
			continue;
		}
		memmove(m->iov, m->iov + i, sizeof(m->iov[0]) * (size_t)(m->iovcnt - i));
		m->iovcnt -= i;
		m->iov[0].iov_base = (uint8_t *)m->iov[0].iov_base + left;
		m->iov[0].iov_len -= left;
	}
	set_want_out(chan, false);
	return 0;
}

/*
 * Queues one message: header, fixed payload (copied), optional data
 * (borrowed unless owned_data is set) and fd (taken). Then sends what it can.
 */
static int chan_send(struct vugpu_chan *chan, uint32_t request, const void *payload,
	size_t payload_len, const void *data, size_t data_len, void *owned_data, int fd)
{
	struct vugpu_msg_header hdr = { .request = request, .flags = 0 };
	struct out_msg *m;

	if (chan->failed) {
		free(owned_data);
		if (fd >= 0) {
			close(fd);
		}
		return -EPIPE;
	}
	if (payload_len + data_len > UINT32_MAX) {
		free(owned_data);
		if (fd >= 0) {
			close(fd);
		}
		return -EMSGSIZE;
	}
	hdr.size = (uint32_t)(payload_len + data_len);
	m = malloc(sizeof(*m) + sizeof(hdr) + payload_len);
	if (!m) {
		free(owned_data);
		if (fd >= 0) {
			close(fd);
		}
		return -ENOMEM;
	}
	memcpy(m->head, &hdr, sizeof(hdr));
	if (payload_len) {
		memcpy(m->head + sizeof(hdr), payload, payload_len);
	}
	m->next = NULL;
	m->fd = fd;
	m->owned_data = owned_data;
	m->iov[0] = (struct iovec){ m->head, sizeof(hdr) + payload_len };
	m->iovcnt = 1;
	if (data_len) {
		m->iov[1] = (struct iovec){ (void *)data, data_len };
		m->iovcnt = 2;
	}
	if (chan->out_tail) {
		chan->out_tail->next = m;
	} else {
		chan->out_head = m;
	}
	chan->out_tail = m;
	return flush_out(chan);
}

static int expect_reply(struct vugpu_chan *chan, uint32_t request, uint32_t size,
	disp_reply_fn fn, void *data)
{
	struct pending_reply *p;

	if (chan->npending == VUGPU_MAX_PENDING) {
		return -EBUSY;
	}
	p = &chan->pending[(chan->pending_first + chan->npending) % VUGPU_MAX_PENDING];
	*p = (struct pending_reply){ request, size, fn, data };
	if (chan->npending++ == 0) {
		event_source_timer_arm(chan->reply_timer, VUGPU_REPLY_TIMEOUT_MS);
	}
	return 0;
}

static int chan_request(struct vugpu_chan *chan, uint32_t request, const void *payload,
	size_t len, uint32_t reply_size, disp_reply_fn fn, void *data)
{
	int r;

	if (chan->failed) {
		return -EPIPE;
	}
	r = expect_reply(chan, request, reply_size, fn, data);
	if (r < 0) {
		return r;
	}
	r = chan_send(chan, request, payload, len, NULL, 0, NULL, -1);
	if (r < 0) {
		/* the fail timer answers the pending entry; nothing else to do */
		return 0;
	}
	return 0;
}

/* A complete reply arrived: hand it to whoever asked. */
static void reply_done(struct vugpu_chan *chan)
{
	struct pending_reply p = chan->pending[chan->pending_first];

	chan->pending_first = (chan->pending_first + 1) % VUGPU_MAX_PENDING;
	chan->npending--;
	event_source_timer_arm(chan->reply_timer, chan->npending ? VUGPU_REPLY_TIMEOUT_MS : 0);
	p.fn(p.data, 0, chan->rbuf, chan->rhdr.size);
}

static void read_replies(struct vugpu_chan *chan)
{
	while (!chan->failed) {
		const size_t hsize = sizeof(chan->rhdr);
		size_t nfds = 0;
		int fds[1];
		uint8_t *dst;
		size_t want;
		ssize_t n;

		if (chan->rhave < hsize) {
			dst = (uint8_t *)&chan->rhdr + chan->rhave;
			want = hsize - chan->rhave;
		} else {
			dst = chan->rbuf + (chan->rhave - hsize);
			want = chan->rhdr.size - (chan->rhave - hsize);
		}
		if (want > 0) {
			n = fd_recv(chan->fd, dst, want, fds, &nfds, 0);
			if (n == -EAGAIN) {
				return;
			}
			if (n <= 0) {
				chan_fail(chan, "receive failed", n == 0 ? 0 : (int)n);
				return;
			}
			chan->rhave += (size_t)n;
		}
		if (chan->rhave == hsize) {
			const struct pending_reply *p = &chan->pending[chan->pending_first];

			/* QEMU answers strictly in order, with exactly the documented size */
			if (chan->npending == 0 || chan->rhdr.request != p->request ||
				chan->rhdr.flags != VUGPU_FLAG_REPLY || chan->rhdr.size != p->size) {
				log_frontend("unexpected display reply: request %u, flags 0x%x, size %u",
					chan->rhdr.request, chan->rhdr.flags, chan->rhdr.size);
				chan_fail(chan, "protocol error", -EPROTO);
				return;
			}
		}
		if (chan->rhave >= hsize && chan->rhave - hsize == chan->rhdr.size) {
			chan->rhave = 0;
			reply_done(chan);
		}
	}
}

static void on_socket(void *data, int fd, uint32_t events)
{
	struct vugpu_chan *chan = data;
	bool was_busy = chan_busy(chan);

	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		read_replies(chan);
	}
	if (!chan->failed && (events & EPOLLOUT)) {
		flush_out(chan);
	}
	if (was_busy && !chan->failed && !chan_busy(chan) && chan->base.events.idle) {
		chan->base.events.idle(chan->base.events.data);
	}
}

static void on_reply_timeout(void *data)
{
	struct vugpu_chan *chan = data;

	chan_fail(chan, "no reply in time", -ETIMEDOUT);
}

static void on_fail(void *data)
{
	struct vugpu_chan *chan = data;

	/* answer every waiter, then let the device drop us */
	while (chan->npending > 0) {
		struct pending_reply p = chan->pending[chan->pending_first];

		chan->pending_first = (chan->pending_first + 1) % VUGPU_MAX_PENDING;
		chan->npending--;
		p.fn(p.data, -EPIPE, NULL, 0);
	}
	while (chan->out_head) {
		struct out_msg *m = chan->out_head;

		chan->out_head = m->next;
		out_free(m);
	}
	chan->out_tail = NULL;
	if (chan->base.events.closed) {
		chan->base.events.closed(chan->base.events.data); /* may destroy chan */
	}
}

static void protocol_features_reply(void *data, int status, const void *reply, size_t len)
{
	struct vugpu_chan *chan = data;
	uint64_t offered = 0, ours = (UINT64_C(1) << VUGPU_PROTOCOL_F_EDID) |
		(UINT64_C(1) << VUGPU_PROTOCOL_F_DMABUF2);

	if (status < 0) {
		return;
	}
	memcpy(&offered, reply, sizeof(offered));
	chan->protocol_features = offered & ours;
	log_debug("display protocol features: frontend 0x%llx, using 0x%llx",
		(unsigned long long)offered, (unsigned long long)chan->protocol_features);
	chan_send(chan, VUGPU_SET_PROTOCOL_FEATURES, &chan->protocol_features,
		sizeof(chan->protocol_features), NULL, 0, NULL, -1);
}

/* ---- sink ops ---- */

static void vugpu_destroy(struct disp_sink *sink)
{
	struct vugpu_chan *chan = chan_from_sink(sink);

	event_source_remove(chan->src);
	event_source_remove(chan->reply_timer);
	event_source_remove(chan->fail_timer);
	if (chan->fd >= 0) {
		close(chan->fd);
	}
	while (chan->out_head) {
		struct out_msg *m = chan->out_head;

		chan->out_head = m->next;
		out_free(m);
	}
	/* waiters are not called back: whoever destroys us owns them */
	free(chan);
}

static bool vugpu_busy(struct disp_sink *sink)
{
	return chan_busy(chan_from_sink(sink));
}

static int vugpu_scanout(struct disp_sink *sink, uint32_t scanout_id, uint32_t width,
	uint32_t height)
{
	struct vugpu_scanout s = { scanout_id, width, height };

	return chan_send(chan_from_sink(sink), VUGPU_SCANOUT, &s, sizeof(s), NULL, 0, NULL, -1);
}

/* Copies height rows of row bytes, stride apart, into one tight malloc'd buffer. */
__attribute__((noinline)) static uint8_t *gather_rows(const uint8_t *data, uint32_t stride, size_t row, uint32_t height)
{
	uint8_t *copy = malloc(row * height);

	if (copy) {
		for (uint32_t i = 0; i < height; i++) {
			memcpy(copy + i * row, data + (size_t)i * stride, row);
		}
	}
	return copy;
}

static int vugpu_update(struct disp_sink *sink, uint32_t scanout_id, uint32_t x, uint32_t y,
	uint32_t width, uint32_t height, const uint8_t *data, uint32_t stride, bool stable)
{
	struct vugpu_chan *chan = chan_from_sink(sink);
	struct vugpu_update u = { scanout_id, x, y, width, height };
	size_t row = (size_t)width * 4, len = row * height;
	uint8_t *copy = NULL;
	int r;

	if (len == 0) {
		return 0;
	}
	if (stride != row || (!stable && chan->out_head)) {
		/* the wire wants tight rows; gather them once */
		copy = gather_rows(data, stride, row, height);
		if (!copy) {
			return -ENOMEM;
		}
		data = copy;
	}
	bool borrowed = copy == NULL;

	r = chan_send(chan, VUGPU_UPDATE, &u, sizeof(u), data, len, copy, -1);
	if (r == 0 && borrowed && !stable && chan->out_tail) {
		/* part of unstable pixels still queued: keep our own copy of the rest */
		struct out_msg *m = chan->out_tail;
		struct iovec *last = &m->iov[m->iovcnt - 1];

		if ((const uint8_t *)last->iov_base >= data &&
			(const uint8_t *)last->iov_base < data + len) {
			void *rest = malloc(last->iov_len);

			if (!rest) {
				chan_fail(chan, "out of memory", -ENOMEM);
				return -ENOMEM;
			}
			memcpy(rest, last->iov_base, last->iov_len);
			last->iov_base = rest;
			m->owned_data = rest;
		}
	}
	return r;
}

static int vugpu_cursor_update(struct disp_sink *sink, const struct vugpu_cursor_update *cursor)
{
	return chan_send(chan_from_sink(sink), VUGPU_CURSOR_UPDATE, cursor, sizeof(*cursor), NULL,
		0, NULL, -1);
}

static int vugpu_cursor_move(struct disp_sink *sink, uint32_t scanout_id, uint32_t x, uint32_t y,
	bool visible)
{
	struct vugpu_cursor_pos pos = { scanout_id, x, y };

	return chan_send(chan_from_sink(sink), visible ? VUGPU_CURSOR_POS : VUGPU_CURSOR_POS_HIDE,
		&pos, sizeof(pos), NULL, 0, NULL, -1);
}

/* DRM_FORMAT_MOD_LINEAR: what QEMU assumes without DMABUF_SCANOUT2. */
#define VUGPU_MOD_LINEAR 0
/* VhostUserGpuDMABUFScanout.fd_flags: rows are stored top-down. */
#define VUGPU_DMABUF_FLAG_Y_0_TOP (1u << 0)

static int vugpu_dmabuf_scanout(struct disp_sink *sink, uint32_t scanout_id,
	const struct disp_dmabuf *buf, uint32_t x, uint32_t y, uint32_t width, uint32_t height)
{
	struct vugpu_chan *chan = chan_from_sink(sink);
	bool v2 = chan->protocol_features & (UINT64_C(1) << VUGPU_PROTOCOL_F_DMABUF2);
	struct vugpu_dmabuf_scanout2 m = { .dmabuf_scanout = { .scanout_id = scanout_id } };

	if (!buf) {
		/* no fd: QEMU releases the scanout's dma-buf and disables its GL scanout */
		return chan_send(chan, VUGPU_DMABUF_SCANOUT, &m.dmabuf_scanout,
			sizeof(m.dmabuf_scanout), NULL, 0, NULL, -1);
	}
	/* without DMABUF_SCANOUT2, QEMU imports the buffer as linear or implicit */
	if (!v2 && buf->modifier != VUGPU_MOD_LINEAR && buf->modifier != DISP_DMABUF_MOD_INVALID) {
		close(buf->fd);
		return -EOPNOTSUPP;
	}
	m.dmabuf_scanout = (struct vugpu_dmabuf_scanout){
		.scanout_id = scanout_id,
		.x = x,
		.y = y,
		.width = width,
		.height = height,
		.fd_width = buf->width,
		.fd_height = buf->height,
		.fd_stride = buf->stride,
		.fd_flags = buf->y0_top ? VUGPU_DMABUF_FLAG_Y_0_TOP : 0,
		.fd_drm_fourcc = (int32_t)buf->drm_fourcc,
	};
	m.modifier = buf->modifier;
	if (v2) {
		return chan_send(chan, VUGPU_DMABUF_SCANOUT2, &m, sizeof(m), NULL, 0, NULL, buf->fd);
	}
	return chan_send(chan, VUGPU_DMABUF_SCANOUT, &m.dmabuf_scanout, sizeof(m.dmabuf_scanout),
		NULL, 0, NULL, buf->fd);
}

static int vugpu_dmabuf_update(struct disp_sink *sink, uint32_t scanout_id, uint32_t x,
	uint32_t y, uint32_t width, uint32_t height, disp_reply_fn fn, void *data)
{
	struct vugpu_update u = { scanout_id, x, y, width, height };

	/* QEMU acks (empty reply) once the frame is drawn from the buffer */
	return chan_request(chan_from_sink(sink), VUGPU_DMABUF_UPDATE, &u, sizeof(u), 0, fn, data);
}

static int vugpu_get_display_info(struct disp_sink *sink, disp_reply_fn fn, void *data)
{
	return chan_request(chan_from_sink(sink), VUGPU_GET_DISPLAY_INFO, NULL, 0,
		sizeof(struct virtio_gpu_resp_display_info), fn, data);
}

static int vugpu_get_edid(struct disp_sink *sink, uint32_t scanout_id, disp_reply_fn fn,
	void *data)
{
	struct vugpu_chan *chan = chan_from_sink(sink);
	struct vugpu_edid_request req = { scanout_id };

	/* QEMU before 8.1 does not know GET_EDID and would never answer */
	if (!(chan->protocol_features & (UINT64_C(1) << VUGPU_PROTOCOL_F_EDID))) {
		return -EOPNOTSUPP;
	}
	return chan_request(chan, VUGPU_GET_EDID, &req, sizeof(req),
		sizeof(struct virtio_gpu_resp_edid), fn, data);
}

static const struct disp_ops vugpu_ops = {
	.name = "vhost-user-gpu",
	.destroy = vugpu_destroy,
	.busy = vugpu_busy,
	.scanout = vugpu_scanout,
	.update = vugpu_update,
	.cursor_update = vugpu_cursor_update,
	.cursor_move = vugpu_cursor_move,
	.get_display_info = vugpu_get_display_info,
	.get_edid = vugpu_get_edid,
	.dmabuf_scanout = vugpu_dmabuf_scanout,
	.dmabuf_update = vugpu_dmabuf_update,
};

uint64_t vugpu_chan_protocol_features(struct disp_sink *sink)
{
	struct vugpu_chan *chan = chan_from_sink(sink);

	return chan ? chan->protocol_features : 0;
}

struct disp_sink *vugpu_chan_create(struct event_loop *loop, int fd,
	const struct disp_events *events)
{
	struct vugpu_chan *chan = calloc(1, sizeof(*chan));
	int sndbuf = VUGPU_SNDBUF_BYTES;

	if (!chan) {
		close(fd);
		return NULL;
	}
	disp_init(&chan->base, &vugpu_ops, events);
	chan->loop = loop;
	chan->fd = fd;
	fd_set_nonblock(fd, true);
	/* root may exceed net.core.wmem_max; otherwise the kernel clamps it */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0) {
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	}
	chan->src = event_loop_add_fd(loop, fd, EPOLLIN, on_socket, chan);
	chan->reply_timer = event_loop_add_timer(loop, on_reply_timeout, chan);
	chan->fail_timer = event_loop_add_timer(loop, on_fail, chan);
	if (!chan->src || !chan->reply_timer || !chan->fail_timer) {
		vugpu_destroy(&chan->base);
		return NULL;
	}
	/* the first thing on a new socket: which display messages may we use? */
	chan_request(chan, VUGPU_GET_PROTOCOL_FEATURES, NULL, 0, sizeof(uint64_t),
		protocol_features_reply, chan);
	return &chan->base;
}
