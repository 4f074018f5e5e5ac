/* SPDX-License-Identifier: MIT */
/* A back-end process with the test front-end attached; spinning waits; frame proofs. */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bench-session.h"

/* Largest display message we accept: a 1080p UPDATE is 8 MiB. */
#define READER_MAX_MSG (64u << 20)
/* Every wait gives up after this long: a back-end that stalls fails the run. */
#define WAIT_TIMEOUT_NS (UINT64_C(5) * 1000000000u)
/* Room for the largest response we ask for (display info). */
#define SLOT_RESP_CAP 512u
#define SLOT_REQ_CAP 256u
#define CPU_BACKEND 0

int bench_session_open(struct bench_session *s, struct bench_backend *be, const char *dir,
	unsigned int seq, uint64_t mem_size)
{
	static const char *const ours_args[] = { "--gpu-mode", "2d", NULL };
	struct virtio_gpu_resp_display_info info;
	struct vdgfe_config cfg;
	int r;

	memset(s, 0, sizeof(*s));
	s->be = be;
	s->rd.fd = -1;
	r = bench_backend_start(be, dir, seq, CPU_BACKEND, ours_args);
	if (r < 0) {
		return r;
	}
	vdgfe_config_init(&cfg);
	cfg.socket_path = be->sock;
	cfg.connect_timeout_ms = 5000;
	cfg.mem_size = mem_size;
	cfg.spin = true;
	/* the same display for both back-ends: QEMU 7.2's, one 1080p output */
	cfg.sink.protocol_features = 0;
	cfg.sink.outputs = 1;
	cfg.sink.width = BENCH_W;
	cfg.sink.height = BENCH_H;
	cfg.sink.keep_pixels = false;
	s->fe = vdgfe_create(&cfg);
	if (!s->fe) {
		r = -errno;
		fprintf(stderr, "bench: %s: cannot connect to %s: %s\n", be->name, be->sock,
			strerror(-r));
		return r;
	}
	r = vdgfe_negotiate(s->fe);
	if (r == 0) {
		r = vdgfe_start(s->fe);
	}
	if (r < 0) {
		fprintf(stderr, "bench: %s: session start failed: %s\n", be->name, strerror(-r));
		return r;
	}
	/* what a guest driver does first; also checks the display channel works */
	r = vdgfe_gpu_get_display_info(s->fe, &info);
	if (r != VIRTIO_GPU_RESP_OK_DISPLAY_INFO || le32toh(info.pmodes[0].r.width) != BENCH_W) {
		fprintf(stderr, "bench: %s: GET_DISPLAY_INFO answered 0x%x\n", be->name, r);
		return r < 0 ? r : -EPROTO;
	}
	for (unsigned int i = 0; i < BENCH_NSLOTS; i++) {
		struct bench_slot *c = &s->slot[i];

		r = vdgfe_mem_alloc(s->fe, SLOT_REQ_CAP, 64, VDGFE_MEM_CONTIG, &c->req_gpa);
		if (r == 0) {
			r = vdgfe_mem_alloc(s->fe, SLOT_RESP_CAP, 64, VDGFE_MEM_CONTIG, &c->resp_gpa);
		}
		if (r < 0) {
			return r;
		}
		c->req = vdgfe_gpa_to_hva(s->fe, c->req_gpa, SLOT_REQ_CAP);
		c->resp = vdgfe_gpa_to_hva(s->fe, c->resp_gpa, SLOT_RESP_CAP);
		c->resp_cap = SLOT_RESP_CAP;
	}
	s->rd.fd = s->fe->sink.fd;
	return 0;
}

void bench_session_close(struct bench_session *s)
{
	s->fe = vdgfe_destroy(s->fe);
	free(s->rd.buf);
	s->rd.buf = NULL;
	if (s->be) {
		/* QEMU's back-end exits when its connection ends; ours keeps listening */
		int st = bench_backend_stop(s->be, s->be->qemu ? 2000 : 0);

		(void)st;
	}
}

uint32_t bench_next_seq(struct bench_session *s)
{
	s->seq = (s->seq + 1) & 0xffffffu;
	if (s->seq == 0) {
		s->seq = 1;
	}
	return s->seq;
}

/* ---- backing --------------------------------------------------------------------- */

/* A fixed shuffle, so that every run and back-end sees the same page order. */
static void shuffle(uint32_t *v, uint32_t n)
{
	uint64_t x = 0x9e3779b97f4a7c15u;

	for (uint32_t i = 0; i < n; i++) {
		v[i] = i;
	}
	for (uint32_t i = n; i > 1; i--) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint32_t j = (uint32_t)(x % i), t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

int bench_layout_create(struct bench_session *s, struct bench_layout *l, uint64_t size,
	uint32_t entry, bool scatter)
{
	uint64_t alloc = (size + BENCH_PAGE - 1) / BENCH_PAGE * BENCH_PAGE;
	int r;

	memset(l, 0, sizeof(*l));
	if (scatter && entry != BENCH_PAGE) {
		return -EINVAL;
	}
	r = vdgfe_mem_alloc(s->fe, alloc, BENCH_PAGE, VDGFE_MEM_CONTIG, &l->gpa);
	if (r < 0) {
		fprintf(stderr, "bench: no guest RAM for %llu bytes of backing\n",
			(unsigned long long)alloc);
		return r;
	}
	l->hva = vdgfe_gpa_to_hva(s->fe, l->gpa, alloc);
	l->size = size;
	l->entry = entry;
	l->n = entry ? (uint32_t)((size + entry - 1) / entry) : 1;
	if (scatter) {
		l->perm = malloc((size_t)l->n * sizeof(*l->perm));
		if (!l->perm) {
			return -ENOMEM;
		}
		shuffle(l->perm, l->n);
	}
	return 0;
}

void bench_layout_finish(struct bench_session *s, struct bench_layout *l)
{
	if (l->hva && s->fe) {
		vdgfe_mem_free(s->fe, l->gpa, (l->size + BENCH_PAGE - 1) / BENCH_PAGE * BENCH_PAGE);
	}
	free(l->perm);
	memset(l, 0, sizeof(*l));
}

static uint64_t layout_where(const struct bench_layout *l, uint64_t off)
{
	if (!l->perm) {
		return off;
	}
	return (uint64_t)l->perm[off / BENCH_PAGE] * BENCH_PAGE + off % BENCH_PAGE;
}

void bench_layout_put32(const struct bench_layout *l, uint64_t off, uint32_t v)
{
	uint32_t le = htole32(v);

	/* pixels are 4-byte aligned, so one never straddles two pages */
	memcpy(l->hva + layout_where(l, off), &le, sizeof(le));
}

int bench_resource_setup(struct bench_session *s, uint32_t res, const struct bench_layout *l)
{
	struct virtio_gpu_resource_attach_backing *req;
	struct virtio_gpu_mem_entry *ents;
	size_t len = sizeof(*req) + (size_t)l->n * sizeof(*ents);
	int r;

	r = vdgfe_gpu_resource_create_2d(s->fe, res, BENCH_FORMAT, BENCH_W, BENCH_H);
	if (r != VIRTIO_GPU_RESP_OK_NODATA) {
		fprintf(stderr, "bench: %s: RESOURCE_CREATE_2D %u answered 0x%x\n", s->be->name,
			res, r);
		return r < 0 ? r : -EPROTO;
	}
	req = calloc(1, len);
	if (!req) {
		return -ENOMEM;
	}
	vdgfe_gpu_hdr(s->fe, &req->hdr, VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING);
	req->resource_id = htole32(res);
	req->nr_entries = htole32(l->n);
	ents = (struct virtio_gpu_mem_entry *)(req + 1);
	for (uint32_t i = 0; i < l->n; i++) {
		uint64_t off = (uint64_t)i * l->entry;
		uint64_t elen = l->entry ? l->size - off : l->size;

		if (l->entry && elen > l->entry) {
			elen = l->entry;
		}
		ents[i].addr = htole64(l->gpa + layout_where(l, off));
		ents[i].length = htole32((uint32_t)elen);
	}
	r = vdgfe_gpu_exec(s->fe, VDGFE_CTRLQ, req, len, NULL, 0, NULL);
	free(req);
	if (r != VIRTIO_GPU_RESP_OK_NODATA) {
		fprintf(stderr, "bench: %s: ATTACH_BACKING %u (%u entries) answered 0x%x\n",
			s->be->name, res, l->n, r);
		return r < 0 ? r : -EPROTO;
	}
	return 0;
}

/* ---- commands ----------------------------------------------------------------------- */

int bench_submit(struct bench_session *s, unsigned int i, const void *req, size_t len)
{
	struct bench_slot *c = &s->slot[i];
	struct vdgfe_buf out = { c->req_gpa, (uint32_t)len };
	struct vdgfe_buf in = { c->resp_gpa, c->resp_cap };
	int r;

	if (len > SLOT_REQ_CAP) {
		return -EINVAL;
	}
	memcpy(c->req, req, len);
	memset(c->resp, 0, sizeof(struct virtio_gpu_ctrl_hdr));
	c->done = false;
	c->used_len = 0;
	r = vdgfe_vq_add(s->fe, &s->fe->vqs[VDGFE_CTRLQ], &out, 1, &in, 1, 0, c);
	return r < 0 ? r : 0;
}

int bench_kick(struct bench_session *s)
{
	int r = vdgfe_vq_kick(&s->fe->vqs[VDGFE_CTRLQ], false);

	return r < 0 ? r : 0;
}

uint32_t bench_slot_type(const struct bench_session *s, unsigned int i)
{
	const struct bench_slot *c = &s->slot[i];
	struct virtio_gpu_ctrl_hdr hdr;

	if (c->used_len < sizeof(hdr)) {
		return 0;
	}
	memcpy(&hdr, c->resp, sizeof(hdr));
	return le32toh(hdr.type);
}

static int reap(struct bench_session *s)
{
	for (;;) {
		uint32_t head, len;
		void *token;
		int r = vdgfe_vq_get_used(s->fe, &s->fe->vqs[VDGFE_CTRLQ], &head, &len, &token);

		if (r <= 0) {
			return r;
		}
		struct bench_slot *c = token;

		if (c < s->slot || c >= s->slot + BENCH_NSLOTS) {
			fprintf(stderr, "bench: used element %u is not ours\n", head);
			return -EPROTO;
		}
		c->done = true;
		c->used_len = len;
	}
}

/* ---- display reader ----------------------------------------------------------------- */

void bench_reader_expect(struct bench_reader *rd, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
	uint32_t px)
{
	rd->want = (struct vugpu_update){ 0, x, y, w, h };
	rd->want_px = px;
	rd->expecting = true;
	rd->matched = false;
}

bool bench_reader_idle(const struct bench_reader *rd)
{
	return rd->hdr_got == 0 && !rd->in_payload;
}

static int reader_message(struct bench_reader *rd)
{
	const struct vugpu_msg_header *h = &rd->hdr;
	struct vugpu_update u;
	uint32_t first, last;

	switch (h->request) {
	case VUGPU_UPDATE:
		break;
	case VUGPU_SCANOUT:
	case VUGPU_CURSOR_POS:
	case VUGPU_CURSOR_POS_HIDE:
	case VUGPU_CURSOR_UPDATE:
	case VUGPU_SET_PROTOCOL_FEATURES:
		return 0; /* nothing to answer */
	default:
		fprintf(stderr, "bench: display request %u during a timed loop (not answered)\n",
			h->request);
		return -EPROTO;
	}
	if (h->size < sizeof(u)) {
		fprintf(stderr, "bench: UPDATE of %u bytes\n", h->size);
		return -EPROTO;
	}
	memcpy(&u, rd->buf, sizeof(u));
	if ((uint64_t)u.width * u.height * 4 + sizeof(u) != h->size || u.width == 0 ||
		u.height == 0) {
		fprintf(stderr, "bench: UPDATE %ux%u with %u bytes\n", u.width, u.height, h->size);
		return -EPROTO;
	}
	memcpy(&first, rd->buf + sizeof(u), 4);
	memcpy(&last, rd->buf + h->size - 4, 4);
	rd->updates++;
	rd->bytes += h->size - sizeof(u);
	/* the X byte may be rewritten on the way; the 24-bit number is what counts */
	if (!rd->expecting || u.scanout_id != rd->want.scanout_id || u.x != rd->want.x ||
		u.y != rd->want.y || u.width != rd->want.width || u.height != rd->want.height ||
		(le32toh(first) & 0xffffffu) != rd->want_px ||
		(le32toh(last) & 0xffffffu) != rd->want_px) {
		fprintf(stderr,
			"bench: unproven frame: UPDATE %u,%u %ux%u pixels 0x%06x/0x%06x, "
			"want %u,%u %ux%u frame 0x%06x\n",
			u.x, u.y, u.width, u.height, le32toh(first) & 0xffffffu,
			le32toh(last) & 0xffffffu, rd->want.x, rd->want.y, rd->want.width,
			rd->want.height, rd->want_px);
		return -EPROTO;
	}
	rd->matched = true;
	rd->expecting = false;
	return 0;
}

/* Reads whatever is there, never waiting. Returns messages completed, or -errno. */
static int reader_poll(struct bench_reader *rd)
{
	int done = 0;

	for (;;) {
		uint8_t *dst;
		size_t want;
		ssize_t n;

		if (!rd->in_payload) {
			dst = (uint8_t *)&rd->hdr + rd->hdr_got;
			want = sizeof(rd->hdr) - rd->hdr_got;
		} else {
			dst = rd->buf + rd->got;
			want = rd->hdr.size - rd->got;
		}
		n = want ? recv(rd->fd, dst, want, MSG_DONTWAIT) : 0;
		if (want && n < 0) {
			if (errno == EINTR) {
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				return done;
			}
			fprintf(stderr, "bench: display socket: %s\n", strerror(errno));
			return -errno;
		}
		if (want && n == 0) {
			fprintf(stderr, "bench: display socket closed by the back-end\n");
			return -ECONNRESET;
		}
		if (!rd->in_payload) {
			rd->hdr_got += (size_t)n;
			if (rd->hdr_got < sizeof(rd->hdr)) {
				continue;
			}
			if (rd->hdr.size > READER_MAX_MSG) {
				fprintf(stderr, "bench: display message of %u bytes\n", rd->hdr.size);
				return -EPROTO;
			}
			if (rd->hdr.size > rd->cap) {
				uint8_t *b = realloc(rd->buf, rd->hdr.size);

				if (!b) {
					return -ENOMEM;
				}
				rd->buf = b;
				rd->cap = rd->hdr.size;
			}
			rd->in_payload = true;
			rd->got = 0;
		} else {
			rd->got += (size_t)n;
		}
		if (rd->in_payload && rd->got == rd->hdr.size) {
			int r = reader_message(rd);

			rd->in_payload = false;
			rd->hdr_got = 0;
			if (r < 0) {
				return r;
			}
			done++;
		}
	}
}

int bench_wait(struct bench_session *s, unsigned int nslots, bool want_update, bool serve_sink)
{
	uint64_t deadline = bench_now_ns() + WAIT_TIMEOUT_NS;
	unsigned int spins = 0;

	for (;;) {
		bool all = true;
		int r = reap(s);

		if (r < 0) {
			return r;
		}
		if (want_update) {
			r = reader_poll(&s->rd);
			if (r < 0) {
				return r;
			}
		}
		if (serve_sink && bench_reader_idle(&s->rd)) {
			r = vdgfe_service(s->fe);
			if (r < 0) {
				return r;
			}
		}
		for (unsigned int i = 0; i < nslots; i++) {
			all = all && s->slot[i].done;
		}
		if (all && (!want_update || s->rd.matched)) {
			return 0;
		}
		if ((++spins & 0xfff) == 0 && bench_now_ns() > deadline) {
			fprintf(stderr, "bench: %s: no %s within 5 s\n", s->be->name,
				all ? "UPDATE" : "response");
			return -ETIMEDOUT;
		}
	}
}
