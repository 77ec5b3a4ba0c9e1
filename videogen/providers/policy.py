"""Timeouts and retry policy for provider predictions, in one place.

Call-level retries (429, 5xx, network errors on a single HTTP call) are the provider's;
prediction-level retries (a prediction that failed or timed out is cancelled and created
again after a backoff) are applied by the pipeline using these numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

PARSE_TIMEOUT_SECONDS = 30
EXPORT_TIMEOUT_SECONDS = 60
EXPORT_RETRIES = 1
BACKOFF_SCHEDULE = (5.0, 15.0, 45.0)


@dataclass(frozen=True)
class PredictionPolicy:
    timeout_seconds: float
    max_retries: int
    backoff: tuple[float, ...]

    @property
    def max_attempts(self) -> int:
        return self.max_retries + 1

    def backoff_before(self, attempt: int) -> float:
        """Seconds to wait before `attempt` (2 = first retry)."""
        if attempt <= 1:
            return 0.0
        return self.backoff[min(attempt - 2, len(self.backoff) - 1)]


def _scaled(seconds: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(value * settings.PROVIDER_BACKOFF_SCALE for value in seconds)


def planner_budget_seconds() -> float:
    """All of the LLM planner's attempts share the PRD's 30 s prompt-parsing budget; then the rules planner plans."""
    return settings.PLANNER_TIMEOUT_SECONDS * settings.PROVIDER_TIMEOUT_SCALE


def prediction_policy(purpose: str) -> PredictionPolicy:
    """Scene image (and voiceover line): 120 s, 3 retries; video (and upscale): 600 s, 2 retries; backoff 5/15/45 s.

    Planner: one retry, at once (a bad reply is not an overloaded provider), within the parse budget.
    """
    timeout_scale = settings.PROVIDER_TIMEOUT_SCALE
    if purpose == "planner":
        # The budget check in pipeline.planning is the one deadline; this timeout only backs it up.
        return PredictionPolicy(planner_budget_seconds() + 30 * timeout_scale, 1, (0.0,))
    if purpose in ("storyboard", "voiceover"):
        return PredictionPolicy(120 * timeout_scale, 3, _scaled(BACKOFF_SCHEDULE))
    return PredictionPolicy(600 * timeout_scale, 2, _scaled(BACKOFF_SCHEDULE))
