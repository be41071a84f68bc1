"""Runware's errors, typed: every error an answer carries is classified (`classify`) into
an `ErrorClass`, and raised as the matching `RunwareFailure`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ErrorClass(StrEnum):
    UPSTREAM = "upstream"  # the model's provider is in trouble (not our account): refund
    CONTENT = "content"  # content policy: tell the user plainly, refund
    AUTH = "auth"  # our API key: alert admins, refund, pause
    OUT_OF_CREDIT = "out_of_credit"  # our Runware account: alert admins, pause, refund
    RETIRED = "retired"  # Runware does not know the model any more: withdraw it, refund
    VALIDATION = "validation"  # our bug or catalog drift: refund, log allowedValues
    TRANSIENT = "transient"  # retried; if it persists, "the service is busy"
    DUPLICATE = "duplicate"  # conflictTaskUUID: the task exists already
    PROTOCOL = "protocol"  # an answer we cannot read
    PROVIDER = "provider"  # any other refusal


_CONTENT_CODES = {
    "contentpolicyviolation",
    "providercontentpolicyviolation",
    "promptblocked",
    "imageblocked",
    "nsfwcontentdetected",
    "sensitivecontentdetected",
    "unsafecontentdetected",
    "moderationfailed",
}
_UPSTREAM_CODES = {"modelunavailable", "modeldisabled", "modelnotready"}
_RETIRED_CODES = {"invalidmodel", "unknownmodel", "modelnotfound"}
_VALIDATION_CODES = {
    "unknownparameter",
    "incompatibleparameters",
    "mismatchprovidersettingsprovider",
    "unknownprovidersettingsprovider",
    "validationfailed",
}


def classify(status: int | None, code: str | None, message: str | None = None) -> ErrorClass:
    """Map an HTTP status, a Runware error code (and message) to the classes of
    shared/docs/runware-api.md, in its order: the upstream provider's trouble first (its
    "insufficient credits" is not ours), then content, our account, a retired model,
    validation, transient faults."""
    c = (code or "").lower()
    if c == "conflicttaskuuid":
        return ErrorClass.DUPLICATE
    if c.startswith(("provider", "thirdparty")) and c not in _CONTENT_CODES:
        return ErrorClass.UPSTREAM
    if c in _UPSTREAM_CODES:
        return ErrorClass.UPSTREAM
    if c in _CONTENT_CODES:
        return ErrorClass.CONTENT
    if any(w in c for w in ("apikey", "unauthorized", "forbidden")):
        return ErrorClass.AUTH
    if any(w in c for w in ("credits", "quota", "balance", "paymentrequired")):
        return ErrorClass.OUT_OF_CREDIT
    text = (message or "").lower()
    if c in _RETIRED_CODES or ("model parameter" in text and "air identifier" in text):
        return ErrorClass.RETIRED
    if any(w in c for w in ("timeout", "ratelimit", "noavailableserver")):
        return ErrorClass.TRANSIENT
    if c.startswith(("invalid", "missing", "unsupported")) or c in _VALIDATION_CODES:
        return ErrorClass.VALIDATION
    if status in (401, 403):
        return ErrorClass.AUTH
    if status == 402:
        return ErrorClass.OUT_OF_CREDIT
    if status is not None and (status in (408, 429) or status >= 500):
        return ErrorClass.TRANSIENT
    if status is not None and 400 <= status < 500:
        return ErrorClass.VALIDATION
    return ErrorClass.PROVIDER


@dataclass(frozen=True)
class RunwareError:
    error_class: ErrorClass
    code: str
    message: str
    task_uuid: str | None = None
    http_status: int | None = None
    parameter: str | list[str] | None = None
    allowed_values: list[Any] | None = None
    provider_message: str | None = None  # `responseContent`: the upstream provider's own words

    def describe(self) -> str:
        text = f"{self.error_class.value}/{self.code}: {self.message}"
        if self.parameter:
            text += f" (parameter {self.parameter}"
            if self.allowed_values is not None:
                text += f", allowed {self.allowed_values}"
            text += ")"
        return text

    @classmethod
    def from_object(cls, obj: Any, http_status: int | None) -> RunwareError:
        if not isinstance(obj, dict):
            return cls(ErrorClass.PROTOCOL, "malformedError", f"unreadable error {obj!r:.200}")
        code = str(obj.get("code") or obj.get("errorCode") or "")
        message = str(obj.get("message") or obj.get("error") or code or "no message")
        allowed = obj.get("allowedValues")
        provider = obj.get("responseContent")
        parameter = obj.get("parameter")
        return cls(
            error_class=classify(http_status, code, message),
            code=code or (f"http{http_status}" if http_status else "unknown"),
            message=message[:500],
            task_uuid=obj.get("taskUUID") if isinstance(obj.get("taskUUID"), str) else None,
            http_status=http_status,
            parameter=parameter if isinstance(parameter, str | list) else None,
            allowed_values=allowed if isinstance(allowed, list) else None,
            provider_message=str(provider)[:500] if provider is not None else None,
        )


class RunwareFailure(Exception):
    """Raised by upload_image/submit_video (and poll for request-wide faults)."""

    error_class = ErrorClass.PROVIDER

    def __init__(self, error: RunwareError) -> None:
        super().__init__(error.describe())
        self.error = error


class AuthFailure(RunwareFailure):
    error_class = ErrorClass.AUTH


class OutOfCreditFailure(RunwareFailure):
    error_class = ErrorClass.OUT_OF_CREDIT


class ValidationFailure(RunwareFailure):
    error_class = ErrorClass.VALIDATION


class ContentRefused(RunwareFailure):
    error_class = ErrorClass.CONTENT


class UpstreamFailure(RunwareFailure):
    error_class = ErrorClass.UPSTREAM


class ModelRetired(RunwareFailure):
    error_class = ErrorClass.RETIRED


class TransientFailure(RunwareFailure):
    error_class = ErrorClass.TRANSIENT


class ProtocolFailure(RunwareFailure):
    error_class = ErrorClass.PROTOCOL


_FAILURES: dict[ErrorClass, type[RunwareFailure]] = {
    c.error_class: c
    for c in (
        AuthFailure,
        OutOfCreditFailure,
        ValidationFailure,
        ContentRefused,
        UpstreamFailure,
        ModelRetired,
        TransientFailure,
        ProtocolFailure,
    )
}


def failure(error: RunwareError) -> RunwareFailure:
    return _FAILURES.get(error.error_class, RunwareFailure)(error)
