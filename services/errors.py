"""Every refusal the domain can give, in one hierarchy: `DomainError` and its kinds. The error
router (handlers/errors.py) maps each to a text in the user's language (handlers/replies.py);
a handler catches one itself only to answer in place. Failures of the services the bot talks to
(Runware, the translator, Telegram) stay beside their clients; they are not refusals."""

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


class EditRefused(DomainError):
    """A trim or join that cannot be made as asked; nothing was changed."""

    def __init__(self, reason: str, **details: object) -> None:
        super().__init__(f"edit refused: {reason} {details or ''}".strip())
        # not_found (not the user's, or gone) | not_ready (generating or failed) | range |
        # too_short | count (a join of one or of more than five) | twice (a clip picked twice)
        self.reason = reason
        self.details = details


class ImageRejected(DomainError):
    def __init__(self, reason: str, **details: object) -> None:
        super().__init__(f"image refused: {reason} {details or ''}".strip())
        self.reason = reason  # too_big | format | animated | corrupt | too_small
        self.details = details


class CheckoutRefused(DomainError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"checkout refused: {reason}")
        self.reason = reason  # not_ours | currency | unknown_package | amount | payer


class PaymentNotFound(DomainError):
    pass


class AlreadyRefunded(DomainError):
    pass


class StarsAlreadyRefunded(Exception):
    """Raised by a `refund_stars` callback when Telegram says the charge was refunded before
    (CHARGE_ALREADY_REFUNDED): the Stars are back with the user, so the refund is completed."""


class StarsRefundRefused(DomainError):
    """Raised by a `refund_stars` callback when Telegram refused the refund for good (not a
    network fault, after which the refund may or may not have happened)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Telegram refused the refund: {reason}")
        self.reason = reason


class TokensSpent(DomainError):
    def __init__(self, have: int, need: int) -> None:
        super().__init__(f"the user has {have} of the {need} tokens bought")
        self.have = have
        self.need = need
