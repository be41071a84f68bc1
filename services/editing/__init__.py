"""Video editing: FFmpeg (services/editing/ffmpeg.py) for the last frame, trims and joins."""

from services.editing.ffmpeg import EditError, FFmpeg, Probe, join_size

__all__ = ["EditError", "FFmpeg", "Probe", "join_size"]
