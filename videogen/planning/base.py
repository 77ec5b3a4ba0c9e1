"""What a planner returns: the scenes of one ad, each with what is seen, shown and said."""

from __future__ import annotations

from dataclasses import dataclass, field

MIN_SCENES = 3
MAX_SCENES = 10
ROLES = ("hook", "beat", "product", "message", "cta")


@dataclass(frozen=True)
class PlannedScene:
    number: int
    role: str  # one of ROLES
    description: str  # what the scene shows, for the storyboard reviewer
    prompt: str  # the visual prompt for the image model: subject, setting, camera, light, brand look
    caption: str  # on-screen ad copy, <= 60 characters
    narration: str  # one spoken line sized to the scene's seconds (may be empty)
    negative_prompt: str
    start_seconds: float
    duration_seconds: float
    # Other (caption, narration) openings for variations 2 and 3; the hook scene only.
    hook_variants: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Plan:
    planner: str  # "rules" or "llm"
    scenes: list[PlannedScene]
    notes: list[str] = field(default_factory=list)  # why the plan looks the way it does (fallbacks...)

    @property
    def total_seconds(self) -> float:
        return sum(scene.duration_seconds for scene in self.scenes)


def clamp_scene_count(count: int) -> int:
    return max(MIN_SCENES, min(MAX_SCENES, count))


def split_duration(total: int, weights: list[float], minimum: int = 2) -> list[float]:
    """Whole seconds per scene, proportional to `weights`, at least `minimum` each, adding up to `total`."""
    count = len(weights)
    if total < minimum * count:
        minimum = max(1, total // count)
    spare = total - minimum * count
    weight_sum = sum(weights) or 1.0
    shares = [spare * weight / weight_sum for weight in weights]
    seconds = [minimum + int(share) for share in shares]
    leftover = total - sum(seconds)
    # Largest remainders first; ties go to earlier scenes (as before: earlier scenes take the remainder).
    order = sorted(range(count), key=lambda i: (-(shares[i] - int(shares[i])), i))
    for index in order[:leftover]:
        seconds[index] += 1
    return [float(value) for value in seconds]
