"""Checks and prepares a user's image before anything is uploaded (Pillow).

Accepted: JPEG, PNG or WEBP (read from the bytes, never the file name), at most 10 MB, not
animated, each side at least 300 px. Larger than 2048 px on a side is scaled down keeping the
aspect ratio (Runware keeps at most 2048 px, and frame images must be 300-2048 px per side)."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from services.errors import ImageRejected

MAX_BYTES = 10 * 1024 * 1024
MIN_SIDE = 300
MAX_SIDE = 2048
MAX_PIXELS = 60_000_000  # a decompression bomb is refused before it is decoded
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@dataclass(frozen=True)
class PreparedImage:
    data: bytes
    mime: str
    width: int
    height: int
    resized: bool


def prepare_image(data: bytes) -> PreparedImage:
    """The image ready for Runware, or ImageRejected saying why. CPU-bound: run it in a thread."""
    if len(data) > MAX_BYTES:
        raise ImageRejected("too_big", size_mb=round(len(data) / 1024 / 1024, 1))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageRejected("format") from None
    except (OSError, ValueError, SyntaxError):
        raise ImageRejected("corrupt") from None
    kind = image.format or ""
    if kind not in FORMATS:
        raise ImageRejected("format", found=kind or "unknown")
    if getattr(image, "is_animated", False) and getattr(image, "n_frames", 1) > 1:
        raise ImageRejected("animated")
    if image.width * image.height > MAX_PIXELS:
        raise ImageRejected("too_big", pixels=image.width * image.height)
    try:
        image.load()
        rotated = image.getexif().get(0x0112, 1) not in (0, 1)  # EXIF orientation
        upright = ImageOps.exif_transpose(image) if rotated else image
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise ImageRejected("corrupt") from None
    width, height = upright.size
    scale = min(1.0, MAX_SIDE / max(width, height))
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    if min(target) < MIN_SIDE:
        raise ImageRejected("too_small", width=width, height=height)
    if scale == 1.0 and not rotated:
        return PreparedImage(data, FORMATS[kind], width, height, resized=False)
    if scale < 1.0:
        upright = upright.resize(target, Image.Resampling.LANCZOS)
    return PreparedImage(
        _encode(upright, kind), FORMATS[kind], upright.width, upright.height, resized=scale < 1.0
    )


def _encode(image: Image.Image, kind: str) -> bytes:
    out = io.BytesIO()
    if kind == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=92, optimize=True)
    elif kind == "WEBP":
        image.save(out, "WEBP", quality=92)
    else:
        image.save(out, "PNG", optimize=True)
    return out.getvalue()
