/* SPDX-License-Identifier: MIT */
/* vdg-frontend: drive a vhost-user GPU back-end the way QEMU would. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"
#include "gpu-driver.h"

struct cli {
	struct vdgfe_config cfg;
	uint32_t entry_size;
	uint32_t split;
	bool indirect;
	bool fence;
	const char *command;
};

static void usage(FILE *f)
{
	fputs("Usage: vdg-frontend --socket PATH [options] COMMAND\n"
	      "\n"
	      "Commands:\n"
	      "  negotiate   print the back-end's features, protocol features, queue num\n"
	      "  info        start the device, GET_DISPLAY_INFO (and GET_EDID), print it\n"
	      "  draw        draw a pattern on scanout 0 and check the display pixels;\n"
	      "              prints PASS or FAIL, exit status 0 or 1\n"
	      "\n"
	      "Options:\n"
	      "  -s, --socket PATH        back-end socket (retried until the timeout)\n"
	      "  -t, --timeout MS         bound of every wait (default 5000)\n"
	      "  -m, --mem MIB            guest RAM size (default 64)\n"
	      "      --gpa-base ADDR      guest-physical base of RAM (default 0)\n"
	      "      --split-mem          two memory regions (two memfds)\n"
	      "      --region-gap BYTES   GPA hole between the two regions (default 0)\n"
	      "      --mem-slots          use ADD_MEM_REG if CONFIGURE_MEM_SLOTS is offered\n"
	      "      --status             negotiate PROTOCOL_F_STATUS (GET/SET_STATUS)\n"
	      "      --ack-all            NEED_REPLY on every ack-able message\n"
	      "      --features HEX       feature wish list (default EDID|VERSION_1|INDIRECT|\n"
	      "                           EVENT_IDX|NOTIFY_ON_EMPTY); bit 30 added if offered\n"
	      "      --no-event-idx       drop EVENT_IDX from the wish list\n"
	      "      --no-indirect-desc   drop INDIRECT_DESC from the wish list\n"
	      "      --virgl              add VIRGL to the wish list\n"
	      "      --ctrl-qsize N       controlq size (default 64, 256 if VIRGL offered)\n"
	      "      --indirect           submit every command through an indirect table\n"
	      "      --split N            split requests and responses in N-byte descriptors\n"
	      "      --fence              set VIRTIO_GPU_FLAG_FENCE on every control command\n"
	      "      --entry-size BYTES   backing entry size for draw (default 4096, 0: one)\n"
	      "      --display-proto HEX  display GET_PROTOCOL_FEATURES answer (default 0x3)\n"
	      "      --outputs N          display outputs (default 1)\n"
	      "      --width W --height H display preferred mode (default 1280x800)\n"
	      "      --spin               busy-poll instead of blocking\n"
	      "  -v, --verbose            log every message\n"
	      "  -h, --help               this text\n",
		f);
}

enum {
	OPT_GPA_BASE = 256,
	OPT_SPLIT_MEM,
	OPT_REGION_GAP,
	OPT_MEM_SLOTS,
	OPT_STATUS,
	OPT_ACK_ALL,
	OPT_FEATURES,
	OPT_NO_EVENT_IDX,
	OPT_NO_INDIRECT_DESC,
	OPT_VIRGL,
	OPT_CTRL_QSIZE,
	OPT_INDIRECT,
	OPT_SPLIT,
	OPT_FENCE,
	OPT_ENTRY_SIZE,
	OPT_DISPLAY_PROTO,
	OPT_OUTPUTS,
	OPT_WIDTH,
	OPT_HEIGHT,
	OPT_SPIN,
};

static uint64_t num(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || end == s) {
		fprintf(stderr, "vdg-frontend: bad %s: %s\n", what, s);
		exit(2);
	}
	return v;
}

static int parse(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "mem", required_argument, NULL, 'm' },
		{ "gpa-base", required_argument, NULL, OPT_GPA_BASE },
		{ "split-mem", no_argument, NULL, OPT_SPLIT_MEM },
		{ "region-gap", required_argument, NULL, OPT_REGION_GAP },
		{ "mem-slots", no_argument, NULL, OPT_MEM_SLOTS },
		{ "status", no_argument, NULL, OPT_STATUS },
		{ "ack-all", no_argument, NULL, OPT_ACK_ALL },
		{ "features", required_argument, NULL, OPT_FEATURES },
		{ "no-event-idx", no_argument, NULL, OPT_NO_EVENT_IDX },
		{ "no-indirect-desc", no_argument, NULL, OPT_NO_INDIRECT_DESC },
		{ "virgl", no_argument, NULL, OPT_VIRGL },
		{ "ctrl-qsize", required_argument, NULL, OPT_CTRL_QSIZE },
		{ "indirect", no_argument, NULL, OPT_INDIRECT },
		{ "split", required_argument, NULL, OPT_SPLIT },
		{ "fence", no_argument, NULL, OPT_FENCE },
		{ "entry-size", required_argument, NULL, OPT_ENTRY_SIZE },
		{ "display-proto", required_argument, NULL, OPT_DISPLAY_PROTO },
		{ "outputs", required_argument, NULL, OPT_OUTPUTS },
		{ "width", required_argument, NULL, OPT_WIDTH },
		{ "height", required_argument, NULL, OPT_HEIGHT },
		{ "spin", no_argument, NULL, OPT_SPIN },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct vdgfe_config *c = &cli->cfg;
	int o;

	while ((o = getopt_long(argc, argv, "s:t:m:vh", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			c->socket_path = optarg;
			break;
		case 't':
			c->timeout_ms = (int)num(optarg, "timeout");
			break;
		case 'm':
			c->mem_size = num(optarg, "memory size") << 20;
			break;
		case OPT_GPA_BASE:
			c->gpa_base = num(optarg, "GPA base");
			break;
		case OPT_SPLIT_MEM:
			c->split_mem = true;
			break;
		case OPT_REGION_GAP:
			c->region_gap = num(optarg, "region gap");
			break;
		case OPT_MEM_SLOTS:
			c->use_mem_slots = true;
			break;
		case OPT_STATUS:
			c->use_status = true;
			break;
		case OPT_ACK_ALL:
			c->ack_all = true;
			break;
		case OPT_FEATURES:
			c->features = num(optarg, "features");
			c->features_set = true;
			break;
		case OPT_NO_EVENT_IDX:
		case OPT_NO_INDIRECT_DESC:
			if (!c->features_set) {
				c->features = VDGFE_DEFAULT_FEATURES;
				c->features_set = true;
			}
			if (o == OPT_NO_EVENT_IDX) {
				c->features &= ~VU_BIT(VIRTIO_RING_F_EVENT_IDX_BIT);
			} else {
				c->features &= ~VU_BIT(VIRTIO_RING_F_INDIRECT_DESC_BIT);
			}
			break;
		case OPT_VIRGL:
			c->want_virgl = true;
			break;
		case OPT_CTRL_QSIZE:
			c->ctrl_qsize = (unsigned int)num(optarg, "queue size");
			break;
		case OPT_INDIRECT:
			cli->indirect = true;
			break;
		case OPT_SPLIT:
			cli->split = (uint32_t)num(optarg, "split size");
			break;
		case OPT_FENCE:
			cli->fence = true;
			break;
		case OPT_ENTRY_SIZE:
			cli->entry_size = (uint32_t)num(optarg, "entry size");
			break;
		case OPT_DISPLAY_PROTO:
			c->sink.protocol_features = num(optarg, "display proto");
			break;
		case OPT_OUTPUTS:
			c->sink.outputs = (unsigned int)num(optarg, "outputs");
			break;
		case OPT_WIDTH:
			c->sink.width = (uint32_t)num(optarg, "width");
			break;
		case OPT_HEIGHT:
			c->sink.height = (uint32_t)num(optarg, "height");
			break;
		case OPT_SPIN:
			c->spin = true;
			break;
		case 'v':
			c->verbose = c->sink.verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc - 1 || !c->socket_path) {
		usage(stderr);
		return -1;
	}
	cli->command = argv[optind];
	return 0;
}

static int cmd_negotiate(struct vdgfe *fe)
{
	int r = vdgfe_negotiate(fe);

	if (r < 0) {
		fprintf(stderr, "negotiate: %s\n", strerror(-r));
		return 1;
	}
	printf("features 0x%016" PRIx64 "\n", fe->backend_features);
	printf("protocol_features 0x%016" PRIx64 "\n", fe->backend_protocol);
	printf("protocol_acked 0x%016" PRIx64 "\n", fe->protocol);
	printf("queue_num %" PRIu64 "\n", fe->queue_num);
	if (fe->max_mem_slots) {
		printf("max_mem_slots %" PRIu64 "\n", fe->max_mem_slots);
	}
	return 0;
}

static int setup(struct vdgfe *fe, const struct cli *cli)
{
	struct vdgfe_gpu *gpu = vdgfe_gpu(fe);
	int r;

	if (!gpu) {
		return -ENOMEM;
	}
	gpu->defaults.indirect = cli->indirect;
	gpu->defaults.req_split = cli->split;
	gpu->defaults.resp_split = cli->split;
	gpu->fence_all = cli->fence;
	r = vdgfe_negotiate(fe);
	if (r < 0) {
		fprintf(stderr, "negotiate: %s\n", strerror(-r));
		return r;
	}
	r = vdgfe_start(fe);
	if (r < 0) {
		fprintf(stderr, "start: %s\n", strerror(-r));
	}
	return r;
}

static int finish(struct vdgfe *fe)
{
	int r = vdgfe_stop(fe, false, NULL);

	if (r < 0) {
		fprintf(stderr, "stop: %s\n", strerror(-r));
	}
	if (fe->sink.violations) {
		fprintf(stderr, "display protocol violations: %" PRIu64 " (last: %s)\n",
			fe->sink.violations, fe->sink.last_violation);
		return -EPROTO;
	}
	return r;
}

static int cmd_info(struct vdgfe *fe, const struct cli *cli)
{
	struct virtio_gpu_resp_display_info info;
	int r = setup(fe, cli);

	if (r < 0) {
		return 1;
	}
	printf("features_acked 0x%016" PRIx64 "\n", fe->acked_features);
	if (fe->have_config) {
		struct virtio_gpu_config gc;

		memcpy(&gc, fe->gpu_config, sizeof(gc));
		printf("config events_read %u num_scanouts %u num_capsets %u\n",
			le32toh(gc.events_read), le32toh(gc.num_scanouts), le32toh(gc.num_capsets));
	}
	r = vdgfe_gpu_get_display_info(fe, &info);
	printf("display_info response 0x%x\n", r < 0 ? 0 : (unsigned int)r);
	if (r != VIRTIO_GPU_RESP_OK_DISPLAY_INFO) {
		fprintf(stderr, "GET_DISPLAY_INFO: %s\n", r < 0 ? strerror(-r) : "error response");
		return 1;
	}
	for (unsigned int i = 0; i < VIRTIO_GPU_MAX_SCANOUTS; i++) {
		struct virtio_gpu_display_one *m = &info.pmodes[i];

		if (!m->enabled && !m->r.width) {
			continue;
		}
		printf("scanout %u: %ux%u+%u+%u enabled %u flags 0x%x\n", i, le32toh(m->r.width),
			le32toh(m->r.height), le32toh(m->r.x), le32toh(m->r.y), le32toh(m->enabled),
			le32toh(m->flags));
	}
	if (vu_has_bit(fe->acked_features, VDGFE_GPU_F_EDID)) {
		struct virtio_gpu_resp_edid edid;

		r = vdgfe_gpu_get_edid(fe, 0, &edid);
		printf("edid response 0x%x size %u\n", r < 0 ? 0 : (unsigned int)r,
			r > 0 ? le32toh(edid.size) : 0);
	}
	printf("display messages: get_protocol_features %" PRIu64 " get_display_info %" PRIu64
	       " get_edid %" PRIu64 "\n",
		fe->sink.counts[VUGPU_GET_PROTOCOL_FEATURES],
		fe->sink.counts[VUGPU_GET_DISPLAY_INFO], fe->sink.counts[VUGPU_GET_EDID]);
	return finish(fe) < 0 ? 1 : 0;
}

static uint32_t pattern(uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t salt)
{
	uint32_t r = (x * 255 / (w ? w : 1)) & 0xff;
	uint32_t g = (y * 255 / (h ? h : 1)) & 0xff;
	uint32_t b = ((x ^ y) + salt) & 0xff;

	return 0xff000000u | (r << 16) | (g << 8) | b;
}

static int update_arrived(struct vdgfe *fe, void *arg)
{
	const uint64_t *want = arg;

	return fe->sink.counts[VUGPU_UPDATE] >= *want ? 1 : 0;
}

/* Compares the sink's scanout 0 with the pattern in [x, x+w) x [y, y+h). */
static uint64_t compare(struct vdgfe *fe, uint32_t rw, uint32_t rh, uint32_t x0, uint32_t y0,
	uint32_t w, uint32_t h, uint32_t salt)
{
	uint64_t bad = 0;

	for (uint32_t y = y0; y < y0 + h; y++) {
		for (uint32_t x = x0; x < x0 + w; x++) {
			bool ok;
			uint32_t got = vdgfe_sink_pixel(&fe->sink, 0, x, y, &ok);
			uint32_t want = pattern(x, y, rw, rh, salt);

			if (!ok || (got & 0xffffff) != (want & 0xffffff)) {
				if (bad < 5) {
					fprintf(stderr, "pixel (%u,%u): got 0x%08x want 0x%08x%s\n",
						x, y, got, want, ok ? "" : " (no surface)");
				}
				bad++;
			}
		}
	}
	return bad;
}

static int check(int r, uint32_t want, const char *what)
{
	if (r == (int)want) {
		return 0;
	}
	fprintf(stderr, "%s: %s 0x%x\n", what, r < 0 ? strerror(-r) : "response",
		r < 0 ? 0 : (unsigned int)r);
	return -1;
}

static int cmd_draw(struct vdgfe *fe, const struct cli *cli)
{
	struct virtio_gpu_resp_display_info info;
	const uint32_t ok = VIRTIO_GPU_RESP_OK_NODATA, res = 1;
	uint32_t w = 1024, h = 768, *px;
	uint64_t gpa, size, want, bad;
	int r = setup(fe, cli);

	if (r < 0) {
		goto fail;
	}
	r = vdgfe_gpu_get_display_info(fe, &info);
	if (check(r, VIRTIO_GPU_RESP_OK_DISPLAY_INFO, "GET_DISPLAY_INFO")) {
		goto fail;
	}
	if (info.pmodes[0].enabled && info.pmodes[0].r.width && info.pmodes[0].r.height) {
		w = le32toh(info.pmodes[0].r.width);
		h = le32toh(info.pmodes[0].r.height);
	}
	printf("scanout 0: %ux%u\n", w, h);
	size = (uint64_t)w * h * 4;
	r = vdgfe_mem_alloc(fe, size, 4096, 0, &gpa);
	if (r < 0) {
		fprintf(stderr, "no guest memory for %ux%u: %s\n", w, h, strerror(-r));
		goto fail;
	}
	px = malloc(size);
	if (!px) {
		goto fail;
	}
	for (uint32_t y = 0; y < h; y++) {
		for (uint32_t x = 0; x < w; x++) {
			px[(size_t)y * w + x] = htole32(pattern(x, y, w, h, 0));
		}
	}
	vdgfe_mem_write(fe, gpa, px, size);
	if (check(vdgfe_gpu_resource_create_2d(fe, res, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, w, h), ok,
		    "RESOURCE_CREATE_2D") ||
		check(vdgfe_gpu_attach_backing(fe, res, gpa, size, cli->entry_size), ok,
			"RESOURCE_ATTACH_BACKING") ||
		check(vdgfe_gpu_transfer_to_host_2d(fe, res, 0, 0, w, h, 0), ok,
			"TRANSFER_TO_HOST_2D") ||
		check(vdgfe_gpu_set_scanout(fe, 0, res, 0, 0, w, h), ok, "SET_SCANOUT") ||
		check(vdgfe_gpu_resource_flush(fe, res, 0, 0, w, h), ok, "RESOURCE_FLUSH")) {
		goto fail;
	}
	want = 1;
	r = vdgfe_wait(fe, update_arrived, &want, -1);
	if (r < 0) {
		fprintf(stderr, "no UPDATE on the display socket: %s\n", strerror(-r));
		goto fail;
	}
	bad = compare(fe, w, h, 0, 0, w, h, 0);
	printf("full frame: %" PRIu64 " bad pixels of %" PRIu64 "\n", bad, (uint64_t)w * h);
	if (bad) {
		goto fail;
	}
	/* A damaged 64x64 rect at (100, 50), transferred with its backing offset. */
	uint32_t dx = 100 < w ? 100 : 0, dy = 50 < h ? 50 : 0;
	uint32_t dw = w - dx < 64 ? w - dx : 64, dh = h - dy < 64 ? h - dy : 64;

	for (uint32_t y = dy; y < dy + dh; y++) {
		for (uint32_t x = dx; x < dx + dw; x++) {
			px[(size_t)y * w + x] = htole32(pattern(x, y, w, h, 0x55));
		}
		vdgfe_mem_write(fe, gpa + ((uint64_t)y * w + dx) * 4, &px[(size_t)y * w + dx],
			(size_t)dw * 4);
	}
	if (check(vdgfe_gpu_transfer_to_host_2d(fe, res, dx, dy, dw, dh,
			  ((uint64_t)dy * w + dx) * 4), ok, "TRANSFER_TO_HOST_2D (rect)") ||
		check(vdgfe_gpu_resource_flush(fe, res, dx, dy, dw, dh), ok,
			"RESOURCE_FLUSH (rect)")) {
		goto fail;
	}
	want = 2;
	r = vdgfe_wait(fe, update_arrived, &want, -1);
	if (r < 0) {
		fprintf(stderr, "no second UPDATE: %s\n", strerror(-r));
		goto fail;
	}
	bad = compare(fe, w, h, dx, dy, dw, dh, 0x55);
	printf("damage rect %ux%u+%u+%u: %" PRIu64 " bad pixels\n", dw, dh, dx, dy, bad);
	if (bad) {
		goto fail;
	}
	if (check(vdgfe_gpu_set_scanout(fe, 0, 0, 0, 0, 0, 0), ok, "SET_SCANOUT (disable)") ||
		check(vdgfe_gpu_detach_backing(fe, res), ok, "RESOURCE_DETACH_BACKING") ||
		check(vdgfe_gpu_resource_unref(fe, res), ok, "RESOURCE_UNREF")) {
		goto fail;
	}
	free(px);
	px = NULL;
	r = finish(fe);
	printf("display messages: scanout %" PRIu64 " update %" PRIu64 " bytes %" PRIu64 "\n",
		fe->sink.counts[VUGPU_SCANOUT], fe->sink.counts[VUGPU_UPDATE],
		fe->sink.update_bytes);
	if (r < 0) {
		goto fail;
	}
	printf("PASS\n");
	return 0;
fail:
	printf("FAIL\n");
	return 1;
}

int main(int argc, char **argv)
{
	struct cli cli = { .entry_size = 4096 };
	struct vdgfe *fe;
	int ret;

	vdgfe_config_init(&cli.cfg);
	if (parse(&cli, argc, argv) < 0) {
		return 2;
	}
	if (strcmp(cli.command, "negotiate") && strcmp(cli.command, "info") &&
		strcmp(cli.command, "draw")) {
		fprintf(stderr, "vdg-frontend: unknown command '%s'\n", cli.command);
		usage(stderr);
		return 2;
	}
	fe = vdgfe_create(&cli.cfg);
	if (!fe) {
		fprintf(stderr, "vdg-frontend: cannot connect to %s: %s\n", cli.cfg.socket_path,
			strerror(errno));
		return 1;
	}
	if (!strcmp(cli.command, "negotiate")) {
		ret = cmd_negotiate(fe);
	} else if (!strcmp(cli.command, "info")) {
		ret = cmd_info(fe, &cli);
	} else {
		ret = cmd_draw(fe, &cli);
	}
	vdgfe_destroy(fe);
	return ret;
}
