"""The domain's own exceptions. Handlers map them to friendly, translated replies."""

from __future__ import annotations

from services.catalog import Problem


class DomainError(Exception):
    """A refusal the user (or admin) should be told about in plain words."""


class AmountError(DomainError):
    def __init__(self, reason: str, *, limit: int | None = None) -> None:
        super().__init__(f"amount {reason}")
        self.reason = reason  # "not_a_number" | "not_positive" | "too_large"
        self.limit = limit


class InsufficientBalance(DomainError):
    def __init__(self, need: int, have: int) -> None:
        super().__init__(f"insufficient balance (need {need}, have {have})")
        self.need = need
        self.have = have

    @property
    def missing(self) -> int:
        return self.need - self.have


class UnknownUser(DomainError):
    def __init__(self, user_id: int) -> None:
        super().__init__(f"unknown user {user_id}")
        self.user_id = user_id


class GenerationPaused(DomainError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"generation is paused ({reason})")
        self.reason = reason  # "admin" | "provider"


class TooManyActiveJobs(DomainError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} videos at a time")
        self.limit = limit


class UnknownModel(DomainError):
    def __init__(self, model_id: str) -> None:
        super().__init__(f"unknown model {model_id!r}")
        self.model_id = model_id


class InvalidRequest(DomainError):
    """Parameters or prompt the model does not take; `problems` say why, readable."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


class IllegalTransition(Exception):
    """A bug: a job was asked to move along an edge the status machine does not have."""


class DraftGone(DomainError):
    """A confirmation card that is not (or no longer) the user's to use."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"draft {reason}")
        self.reason = reason  # "not_found" | "used" | "cancelled" | "image_expired"
