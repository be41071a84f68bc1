"""The editing layer on real FFmpeg (the binary the README's set-up installs), on small clips
made here with FFmpeg itself: colour bars with a tone, different sizes and frame rates."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from services.editing import EditError, FFmpeg, join_size
from services.editing.ffmpeg import FPS, Probe


@pytest.fixture
def ffmpeg() -> FFmpeg:
    return FFmpeg(time_limit=60)


async def clip(
    ffmpeg: FFmpeg,
    path: Path,
    size: str,
    seconds: float,
    fps: int,
    *,
    tone: bool = True,
    last: str | None = None,
) -> Path:
    """SMPTE bars (and a 440 Hz tone); with `last`, the final frame alone is that colour."""
    args = ["-y", "-f", "lavfi", "-i", f"smptebars=size={size}:rate={fps}:duration={seconds}"]
    if last is not None:
        args += ["-f", "lavfi", "-i", f"color=c={last}:size={size}:rate={fps}:duration={1 / fps}"]
    if tone:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    video = "[0:v]"
    if last is not None:
        args += ["-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0[v]"]
        video = "[v]"
    args += ["-map", video if last is not None else "0:v"]
    if tone:
        args += ["-map", f"{2 if last is not None else 1}:a", "-c:a", "aac"]
    args += ["-c:v", "libx264", "-crf", "12", "-pix_fmt", "yuv420p", str(path)]
    await ffmpeg.run(*args)
    return path


async def test_probe_reads_size_rate_duration_and_sound(ffmpeg, tmp_path):
    probe = await ffmpeg.probe(await clip(ffmpeg, tmp_path / "a.mp4", "640x360", 2, 25))
    assert (probe.width, probe.height, probe.fps, probe.audio) == (640, 360, 25, True)
    assert abs(probe.duration - 2) < 0.1
    silent = await ffmpeg.probe(
        await clip(ffmpeg, tmp_path / "b.mp4", "360x640", 1, 24, tone=False)
    )
    assert (silent.width, silent.height, silent.audio) == (360, 640, False)


async def test_the_last_frame_is_the_last_frame(ffmpeg, tmp_path):
    source = await clip(ffmpeg, tmp_path / "a.mp4", "640x360", 2, 30, last="0x00C800")
    frame = tmp_path / "last.png"
    await ffmpeg.last_frame(source, frame)
    with Image.open(frame) as image:
        assert image.size == (640, 360)
        pixels = [image.convert("RGB").getpixel((x, y)) for x in (50, 320, 600) for y in (40, 300)]
    # Every sampled pixel is the green of the final frame alone, none a colour of the bars.
    assert all(abs(r) < 25 and abs(g - 200) < 25 and abs(b) < 25 for r, g, b in pixels), pixels


@pytest.mark.parametrize(("start", "end"), [(0.0, 1.5), (0.5, 2.0), (1.2, 2.8)])
async def test_a_trim_has_the_asked_length_within_one_frame(ffmpeg, tmp_path, start, end):
    source = await clip(ffmpeg, tmp_path / "a.mp4", "640x360", 3, 25)
    out = tmp_path / "trim.mp4"
    await ffmpeg.trim(source, out, start, end)
    probe = await ffmpeg.probe(out)
    assert abs(probe.duration - (end - start)) <= 1 / 25 + 0.025  # a frame, and AAC's padding
    assert probe.audio and (probe.width, probe.height) == (640, 360)


async def test_a_join_of_wide_tall_and_silent_clips_plays_through(ffmpeg, tmp_path):
    wide = await clip(ffmpeg, tmp_path / "wide.mp4", "1280x720", 1.5, 30)
    tall = await clip(ffmpeg, tmp_path / "tall.mp4", "720x1280", 1.0, 24)
    silent = await clip(ffmpeg, tmp_path / "silent.mp4", "640x480", 1.0, 25, tone=False)
    out = tmp_path / "joined.mp4"
    made = await ffmpeg.join([wide, tall, silent], out)
    assert (made.width, made.height) == (1280, 720)  # the first clip's 16:9 at 720p
    assert made.audio and made.fps == FPS
    assert abs(made.duration - 3.5) < 0.15
    # Decoding it to the end fails on nothing (plays through).
    log = await ffmpeg.run("-v", "error", "-i", str(out), "-f", "null", "-")
    assert log.strip() == ""


def test_join_size_follows_the_first_clip_at_720p_or_lower():
    def probe(w: int, h: int) -> Probe:
        return Probe(1.0, w, h, 30.0, True)

    assert join_size(probe(1920, 1080)) == (1280, 720)
    assert join_size(probe(1080, 1920)) == (720, 1280)
    assert join_size(probe(864, 480)) == (864, 480)  # lower than 720p: kept
    assert join_size(probe(1366, 768)) == (1280, 720)
    assert join_size(probe(1440, 1440)) == (720, 720)


async def test_what_ffmpeg_cannot_read_or_make_is_an_edit_error(ffmpeg, tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    with pytest.raises(EditError) as error:
        await ffmpeg.probe(junk)
    assert error.value.reason == "unreadable"
    source = await clip(ffmpeg, tmp_path / "a.mp4", "640x360", 1, 25)
    with pytest.raises(EditError) as error:
        await ffmpeg.trim(source, tmp_path / "t.mp4", 0.5, 3.0)
    assert error.value.reason == "range"
    small = FFmpeg(max_bytes=20_000)
    with pytest.raises(EditError) as error:
        await small.trim(source, tmp_path / "big.mp4", 0, 1)
    assert error.value.reason == "too_big"
    slow = FFmpeg(time_limit=0.01)
    with pytest.raises(EditError) as error:
        await slow.trim(source, tmp_path / "slow.mp4", 0, 1)
    assert error.value.reason == "timeout"
