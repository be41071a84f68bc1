"""The domain's own exceptions. Handlers map them to friendly, translated replies."""

from __future__ import annotations


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
