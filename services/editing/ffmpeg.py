"""FFmpeg for video editing: a probe, the last frame, a trim and a join, each a separate process
(never on the event loop: the loop only waits for it), bounded in time and in output size.

The binary is imageio-ffmpeg's: a static FFmpeg (libx264, AAC) shipped in its wheel, so the
README's set-up command installs it on a fresh machine with no system package. Its wheel has no
ffprobe: `probe()` reads what `ffmpeg -i` prints about the input."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg  # type: ignore[import-untyped]  # no type hints shipped

log = logging.getLogger(__name__)

FPS = 30  # the joined video's constant frame rate
MAX_SHORT_SIDE = 720  # a join is 720p, or the first clip's resolution when that is lower
SAMPLE_RATE = 48_000


class EditError(Exception):
    """Why an edit could not be made: unreadable (not a video FFmpeg can read), timeout, too_big
    (the output passed the size limit), failed (FFmpeg stopped with an error)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Probe:
    duration: float  # seconds
    width: int
    height: int
    fps: float
    audio: bool


_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\d+:\d+.*?: Video: .*?, (\d{2,5})x(\d{2,5})")
_FPS = re.compile(r"(\d+(?:\.\d+)?) fps")
_AUDIO = re.compile(r"Stream #\d+:\d+.*?: Audio: ")


def join_size(first: Probe) -> tuple[int, int]:
    """The joined video's width x height: the first clip's aspect ratio, its short side 720 or
    the clip's own when that is lower, both even (H.264 with 4:2:0 needs even sizes)."""
    short = min(MAX_SHORT_SIDE, first.width, first.height)
    if first.width >= first.height:
        height = short
        width = round(first.width * short / first.height)
    else:
        width = short
        height = round(first.height * short / first.width)
    return width - width % 2, height - height % 2


class FFmpeg:
    def __init__(
        self,
        exe: str | None = None,
        *,
        time_limit: float = 300.0,
        max_bytes: int = 50 * 1024 * 1024,
        threads: int = 2,
    ) -> None:
        self.exe = exe or imageio_ffmpeg.get_ffmpeg_exe()
        self.time_limit = time_limit
        self.max_bytes = max_bytes
        self.threads = threads

    async def run(self, *args: str, time_limit: float | None = None) -> str:
        """Run FFmpeg; its log (stderr) on success. Raises EditError("timeout") after the time
        limit (the process is killed) and EditError("failed") on a non-zero exit."""
        process = await asyncio.create_subprocess_exec(
            self.exe,
            "-hide_banner",
            "-nostdin",
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            _out, err = await asyncio.wait_for(process.communicate(), time_limit or self.time_limit)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise EditError("timeout", f"over {time_limit or self.time_limit:.0f} s") from None
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise
        text = err.decode("utf-8", "replace")
        if process.returncode != 0:
            raise EditError("failed", text.strip().splitlines()[-1][:300] if text.strip() else "")
        return text

    async def probe(self, path: Path) -> Probe:
        """Duration, size, frame rate and whether there is sound. EditError("unreadable") for
        anything that is not a video FFmpeg can read."""
        text = await self._header(path)
        duration, video = _DURATION.search(text), _VIDEO.search(text)
        if duration is None or video is None:
            raise EditError("unreadable", "no video stream")
        hours, minutes, seconds = duration.groups()
        fps = _FPS.search(text[video.start() :])
        return Probe(
            duration=int(hours) * 3600 + int(minutes) * 60 + float(seconds),
            width=int(video.group(1)),
            height=int(video.group(2)),
            fps=float(fps.group(1)) if fps else float(FPS),
            audio=_AUDIO.search(text) is not None,
        )

    async def _header(self, path: Path) -> str:
        """What `ffmpeg -i` says about the input (it exits 1: no output file was named)."""
        process = await asyncio.create_subprocess_exec(
            self.exe,
            "-hide_banner",
            "-nostdin",
            "-i",
            str(path),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            _out, err = await asyncio.wait_for(process.communicate(), 30)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise EditError("unreadable", "probe timed out") from None
        return err.decode("utf-8", "replace")

    async def last_frame(self, src: Path, dst: Path) -> None:
        """The video's last frame as a PNG: the last second is decoded and each frame written
        over the one before, so what remains is the last."""
        await self.probe(src)
        await self.run(
            "-y", "-sseof", "-1", "-i", str(src), "-an", "-update", "1", "-q:v", "1", str(dst)
        )
        if _size(dst) == 0:
            raise EditError("unreadable", "no frame decoded")

    async def trim(self, src: Path, dst: Path, start: float, end: float) -> None:
        """[start, end) of the video, re-encoded (exact to the frame, not to the keyframe)."""
        source = await self.probe(src)
        if not 0 <= start < end <= source.duration + 0.05:
            raise EditError("range", f"{start}-{end} outside 0-{source.duration:.2f}")
        await self.run(
            "-y",
            "-ss", f"{start:.3f}",
            "-i", str(src),
            "-t", f"{end - start:.3f}",
            "-map", "0:v:0", "-map", "0:a:0?",
            *self._encoding(),
            str(dst),
        )  # fmt: skip
        self._check_size(dst)

    async def join(self, sources: list[Path], dst: Path) -> Probe:
        """The clips one after another: each scaled and padded to the first clip's aspect ratio
        (see join_size), a constant FPS frame rate, H.264 + AAC, a silent track for a clip
        without sound. Returns what was made.

        Each clip is brought to that common format alone, then the parts are joined without
        re-encoding (the concat demuxer): one decoder and one encoder at a time, where a single
        concat filter would hold the later clips' decoded frames while the first plays."""
        probes = [await self.probe(path) for path in sources]
        width, height = join_size(probes[0])
        parts: list[Path] = []
        for n, (path, probe) in enumerate(zip(sources, probes, strict=True)):
            part = dst.with_name(f"{dst.stem}.part{n}.mp4")
            await self._normalize(path, probe, part, width, height)
            parts.append(part)
        listing = dst.with_name(f"{dst.stem}.parts.txt")
        _write(listing, "".join(f"file '{part.name}'\n" for part in parts))
        try:
            await self.run(
                "-y",
                "-f", "concat", "-safe", "0", "-i", str(listing),
                "-c", "copy", "-movflags", "+faststart", "-fs", str(self.max_bytes),
                str(dst),
            )  # fmt: skip
        finally:
            for leftover in (*parts, listing):
                _remove(leftover)
        self._check_size(dst)
        return await self.probe(dst)

    async def _normalize(self, src: Path, probe: Probe, dst: Path, width: int, height: int) -> None:
        video = (
            f"scale={width}:{height}:force_original_aspect_ratio=decrease,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,fps={FPS},"
            "format=yuv420p"
        )
        args = ["-y", "-threads", "1", "-i", str(src)]
        if probe.audio:
            audio = ["-map", "0:a:0", "-af",
                     f"aresample={SAMPLE_RATE},aformat=channel_layouts=stereo,"
                     f"apad=whole_dur={probe.duration:.3f}"]  # fmt: skip
        else:  # a silent track, so that every part has the same streams
            args += ["-f", "lavfi", "-i", f"anullsrc=r={SAMPLE_RATE}:cl=stereo"]
            audio = ["-map", "1:a:0"]
        await self.run(
            *args,
            "-map", "0:v:0", "-vf", video,
            *audio,
            "-t", f"{probe.duration:.3f}",
            "-ar", str(SAMPLE_RATE), "-ac", "2",
            *self._encoding(),
            str(dst),
        )  # fmt: skip

    def _encoding(self) -> list[str]:
        return [
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "21", "-pix_fmt", "yuv420p",
            # No lookahead and no B-frames: the encoder's frame queue is most of FFmpeg's
            # memory (720p: 164 MB with the preset's, 103 MB without, files ~1.5x larger).
            "-x264-params", "rc-lookahead=0:bframes=0:sync-lookahead=0",
            "-c:a", "aac", "-b:a", "128k",
            "-movflags", "+faststart",
            "-threads", str(self.threads),
            "-fs", str(self.max_bytes),
        ]  # fmt: skip

    def _check_size(self, dst: Path) -> None:
        """-fs stops FFmpeg at the limit with a cut file and a zero exit: treated as too big."""
        size = _size(dst)
        if size == 0:
            raise EditError("failed", "no output")
        if size >= self.max_bytes * 0.98:
            raise EditError("too_big", f"over {self.max_bytes // (1024 * 1024)} MB")


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
