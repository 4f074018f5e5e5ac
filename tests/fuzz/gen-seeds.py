#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora of tests/fuzz/corpus/<target>/seed-*.

Each seed is a meaningful session in the input format its target documents
at the top of its .c file: a QEMU-like vhost-user start-up, valid descriptor
chains, valid virtio-gpu command sequences, a display channel conversation.
Crash inputs (crash-*) are never touched. Run again after changing a format:
  tests/fuzz/gen-seeds.py [CORPUS_DIR]
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def u8(v):
    return struct.pack('<B', v & 0xff)


def u16(v):
    return struct.pack('<H', v & 0xffff)


def u32(v):
    return struct.pack('<I', v & 0xffffffff)


def u64(v):
    return struct.pack('<Q', v & 0xffffffffffffffff)


def desc(addr, length, flags, nxt):
    return struct.pack('<QIHH', addr, length, flags, nxt)


NEXT, WRITE, INDIRECT = 1, 2, 4

# ---------------------------------------------------------------- vu-msg

VU = dict(GET_FEATURES=1, SET_FEATURES=2, SET_OWNER=3, RESET_OWNER=4, SET_MEM_TABLE=5,
          SET_VRING_NUM=8, SET_VRING_ADDR=9, SET_VRING_BASE=10, GET_VRING_BASE=11,
          SET_VRING_KICK=12, SET_VRING_CALL=13, SET_VRING_ERR=14, GET_PROTOCOL_FEATURES=15,
          SET_PROTOCOL_FEATURES=16, GET_QUEUE_NUM=17, SET_VRING_ENABLE=18, GET_CONFIG=24,
          SET_CONFIG=25, GPU_SET_SOCKET=33, RESET_DEVICE=34, GET_MAX_MEM_SLOTS=36,
          ADD_MEM_REG=37, REM_MEM_REG=38, SET_STATUS=39, GET_STATUS=40)
PROTO = (1 << 0) | (1 << 3) | (1 << 9) | (1 << 13) | (1 << 15) | (1 << 16)
UVA = 0x7f0000000000
KIND_EVENTFD, KIND_RAM, KIND_SMALL, KIND_SOCKET = 0, 1, 2, 3


def vu_msg(req, payload=b'', kinds=(), need_reply=False, bad_version=False):
    x = len(kinds) | (0x10 if need_reply else 0) | (0x20 if bad_version else 0)
    out = u8((x << 2) | 3) + u8(req)
    if kinds:
        k = 0
        for i, kind in enumerate(kinds[:4]):
            k |= kind << (2 * i)
        out += u8(k)
    return out + u16(len(payload)) + payload


def vu_raw(data, kinds=(), run=False):
    x = len(kinds) | (0x20 if run else 0)
    out = u8(x << 2)
    if kinds:
        k = 0
        for i, kind in enumerate(kinds[:4]):
            k |= kind << (2 * i)
        out += u8(k)
    return out + u16(len(data)) + data


def vu_ram(off, data):
    return u8(1) + u16(off) + u16(len(data)) + data


def vu_action(what):
    return u8((what << 2) | 2)


def region(gpa, size, uva, off=0):
    return struct.pack('<QQQQ', gpa, size, uva, off)


def state(idx, num):
    return struct.pack('<II', idx, num)


def vring_addr(idx, desc_a, used_a, avail_a, flags=0):
    return struct.pack('<IIQQQQ', idx, flags, desc_a, used_a, avail_a, 0)


def echo_ring_image(indirect=False, event_idx=False):
    """Queue 0 in RAM: desc at 0, avail at 0x400, used at 0x1000; buffers at 0x2000+."""
    ops = b''
    if indirect:
        table = desc(0x2000, 64, NEXT, 1) + desc(0x3000, 64, WRITE, 0)
        ops += vu_ram(0x2800, table)
        ops += vu_ram(0x0000, desc(0x2800, len(table), INDIRECT, 0))
    else:
        ops += vu_ram(0x0000, desc(0x2000, 64, NEXT, 1) + desc(0x3000, 64, WRITE, 0))
    avail = u16(0) + u16(1) + u16(0) + b'\0' * 30
    if event_idx:
        avail = u16(0) + u16(1) + u16(0) + b'\0' * 30 + u16(0)  # used_event
    ops += vu_ram(0x0400, avail)
    ops += vu_ram(0x2000, b'hello, device' + b'\0' * 51)
    return ops


def vu_startup(features=(1 << 32) | (1 << 30), protocol=True, queues=(0,), image=None):
    s = vu_msg(VU['GET_FEATURES'])
    if protocol:
        s += vu_msg(VU['GET_PROTOCOL_FEATURES'])
        s += vu_msg(VU['SET_PROTOCOL_FEATURES'], u64(PROTO), need_reply=True)
    s += vu_msg(VU['GET_QUEUE_NUM'])
    s += vu_msg(VU['SET_OWNER'])
    if protocol:
        s += vu_msg(VU['GET_MAX_MEM_SLOTS'])
        s += vu_msg(VU['GET_CONFIG'], struct.pack('<III', 0, 16, 0) + b'\0' * 16)
    s += vu_msg(VU['SET_FEATURES'], u64(features))
    s += vu_msg(VU['SET_MEM_TABLE'], u32(1) + u32(0) + region(0, 0x10000, UVA), (KIND_RAM,),
                need_reply=protocol)
    s += image if image is not None else echo_ring_image()
    for q in queues:
        base = q * 0x8000
        s += vu_msg(VU['SET_VRING_NUM'], state(q, 16))
        s += vu_msg(VU['SET_VRING_BASE'], state(q, 0))
        s += vu_msg(VU['SET_VRING_ADDR'], vring_addr(q, UVA + base, UVA + base + 0x1000,
                                                     UVA + base + 0x400))
        s += vu_msg(VU['SET_VRING_CALL'], u64(q), (KIND_EVENTFD,))
        s += vu_msg(VU['SET_VRING_KICK'], u64(q), (KIND_EVENTFD,), need_reply=protocol)
        if protocol:
            s += vu_msg(VU['SET_VRING_ENABLE'], state(q, 1), need_reply=True)
    return s


def vu_msg_seeds():
    seeds = {}
    seeds['qemu-startup'] = vu_startup(queues=(0, 1)) + vu_action(0) + \
        vu_msg(VU['GPU_SET_SOCKET'], b'', (KIND_SOCKET,)) + \
        vu_msg(VU['GET_VRING_BASE'], state(0, 0)) + vu_msg(VU['GET_VRING_BASE'], state(1, 0))
    seeds['no-protocol-features'] = vu_startup(features=1 << 32, protocol=False) + vu_action(0)
    seeds['indirect-event-idx'] = vu_startup(
        features=(1 << 32) | (1 << 30) | (1 << 28) | (1 << 29),
        image=echo_ring_image(indirect=True, event_idx=True)) + vu_action(0) + vu_action(4)
    seeds['mem-slots'] = vu_startup() + \
        vu_msg(VU['ADD_MEM_REG'], u64(0) + region(0x100000, 0x1000, UVA + 0x100000),
               (KIND_SMALL,), need_reply=True) + \
        vu_msg(VU['REM_MEM_REG'], u64(0) + region(0x100000, 0x1000, UVA + 0x100000),
               need_reply=True) + \
        vu_msg(VU['REM_MEM_REG'], u64(0) + region(0, 0x10000, UVA), need_reply=True) + \
        vu_action(0)
    seeds['reset-and-reconnect'] = vu_startup() + vu_action(0) + \
        vu_msg(VU['RESET_DEVICE'], need_reply=True) + vu_msg(VU['SET_STATUS'], u64(0xf)) + \
        vu_msg(VU['GET_STATUS']) + vu_action(3) + vu_startup() + vu_action(0)
    seeds['config'] = vu_msg(VU['GET_PROTOCOL_FEATURES']) + \
        vu_msg(VU['SET_PROTOCOL_FEATURES'], u64(PROTO)) + \
        vu_msg(VU['SET_CONFIG'], struct.pack('<III', 4, 4, 0) + u32(0xffffffff),
               need_reply=True) + \
        vu_msg(VU['GET_CONFIG'], struct.pack('<III', 12, 8, 0) + b'\0' * 8) + \
        vu_msg(VU['GET_CONFIG'], struct.pack('<III', 0, 0, 0))
    # one message in three pieces, an fd riding on the middle piece
    kick = struct.pack('<III', VU['SET_VRING_CALL'], 1, 8) + u64(0)
    seeds['fragmented'] = vu_raw(kick[:5]) + vu_action(1) + vu_raw(kick[5:13], (KIND_EVENTFD,)) + \
        vu_raw(kick[13:], run=True) + vu_msg(VU['GET_QUEUE_NUM'])
    seeds['bad-headers'] = vu_msg(VU['GET_FEATURES'], bad_version=True)
    seeds['too-many-fds'] = vu_msg(VU['SET_MEM_TABLE'], u32(1) + u32(0) +
                                   region(0, 0x10000, UVA), (KIND_RAM,) * 4 + (KIND_RAM,) * 6)
    seeds['short-fd-region'] = vu_msg(VU['SET_MEM_TABLE'], u32(2) + u32(0) +
                                      region(0, 0x10000, UVA) +
                                      region(0x10000, 0x10000, UVA + 0x10000),
                                      (KIND_RAM, KIND_SMALL))
    seeds['half-close'] = vu_startup() + vu_raw(struct.pack('<III', VU['GET_FEATURES'], 1, 0)[:7]) \
        + vu_action(2)
    return seeds

# ---------------------------------------------------------------- vu-vring


def vring_seed(flags, log2num=4, base_sel=0, pops=8, desc_off=0x100, avail_off=0x800,
               used_off=0x1000, last_avail=0, used_idx=0, read_off=4, write_off=0,
               write_len=16, image=b'', region2=b''):
    hdr = u8(log2num) + u8(flags) + u8(base_sel) + u8(pops - 1) + u16(desc_off // 16) + \
        u16(avail_off // 2) + u16(used_off // 4) + u16(last_avail) + u16(used_idx) + \
        u16(read_off) + u16(write_off) + u32(write_len) + b'\0\0'
    assert len(hdr) == 24
    image = image.rstrip(b'\0')  # the rest of RAM is zero anyway
    if region2:
        image = image.ljust(0x10000, b'\0') + region2
    return hdr + image


def place(image, off, data):
    image = bytearray(image.ljust(off + len(data), b'\0'))
    image[off:off + len(data)] = data
    return bytes(image)


def vring_image(base, chains, num=16, desc_off=0x100, avail_off=0x800, used_event=None,
                avail_flags=0, extra=()):
    """chains: list of (head, [descs]) placed in the table; avail lists the heads."""
    img = b''
    table = bytearray(16 * num)
    for head, ds in chains:
        for i, d in enumerate(ds):
            table[(head + i) * 16:(head + i + 1) * 16] = d
    img = place(img, desc_off, bytes(table))
    avail = u16(avail_flags) + u16(len(chains)) + b''.join(u16(h) for h, _ in chains)
    avail = avail.ljust(4 + 2 * num, b'\0')
    if used_event is not None:
        avail += u16(used_event)
    img = place(img, avail_off, avail)
    for off, data in extra:
        img = place(img, off, data)
    return img


def vu_vring_seeds():
    s = {}
    b = 0
    s['simple-chain'] = vring_seed(0x08, image=vring_image(b, [
        (0, [desc(0x900, 64, NEXT, 1), desc(0xa00, 64, WRITE, 0)])],
        extra=[(0x900, b'request bytes')]))
    s['three-requests'] = vring_seed(0x08, image=vring_image(b, [
        (0, [desc(0x900, 24, NEXT, 1), desc(0xa00, 24, WRITE, 0)]),
        (2, [desc(0x940, 40, NEXT, 3), desc(0x980, 8, NEXT, 4), desc(0xb00, 408, WRITE, 0)]),
        (5, [desc(0x9c0, 16, 0, 0)])]))
    s['indirect'] = vring_seed(0x0a, image=vring_image(b, [
        (0, [desc(0xc00, 48, INDIRECT, 0)])],
        extra=[(0xc00, desc(0x900, 32, NEXT, 1) + desc(0x920, 32, NEXT, 2) +
                desc(0xa00, 64, WRITE, 0))]))
    s['event-idx'] = vring_seed(0x09, image=vring_image(b, [
        (0, [desc(0x900, 64, NEXT, 1), desc(0xa00, 64, WRITE, 0)]),
        (2, [desc(0x940, 64, NEXT, 3), desc(0xb00, 64, WRITE, 0)])], used_event=1))
    s['no-interrupt-notify-on-empty'] = vring_seed(0x0c, image=vring_image(b, [
        (0, [desc(0x900, 64, NEXT, 1), desc(0xa00, 64, WRITE, 0)])], avail_flags=1))
    # a buffer that runs from the first region into the second
    s['across-regions'] = vring_seed(0x18, read_off=0x20, image=vring_image(b, [
        (0, [desc(0xfff0, 0x40, NEXT, 1), desc(0x10100, 0x80, WRITE, 0)])]))
    s['remap-and-guest-adds'] = vring_seed(0x68, pops=4, image=vring_image(b, [
        (0, [desc(0x900, 64, NEXT, 1), desc(0xa00, 64, WRITE, 0)]),
        (2, [desc(0x900, 64, NEXT, 3), desc(0xa00, 64, WRITE, 0)])]))
    s['high-gpa'] = vring_seed(0x08, base_sel=3, image=vring_image(b, [
        (0, [desc((1 << 64) - 0x20000 + 0x2000, 64, NEXT, 1),
             desc((1 << 64) - 0x20000 + 0x3000, 64, WRITE, 0)])]))
    s['wrapped-index'] = vring_seed(0x08, last_avail=0xffff, used_idx=0xffff,
                                    image=vring_image(b, [(0, [desc(0x2000, 8, 0, 0)])]))
    s['loop'] = vring_seed(0x08, image=vring_image(b, [
        (0, [desc(0x2000, 8, NEXT, 1), desc(0x2000, 8, NEXT, 0)])]))
    s['queue-1024'] = vring_seed(0x0b, log2num=10, desc_off=0x1000, avail_off=0x0,
                                 used_off=0x5000, image=vring_image(b, [
                                     (3, [desc(0x8000, 32, NEXT, 4),
                                          desc(0x9000, 32, WRITE, 0)])],
                                     num=1024, desc_off=0x1000, avail_off=0))
    return s

# ---------------------------------------------------------------- gpu-cmd

M_PRELUDE, M_DISPLAY, M_PROTOCOL, M_HEADLESS = 1, 2, 4, 8
M_EVENT_IDX, M_INDIRECT, M_VIRGL, M_HANGUP = 16, 32, 64, 128
RESP_24, RESP_4096, RESP_8, RESP_NONE = 0, 1, 2, 3
S_SPLIT, S_INDIRECT = 4, 8

CMD = dict(GET_DISPLAY_INFO=0x100, RESOURCE_CREATE_2D=0x101, RESOURCE_UNREF=0x102,
           SET_SCANOUT=0x103, RESOURCE_FLUSH=0x104, TRANSFER_TO_HOST_2D=0x105,
           ATTACH_BACKING=0x106, DETACH_BACKING=0x107, GET_CAPSET_INFO=0x108, GET_CAPSET=0x109,
           GET_EDID=0x10a, ASSIGN_UUID=0x10b, CTX_CREATE=0x200, CTX_DESTROY=0x201,
           CTX_ATTACH_RESOURCE=0x202, CTX_DETACH_RESOURCE=0x203, RESOURCE_CREATE_3D=0x204,
           TRANSFER_TO_HOST_3D=0x205, TRANSFER_FROM_HOST_3D=0x206, SUBMIT_3D=0x207,
           UPDATE_CURSOR=0x300, MOVE_CURSOR=0x301, RESOURCE_CREATE_BLOB=0x10c,
           SET_SCANOUT_BLOB=0x10d)
FLAG_FENCE = 1
XRGB, ARGB, RGBA = 2, 1, 67   # B8G8R8X8, B8G8R8A8, R8G8B8A8


def ghdr(t, flags=0, fence=0, ctx=0):
    return struct.pack('<IIQIBBBB', t, flags, fence, ctx, 0, 0, 0, 0)


def rect(x, y, w, h):
    return struct.pack('<IIII', x, y, w, h)


def gcmd(payload, queue=0, resp=RESP_24, shape=0, batch=False):
    kind = queue | ((resp | shape) << 3) | (0x80 if batch else 0)
    return u8(kind) + u16(len(payload)) + payload


def create_2d(rid, fmt, w, h):
    return ghdr(CMD['RESOURCE_CREATE_2D']) + struct.pack('<IIII', rid, fmt, w, h)


def attach(rid, entries):
    return ghdr(CMD['ATTACH_BACKING']) + struct.pack('<II', rid, len(entries)) + \
        b''.join(struct.pack('<QII', a, l, 0) for a, l in entries)


def transfer(rid, r, off=0):
    return ghdr(CMD['TRANSFER_TO_HOST_2D']) + r + struct.pack('<QII', off, rid, 0)


def set_scanout(sid, rid, r):
    return ghdr(CMD['SET_SCANOUT']) + r + struct.pack('<II', sid, rid)


def flush(rid, r):
    return ghdr(CMD['RESOURCE_FLUSH']) + r + struct.pack('<II', rid, 0)


def unref(rid):
    return ghdr(CMD['RESOURCE_UNREF']) + struct.pack('<II', rid, 0)


def cursor(t, sid, x, y, rid, hx=0, hy=0):
    return ghdr(t) + struct.pack('<IIII', sid, x, y, 0) + struct.pack('<IIII', rid, hx, hy, 0)


def get_edid(sid):
    return ghdr(CMD['GET_EDID']) + struct.pack('<II', sid, 0)


def ram(gpa, data):
    return u8(5) + u32(gpa) + u16(len(data)) + data


def disp_reply(data, now=False):
    return u8(2 | (8 if now else 0)) + u16(len(data)) + data


def vu_extra(req, payload):
    return u8(4) + u8(req) + u8(len(payload)) + payload


def linux_boot():
    """What a Linux guest's virtio-gpu driver does first, then a frame and a cursor."""
    s = gcmd(ghdr(CMD['GET_DISPLAY_INFO']), resp=RESP_4096)
    s += gcmd(get_edid(0), resp=RESP_4096)
    s += gcmd(create_2d(10, XRGB, 128, 64))
    s += ram(0xa0000, bytes(range(256)) * 4)
    s += gcmd(attach(10, [(0xa0000, 0x4000), (0xb0000, 0x4000)]))
    s += gcmd(set_scanout(0, 10, rect(0, 0, 128, 64)))
    s += gcmd(transfer(10, rect(0, 0, 128, 64)))
    s += gcmd(flush(10, rect(0, 0, 128, 64)))
    s += gcmd(create_2d(11, ARGB, 64, 64))
    s += gcmd(attach(11, [(0xc0000, 0x4000)]))
    s += gcmd(transfer(11, rect(0, 0, 64, 64)))
    s += gcmd(cursor(CMD['UPDATE_CURSOR'], 0, 100, 100, 11, 2, 2), queue=1)
    s += gcmd(cursor(CMD['MOVE_CURSOR'], 0, 120, 90, 11), queue=1)
    return s


def gpu_cmd_seeds():
    s = {}
    s['linux-boot-display'] = u8(M_DISPLAY | M_PROTOCOL | M_EVENT_IDX) + linux_boot()
    s['linux-boot-headless'] = u8(M_HEADLESS | M_PROTOCOL) + linux_boot()
    s['linux-boot-no-display'] = u8(M_PROTOCOL | M_INDIRECT) + linux_boot()
    s['prelude-only'] = u8(M_PRELUDE | M_DISPLAY | M_PROTOCOL)
    s['prelude-damage'] = u8(M_PRELUDE | M_DISPLAY | M_PROTOCOL) + \
        gcmd(transfer(1, rect(8, 8, 16, 16), off=8 * 256 + 32)) + \
        gcmd(flush(1, rect(8, 8, 16, 16))) + gcmd(transfer(3, rect(0, 0, 32, 16))) + \
        gcmd(flush(3, rect(4, 4, 8, 8))) + gcmd(flush(1, rect(0, 0, 64, 64)), batch=True) + \
        gcmd(flush(3, rect(0, 0, 32, 16)))
    s['prelude-resources'] = u8(M_PRELUDE | M_PROTOCOL) + \
        gcmd(ghdr(CMD['ASSIGN_UUID']) + struct.pack('<II', 1, 0), resp=RESP_4096) + \
        gcmd(ghdr(CMD['DETACH_BACKING']) + struct.pack('<II', 3, 0)) + \
        gcmd(transfer(3, rect(0, 0, 32, 16))) + gcmd(unref(1)) + gcmd(flush(1, rect(0, 0, 1, 1))) + \
        gcmd(set_scanout(0, 0, rect(0, 0, 0, 0))) + gcmd(unref(2)) + \
        gcmd(cursor(CMD['UPDATE_CURSOR'], 0, 1, 1, 2), queue=1)
    s['prelude-fenced-split-indirect'] = u8(M_PRELUDE | M_PROTOCOL | M_INDIRECT) + \
        gcmd(ghdr(CMD['RESOURCE_FLUSH'], FLAG_FENCE, 7) + rect(0, 0, 64, 64) +
             struct.pack('<II', 1, 0), shape=S_SPLIT) + \
        gcmd(transfer(1, rect(0, 0, 64, 64)), shape=S_INDIRECT | S_SPLIT) + \
        gcmd(ghdr(CMD['GET_DISPLAY_INFO']), resp=RESP_8) + \
        gcmd(ghdr(CMD['GET_DISPLAY_INFO']), resp=RESP_NONE)
    s['prelude-display-replies'] = u8(M_PRELUDE | M_DISPLAY | M_PROTOCOL | M_HANGUP) + \
        u8(3) + u8(0) + u8(16) + \
        disp_reply(struct.pack('<III', 3, 4, 408) + u32(0x1101) + b'\0' * 20 +
                   rect(0, 0, 4000, 3000) + u32(1) + u32(0) + b'\0' * 360) + \
        gcmd(ghdr(CMD['GET_DISPLAY_INFO']), resp=RESP_4096) + \
        gcmd(get_edid(0), resp=RESP_4096) + \
        disp_reply(struct.pack('<III', 11, 4, 1056) + b'\0' * 24 + u32(2000) + u32(0) +
                   b'\x00\xff' * 512) + gcmd(get_edid(0), resp=RESP_4096) + \
        disp_reply(struct.pack('<III', 3, 4, 8) + u64(0), now=True) + u8(6) + \
        gcmd(ghdr(CMD['GET_DISPLAY_INFO']), resp=RESP_4096)
    s['prelude-vhost-user-midway'] = u8(M_PRELUDE | M_DISPLAY | M_PROTOCOL) + \
        gcmd(ghdr(CMD['GET_DISPLAY_INFO']), resp=RESP_4096, batch=True) + \
        vu_extra(11, state(0, 0)) + vu_extra(34, b'') + \
        gcmd(flush(1, rect(0, 0, 64, 64))) + vu_extra(18, state(0, 0)) + \
        vu_extra(18, state(0, 1)) + u8(7)
    s['virgl-fake3d'] = u8(M_PRELUDE | M_PROTOCOL | M_VIRGL) + \
        gcmd(ghdr(CMD['GET_CAPSET_INFO']) + struct.pack('<II', 0, 0), resp=RESP_4096) + \
        gcmd(ghdr(CMD['GET_CAPSET']) + struct.pack('<II', 1, 1), resp=RESP_4096) + \
        gcmd(ghdr(CMD['CTX_CREATE'], ctx=1) + struct.pack('<II', 4, 0) + b'test'.ljust(64, b'\0')) + \
        gcmd(ghdr(CMD['CTX_ATTACH_RESOURCE'], ctx=1) + struct.pack('<II', 1, 0)) + \
        gcmd(ghdr(CMD['SUBMIT_3D'], FLAG_FENCE, 1, ctx=1) + struct.pack('<II', 8, 0) + b'\0' * 8) + \
        gcmd(ghdr(CMD['RESOURCE_CREATE_3D']) + struct.pack('<IIIIIIIIIIII', 20, 2, 2, 2, 64, 64, 1,
                                                          1, 0, 0, 0, 0)) + \
        gcmd(ghdr(CMD['CTX_DESTROY'], ctx=1))
    # virgl mode over fake-3d.c: rings (CONTEXT_INIT), a bad stream, a context destroyed behind
    # its fences, 3D resources, and scanouts shown as dma-bufs with acked flushes
    def ring_submit(ctx, ring, fence, words):
        h = struct.pack('<IIQIBBBB', CMD['SUBMIT_3D'], FLAG_FENCE | 2, fence, ctx, ring, 0, 0, 0)
        return h + struct.pack('<II', 4 * len(words), 0) + b''.join(u32(w) for w in words)
    s['fake3d-rings-dmabuf'] = u8(M_PRELUDE | M_DISPLAY | M_PROTOCOL | M_VIRGL) + \
        gcmd(ghdr(CMD['CTX_CREATE'], ctx=1) + struct.pack('<II', 4, 2) + b'ring'.ljust(64, b'\0')) + \
        gcmd(ghdr(CMD['CTX_CREATE'], ctx=2) + struct.pack('<II', 4, 2) + b'two'.ljust(64, b'\0')) + \
        gcmd(ring_submit(1, 0, 100, [1, 2]), batch=True) + gcmd(ring_submit(2, 0, 101, [3]), batch=True) + \
        gcmd(ring_submit(1, 3, 102, [4]), batch=True) + \
        gcmd(ring_submit(2, 0, 103, [0xdeadbeef]), batch=True) + \
        gcmd(ghdr(CMD['CTX_DESTROY'], ctx=2), batch=True) + u8(7) + u8(6) + \
        gcmd(ghdr(CMD['RESOURCE_CREATE_3D']) + struct.pack('<IIIIIIIIIIII', 20, 2, 2, 2, 16, 16, 1,
                                                          1, 0, 0, 0, 0)) + \
        gcmd(ghdr(CMD['CTX_ATTACH_RESOURCE'], ctx=1) + struct.pack('<II', 20, 0)) + \
        gcmd(ghdr(CMD['TRANSFER_TO_HOST_3D'], FLAG_FENCE, 104, ctx=1) + struct.pack('<IIIIII', 0, 0, 0, 16, 16, 1) +
             struct.pack('<QIIII', 0, 20, 0, 64, 0)) + \
        gcmd(set_scanout(0, 1, rect(0, 0, 64, 64))) + gcmd(flush(1, rect(8, 8, 16, 16))) + \
        gcmd(set_scanout(0, 0, rect(0, 0, 0, 0))) + u8(6)
    # guest blobs (2d mode): a padded framebuffer at an offset, flushes, a cursor, bad layouts
    def create_blob(rid, size, entries, mem=1, flags=2):
        return ghdr(CMD['RESOURCE_CREATE_BLOB']) + struct.pack('<IIII', rid, mem, flags, len(entries)) + \
            u64(0) + u64(size) + b''.join(struct.pack('<QII', a, l, 0) for a, l in entries)

    def scanout_blob(sid, rid, r, w, h, fmt, stride, offset):
        return ghdr(CMD['SET_SCANOUT_BLOB']) + r + struct.pack('<IIIIII', sid, rid, w, h, fmt, 0) + \
            struct.pack('<IIII', stride, 0, 0, 0) + struct.pack('<IIII', offset, 0, 0, 0)
    s['blob-scanout'] = u8(M_DISPLAY | M_PROTOCOL) + \
        ram(0xa0000, bytes(range(256)) * 16) + \
        gcmd(create_blob(30, 0x5000, [(0xa0000, 0x1000), (0xa1000, 0x4000)])) + \
        gcmd(scanout_blob(0, 30, rect(0, 0, 32, 16), 32, 16, XRGB, 160, 64)) + \
        gcmd(flush(30, rect(0, 0, 32, 16))) + gcmd(transfer(30, rect(0, 0, 4, 4))) + \
        gcmd(flush(30, rect(4, 4, 8, 8))) + \
        gcmd(scanout_blob(0, 30, rect(1, 1, 8, 8), 16, 16, RGBA, 64, 0)) + \
        gcmd(flush(30, rect(0, 0, 16, 16))) + \
        gcmd(scanout_blob(0, 30, rect(0, 0, 32, 16), 32, 16, XRGB, 160, 0x4f00)) + \
        gcmd(create_blob(31, 0x4000, [(0xc0000, 0x4000)])) + \
        gcmd(scanout_blob(1, 31, rect(0, 0, 64, 64), 64, 64, ARGB, 256, 0)) + \
        gcmd(cursor(CMD['UPDATE_CURSOR'], 0, 5, 5, 31, 1, 1), queue=1) + \
        gcmd(create_blob(32, 0x1000, [], mem=2)) + gcmd(create_blob(33, 0x1000, [], flags=1)) + \
        gcmd(create_blob(34, 0x1000, [])) + gcmd(attach(34, [(0xd0000, 0x1000)])) + \
        gcmd(set_scanout(0, 34, rect(0, 0, 1, 1))) + gcmd(unref(30)) + \
        gcmd(ghdr(CMD['DETACH_BACKING']) + struct.pack('<II', 31, 0)) + \
        gcmd(flush(31, rect(0, 0, 64, 64))) + gcmd(scanout_blob(1, 0, rect(0, 0, 0, 0), 0, 0, 0, 0, 0))
    s['config-and-edid'] = u8(M_DISPLAY | M_PROTOCOL) + \
        gcmd(ghdr(CMD['GET_DISPLAY_INFO']), resp=RESP_4096) + u8(3) + u8(0) + u8(16) + \
        gcmd(get_edid(0), resp=RESP_4096) + u8(3 | 8) + u32(1) + gcmd(get_edid(15), resp=RESP_4096)
    s['bad-commands'] = u8(M_PRELUDE) + gcmd(b'\0' * 8) + gcmd(ghdr(0x1ff)) + \
        gcmd(ghdr(CMD['UPDATE_CURSOR'])) + gcmd(create_2d(1, XRGB, 64, 64)) + \
        gcmd(create_2d(9, XRGB, 0x40000001, 1)) + gcmd(attach(1, [(0xfffff000, 0x2000)])) + \
        gcmd(transfer(1, rect(60, 60, 8, 8))) + gcmd(transfer(1, rect(0, 0, 64, 64), off=1 << 40)) + \
        gcmd(set_scanout(16, 1, rect(0, 0, 64, 64))) + \
        gcmd(ghdr(CMD['ATTACH_BACKING']) + struct.pack('<II', 2, 100000))
    return s

# ---------------------------------------------------------------- display


def d_reply_valid(req, body):
    return u8(10) + u8(req) + u16(len(body)) + body


def d_update(sid, x, y, w, h, pad=0, stable=False):
    return u8(3) + u8(sid) + u16(x) + u16(y) + u8(w) + u8(h) + u8(pad) + u8(1 if stable else 0)


def display_seeds():
    s = {}
    info = u32(0x1101) + b'\0' * 20 + rect(0, 0, 1920, 1080) + u32(1) + u32(0) + b'\0' * 360
    s['qemu-conversation'] = u8(2) + u8(1) + u8(8) + u8(2) + u8(0) + u8(8) + \
        u8(4) + u8(0) + u16(64) + u16(64) + d_update(0, 0, 0, 64, 64, stable=True) + u8(8) + \
        u8(5) + u8(0) + u16(10) + u16(10) + u8(6) + u8(0) + u16(20) + u16(20) + u8(1) + u8(8)
    s['handmade-replies'] = d_reply_valid(1, u64(1)) + u8(1) + d_reply_valid(3, info) + \
        u8(2) + u8(0) + d_reply_valid(11, u32(0x1104) + b'\0' * 20 + u32(128) + u32(0) +
                                      b'\x11' * 1024)
    s['slow-qemu-frames'] = u8(3) + u8(4) + u8(0) + u16(64) + u16(64) + \
        d_update(0, 0, 0, 64, 64, stable=False) + d_update(0, 0, 0, 64, 64, 16, stable=True) + \
        d_update(0, 0, 0, 64, 64, stable=False) + u8(7) + u8(1) + u8(8) + u8(7) + u8(8)
    s['protocol-error'] = u8(0) + u8(0) + u8(12) + struct.pack('<III', 2, 4, 0) + u8(1) + u8(9) + \
        u8(1) + u8(9)
    s['short-pieces'] = u8(0) + u8(0) + u8(5) + struct.pack('<III', 1, 4, 8)[:5] + u8(7) + \
        u8(0) + u8(15) + struct.pack('<III', 1, 4, 8)[5:] + u64(1) + u8(7) + u8(2) + u8(3) + u8(8)
    s['peer-closes'] = u8(2) + u8(1) + u8(0) + u8(0) + u8(9) + u8(9) + u8(3)
    # QEMU 8.2+ (DMABUF2): buffer on, two updates acked by QEMU, one by hand, off
    s['dmabuf-acks'] = u8(2 | 4) + u8(8) + \
        u8(11) + u8(0) + u8(1) + u16(64) + u16(48) + u8(8) + \
        u8(12) + u8(0) + u16(0) + u16(0) + u16(64) + u16(48) + u8(8) + \
        u8(12) + u8(0) + u16(8) + u16(8) + u16(16) + u16(16) + \
        d_reply_valid(10, b'') + u8(7) + \
        u8(11) + u8(0) + u8(3) + u16(64) + u16(48) + u8(11) + u8(0) + u8(0) + u16(0) + u16(0) + u8(7)
    # QEMU 7.2 (no protocol features): a tiled buffer is refused, an update never acked
    s['dmabuf-qemu72'] = u8(0) + d_reply_valid(1, u64(0)) + \
        u8(11) + u8(1) + u8(3) + u16(32) + u16(32) + u8(11) + u8(1) + u8(2) + u16(32) + u16(32) + \
        u8(12) + u8(1) + u16(0) + u16(0) + u16(32) + u16(32) + u8(9) + u8(9)
    return s


def main(argv):
    corpus = argv[1] if len(argv) > 1 else os.path.join(HERE, 'corpus')
    targets = {
        'fuzz-vu-msg': vu_msg_seeds(),
        'fuzz-vu-vring': vu_vring_seeds(),
        'fuzz-gpu-cmd': gpu_cmd_seeds(),
        'fuzz-display': display_seeds(),
    }
    for target, seeds in targets.items():
        d = os.path.join(corpus, target)
        os.makedirs(d, exist_ok=True)
        for name in os.listdir(d):
            if name.startswith('seed-'):
                os.unlink(os.path.join(d, name))
        for name, data in seeds.items():
            with open(os.path.join(d, 'seed-' + name), 'wb') as f:
                f.write(data)
        print(f'{target}: {len(seeds)} seeds, {sum(map(len, seeds.values()))} bytes')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
