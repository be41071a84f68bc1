"""Video editing: FFmpeg for the last frame, trims and joins (`ffmpeg`), edits as durable jobs
(`service`), and the runner that makes them (`runner`)."""

from services.editing.ffmpeg import EditError, FFmpeg, Probe, join_size
from services.editing.runner import EditMessenger, EditRunner, SourceGone, VideoFetcher
from services.editing.service import (
    JOIN_MAX,
    JOIN_MIN,
    MIN_TRIM,
    Edit,
    EditService,
    Prices,
    parse_range,
)

__all__ = [
    "JOIN_MAX",
    "JOIN_MIN",
    "MIN_TRIM",
    "Edit",
    "EditError",
    "EditMessenger",
    "EditRunner",
    "EditService",
    "FFmpeg",
    "Prices",
    "Probe",
    "SourceGone",
    "VideoFetcher",
    "join_size",
    "parse_range",
]
