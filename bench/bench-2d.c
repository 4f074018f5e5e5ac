/* SPDX-License-Identifier: MIT */
/*
 * vdg-bench-2d: our daemon (--gpu-mode 2d) against QEMU's vhost-user-gpu,
 * measured in one run by the same C front-end (tools/vdg-frontend), the
 * method of docs/bench.md: front-end on CPU 1, back-end on CPU 0, spinning
 * waits, back-ends interleaved A B A B with a fresh process per session,
 * every frame proven by a number in its first and last pixel.
 *
 *   vdg-bench-2d [--quick] [--rounds N] [--json FILE] [--qemu PATH] [DAEMON]
 *
 * Figures (see bench/README.md): full-frame 1080p TRANSFER_TO_HOST_2D +
 * RESOURCE_FLUSH frames/s; 64x64 damage flushes/s with 4 KiB and with one
 * backing entry; GET_DISPLAY_INFO round trip (as the guest sees it, and
 * forced through the frontend after a config read); RSS idle, with 64 1080p
 * resources with backing, and after one full transfer into each.
 *
 * Exit status 0; 1 if any frame could not be proven or a session failed.
 */
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench-session.h"

#ifndef BENCH_DEFAULT_DAEMON
#define BENCH_DEFAULT_DAEMON "vhost-device-gpu"
#endif
#define QEMU_BACKEND "/usr/lib/qemu/vhost-user-gpu"

#define CPU_FRONTEND 1
#define MAX_ROUNDS 9
#define NBACKENDS 2
#define MEM_RESOURCES 64u
#define RES_FRAME 1u
#define RES_ONE_ENTRY 2u
#define RES_MEM_FIRST 100u
#define DAMAGE 64u

enum figure {
	FIG_FRAMES,
	FIG_DAMAGE_4K,
	FIG_DAMAGE_1,
	FIG_GDI_MED,
	FIG_GDI_P99,
	FIG_GDI_FWD_MED,
	FIG_GDI_FWD_P99,
	FIG_RSS_IDLE,
	FIG_RSS_BACKING,
	FIG_RSS_TRANSFER,
	FIG_COUNT,
};

struct figure_info {
	const char *key;
	const char *label;
	bool lower_better;
	int prec; /* decimals printed */
};

static const struct figure_info figures[FIG_COUNT] = {
	[FIG_FRAMES] = { "frames_per_s", "1080p TRANSFER_2D+FLUSH, frames/s", false, 0 },
	[FIG_DAMAGE_4K] = { "damage_4k_per_s", "64x64 damage, 4 KiB entries, flushes/s", false,
		0 },
	[FIG_DAMAGE_1] = { "damage_1entry_per_s", "64x64 damage, 1 entry, flushes/s", false,
		0 },
	[FIG_GDI_MED] = { "gdi_median_us", "GET_DISPLAY_INFO median, us", true, 2 },
	[FIG_GDI_P99] = { "gdi_p99_us", "GET_DISPLAY_INFO p99, us", true, 2 },
	[FIG_GDI_FWD_MED] = { "gdi_forwarded_median_us", "GET_DISPLAY_INFO forwarded, median, us",
		true, 2 },
	[FIG_GDI_FWD_P99] = { "gdi_forwarded_p99_us", "GET_DISPLAY_INFO forwarded, p99, us", true,
		2 },
	[FIG_RSS_IDLE] = { "rss_idle_mib", "RSS idle after start, MiB", true, 1 },
	[FIG_RSS_BACKING] = { "rss_backing_mib", "RSS 64 1080p res + backing, MiB", true,
		1 },
	[FIG_RSS_TRANSFER] = { "rss_transfer_mib", "RSS after 1 transfer each, MiB", true,
		1 },
};

/* What one session of one back-end measured, besides the figures. */
struct details {
	uint64_t gdi_forwarded, gdi_total;         /* plain GET_DISPLAY_INFO loop */
	uint64_t gdi_fwd_forwarded, gdi_fwd_total; /* after a config read each */
	struct bench_rss rss[3];
	double busy_before[2]; /* CPUs busy just before the perf / memory session */
	double others;         /* CPUs used by other processes during the perf session */
};

#define PART_FRAMES 0x1u
#define PART_DAMAGE 0x2u
#define PART_LATENCY 0x4u
#define PART_MEMORY 0x8u
#define PART_ALL 0xfu

static const struct {
	const char *name;
	unsigned int part;
	enum figure first, last;
} parts[] = {
	{ "frames", PART_FRAMES, FIG_FRAMES, FIG_FRAMES },
	{ "damage", PART_DAMAGE, FIG_DAMAGE_4K, FIG_DAMAGE_1 },
	{ "latency", PART_LATENCY, FIG_GDI_MED, FIG_GDI_FWD_P99 },
	{ "memory", PART_MEMORY, FIG_RSS_IDLE, FIG_RSS_TRANSFER },
};

struct params {
	bool quick;
	unsigned int rounds;
	double loop_s;          /* timed part of each throughput loop */
	unsigned int warmup;    /* untimed iterations first */
	unsigned int lat_n;     /* timed GET_DISPLAY_INFO round trips */
	unsigned int lat_warmup;
	unsigned int settle_ms; /* after freeing a session's large memory */
	double max_wait_s;      /* for a quiet machine before each session */
	unsigned int only;      /* PART_* to run (profiling); default all */
	unsigned int backends;  /* bit 0 ours, bit 1 QEMU; default both */
	const char *dir;
};

static double results[NBACKENDS][MAX_ROUNDS][FIG_COUNT];
static struct details details[NBACKENDS][MAX_ROUNDS];
static unsigned int session_seq;

static void put_rect(struct virtio_gpu_rect *r, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	r->x = htole32(x);
	r->y = htole32(y);
	r->width = htole32(w);
	r->height = htole32(h);
}

/*
 * One proven frame: the frame number into the first and last pixel of the
 * rect in guest RAM, TRANSFER_TO_HOST_2D and RESOURCE_FLUSH in one kick,
 * then spin until both are answered OK and the UPDATE carrying that number
 * has been read in full.
 */
static int one_frame(struct bench_session *s, const struct bench_layout *l, uint32_t res,
	uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	struct virtio_gpu_transfer_to_host_2d t;
	struct virtio_gpu_resource_flush f;
	uint32_t seq = bench_next_seq(s);
	uint64_t first = (uint64_t)y * BENCH_STRIDE + (uint64_t)x * 4;
	uint64_t last = (uint64_t)(y + h - 1) * BENCH_STRIDE + (uint64_t)(x + w - 1) * 4;
	int r;

	bench_layout_put32(l, first, seq);
	bench_layout_put32(l, last, seq);
	memset(&t, 0, sizeof(t));
	t.hdr.type = htole32(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D);
	put_rect(&t.r, x, y, w, h);
	t.offset = htole64(first);
	t.resource_id = htole32(res);
	memset(&f, 0, sizeof(f));
	f.hdr.type = htole32(VIRTIO_GPU_CMD_RESOURCE_FLUSH);
	put_rect(&f.r, x, y, w, h);
	f.resource_id = htole32(res);
	r = bench_submit(s, 0, &t, sizeof(t));
	if (r == 0) {
		r = bench_submit(s, 1, &f, sizeof(f));
	}
	if (r == 0) {
		r = bench_kick(s);
	}
	if (r < 0) {
		return r;
	}
	bench_reader_expect(&s->rd, x, y, w, h, seq);
	r = bench_wait(s, 2, true, false);
	if (r < 0) {
		return r;
	}
	if (bench_slot_type(s, 0) != VIRTIO_GPU_RESP_OK_NODATA ||
		bench_slot_type(s, 1) != VIRTIO_GPU_RESP_OK_NODATA) {
		fprintf(stderr, "bench: %s: TRANSFER/FLUSH answered 0x%x/0x%x\n", s->be->name,
			bench_slot_type(s, 0), bench_slot_type(s, 1));
		return -EPROTO;
	}
	return 0;
}

/* Proven frames per second; damage: 64x64 rects walking a grid over the screen. */
static int frame_loop(struct bench_session *s, const struct bench_layout *l, uint32_t res,
	bool damage, const struct params *p, double *ret_rate)
{
	const uint32_t cols = BENCH_W / DAMAGE, rows = BENCH_H / DAMAGE;
	uint64_t t0 = 0, now = 0, limit = (uint64_t)(p->loop_s * 1e9), count = 0;

	for (uint64_t i = 0;; i++) {
		uint32_t x = 0, y = 0, w = BENCH_W, h = BENCH_H;
		int r;

		if (i == p->warmup) {
			t0 = bench_now_ns();
		}
		if (i > p->warmup) {
			now = bench_now_ns();
			if (now - t0 >= limit) {
				break;
			}
		}
		if (damage) {
			x = (uint32_t)(i % cols) * DAMAGE;
			y = (uint32_t)(i / cols % rows) * DAMAGE;
			w = h = DAMAGE;
		}
		r = one_frame(s, l, res, x, y, w, h);
		if (r < 0) {
			fprintf(stderr, "bench: %s: frame %llu could not be proven\n", s->be->name,
				(unsigned long long)i);
			return r;
		}
		if (i >= p->warmup) {
			count++;
		}
	}
	*ret_rate = (double)count / ((double)(now - t0) / 1e9);
	return 0;
}

/* GET_DISPLAY_INFO round trips; forced: a GET_CONFIG (untimed) before each. */
static int latency_loop(struct bench_session *s, bool forced, const struct params *p,
	double *ret_med, double *ret_p99, uint64_t *ret_fwd, uint64_t *ret_total)
{
	struct virtio_gpu_ctrl_hdr req;
	uint64_t fwd0 = s->fe->sink.counts[VUGPU_GET_DISPLAY_INFO];
	double *v = malloc(p->lat_n * sizeof(*v));
	int r = 0;

	if (!v) {
		return -ENOMEM;
	}
	memset(&req, 0, sizeof(req));
	req.type = htole32(VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
	for (unsigned int i = 0; i < p->lat_warmup + p->lat_n; i++) {
		struct virtio_gpu_resp_display_info info;
		uint8_t config[16];
		uint64_t t0, t1;

		if (forced) {
			r = vdgfe_get_config(s->fe, 0, config, sizeof(config));
			if (r < 0) {
				fprintf(stderr, "bench: %s: GET_CONFIG: %s\n", s->be->name,
					strerror(-r));
				break;
			}
		}
		t0 = bench_now_ns();
		r = bench_submit(s, 0, &req, sizeof(req));
		if (r == 0) {
			r = bench_kick(s);
		}
		if (r == 0) {
			r = bench_wait(s, 1, false, true);
		}
		t1 = bench_now_ns();
		if (r < 0) {
			break;
		}
		memcpy(&info, s->slot[0].resp, sizeof(info));
		if (bench_slot_type(s, 0) != VIRTIO_GPU_RESP_OK_DISPLAY_INFO ||
			s->slot[0].used_len < sizeof(info) ||
			le32toh(info.pmodes[0].r.width) != BENCH_W || !info.pmodes[0].enabled) {
			fprintf(stderr,
				"bench: %s: bad GET_DISPLAY_INFO answer #%u (type 0x%x, %u bytes)\n",
				s->be->name, i, bench_slot_type(s, 0), s->slot[0].used_len);
			r = -EPROTO;
			break;
		}
		if (i >= p->lat_warmup) {
			v[i - p->lat_warmup] = (double)(t1 - t0) / 1e3;
		}
	}
	if (r == 0) {
		*ret_fwd = s->fe->sink.counts[VUGPU_GET_DISPLAY_INFO] - fwd0;
		*ret_total = p->lat_warmup + p->lat_n;
		*ret_med = bench_median(v, p->lat_n);
		*ret_p99 = bench_percentile(v, p->lat_n, 99.0);
	}
	free(v);
	return r;
}

static int set_scanout(struct bench_session *s, uint32_t res)
{
	int r = vdgfe_gpu_set_scanout(s->fe, 0, res, 0, 0, BENCH_W, BENCH_H);

	if (r != VIRTIO_GPU_RESP_OK_NODATA) {
		fprintf(stderr, "bench: %s: SET_SCANOUT %u answered 0x%x\n", s->be->name, res, r);
		return r < 0 ? r : -EPROTO;
	}
	return 0;
}

/* CPU use by processes other than the two under test, over a session. */
struct interference {
	struct bench_cpu cpu;
	uint64_t self, backend, t;
};

static void interference_start(struct interference *x, pid_t backend)
{
	bench_cpu_read(&x->cpu);
	x->self = bench_proc_ticks(0);
	x->backend = bench_proc_ticks(backend);
	x->t = bench_now_ns();
}

/* CPUs (0..2) used by everything else since interference_start(). */
static double interference_end(const struct interference *x, pid_t backend)
{
	struct bench_cpu cpu;
	uint64_t self = bench_proc_ticks(0), be = bench_proc_ticks(backend);
	double secs = (double)(bench_now_ns() - x->t) / 1e9;
	double others;

	if (bench_cpu_read(&cpu) < 0 || secs <= 0) {
		return 0;
	}
	others = (double)(cpu.busy - x->cpu.busy) - (double)(self - x->self) -
		(double)(be - x->backend);
	others /= (double)bench_ticks_per_s() * secs;
	return others > 0 ? others : 0;
}

#define QUIET_CPUS 0.10

/* Waits for the other engineers' builds and tests to pause; says so if they do not. */
static double wait_quiet(const struct params *p, const char *what)
{
	double busy = bench_wait_quiet(QUIET_CPUS, p->max_wait_s);

	if (busy > QUIET_CPUS) {
		fprintf(stderr,
			"bench: warning: machine busy before %s (%.2f CPUs used by others after "
			"waiting %.0f s): figures of this session are suspect\n",
			what, busy, p->max_wait_s);
	}
	return busy;
}

/* Figures 1-3 in one fresh back-end process. */
static int run_perf(struct bench_backend *be, const struct params *p, double *fig,
	struct details *d)
{
	struct bench_session s;
	struct bench_layout pages = { 0 }, whole = { 0 };
	struct interference x;
	int r;

	d->busy_before[0] = wait_quiet(p, be->name);
	r = bench_session_open(&s, be, p->dir, ++session_seq, UINT64_C(64) << 20);
	interference_start(&x, be->pid);
	if (r == 0) {
		r = bench_layout_create(&s, &pages, BENCH_FRAME_BYTES, BENCH_PAGE, true);
	}
	if (r == 0) {
		r = bench_resource_setup(&s, RES_FRAME, &pages);
	}
	if (r == 0) {
		r = set_scanout(&s, RES_FRAME);
	}
	if (r == 0 && (p->only & PART_FRAMES)) {
		r = frame_loop(&s, &pages, RES_FRAME, false, p, &fig[FIG_FRAMES]);
	}
	if (r == 0 && (p->only & PART_DAMAGE)) {
		r = frame_loop(&s, &pages, RES_FRAME, true, p, &fig[FIG_DAMAGE_4K]);
	}
	if (r == 0) {
		r = bench_layout_create(&s, &whole, BENCH_FRAME_BYTES, 0, false);
	}
	if (r == 0) {
		r = bench_resource_setup(&s, RES_ONE_ENTRY, &whole);
	}
	if (r == 0) {
		r = set_scanout(&s, RES_ONE_ENTRY);
	}
	if (r == 0 && (p->only & PART_DAMAGE)) {
		r = frame_loop(&s, &whole, RES_ONE_ENTRY, true, p, &fig[FIG_DAMAGE_1]);
	}
	if (r == 0 && !bench_reader_idle(&s.rd)) {
		fprintf(stderr, "bench: %s: display message left half read\n", be->name);
		r = -EPROTO;
	}
	if (r == 0 && (p->only & PART_LATENCY)) {
		r = latency_loop(&s, false, p, &fig[FIG_GDI_MED], &fig[FIG_GDI_P99],
			&d->gdi_forwarded, &d->gdi_total);
	}
	if (r == 0 && (p->only & PART_LATENCY)) {
		r = latency_loop(&s, true, p, &fig[FIG_GDI_FWD_MED], &fig[FIG_GDI_FWD_P99],
			&d->gdi_fwd_forwarded, &d->gdi_fwd_total);
	}
	if (r == 0 && !bench_backend_alive(be)) {
		fprintf(stderr, "bench: %s: back-end died\n", be->name);
		r = -ECHILD;
	}
	d->others = interference_end(&x, be->pid);
	if (d->others > QUIET_CPUS) {
		fprintf(stderr, "bench: warning: other processes used %.2f CPUs during the %s "
				"session: its figures are suspect\n",
			d->others, be->name);
	}
	if (r < 0) {
		bench_backend_dump_log(be);
	}
	bench_layout_finish(&s, &pages);
	bench_layout_finish(&s, &whole);
	bench_session_close(&s);
	return r;
}

static int sample_rss(struct bench_backend *be, unsigned int settle_ms, struct bench_rss *ret)
{
	int r;

	usleep(settle_ms * 1000);
	r = bench_rss_read(be->pid, ret);
	if (r < 0) {
		fprintf(stderr, "bench: %s: cannot read RSS: %s\n", be->name, strerror(-r));
	}
	return r;
}

/* Figure 4 in one fresh back-end process. */
static int run_mem(struct bench_backend *be, const struct params *p, double *fig,
	struct details *d)
{
	struct bench_layout l[MEM_RESOURCES];
	struct bench_session s;
	uint64_t mem = MEM_RESOURCES * ((BENCH_FRAME_BYTES + BENCH_PAGE - 1) & ~(uint64_t)4095);
	unsigned int settle = p->quick ? 100 : 300;
	int r;

	memset(l, 0, sizeof(l));
	d->busy_before[1] = wait_quiet(p, be->name);
	r = bench_session_open(&s, be, p->dir, ++session_seq, mem + (UINT64_C(16) << 20));
	if (r == 0) {
		r = sample_rss(be, settle, &d->rss[0]);
	}
	for (unsigned int i = 0; r == 0 && i < MEM_RESOURCES; i++) {
		r = bench_layout_create(&s, &l[i], BENCH_FRAME_BYTES, BENCH_PAGE, true);
		if (r == 0) {
			r = bench_resource_setup(&s, RES_MEM_FIRST + i, &l[i]);
		}
	}
	if (r == 0) {
		r = sample_rss(be, settle, &d->rss[1]);
	}
	for (unsigned int i = 0; r == 0 && i < MEM_RESOURCES; i++) {
		r = vdgfe_gpu_transfer_to_host_2d(s.fe, RES_MEM_FIRST + i, 0, 0, BENCH_W, BENCH_H,
			0);
		if (r != VIRTIO_GPU_RESP_OK_NODATA) {
			fprintf(stderr, "bench: %s: TRANSFER into %u answered 0x%x\n", be->name,
				RES_MEM_FIRST + i, r);
			r = r < 0 ? r : -EPROTO;
		} else {
			r = 0;
		}
	}
	if (r == 0) {
		r = sample_rss(be, settle, &d->rss[2]);
	}
	if (r < 0) {
		bench_backend_dump_log(be);
	}
	for (unsigned int i = 0; i < MEM_RESOURCES; i++) {
		bench_layout_finish(&s, &l[i]);
	}
	bench_session_close(&s);
	fig[FIG_RSS_IDLE] = (double)d->rss[0].vm_rss / 1024.0;
	fig[FIG_RSS_BACKING] = (double)d->rss[1].vm_rss / 1024.0;
	fig[FIG_RSS_TRANSFER] = (double)d->rss[2].vm_rss / 1024.0;
	/* a large free keeps the kernel busy for a while (bench.md) */
	usleep(p->settle_ms * 1000);
	return r;
}

/* ---- report ---------------------------------------------------------------------------- */

static bool fig_ran(const struct params *p, unsigned int f)
{
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (f >= parts[i].first && f <= parts[i].last) {
			return (p->only & parts[i].part) != 0;
		}
	}
	return false;
}

/* ours/QEMU, or "-" unless both back-ends ran. */
static void fmt_ratio(char *buf, size_t size, const struct params *p, double o, double q)
{
	if (p->backends != 3 || q == 0) {
		snprintf(buf, size, "-");
	} else {
		snprintf(buf, size, "%.2f", o / q);
	}
}

/* A value, or "-" for a back-end that was not run. */
static void fmt_value(char *buf, size_t size, const struct params *p, unsigned int b,
	unsigned int f, double v)
{
	if (!(p->backends & (1u << b))) {
		snprintf(buf, size, "-");
	} else {
		snprintf(buf, size, "%.*f", figures[f].prec, v);
	}
}

static double median_of(unsigned int b, enum figure f, unsigned int rounds)
{
	double v[MAX_ROUNDS];

	for (unsigned int i = 0; i < rounds; i++) {
		v[i] = results[b][i][f];
	}
	return bench_median(v, rounds);
}

static void print_table(const struct params *p)
{
	char a[32], b[32], ratio[16];

	printf("\nvdg-bench-2d: median of %u round%s (ours = vhost-device-gpu --gpu-mode 2d, "
	       "QEMU = %s)\n\n",
		p->rounds, p->rounds > 1 ? "s" : "", QEMU_BACKEND);
	printf("%-44s | %12s | %12s | %s\n", "figure", "ours", "QEMU", "ours/QEMU");
	printf("%.44s-|-%.12s-|-%.12s-|-%s\n", "--------------------------------------------",
		"------------", "------------", "--------------------------");
	for (unsigned int f = 0; f < FIG_COUNT; f++) {
		double o = median_of(0, f, p->rounds), q = median_of(1, f, p->rounds);

		if (!fig_ran(p, f)) {
			continue;
		}
		fmt_value(a, sizeof(a), p, 0, f, o);
		fmt_value(b, sizeof(b), p, 1, f, q);
		fmt_ratio(ratio, sizeof(ratio), p, o, q);
		printf("%-44s | %12s | %12s | %s%s\n", figures[f].label, a, b, ratio,
			figures[f].lower_better ? " (lower is better)" : "");
	}
	printf("\nper round (ours / QEMU = ratio):\n");
	for (unsigned int f = 0; f < FIG_COUNT; f++) {
		if (!fig_ran(p, f)) {
			continue;
		}
		printf("%-44s |", figures[f].label);
		for (unsigned int i = 0; i < p->rounds; i++) {
			double o = results[0][i][f], q = results[1][i][f];

			fmt_value(a, sizeof(a), p, 0, f, o);
			fmt_value(b, sizeof(b), p, 1, f, q);
			fmt_ratio(ratio, sizeof(ratio), p, o, q);
			printf(" r%u %s / %s = %s%s", i + 1, a, b, ratio, i + 1 < p->rounds ? " |" : "");
		}
		printf("\n");
	}
	printf("\ndetails per round (ours ; QEMU):\n");
	for (unsigned int i = 0; i < p->rounds; i++) {
		for (unsigned int be = 0; be < NBACKENDS; be++) {
			const struct details *d = &details[be][i];

			if (!(p->backends & (1u << be))) {
				continue;
			}
			printf("  r%u %-4s GET_DISPLAY_INFO sent to the display: %llu/%llu plain, "
			       "%llu/%llu after GET_CONFIG; RSS anon/shmem MiB: "
			       "%.1f/%.1f, %.1f/%.1f, %.1f/%.1f; other load: %.2f/%.2f CPUs "
			       "before, %.2f during\n",
				i + 1, be ? "QEMU" : "ours", (unsigned long long)d->gdi_forwarded,
				(unsigned long long)d->gdi_total,
				(unsigned long long)d->gdi_fwd_forwarded,
				(unsigned long long)d->gdi_fwd_total, d->rss[0].rss_anon / 1024.0,
				d->rss[0].rss_shmem / 1024.0, d->rss[1].rss_anon / 1024.0,
				d->rss[1].rss_shmem / 1024.0, d->rss[2].rss_anon / 1024.0,
				d->rss[2].rss_shmem / 1024.0, d->busy_before[0],
				d->busy_before[1], d->others);
		}
	}
	printf("\nnoise on this machine class: +-15 %% on throughput, up to 1.5x on p99 "
	       "(docs/bench.md)\n");
	fflush(stdout);
}

static void json_list(FILE *f, unsigned int b, enum figure fig, unsigned int rounds)
{
	fputc('[', f);
	for (unsigned int i = 0; i < rounds; i++) {
		fprintf(f, "%s%.3f", i ? ", " : "", results[b][i][fig]);
	}
	fputc(']', f);
}

static int write_json(const char *path, const struct params *p, const char *daemon,
	const char *qemu)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	fprintf(f, "{\n  \"bench\": \"vdg-bench-2d\",\n  \"quick\": %s,\n  \"rounds\": %u,\n",
		p->quick ? "true" : "false", p->rounds);
	fprintf(f, "  \"ours\": \"%s\",\n  \"qemu\": \"%s\",\n  \"figures\": {\n", daemon, qemu);
	bool first = true;

	for (unsigned int fig = 0; fig < FIG_COUNT; fig++) {
		double o = median_of(0, fig, p->rounds), q = median_of(1, fig, p->rounds);

		if (!fig_ran(p, fig)) {
			continue;
		}
		fprintf(f, "%s    \"%s\": {\"label\": \"%s\", \"lower_is_better\": %s, ",
			first ? "" : ",\n", figures[fig].key, figures[fig].label,
			figures[fig].lower_better ? "true" : "false");
		fprintf(f, "\"ours_median\": %.3f, \"qemu_median\": %.3f, \"ratio\": %.4f, ", o, q,
			q ? o / q : 0.0);
		fprintf(f, "\"ours\": ");
		json_list(f, 0, fig, p->rounds);
		fprintf(f, ", \"qemu\": ");
		json_list(f, 1, fig, p->rounds);
		fprintf(f, "}");
		first = false;
	}
	fprintf(f, "\n  }\n}\n");
	if (fclose(f) != 0) {
		return -errno;
	}
	return 0;
}

/* ---- main ------------------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f, "usage: vdg-bench-2d [--quick] [--rounds N] [--json FILE] [--qemu PATH] "
		   "[DAEMON]\n"
		   "  DAEMON   our back-end (default %s)\n"
		   "  --quick  one round, short loops: a smoke run, not a measurement\n"
		   "  --rounds N            rounds of A B (default 3)\n"
		   "  --json FILE           write the figures as JSON\n"
		   "  --qemu PATH           QEMU's back-end (default " QEMU_BACKEND ")\n"
		   "  --only LIST           frames,damage,latency,memory (for profiling)\n"
		   "  --backend ours|qemu   run one back-end only (for profiling)\n",
		BENCH_DEFAULT_DAEMON);
}

/* "frames,damage,..." to PART_* bits; 0 if a name is unknown. */
static unsigned int parse_parts(const char *list)
{
	unsigned int bits = 0;
	char *copy = strdup(list), *save = NULL;

	for (char *t = strtok_r(copy, ",", &save); copy && t; t = strtok_r(NULL, ",", &save)) {
		unsigned int found = 0;

		for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
			if (!strcmp(t, parts[i].name)) {
				found = parts[i].part;
			}
		}
		if (!found) {
			free(copy);
			return 0;
		}
		bits |= found;
	}
	free(copy);
	return bits;
}

static void remove_dir(const char *dir)
{
	char path[512];

	/* only the files we made: sockets (unlinked on stop already) and logs */
	for (unsigned int i = 1; i <= session_seq; i++) {
		for (unsigned int b = 0; b < NBACKENDS; b++) {
			snprintf(path, sizeof(path), "%s/%s-%u.log", dir, b ? "qemu" : "ours", i);
			unlink(path);
			snprintf(path, sizeof(path), "%s/%s-%u.sock", dir, b ? "qemu" : "ours", i);
			unlink(path);
		}
	}
	rmdir(dir);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "json", required_argument, NULL, 'j' },
		{ "qemu", required_argument, NULL, 'Q' },
		{ "only", required_argument, NULL, 'o' },
		{ "backend", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct params p = { .rounds = 3, .loop_s = 3.0, .warmup = 30, .lat_n = 20000,
		.lat_warmup = 1000, .settle_ms = 2000, .max_wait_s = 120, .only = PART_ALL, .backends = 3 };
	struct bench_backend be[NBACKENDS] = {
		{ .name = "ours", .path = BENCH_DEFAULT_DAEMON, .pid = -1 },
		{ .name = "qemu", .path = QEMU_BACKEND, .qemu = true, .pid = -1 },
	};
	const char *json = NULL;
	bool rounds_set = false;
	char dir[] = "/tmp/vdg-bench-XXXXXX";
	int c, r = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			p.quick = true;
			break;
		case 'r':
			p.rounds = (unsigned int)strtoul(optarg, NULL, 10);
			rounds_set = true;
			if (p.rounds < 1 || p.rounds > MAX_ROUNDS) {
				fprintf(stderr, "bench: --rounds 1..%d\n", MAX_ROUNDS);
				return 2;
			}
			break;
		case 'j':
			json = optarg;
			break;
		case 'Q':
			be[1].path = optarg;
			break;
		case 'o':
			p.only = parse_parts(optarg);
			if (!p.only) {
				usage(stderr);
				return 2;
			}
			break;
		case 'b':
			p.backends = !strcmp(optarg, "ours") ? 1u : !strcmp(optarg, "qemu") ? 2u : 0u;
			if (!p.backends) {
				usage(stderr);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		be[0].path = argv[optind++];
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (p.quick) {
		p.rounds = rounds_set ? p.rounds : 1;
		p.loop_s = 0.5;
		p.warmup = 10;
		p.lat_n = 2000;
		p.lat_warmup = 200;
		p.settle_ms = 500;
		p.max_wait_s = 5;
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (bench_cpus_allowed() < 2 || bench_pin_self(CPU_FRONTEND) < 0) {
		fprintf(stderr, "bench: warning: cannot pin the front-end to CPU %d and the back-end "
				"to CPU 0: figures will be noisy\n",
			CPU_FRONTEND);
	}
	if (!mkdtemp(dir)) {
		perror("bench: mkdtemp");
		return 1;
	}
	p.dir = dir;
	printf("vdg-bench-2d: ours=%s qemu=%s rounds=%u%s\n", be[0].path, be[1].path, p.rounds,
		p.quick ? " (quick: smoke run, not a measurement)" : "");
	for (unsigned int i = 0; i < p.rounds && r == 0; i++) {
		for (unsigned int b = 0; b < NBACKENDS && r == 0; b++) {
			if (!(p.backends & (1u << b)) || !(p.only & ~PART_MEMORY)) {
				continue;
			}
			r = run_perf(&be[b], &p, results[b][i], &details[b][i]);
			if (r == 0) {
				printf("  round %u %-4s: %.0f frames/s, %.0f / %.0f flushes/s, "
				       "GET_DISPLAY_INFO %.2f us (p99 %.2f)\n",
					i + 1, be[b].name, results[b][i][FIG_FRAMES],
					results[b][i][FIG_DAMAGE_4K], results[b][i][FIG_DAMAGE_1],
					results[b][i][FIG_GDI_MED], results[b][i][FIG_GDI_P99]);
			}
		}
		for (unsigned int b = 0; b < NBACKENDS && r == 0; b++) {
			if (!(p.backends & (1u << b)) || !(p.only & PART_MEMORY)) {
				continue;
			}
			r = run_mem(&be[b], &p, results[b][i], &details[b][i]);
			if (r == 0) {
				printf("  round %u %-4s: RSS %.1f / %.1f / %.1f MiB\n", i + 1,
					be[b].name, results[b][i][FIG_RSS_IDLE],
					results[b][i][FIG_RSS_BACKING],
					results[b][i][FIG_RSS_TRANSFER]);
			}
		}
	}
	if (r < 0) {
		fprintf(stderr, "bench: FAILED (%s); back-end logs kept in %s\n", strerror(-r), dir);
		return 1;
	}
	print_table(&p);
	if (json && write_json(json, &p, be[0].path, be[1].path) < 0) {
		return 1;
	}
	remove_dir(dir);
	return 0;
}
