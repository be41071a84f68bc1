"""Structurally valid MP4 (ISO BMFF) bytes of a chosen size: ftyp, moov/mvhd, mdat."""

from __future__ import annotations

import struct


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4_bytes(size: int = 4096, seconds: int = 8) -> bytes:
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41")
    mvhd = _box(
        b"mvhd",
        struct.pack(">B3xIIII", 0, 0, 0, 1000, seconds * 1000)  # version, times, scale, length
        + struct.pack(">IH10x", 0x00010000, 0x0100)  # rate 1.0, volume 1.0
        + struct.pack(">9I", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)
        + bytes(24)
        + struct.pack(">I", 2),  # next track id
    )
    head = ftyp + _box(b"moov", mvhd)
    body = max(0, size - len(head) - 8)
    return head + _box(b"mdat", bytes(body))
