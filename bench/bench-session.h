/* SPDX-License-Identifier: MIT */
/*
 * One benchmark session: a fresh back-end process and the test front-end
 * (tools/vdg-frontend) connected to it, plus what the timed loops need that
 * the library's general-purpose paths would add overhead to:
 *  - two pre-allocated command slots in guest RAM, put on the control queue
 *    with vdgfe_vq_add() and completed by spinning on the used ring;
 *  - a display-socket reader that never blocks and proves frames: it reads
 *    every message in full and matches an UPDATE against the rect and the
 *    frame number expected in its first and last pixel;
 *  - resource backing in guest RAM, in 4 KiB entries whose pages are
 *    shuffled (as a guest's scattered pages are) or in one entry.
 * Functions return >= 0 or a negative errno and say why on stderr.
 */
#ifndef BENCH_SESSION_H
#define BENCH_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "bench-util.h"
#include "frontend.h"
#include "gpu-driver.h"

#define BENCH_W 1920u
#define BENCH_H 1080u
#define BENCH_STRIDE (BENCH_W * 4u)
#define BENCH_FRAME_BYTES ((uint64_t)BENCH_STRIDE * BENCH_H)
#define BENCH_PAGE 4096u
/* Resource format: the byte order of the display protocol (x8r8g8b8). */
#define BENCH_FORMAT VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM
#define BENCH_NSLOTS 2

struct bench_slot {
	uint64_t req_gpa, resp_gpa;
	uint8_t *req, *resp; /* our mapping of the two */
	uint32_t resp_cap;
	bool done;
	uint32_t used_len;
};

struct bench_reader {
	int fd;
	struct vugpu_msg_header hdr;
	size_t hdr_got;
	bool in_payload;
	uint8_t *buf;
	size_t cap, got;
	/* the UPDATE we wait for */
	bool expecting, matched;
	struct vugpu_update want;
	uint32_t want_px;
	uint64_t updates, bytes;
};

struct bench_layout {
	uint64_t gpa;      /* one guest-contiguous range */
	uint8_t *hva;
	uint64_t size;
	uint32_t entry;    /* bytes per backing entry; 0: one entry */
	uint32_t n;        /* entries */
	uint32_t *perm;    /* entry i covers page perm[i] of the range (NULL: in order) */
};

struct bench_session {
	struct bench_backend *be;
	struct vdgfe *fe;
	struct bench_reader rd;
	struct bench_slot slot[BENCH_NSLOTS];
	uint32_t seq; /* last frame number used */
};

/* Starts be's process on CPU 0 and a started front-end with mem_size of guest RAM. */
int bench_session_open(struct bench_session *s, struct bench_backend *be, const char *dir,
	unsigned int seq, uint64_t mem_size);
/* Disconnects and ends the process; safe on a half-open session. */
void bench_session_close(struct bench_session *s);
/* The next frame number: 24 bits, never 0. */
uint32_t bench_next_seq(struct bench_session *s);

/* Guest RAM for size bytes; entry 0 = one backing entry, else entry-byte entries. */
int bench_layout_create(struct bench_session *s, struct bench_layout *l, uint64_t size,
	uint32_t entry, bool scatter);
void bench_layout_finish(struct bench_session *s, struct bench_layout *l);
/* Writes v at byte offset off of the resource's linear backing. */
void bench_layout_put32(const struct bench_layout *l, uint64_t off, uint32_t v);

/* RESOURCE_CREATE_2D (1920x1080) + ATTACH_BACKING of l, through the library. */
int bench_resource_setup(struct bench_session *s, uint32_t res, const struct bench_layout *l);

/* Puts req (len bytes) on the control queue in slot i, without kicking. */
int bench_submit(struct bench_session *s, unsigned int i, const void *req, size_t len);
int bench_kick(struct bench_session *s);
/*
 * Spins until slots 0..nslots-1 are done and, if want_update, the expected
 * UPDATE was read in full; serve_sink lets the library's display sink answer
 * the back-end's queries meanwhile (only when the reader is idle).
 */
int bench_wait(struct bench_session *s, unsigned int nslots, bool want_update, bool serve_sink);
/* Response type of a done slot (host order), 0 if shorter than a header. */
uint32_t bench_slot_type(const struct bench_session *s, unsigned int i);

void bench_reader_expect(struct bench_reader *rd, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
	uint32_t px);
/* True between messages (the library's sink may read the socket then). */
bool bench_reader_idle(const struct bench_reader *rd);

#endif /* BENCH_SESSION_H */
