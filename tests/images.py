"""Images made on the fly for tests."""

import io

from PIL import Image


def image_bytes(width=640, height=480, kind="JPEG", frames=1) -> bytes:
    out = io.BytesIO()
    first = Image.new("RGB", (width, height), (200, 120, 40))
    if frames > 1:
        others = [Image.new("RGB", (width, height), (i * 40, 0, 0)) for i in range(1, frames)]
        first.save(out, kind, save_all=True, append_images=others, duration=100, loop=0)
    else:
        first.save(out, kind)
    return out.getvalue()
