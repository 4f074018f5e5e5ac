#!/usr/bin/python3
"""3D benchmark (never a test): our daemon in virglrenderer mode against QEMU's
reference backend (/usr/lib/qemu/vhost-user-gpu --virgl, run here with the
surfaceless LD_PRELOAD shim from tests/e2e/setup.sh --3d).

  bench/bench-3d.py [--rounds 3] [--duration 5] [--iters 5000] [--no-pin]
                    [--skip-glmark2] [--skip-latency] [--latency-modes spin,blocking]
                    [--build build] [--out DIR]
                    [--ours-args "--use-gles false"]

Two figures, each interleaved A B A B (ours, QEMU's) for --rounds rounds with
a fresh backend process per measurement:

1. glmark2-es2-drm score in a real guest (tests/e2e/run.py, 3D image):
   `--off-screen -b build:duration=D -b texture:duration=D -b shading:duration=D`,
   at the same size for both backends. glmark2-es2-drm renders at the largest
   mode of the connector. QEMU's backend offers no EDID, so its guest lists
   the no-EDID modes (up to 4096x2160) plus xres x yres; ours offers EDID, and
   the QEMU 10 frontend answers with its own EDID even with `edid=off`
   (measured), whose mode list for xres=4096 also holds 5120x2160. So the
   device gets `edid=off,xres=5120,yres=2160` (--size): both guests then
   render at 5120x2160 (measured 2026-12-06; with --size 4096x2160 ours
   rendered 5120x2160 and QEMU's 4096x2160). The surface sizes are printed
   and a mismatch is flagged. The
   backend runs on CPU 0, QEMU and run.py on CPU 1.
2. SUBMIT_3D + fence round trip through the test frontend (bench-3d-latency,
   bench/bench-3d-latency.c): CTX_CREATE, then a fenced SUBMIT_3D of two
   VIRGL_CCMD_SET_SUB_CTX per iteration, median and p99 in microseconds. The
   backend runs on CPU 0, the frontend on CPU 1, once spinning on the used
   ring (bench.md) and once blocking on the call eventfd as a guest waits for
   its interrupt (--latency-modes).

Prints per-round figures, medians and the ratios ours/QEMU, in lines starting
with "BENCH-3D". Needs root (setup.sh) and the 3D e2e cache. Python standard
library only. Exit status 0 when every measurement ran, 1 otherwise.
"""

import argparse
import os
import re
import shlex
import shutil
import signal
import stat
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
E2E = os.path.join(REPO, "tests", "e2e")
DEFAULT_CACHE = os.environ.get("VDG_E2E_CACHE", "/var/cache/vdg-e2e")
QEMU_BACKEND = "/usr/lib/qemu/vhost-user-gpu"

GUEST_SCRIPT = r"""# Guest side of bench/bench-3d.py (generated; sourced by /init of the 3D image).
e2e_fbcon_unbind
# QEMU's backend with the shim refuses every SET_SCANOUT in virgl mode.
E2E_TOLERATED_ERRORS='\(command 0x103\)'
dmesg | grep -q '\[drm\] features: +virgl' || e2e_fail "the driver does not see VIRTIO_GPU_F_VIRGL"
[ -e /dev/dri/renderD128 ] || e2e_fail "no /dev/dri/renderD128"
for c in /sys/class/drm/card0-*; do
	[ -e "$c/modes" ] && e2e_log "bench: ${c##*/}: $(wc -l <"$c/modes") modes, first $(head -1 "$c/modes")"
done
glmark2-es2-drm --off-screen @BENCHMARKS@ >/tmp/glmark2.log 2>&1
rc=$?
grep -E 'GL_RENDERER|Surface|\[build\]|\[texture\]|\[shading\]|Score' /tmp/glmark2.log |
	sed 's/^ */E2E: glmark2: /'
[ $rc = 0 ] || e2e_fail "glmark2-es2-drm exited $rc"
grep 'GL_RENDERER' /tmp/glmark2.log | grep -q virgl ||
	e2e_fail "glmark2 renderer is not virgl: $(grep GL_RENDERER /tmp/glmark2.log)"
"""


def log(msg):
    print(msg, flush=True)


class BenchError(Exception):
    pass


def read_env(cache):
    env = {}
    with open(os.path.join(cache, "e2e.env")) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            env[k] = v
    return env


def pin(cpu, cmd, enabled):
    return (["taskset", "-c", str(cpu)] if enabled else []) + cmd


def kill_group(proc, wait=5.0):
    if proc is None or proc.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            pass


def wait_socket(path, proc, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if stat.S_ISSOCK(os.stat(path).st_mode):
                return
        except FileNotFoundError:
            pass
        if proc.poll() is not None:
            raise BenchError("backend exited with status %d before creating %s" %
                             (proc.returncode, path))
        time.sleep(0.02)
    raise BenchError("no socket at %s after %.0f s" % (path, timeout))


# --- glmark2 in the guest ------------------------------------------------------


def run_glmark2(args, name, backend_cmd, script, out):
    """One guest boot; returns (score, surface size or None)."""
    os.makedirs(out, exist_ok=True)
    cmd = pin(1, [sys.executable, os.path.join(E2E, "run.py"),
                  "--backend-cmd", " ".join(pin(0, backend_cmd, args.pin)),
                  "--test", "gl-render", "--guest-script", script,
                  "--device", "vhost-user-gpu-pci",
                  "--device-opts", ",edid=off,xres=%d,yres=%d" % args.size,
                  "--no-setup", "--cache", args.cache, "--timeout", "300", "--out", out],
              args.pin)
    with open(os.path.join(out, "run.log"), "w") as f:
        r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, timeout=600)
    text = open(os.path.join(out, "run.log")).read()
    verdict = next((l for l in text.splitlines() if l.startswith("E2E-VERDICT:")), "")
    score = re.search(r"glmark2: glmark2 Score: (\d+)", text)
    size = re.search(r"glmark2: Surface Size: *(\S+)", text)
    if r.returncode != 0 or not score:
        raise BenchError("glmark2 with %s: %s (see %s/run.log)" %
                         (name, verdict or "no verdict", out))
    return int(score.group(1)), size.group(1) if size else None


# --- SUBMIT_3D + fence latency ---------------------------------------------------


def latency_binary(args, tmp):
    """The helper built by meson (build/bench/bench-3d-latency), else a copy
    built here against the frontend library of the same build directory."""
    built = os.path.join(args.build, "bench", "bench-3d-latency")
    if os.access(built, os.X_OK) and \
            os.path.getmtime(built) >= os.path.getmtime(os.path.join(HERE, "bench-3d-latency.c")):
        return built
    lib = os.path.join(args.build, "tools", "vdg-frontend", "libvdgfe.a")
    if not os.path.exists(lib):
        raise BenchError("neither %s nor %s: build the project first" % (built, lib))
    exe = os.path.join(tmp, "bench-3d-latency")
    cmd = ["gcc", "-std=gnu11", "-O2", "-Wall", "-o", exe,
           os.path.join(HERE, "bench-3d-latency.c"),
           "-I" + os.path.join(REPO, "tools", "vdg-frontend"),
           "-I" + os.path.join(REPO, "src", "vhost-user"),
           "-I" + os.path.join(REPO, "src", "display"), "-I" + args.build, "-I" + REPO, lib]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise BenchError("cannot build bench-3d-latency: %s" % r.stderr.strip())
    log("BENCH-3D note: %s not built by meson (or older than its source); using a copy "
        "built against %s" % (built, lib))
    return exe


def run_latency(args, name, backend_cmd, exe, tmp, out, mode="spin"):
    """One fresh backend; returns (median_us, p99_us)."""
    sock = os.path.join(tmp, "lat.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    cmd = pin(0, [c.replace("{socket}", sock) for c in backend_cmd], args.pin)
    blog = open(os.path.join(out, "latency-%s.log" % name), "ab")
    backend = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=blog, stderr=subprocess.STDOUT,
                               start_new_session=True)
    blog.close()
    try:
        wait_socket(sock, backend)
        fe = [exe, "--socket", sock, "--iters", str(args.iters), "--warmup", str(args.warmup)]
        if mode == "blocking":
            fe.append("--blocking")
        if args.pin:
            fe += ["--cpu", "1"]
        r = subprocess.run(fe, capture_output=True, text=True, timeout=300)
        m = re.search(r"median_us=([\d.]+) p99_us=([\d.]+)", r.stdout)
        if r.returncode != 0 or not m:
            raise BenchError("latency with %s: exit %d: %s" %
                             (name, r.returncode, (r.stderr or r.stdout).strip()))
        return float(m.group(1)), float(m.group(2))
    finally:
        kill_group(backend)


def run_latency_rounds(args, backends, exe, tmp, out, mode):
    """Interleaved rounds of one waiting mode; logs per-round figures and medians."""
    ok = True
    log("BENCH-3D latency (%s): SUBMIT_3D (2x VIRGL_CCMD_SET_SUB_CTX, 16 B) + fence round "
        "trip, %d iterations after %d warm-up, frontend %s" %
        (mode, args.iters, args.warmup,
         "spinning on the used ring" if mode == "spin" else
         "blocking in poll() on the call eventfd, as a guest waits for its interrupt"))
    lat = {n: [] for n, _ in backends}
    for rnd in range(1, args.rounds + 1):
        for name, cmd in backends:
            try:
                lat[name].append(run_latency(args, name, cmd, exe, tmp, out, mode))
            except (BenchError, subprocess.TimeoutExpired) as e:
                log("BENCH-3D latency (%s) round %d %s: ERROR %s" % (mode, rnd, name, e))
                ok = False
            time.sleep(1)
        cells = []
        for name, _ in backends:
            if len(lat[name]) == rnd:
                cells.append("%s median %.1f us p99 %.1f us" % ((name,) + lat[name][-1]))
            else:
                cells.append("%s n/a" % name)
        if all(len(lat[n]) == rnd for n, _ in backends):
            cells.append("ratio ours/qemu median %s p99 %s" % (
                fmt_ratio(lat["ours"][-1][0], lat["qemu"][-1][0]),
                fmt_ratio(lat["ours"][-1][1], lat["qemu"][-1][1])))
        log("BENCH-3D latency (%s) round %d: %s" % (mode, rnd, "  ".join(cells)))
    if lat["ours"] and lat["qemu"]:
        med = {n: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
               for n, v in lat.items()}
        log("BENCH-3D latency (%s) median of rounds: ours median %.1f us p99 %.1f us  "
            "qemu median %.1f us p99 %.1f us  ratio ours/qemu median %s p99 %s "
            "(lower is better)" % ((mode,) + med["ours"] + med["qemu"] + (
                fmt_ratio(med["ours"][0], med["qemu"][0]),
                fmt_ratio(med["ours"][1], med["qemu"][1]))))
    return ok


# --- main ----------------------------------------------------------------------


def fmt_ratio(a, b):
    return "%.2f" % (a / b) if b else "n/a"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5, help="seconds per glmark2 scene")
    ap.add_argument("--size", default="5120x2160",
                    help="xres x yres of the device for glmark2 (default 5120x2160: "
                         "both guests then render at this size)")
    ap.add_argument("--iters", type=int, default=5000, help="timed SUBMIT_3D round trips")
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--no-pin", dest="pin", action="store_false",
                    help="do not pin the backend to CPU 0 and the rest to CPU 1")
    ap.add_argument("--skip-glmark2", action="store_true")
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--latency-modes", default="spin,blocking",
                    help="how the frontend waits for each answer: spin (on the used ring), "
                         "blocking (poll() on the call eventfd, like a guest's interrupt)")
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--ours-args", default="",
                    help="extra daemon options for ours, e.g. '--use-gles false'")
    ap.add_argument("--cache", default=DEFAULT_CACHE)
    ap.add_argument("--out", help="logs (default: a new /tmp/bench-3d-XXXX)")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    args.size = tuple(int(v) for v in args.size.lower().split("x"))
    args.latency_modes = [m for m in args.latency_modes.split(",") if m]
    if any(m not in ("spin", "blocking") for m in args.latency_modes):
        ap.error("--latency-modes: spin, blocking or both")
    out = os.path.abspath(args.out or tempfile.mkdtemp(prefix="bench-3d-", dir="/tmp"))
    os.makedirs(out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="b3d", dir="/tmp")  # short: sun_path is 108 bytes

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        daemon = os.path.join(args.build, "src", "vhost-device-gpu")
        if not os.access(daemon, os.X_OK):
            raise BenchError("%s not built" % daemon)
        r = subprocess.run([os.path.join(E2E, "setup.sh"), "--3d", args.cache],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise BenchError("setup.sh --3d failed: %s" %
                             (r.stderr.strip().splitlines() or ["?"])[-1])
        env = read_env(args.cache)
        shim = env.get("REF_SHIM", "")
        if not os.path.exists(shim) or not os.access(QEMU_BACKEND, os.X_OK):
            raise BenchError("QEMU's backend %s or the shim %r is missing" % (QEMU_BACKEND, shim))
        backends = [
            ("ours", [daemon, "--gpu-mode", "virglrenderer", "--socket-path", "{socket}"] +
             shlex.split(args.ours_args)),
            ("qemu", ["env", "LD_PRELOAD=" + shim, QEMU_BACKEND, "--virgl",
                      "--socket-path={socket}"]),
        ]
        log("BENCH-3D setup: %d rounds, A B A B (ours, qemu), pinning %s; logs in %s" %
            (args.rounds, "backend CPU 0, frontend/QEMU CPU 1" if args.pin else "off", out))
        ok = True

        if not args.skip_glmark2:
            benches = " ".join("-b %s:duration=%d" % (b, args.duration)
                               for b in ("build", "texture", "shading"))
            script = os.path.join(tmp, "bench-3d-guest.sh")
            with open(script, "w") as f:
                f.write(GUEST_SCRIPT.replace("@BENCHMARKS@", benches))
            log("BENCH-3D glmark2: glmark2-es2-drm --off-screen %s, vhost-user-gpu-pci "
                "edid=off,xres=%d,yres=%d" % ((benches,) + args.size))
            scores = {n: [] for n, _ in backends}
            sizes = {n: set() for n, _ in backends}
            for rnd in range(1, args.rounds + 1):
                for name, cmd in backends:
                    try:
                        s, size = run_glmark2(args, name, [shlex.quote(c) for c in cmd], script,
                                              os.path.join(out, "glmark2-%s-%d" % (name, rnd)))
                        scores[name].append(s)
                        sizes[name].add(size)
                    except (BenchError, subprocess.TimeoutExpired) as e:
                        log("BENCH-3D glmark2 round %d %s: ERROR %s" % (rnd, name, e))
                        ok = False
                    time.sleep(1)
                a = scores["ours"][-1] if len(scores["ours"]) == rnd else None
                b = scores["qemu"][-1] if len(scores["qemu"]) == rnd else None
                log("BENCH-3D glmark2 round %d: ours %s  qemu %s  ratio ours/qemu %s" %
                    (rnd, a, b, fmt_ratio(a, b) if a and b else "n/a"))
            if scores["ours"] and scores["qemu"]:
                ma, mb = statistics.median(scores["ours"]), statistics.median(scores["qemu"])
                sa = ",".join(sorted(str(x) for x in sizes["ours"]))
                sb = ",".join(sorted(str(x) for x in sizes["qemu"]))
                log("BENCH-3D glmark2 median: ours %g  qemu %g  ratio ours/qemu %s "
                    "(surface ours %s, qemu %s; higher is better)" %
                    (ma, mb, fmt_ratio(ma, mb), sa, sb))
                if sa != sb or len(sizes["ours"]) != 1:
                    log("BENCH-3D WARNING: the guests rendered at different sizes: the scores "
                        "are not comparable")
                    ok = False

        if not args.skip_latency:
            exe = latency_binary(args, tmp)
            for mode in args.latency_modes:
                ok = run_latency_rounds(args, backends, exe, tmp, out, mode) and ok
        return 0 if ok else 1
    except BenchError as e:
        log("BENCH-3D ERROR: %s" % e)
        return 1
    except KeyboardInterrupt:
        log("BENCH-3D interrupted")
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
