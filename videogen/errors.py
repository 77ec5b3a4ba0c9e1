"""What the business code refuses, in its own words. Entry points translate: the API maps these to
the error envelope in one place (config/errors.py), the ops console shows their message.

Nothing here knows about HTTP; `code` is the machine-readable name the API answers with.
"""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the operation; nothing was changed."""

    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidState(DomainError):
    """The job is not in a state that allows this (approving a running job, cancelling a finished one)."""

    code = "invalid_state"


class IllegalTransition(InvalidState):
    """The state machine refused a status change (the job moved meanwhile, or the move is not allowed)."""

    def __init__(self, job_id: int, to_status: str, current: str | None):
        super().__init__(f"job {job_id}: cannot go from {current} to {to_status}")
        self.job_id = job_id
        self.to_status = to_status
        self.current = current


class NotReady(DomainError):
    """What was asked for does not exist yet (a format not exported, no thumbnail)."""

    code = "not_ready"


class InvalidField(DomainError):
    """Input the domain refuses, naming the request field it came from (`field`, camelCase) and why."""

    code = "validation_error"

    def __init__(self, field: str, messages: list[str], message: str = ""):
        super().__init__(message or " ".join(messages))
        self.field = field
        self.messages = messages


class UnknownScenes(InvalidField):
    """Scene numbers the job's storyboard does not have (in `scenes`, or in `sceneEdits`)."""

    def __init__(self, numbers: list[int], field: str = "scenes"):
        self.numbers = sorted(numbers)
        super().__init__(field, [f"Unknown scene {number}." for number in self.numbers],
                         f"Unknown scene numbers: {', '.join(map(str, self.numbers))}.")


class IdempotencyKeyReused(DomainError):
    """An Idempotency-Key already used for a different request body."""

    code = "idempotency_key_reused"


class SpendRefused(DomainError):
    """New paid work is refused for now; `retry_after` says in how many seconds to try again."""

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class BudgetExceeded(SpendRefused):
    """Today's hard spending limit is reached (it resets at midnight UTC)."""

    code = "budget_exceeded"


class ProviderUnavailable(SpendRefused):
    """The circuit breaker is open: the provider failed too often lately."""

    code = "provider_unavailable"
