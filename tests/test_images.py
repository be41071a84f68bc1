import io

import pytest
from PIL import Image

from services.errors import ImageRejected
from services.images import MAX_BYTES, prepare_image
from tests.images import image_bytes


@pytest.mark.parametrize(
    ("kind", "mime"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]
)
def test_accepted_formats_pass_unchanged(kind, mime):
    data = image_bytes(800, 600, kind)
    prepared = prepare_image(data)
    assert (prepared.mime, prepared.width, prepared.height) == (mime, 800, 600)
    assert prepared.data == data and not prepared.resized


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP"])
def test_large_images_are_scaled_down_keeping_the_aspect_ratio(kind):
    prepared = prepare_image(image_bytes(4000, 3000, kind))
    assert (prepared.width, prepared.height) == (2048, 1536) and prepared.resized
    with Image.open(io.BytesIO(prepared.data)) as back:
        assert back.size == (2048, 1536) and back.format == kind


def test_the_name_does_not_matter_only_the_bytes():
    png = image_bytes(500, 500, "PNG")  # whatever the file was called, this is a PNG
    assert prepare_image(png).mime == "image/png"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (image_bytes(400, 400, "GIF"), "format"),
        (image_bytes(400, 400, "BMP"), "format"),
        (b"%PDF-1.7\n1 0 obj <<>> endobj\n", "format"),
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100, "format"),  # a video
        (b"just some text", "format"),
        (image_bytes(800, 600, "JPEG")[:300], "corrupt"),
        (image_bytes(400, 400, "PNG", frames=3), "animated"),
        (image_bytes(400, 400, "WEBP", frames=3), "animated"),
        (image_bytes(299, 800), "too_small"),
        (image_bytes(5000, 400), "too_small"),  # 2048 x 164 after scaling
        (b"\xff\xd8\xff" + b"\x00" * (MAX_BYTES + 1), "too_big"),
    ],
)
def test_refusals(data, reason):
    with pytest.raises(ImageRejected) as info:
        prepare_image(data)
    assert info.value.reason == reason


def test_exif_rotation_is_applied():
    out = io.BytesIO()
    image = Image.new("RGB", (600, 400))
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90 degrees
    image.save(out, "JPEG", exif=exif)
    prepared = prepare_image(out.getvalue())
    assert (prepared.width, prepared.height) == (400, 600)
