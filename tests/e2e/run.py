#!/usr/bin/python3
"""End-to-end test runner: a Linux guest in QEMU draws through a vhost-user GPU
backend; the host takes QMP screendumps and checks their pixels.

  run.py --backend-cmd 'CMD {socket}' --device vhost-user-gpu-pci --test fb-pattern
  run.py --socket /path/to/running/backend.sock --test reconnect
  run.py --backend-cmd 'CMD {socket}' --backend-wrapper 'valgrind --leak-check=full' ...

Exit status: 0 pass, 1 fail, 77 skip (the cache could not be prepared, or the
QEMU found cannot run a vhost-user GPU under TCG). One line starting with
"E2E-VERDICT:" states the result. Python standard library only.
"""

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
GUEST_DIR = os.path.join(HERE, "guest")
DEFAULT_CACHE = "/var/cache/vdg-e2e"
DEVICES = ("vhost-user-gpu-pci", "vhost-user-vga")

EXIT_PASS, EXIT_FAIL, EXIT_SKIP = 0, 1, 77

# Bounds on every wait, in seconds.
SOCKET_WAIT = 10.0  # --backend-wait; 120 s with --backend-wrapper
WRAPPED_BACKEND_WAIT = 120.0
QMP_WAIT = 10.0
BOOT_TIMEOUT = 120.0
QEMU_EXIT_WAIT = 15.0
BACKEND_EXIT_WAIT = 5.0

# The 640x480 surface QEMU shows until the guest sets a scanout: "Guest has
# not initialized the display (yet)."
PLACEHOLDER_SIZE = (640, 480)

T_START = time.monotonic()


def log(msg):
    print("[%6.2f] %s" % (time.monotonic() - T_START, msg), flush=True)


class TestFailure(Exception):
    pass


class TestSkip(Exception):
    pass


class Interrupted(Exception):
    pass


# --- images ------------------------------------------------------------------


class Image:
    """An RGB image: width, height, and 3 bytes per pixel, rows packed."""

    def __init__(self, width, height, rgb):
        self.width, self.height, self.rgb = width, height, rgb

    def pixel(self, x, y):
        i = (y * self.width + x) * 3
        return tuple(self.rgb[i:i + 3])

    def rows(self, y0, y1):
        return self.rgb[y0 * self.width * 3:y1 * self.width * 3]

    def region(self, x0, y0, x1, y1):
        """The bytes of a rectangle, rows concatenated."""
        out = bytearray()
        for y in range(y0, y1):
            i = (y * self.width + x0) * 3
            out += self.rgb[i:i + (x1 - x0) * 3]
        return bytes(out)


def read_ppm(path):
    """Parse a binary PPM (P6, maxval 255), as QMP screendump writes it."""
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:
        m = re.compile(rb"\s*(#[^\n]*\n\s*)*(\S+)").match(data, pos)
        if not m:
            raise TestFailure("%s: truncated PPM header" % path)
        fields.append(m.group(2))
        pos = m.end()
    pos += 1  # the single whitespace byte after maxval
    if fields[0] != b"P6" or fields[3] != b"255":
        raise TestFailure("%s: not a P6 PPM with maxval 255" % path)
    w, h = int(fields[1]), int(fields[2])
    rgb = data[pos:pos + w * h * 3]
    if len(rgb) != w * h * 3:
        raise TestFailure("%s: %d pixel bytes, expected %d" % (path, len(rgb), w * h * 3))
    return Image(w, h, rgb)


def write_png(path, img):
    """Write an 8-bit RGB PNG, no filtering, deflated with zlib."""

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body +
                struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff))

    stride = img.width * 3
    raw = bytearray()
    for y in range(img.height):
        raw.append(0)
        raw += img.rgb[y * stride:(y + 1) * stride]
    ihdr = struct.pack(">IIBBBBB", img.width, img.height, 8, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", ihdr))
        f.write(chunk(b"IDAT", zlib.compress(bytes(raw), 6)))
        f.write(chunk(b"IEND", b""))


def check_not_placeholder(img, name):
    if (img.width, img.height) == PLACEHOLDER_SIZE:
        raise TestFailure("%s: got QEMU's %dx%d placeholder 'Guest has not initialized the "
                          "display': no frame reached QEMU" % ((name,) + PLACEHOLDER_SIZE))


def first_mismatch(img, y0, y1, color):
    for y in range(y0, y1):
        for x in range(img.width):
            if img.pixel(x, y) != color:
                return x, y, img.pixel(x, y)
    return None


# --- checks, one per test ----------------------------------------------------

BANDS = (("red", (255, 0, 0)), ("green", (0, 255, 0)), ("blue", (0, 0, 255)),
         ("white", (255, 255, 255)))


def check_fb_pattern(img, name, fb_size):
    """Four bands of height H/4: every pixel must be exact."""
    check_not_placeholder(img, name)
    if fb_size and (img.width, img.height) != fb_size:
        raise TestFailure("%s: screendump is %dx%d, guest fb0 is %dx%d" %
                          ((name, img.width, img.height) + fb_size))
    band_h = img.height // 4
    notes = []
    for i, (cname, color) in enumerate(BANDS):
        y0, y1 = i * band_h, (i + 1) * band_h
        if img.rows(y0, y1) != bytes(color) * (img.width * band_h):
            x, y, got = first_mismatch(img, y0, y1, color)
            raise TestFailure("%s: pixel (%d,%d) in %s band is %s, expected %s" %
                              (name, x, y, cname, got, color))
        # The sample points reported in the log, as in the original recipe.
        for x, y in ((2, y0 + 2), (img.width // 2, (y0 + y1) // 2),
                     (img.width - 3, y1 - 3)):
            notes.append("%s(%d,%d)=%s" % (cname[0], x, y, "%02x%02x%02x" % img.pixel(x, y)))
    log("%s: %dx%d, 4 bands of %d rows exact; samples %s" %
        (name, img.width, img.height, band_h, " ".join(notes)))


CONSOLE_FG = (170, 170, 170)  # default fbcon colour 7
CONSOLE_BAR = (0, 170, 0)  # background colour 2
BAR_CELLS, BAR_ROW, BAR_COL = 40, 9, 10  # 0-based row/column of the bar
TEXT_LINES = ("vhost-device-gpu e2e: fbcon test",
              "The quick brown fox jumps over the lazy dog 0123456789")


def bbox_of(img, color, y_limit=None):
    """Bounding box (x0, y0, x1, y1) of the pixels of one exact colour."""
    pat = bytes(color)
    x0 = y0 = None
    x1 = y1 = -1
    for y in range(img.height if y_limit is None else min(y_limit, img.height)):
        row = img.rows(y, y + 1)
        i = row.find(pat)
        while i >= 0 and i % 3:
            i = row.find(pat, i + 1)
        if i < 0:
            continue
        j = row.rfind(pat)
        while j >= 0 and j % 3:
            j = row.rfind(pat, 0, j + 2)
        if y0 is None:
            y0 = y
        y1 = y
        x0 = i // 3 if x0 is None else min(x0, i // 3)
        x1 = max(x1, j // 3)
    if y0 is None:
        return None
    return x0, y0, x1 + 1, y1 + 1


def check_fbcon(img, name, fb_size):
    """The text console is on the screen: a solid green bar at the cell where
    the guest put it (which gives the font's cell size), glyph-like grey pixels
    where the text lines are, and black everywhere else."""
    check_not_placeholder(img, name)
    if fb_size and (img.width, img.height) != fb_size:
        raise TestFailure("%s: screendump is %dx%d, guest fb0 is %dx%d" %
                          ((name, img.width, img.height) + fb_size))
    box = bbox_of(img, CONSOLE_BAR)
    if box is None:
        raise TestFailure("%s: no pixel of the console's green (%d,%d,%d): the text console "
                          "did not draw" % ((name,) + CONSOLE_BAR))
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    if img.region(x0, y0, x1, y1) != bytes(CONSOLE_BAR) * (bw * bh):
        raise TestFailure("%s: green bar %s is not solid" % (name, box))
    if bw % BAR_CELLS:
        raise TestFailure("%s: green bar is %d px wide, not a multiple of %d cells" %
                          (name, bw, BAR_CELLS))
    cw, ch = bw // BAR_CELLS, bh
    if not (4 <= cw <= 32 and 6 <= ch <= 64):
        raise TestFailure("%s: implausible font cell %dx%d" % (name, cw, ch))
    if (x0, y0) != (BAR_COL * cw, BAR_ROW * ch):
        raise TestFailure("%s: green bar at (%d,%d), expected cell (%d,%d) = (%d,%d) px" %
                          (name, x0, y0, BAR_COL, BAR_ROW, BAR_COL * cw, BAR_ROW * ch))
    # The first two text lines: only black and the console grey, and a
    # fraction of grey that printed glyphs have (neither empty nor solid).
    for n, text in enumerate(TEXT_LINES):
        area = img.region(0, n * ch, len(text) * cw, (n + 1) * ch)
        px = len(area) // 3
        grey = black = 0
        for i in range(0, len(area), 3):
            p = area[i:i + 3]
            if p == bytes(CONSOLE_FG):
                grey += 1
            elif p == b"\0\0\0":
                black += 1
        if grey + black != px:
            raise TestFailure("%s: text line %d has %d pixels that are neither black nor "
                              "console grey" % (name, n + 1, px - grey - black))
        frac = grey / px
        if not 0.05 <= frac <= 0.6:
            raise TestFailure("%s: text line %d is %.0f%% grey; printed glyphs give 5-60%%" %
                              (name, n + 1, 100 * frac))
        # Each character cell with a non-space glyph has grey in it.
        for c, chr_ in enumerate(text):
            cell = img.region(c * cw, n * ch, (c + 1) * cw, (n + 1) * ch)
            inked = bytes(CONSOLE_FG) in cell
            if inked != (chr_ != " "):
                raise TestFailure("%s: text line %d, column %d ('%s'): cell is %s" %
                                  (name, n + 1, c + 1, chr_, "inked" if inked else "empty"))
        log("%s: text line %d: %.1f%% grey, every cell matches the text" %
            (name, n + 1, 100 * frac))
    # The same character draws the same glyph wherever it is.
    glyphs = {}
    for n, text in enumerate(TEXT_LINES):
        for c, chr_ in enumerate(text):
            cell = img.region(c * cw, n * ch, (c + 1) * cw, (n + 1) * ch)
            if glyphs.setdefault(chr_, cell) != cell:
                raise TestFailure("%s: '%s' at line %d, column %d differs from its first "
                                  "occurrence" % (name, chr_, n + 1, c + 1))
    log("%s: %d distinct characters, each drawn identically everywhere" % (name, len(glyphs)))
    # Below the bar the screen was cleared: all black.
    rest = img.rows(y1 + ch, img.height)
    if rest.strip(b"\0"):
        raise TestFailure("%s: the cleared area below the bar is not black" % name)
    log("%s: %dx%d, font cell %dx%d, bar %dx%d at (%d,%d) solid" %
        (name, img.width, img.height, cw, ch, bw, bh, x0, y0))


def make_demo_image(width, height):
    """A host-drawn picture in the guest's XRGB8888 layout (B, G, R, X), and
    the same as RGB for the comparison: a colour wheel gradient with bands."""
    bgrx = bytearray(width * height * 4)
    rgb = bytearray(width * height * 3)
    bar_h = height // 8
    bars = ((255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0), (255, 0, 255),
            (255, 0, 0), (0, 0, 255), (16, 16, 16))
    for y in range(height):
        if y >= height - bar_h:
            row = b"".join(bytes(bars[min(x * len(bars) // width, len(bars) - 1)])
                           for x in range(width))
        else:
            v = 255 - 170 * y // height
            row = bytearray()
            for x in range(width):
                h6 = 6 * 255 * x // width
                seg, f = divmod(h6, 255)
                r, g, b = ((255, f, 0), (255 - f, 255, 0), (0, 255, f), (0, 255 - f, 255),
                           (f, 0, 255), (255, 0, 255 - f), (255, 0, 0))[seg]
                row += bytes((r * v // 255, g * v // 255, b * v // 255))
        rgb[y * width * 3:(y + 1) * width * 3] = row
        quad = bytearray(width * 4)
        quad[0::4], quad[1::4], quad[2::4] = row[2::3], row[1::3], row[0::3]
        bgrx[y * width * 4:(y + 1) * width * 4] = quad
    return bytes(bgrx), Image(width, height, bytes(rgb))


def check_demo(img, name, fb_size, ref):
    """The bottom half has no text on it: it must equal the host's picture."""
    check_not_placeholder(img, name)
    if (img.width, img.height) != (ref.width, ref.height):
        raise TestFailure("%s: screendump is %dx%d, picture is %dx%d" %
                          (name, img.width, img.height, ref.width, ref.height))
    y0 = img.height // 2
    if img.rows(y0, img.height) != ref.rows(y0, img.height):
        for y in range(y0, img.height):
            if img.rows(y, y + 1) != ref.rows(y, y + 1):
                for x in range(img.width):
                    if img.pixel(x, y) != ref.pixel(x, y):
                        raise TestFailure("%s: pixel (%d,%d) is %s, picture has %s" %
                                          (name, x, y, img.pixel(x, y), ref.pixel(x, y)))
    log("%s: bottom half equals the host's picture" % name)


def check_3d_frame(img, name):
    """A rendered frame: not the placeholder, not blank, and shaded (a lit cube
    gives hundreds of colours; a clear colour or text gives a handful)."""
    check_not_placeholder(img, name)
    colours = set()
    step = max(1, (img.width * img.height) // 20000)
    for i in range(0, img.width * img.height, step):
        colours.add(img.rgb[i * 3:i * 3 + 3])
    if len(colours) < 64:
        raise TestFailure("%s: only %d distinct colours in %dx%d: not a rendered 3D frame" %
                          (name, len(colours), img.width, img.height))
    log("%s: %dx%d, %d distinct colours sampled" % (name, img.width, img.height, len(colours)))


# The gl-pattern image (tests/e2e/guest/gl-pattern.c draws the same), in
# screen coordinates for a W x H mode.
GLP_RED, GLP_GREEN, GLP_BLUE, GLP_WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)
GLP_CYAN, GLP_YELLOW, GLP_BLACK, GLP_MAGENTA = (0, 255, 255), (255, 255, 0), (0, 0, 0), (255, 0, 255)
GLP_RECT = (16, 16, 80, 48)  # yellow, drawn with a shader: x0, y0, x1, y1
GLP_CHECK_OFF, GLP_CHECK_SIZE = 16, 32  # checkerboard at (W/2+16, H/2+16), 32x32


def make_gl_pattern(w, h):
    """The expected frame as an Image."""
    hw, hh = w // 2, h // 2
    top = bytes(GLP_RED) * hw + bytes(GLP_GREEN) * (w - hw)
    bottom = bytes(GLP_BLUE) * hw + bytes(GLP_WHITE) * (w - hw)
    rgb = bytearray(top * hh + bottom * (h - hh))

    def put(x, y, c):
        i = (y * w + x) * 3
        rgb[i:i + 3] = bytes(c)

    x0, y0, x1, y1 = GLP_RECT
    for y in range(y0, y1):
        for x in range(x0, x1):
            put(x, y, GLP_YELLOW)
    cx, cy = hw + GLP_CHECK_OFF, hh + GLP_CHECK_OFF
    for y in range(cy, cy + GLP_CHECK_SIZE):
        for x in range(cx, cx + GLP_CHECK_SIZE):
            put(x, y, GLP_MAGENTA if (x + y) % 2 else GLP_BLACK)
    for y in range(h):
        put(w - 1, y, GLP_CYAN)
    for x in range(w):
        put(x, h - 1, GLP_CYAN)
    return Image(w, h, bytes(rgb))


def check_gl_pattern(img, name, info):
    """Every pixel must equal the image the guest program drew. On a mismatch,
    say whether the dump is the expected image flipped or mirrored."""
    check_not_placeholder(img, name)
    mode = info.get("gl-mode")
    if not mode:
        raise TestFailure("%s: the guest did not report the mode it scanned out" % name)
    w, h = (int(v) for v in mode.split("x"))
    if (img.width, img.height) != (w, h):
        raise TestFailure("%s: screendump is %dx%d, the guest scanned out %dx%d" %
                          (name, img.width, img.height, w, h))
    ref = make_gl_pattern(w, h)
    if img.rgb == ref.rgb:
        log("%s: %dx%d, every pixel equals the pattern (quadrants, yellow shader rect at "
            "%s, 1-px checkerboard, cyan last row/column)" % (name, w, h, GLP_RECT[:2]))
        return
    stride = w * 3
    rows = [ref.rgb[y * stride:(y + 1) * stride] for y in range(h)]
    vflip = b"".join(reversed(rows))
    mirror = b"".join(b"".join(r[x * 3:x * 3 + 3] for x in range(w - 1, -1, -1)) for r in rows)
    hint = ""
    if img.rgb == vflip:
        hint = " (the dump is the pattern flipped vertically)"
    elif img.rgb == mirror:
        hint = " (the dump is the pattern mirrored left/right)"
    elif img.rgb == b"".join(reversed([mirror[y * stride:(y + 1) * stride]
                                                   for y in range(h)])):
        hint = " (the dump is the pattern rotated by 180 degrees)"
    bad = 0
    first = None
    for y in range(h):
        if img.rows(y, y + 1) == ref.rows(y, y + 1):
            continue
        for x in range(w):
            if img.pixel(x, y) != ref.pixel(x, y):
                bad += 1
                if first is None:
                    first = (x, y, img.pixel(x, y), ref.pixel(x, y))
    x, y, got, want = first
    raise TestFailure("%s: %d of %d pixels differ; first at (%d,%d): %s, expected %s%s" %
                      (name, bad, w * h, x, y, got, want, hint))


# --- test table --------------------------------------------------------------

# name: guest script, dumps it must produce, number of boots.
TESTS = {
    "fb-pattern": {"script": "fb-pattern.sh", "dumps": ["fb-pattern"], "boots": 1},
    "fbcon": {"script": "fbcon.sh", "dumps": ["fbcon"], "boots": 1},
    "reconnect": {"script": "fb-pattern.sh", "dumps": ["fb-pattern"], "boots": 2},
    "demo": {"script": "demo.sh", "dumps": ["demo"], "boots": 1},
    # 3D: need --initramfs 3d (setup.sh --3d) and a virgl backend.
    "gl-render": {"script": "gl-render.sh", "dumps": [], "boots": 1, "initramfs": "3d"},
    "gl-scanout": {"script": "gl-scanout.sh", "dumps": ["kmscube"], "boots": 1,
                   "initramfs": "3d"},
    "gl-pattern": {"script": "gl-pattern.sh", "dumps": ["gl-pattern"], "boots": 1,
                   "initramfs": "3d"},
}

# --- processes ---------------------------------------------------------------


def kill_group(proc, name, wait=BACKEND_EXIT_WAIT):
    """Stop a process we started (in its own session), then reap it."""
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
            log("%s (pid %d) ignored %s" % (name, proc.pid, sig.name))
    proc.wait(timeout=wait)


def wait_for_socket(path, proc, timeout):
    """Wait until PATH is a Unix socket. Never connects: a backend may serve
    only one connection."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if stat.S_ISSOCK(os.stat(path).st_mode):
                return
        except FileNotFoundError:
            pass
        if proc is not None and proc.poll() is not None:
            raise TestFailure("backend exited with status %d before creating %s" %
                              (proc.returncode, path))
        time.sleep(0.02)
    raise TestFailure("no socket at %s after %.0f s" % (path, timeout))


def last_line(path):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else ""
    except OSError:
        return ""


def is_valgrind(wrapper):
    return bool(wrapper) and os.path.basename(wrapper[0]) == "valgrind"


def valgrind_report(log_path, pid):
    """Valgrind's lines for PID in the backend log (stderr goes there), with
    the "==PID== " prefix removed."""
    prefix = "==%d== " % pid
    with open(log_path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    return [line[len(prefix):] if line.startswith(prefix) else ""
            for line in text.splitlines() if line.startswith("==%d==" % pid)]


def check_valgrind(log_path, pid, status):
    """The final report of a backend run under valgrind: no error, and no
    definitely or indirectly lost byte. Still reachable blocks are fine."""
    lines = valgrind_report(log_path, pid)

    def number(pattern):
        for line in lines:
            m = re.search(pattern, line)
            if m:
                return int(m.group(1).replace(",", ""))
        return None

    errors = number(r"^ERROR SUMMARY: ([\d,]+) errors")
    if errors is None:
        raise TestFailure("valgrind printed no ERROR SUMMARY in %s (exit status %d): the "
                          "backend did not exit normally" % (log_path, status))
    if any("All heap blocks were freed" in line for line in lines):
        definite = indirect = 0
    else:
        definite = number(r"^ +definitely lost: ([\d,]+) bytes")
        indirect = number(r"^ +indirectly lost: ([\d,]+) bytes")
        if definite is None or indirect is None:
            raise TestFailure("valgrind printed no LEAK SUMMARY in %s (run it with "
                              "--leak-check=full)" % log_path)
    if errors or definite or indirect:
        # Everything after the start banner: the errors, the lost blocks, the summaries.
        start = next((i + 1 for i, l in enumerate(lines) if l.startswith("Command: ")), 0)
        body = [l for l in lines[start:] if l and not l.startswith("Warning: set address range")]
        for line in body[:100]:
            print("    %s" % line, flush=True)
        raise TestFailure("valgrind: ERROR SUMMARY %d errors, definitely lost %d bytes, "
                          "indirectly lost %d bytes (backend exit status %d; see %s)" %
                          (errors, definite, indirect, status, log_path))
    for line in lines:
        if re.match(r"(ERROR SUMMARY|All heap blocks| +(definitely|indirectly|possibly) lost"
                    r"| +still reachable| +in use at exit)", line):
            log("valgrind: %s" % line.strip())
    if status != 0:
        raise TestFailure("backend under valgrind exited with status %d" % status)


def connect_unix(path, qemu, timeout, qemu_log=None):
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if qemu.poll() is not None:
                raise TestFailure("QEMU exited with status %d during startup: %s" %
                                  (qemu.returncode, last_line(qemu_log) if qemu_log else "?"))
            if time.monotonic() > deadline:
                raise TestFailure("cannot connect to %s within %.0f s" % (path, timeout))
            time.sleep(0.05)


class Qmp:
    def __init__(self, sock):
        self.sock = sock
        self.sock.settimeout(QMP_WAIT)
        self.buf = b""
        greeting = self.recv()
        if "QMP" not in greeting:
            raise TestFailure("unexpected QMP greeting %r" % greeting)
        self.execute("qmp_capabilities")

    def recv(self):
        while b"\n" not in self.buf:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise TestFailure("QMP: no answer within %.0f s" % QMP_WAIT)
            if not data:
                raise TestFailure("QMP: connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, cmd, **args):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self.recv()
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise TestFailure("QMP %s: %s" % (cmd, reply["error"].get("desc")))
            # events are skipped


def qemu_version(qemu):
    out = subprocess.run([qemu, "--version"], capture_output=True, text=True, timeout=30).stdout
    m = re.search(r"version (\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


# --- one VM boot -------------------------------------------------------------


def boot(env, args, tmp, sock_path, backend, run_idx, fw_files, disk, tag):
    """Boot the guest once against the backend at SOCK_PATH. Returns the
    dumps taken ({name: path}) and the fb0 size the guest reported."""
    out = args.out
    serial = os.path.join(out, "serial%s.log" % tag)
    qemu_log = os.path.join(out, "qemu%s.log" % tag)
    qmp_path = os.path.join(tmp, "qmp%d" % run_idx)
    ctl_path = os.path.join(tmp, "ctl%d" % run_idx)
    test_sh = args.guest_script or os.path.join(GUEST_DIR, TESTS[args.test]["script"])
    mem = args.mem
    cmdline = "console=ttyS0 panic=-1 vt.global_cursor_default=0 e2e.device=%s" % args.device
    cmd = [env["QEMU"], "-nodefaults", "-no-user-config", "-no-reboot",
           "-machine", "q35,accel=tcg,memory-backend=mem0", "-smp", "2", "-m", str(mem),
           "-object", "memory-backend-memfd,id=mem0,size=%dM,share=on" % mem,
           "-kernel", env["KERNEL"], "-initrd", env[args.initramfs_key],
           "-append", cmdline,
           "-fw_cfg", "name=opt/e2e/test.sh,file=%s" % test_sh,
           "-vga", "none", "-display", "none",
           "-chardev", "socket,id=vgpu,path=%s" % sock_path,
           "-device", "%s,chardev=vgpu%s" % (args.device, args.device_opts),
           "-chardev", "file,id=log,path=%s" % serial, "-serial", "chardev:log",
           "-chardev", "socket,id=ctl,path=%s,server=on,wait=off" % ctl_path,
           "-serial", "chardev:ctl",
           "-qmp", "unix:%s,server=on,wait=off" % qmp_path]
    for name, path in fw_files.items():
        cmd += ["-fw_cfg", "name=opt/e2e/%s,file=%s" % (name, path)]
    if disk:
        # Bulk data goes by virtio-blk: fw_cfg reads from sysfs run at about
        # 40 KiB/s under TCG (4 MiB took 93 s), a disk reads it at once.
        cmd += ["-drive", "file=%s,format=raw,if=none,id=data,readonly=on" % disk,
                "-device", "virtio-blk-pci,drive=data"]
    cmd += args.qemu_arg
    with open(os.path.join(out, "qemu%s.cmd" % tag), "w") as f:
        f.write(" ".join(shlex.quote(c) for c in cmd) + "\n")
    if os.path.exists(serial):
        os.unlink(serial)
    t0 = time.monotonic()
    qlog = open(qemu_log, "wb")
    qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=qlog, stderr=subprocess.STDOUT,
                            start_new_session=True)
    qmp_sock = ctl = None
    dumps, fb_size, result = {}, None, None
    args.guest_info = {}
    try:
        qmp = Qmp(connect_unix(qmp_path, qemu, QMP_WAIT, qemu_log))
        ctl = connect_unix(ctl_path, qemu, QMP_WAIT, qemu_log)
        qmp_sock = qmp.sock
        log("QEMU up (pid %d), guest booting" % qemu.pid)
        deadline = time.monotonic() + args.timeout
        pos, pending, done = 0, b"", False
        while not done:
            if time.monotonic() > deadline:
                raise TestFailure("guest did not finish within %.0f s (see %s)" %
                                  (args.timeout, serial))
            try:
                with open(serial, "rb") as f:
                    f.seek(pos)
                    data = f.read()
            except FileNotFoundError:
                data = b""
            pos += len(data)
            pending += data
            lines = pending.split(b"\n")
            pending = lines.pop()
            for raw in lines:
                line = raw.decode("utf-8", "replace").strip("\r")
                if line.startswith("E2E") or line.startswith("SCREENDUMP"):
                    log("guest: %s" % line)
                m = re.match(r"E2E: fb0: .* (\d+)x(\d+) stride", line)
                if m:
                    fb_size = (int(m.group(1)), int(m.group(2)))
                # "E2E-INFO <key> <value>": facts the host check needs.
                m = re.match(r"E2E-INFO (\S+) (.*)$", line)
                if m:
                    args.guest_info[m.group(1)] = m.group(2).strip()
                m = re.match(r"SCREENDUMP-READY (\S+)$", line)
                if m:
                    name = m.group(1)
                    ppm = os.path.join(out, "%s%s.ppm" % (name, tag))
                    if os.path.exists(ppm):
                        os.unlink(ppm)
                    qmp.execute("screendump", filename=ppm)
                    dumps[name] = ppm
                    ctl.sendall(("ACK %s\n" % name).encode())
                if line.startswith("E2E-RESULT "):
                    result = line[len("E2E-RESULT "):]
                if line == "E2E-DONE":
                    done = True
            if done:
                break
            if qemu.poll() is not None:
                raise TestFailure("QEMU exited with status %d before the guest finished: %s "
                                  "(see %s, %s)" % (qemu.returncode, last_line(qemu_log),
                                                    qemu_log, serial))
            if backend is not None and backend.poll() is not None:
                raise TestFailure("backend exited with status %d during the test" %
                                  backend.returncode)
            time.sleep(0.05)
        try:
            qemu.wait(timeout=QEMU_EXIT_WAIT)
        except subprocess.TimeoutExpired:
            raise TestFailure("QEMU did not exit within %.0f s of the guest's poweroff" %
                              QEMU_EXIT_WAIT)
        log("guest powered off, QEMU exit status %d, boot took %.1f s" %
            (qemu.returncode, time.monotonic() - t0))
    finally:
        for s in (qmp_sock, ctl):
            if s is not None:
                s.close()
        kill_group(qemu, "QEMU")
        qlog.close()
    if result is None:
        raise TestFailure("guest printed no E2E-RESULT (see %s)" % serial)
    if qemu.returncode != 0:
        raise TestFailure("QEMU exit status %d (see %s)" % (qemu.returncode, qemu_log))
    guest_error = None if result == "PASS" else "guest: %s" % result.rstrip(";")
    return dumps, fb_size, guest_error


# --- main --------------------------------------------------------------------


def prepare_cache(args):
    cache = args.cache
    if not args.no_setup:
        setup = [os.path.join(HERE, "setup.sh")] + (["--3d"] if args.initramfs == "3d" else [])
        r = subprocess.run(setup + [cache], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True)
        if r.returncode != 0:
            raise TestSkip("setup.sh %s failed: %s" %
                           (cache, (r.stderr.strip().splitlines() or ["?"])[-1]))
    env_file = os.path.join(cache, "e2e.env")
    if not os.path.exists(env_file):
        raise TestSkip("%s missing: run tests/e2e/setup.sh" % env_file)
    env = {}
    with open(env_file) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            env[k] = v
    if args.initramfs_key not in env:
        raise TestSkip("no %s image in the cache: run tests/e2e/setup.sh --%s" %
                       (args.initramfs, args.initramfs))
    for k in ("QEMU", "KERNEL", args.initramfs_key):
        if not os.path.exists(env.get(k, "")):
            raise TestSkip("%s (%s) missing from the cache" % (k, env.get(k)))
    ver = qemu_version(env["QEMU"])
    if ver < (8, 1):
        raise TestSkip("QEMU %d.%d cannot run a vhost-user GPU under TCG (it requires "
                       "ioeventfd, i.e. KVM, before 8.1)" % ver)
    return env


def check_dumps(args, spec, dumps, fb_size, tag, demo_ref):
    for name in spec["dumps"]:
        if name not in dumps:
            raise TestFailure("the guest asked for no screendump %r" % name)
    for name, ppm in dumps.items():
        img = read_ppm(ppm)
        png = ppm[:-4] + ".png"
        write_png(png, img)
        log("saved %s" % png)
        if args.test == "gl-scanout":
            check_3d_frame(img, name)
        elif args.test == "gl-pattern":
            check_gl_pattern(img, name, getattr(args, "guest_info", {}))
        elif args.test == "fbcon":
            check_fbcon(img, name, fb_size)
        elif args.test == "demo":
            check_demo(img, name, fb_size, demo_ref)
        else:
            check_fb_pattern(img, name + tag, fb_size)


def stop_backend(args, backend, backend_log):
    """SIGTERM the backend after the last VM: it must exit with status 0 within
    --backend-wait. Under valgrind, its report must be clean too."""
    if backend.poll() is not None:
        raise TestFailure("backend exited with status %d before it was stopped" %
                          backend.returncode)
    t0 = time.monotonic()
    os.killpg(backend.pid, signal.SIGTERM)
    try:
        status = backend.wait(timeout=args.backend_wait)
    except subprocess.TimeoutExpired:
        raise TestFailure("backend did not exit within %.0f s of SIGTERM" % args.backend_wait)
    log("backend exited %.1f s after SIGTERM, status %d" % (time.monotonic() - t0, status))
    if is_valgrind(args.wrapper):
        check_valgrind(backend_log, backend.pid, status)
    elif status != 0:
        raise TestFailure("backend exited with status %d after SIGTERM" % status)


def run_test(args):
    spec = TESTS[args.test]
    if args.wrapper and not shutil.which(args.wrapper[0]):
        raise TestSkip("%s is not installed (--backend-wrapper; scripts/deps.sh test "
                       "installs valgrind)" % args.wrapper[0])
    env = prepare_cache(args)
    os.makedirs(args.out, exist_ok=True)
    # sun_path is 108 bytes: keep every socket in a short directory.
    tmp = tempfile.mkdtemp(prefix="vdg", dir="/tmp")
    backend = None
    keep = False
    t0 = time.monotonic()
    fw_files, disk, demo_ref = {}, None, None
    backend_log = os.path.join(args.out, "backend.log")
    try:
        if args.test == "demo":
            # fb0 is the device's default 1280x800 unless xres/yres say otherwise.
            w = int(re.search(r"xres=(\d+)", args.device_opts).group(1)) \
                if "xres=" in args.device_opts else 1280
            h = int(re.search(r"yres=(\d+)", args.device_opts).group(1)) \
                if "yres=" in args.device_opts else 800
            bgrx, demo_ref = make_demo_image(w, h)
            disk = os.path.join(tmp, "image.raw")
            with open(disk, "wb") as f:
                f.write(bgrx)
        if args.socket:
            sock_path = args.socket
            wait_for_socket(sock_path, None, SOCKET_WAIT)
            log("using the running backend at %s" % sock_path)
        else:
            sock_path = os.path.join(tmp, "gpu.sock")
            cmd = args.wrapper + shlex.split(args.backend_cmd.replace("{socket}", sock_path))
            blog = open(backend_log, "wb")
            backend = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=blog,
                                       stderr=subprocess.STDOUT, start_new_session=True)
            blog.close()
            log("backend started (pid %d): %s" % (backend.pid, " ".join(cmd)))
            wait_for_socket(sock_path, backend, args.backend_wait)
        for i in range(spec["boots"]):
            tag = "" if spec["boots"] == 1 else "-%d" % (i + 1)
            if i > 0:
                # The daemon must listen again after the first VM went away.
                if backend is not None and backend.poll() is not None:
                    raise TestFailure(
                        "backend exited (status %d) after the first VM disconnected; a "
                        "reconnect test needs a backend that serves several connections "
                        "(QEMU's reference backend serves only one)" % backend.returncode)
                try:
                    wait_for_socket(sock_path, backend, args.backend_wait)
                except TestFailure as e:
                    raise TestFailure("after the first VM: %s" % e)
            log("boot %d/%d, %s" % (i + 1, spec["boots"], args.device))
            try:
                dumps, fb_size, guest_error = boot(env, args, tmp, sock_path, backend, i,
                                                   fw_files, disk, tag)
            except TestFailure as e:
                if i == 0:
                    raise
                raise TestFailure("boot %d (the backend had served boot 1): %s" % (i + 1, e))
            # Check the pixels even when the guest failed: both are reported.
            errors = [guest_error] if guest_error else []
            try:
                check_dumps(args, spec, dumps, fb_size, tag, demo_ref)
            except TestFailure as e:
                errors.append(str(e))
            if errors:
                raise TestFailure("; ".join(errors))
        if backend is not None and args.stop_backend:
            stop_backend(args, backend, backend_log)
        elif backend is not None and not args.keep_backend:
            # A backend must survive the frontend going away; QEMU's exits 0.
            try:
                backend.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
            if backend.returncode is not None and backend.returncode != 0:
                raise TestFailure("backend exited with status %d" % backend.returncode)
        keep = args.keep_backend and backend is not None and backend.poll() is None
        return time.monotonic() - t0
    finally:
        if keep:
            log("backend left running: pid %d, socket %s" % (backend.pid, sock_path))
        else:
            # A backend under valgrind gets the time to write its report.
            kill_group(backend, "backend", wait=args.backend_wait if args.wrapper
                       else BACKEND_EXIT_WAIT)
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--backend-cmd",
                     help="command that starts the backend; {socket} is replaced by the "
                          "socket path it must listen on")
    src.add_argument("--socket", help="socket of an already running backend")
    ap.add_argument("--device", choices=DEVICES, default="vhost-user-gpu-pci")
    ap.add_argument("--device-opts", default="",
                    help="extra device properties, e.g. ',xres=1024,yres=768'")
    ap.add_argument("--test", choices=sorted(TESTS), required=True)
    ap.add_argument("--out", help="directory for logs and screendumps "
                                  "(default: e2e-out/<test>-<device> in the current directory)")
    ap.add_argument("--backend-wrapper", default="",
                    help="command put before --backend-cmd, e.g. 'valgrind --leak-check=full "
                         "--error-exitcode=99'; with valgrind, implies --stop-backend and "
                         "checks valgrind's report (no error, nothing definitely or "
                         "indirectly lost); skips (77) if the command is not installed")
    ap.add_argument("--stop-backend", action="store_true",
                    help="after the test, SIGTERM the backend started by --backend-cmd and "
                         "require exit status 0")
    ap.add_argument("--backend-wait", type=float, default=None,
                    help="bound on the backend's start (its socket appears) and on its exit "
                         "after SIGTERM, in seconds (default %.0f, %.0f with --backend-wrapper)"
                         % (SOCKET_WAIT, WRAPPED_BACKEND_WAIT))
    ap.add_argument("--keep-backend", action="store_true",
                    help="leave the backend started by --backend-cmd running")
    ap.add_argument("--cache", default=os.environ.get("VDG_E2E_CACHE", DEFAULT_CACHE))
    ap.add_argument("--no-setup", action="store_true",
                    help="do not run setup.sh; use the cache as it is")
    ap.add_argument("--initramfs", choices=("2d", "3d"), default=None,
                    help="guest image (default: what the test needs)")
    ap.add_argument("--mem", type=int, default=None, help="guest RAM in MiB")
    ap.add_argument("--timeout", type=float, default=BOOT_TIMEOUT,
                    help="bound on one boot, in seconds")
    ap.add_argument("--guest-script",
                    help="run this guest script instead of the test's own (debugging)")
    ap.add_argument("--qemu-arg", action="append", default=[],
                    help="extra QEMU argument (repeatable)")
    args = ap.parse_args()
    args.wrapper = shlex.split(args.backend_wrapper)
    if is_valgrind(args.wrapper):
        args.stop_backend = True
    if (args.wrapper or args.stop_backend) and not args.backend_cmd:
        ap.error("--backend-wrapper and --stop-backend need --backend-cmd")
    if args.stop_backend and args.keep_backend:
        ap.error("--stop-backend and --keep-backend exclude each other")
    if args.backend_wait is None:
        args.backend_wait = WRAPPED_BACKEND_WAIT if args.wrapper else SOCKET_WAIT
    if args.device_opts and not args.device_opts.startswith(","):
        args.device_opts = "," + args.device_opts
    if args.initramfs is None:
        args.initramfs = TESTS[args.test].get("initramfs", "2d")
    args.initramfs_key = "INITRAMFS_%s" % args.initramfs.upper()
    if args.mem is None:
        args.mem = 2048 if args.initramfs == "3d" else 512
    if args.out is None:
        args.out = os.path.join("e2e-out", "%s-%s" % (args.test, args.device))
    args.out = os.path.abspath(args.out)

    def on_signal(signum, frame):
        raise Interrupted("signal %d" % signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    what = "%s %s" % (args.test, args.device)
    if args.wrapper:
        what += " under %s" % os.path.basename(args.wrapper[0])
    try:
        secs = run_test(args)
        print("E2E-VERDICT: PASS %s (%.1f s)" % (what, secs), flush=True)
        return EXIT_PASS
    except TestSkip as e:
        print("E2E-VERDICT: SKIP %s: %s" % (what, e), flush=True)
        return EXIT_SKIP
    except TestFailure as e:
        print("E2E-VERDICT: FAIL %s: %s (logs in %s)" % (what, e, args.out), flush=True)
        return EXIT_FAIL
    except (Interrupted, KeyboardInterrupt) as e:
        print("E2E-VERDICT: FAIL %s: interrupted (%s)" % (what, e or "SIGINT"), flush=True)
        return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
