"""When things happen in the finished video: scenes, the end card, voice lines and captions.

The end card has seconds of its own at the end (see :func:`videogen.media.layout.end_card_seconds`);
the scenes are shortened in proportion to make room, so the MP4 is exactly the job's duration.
Everything is counted in whole frames so durations are exact.

No Django imports.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "TRANSITION_SECONDS",
    "Timeline",
    "Window",
    "caption_windows",
    "generated_seconds",
    "place_voice_lines",
    "plan_timeline",
]

#: Crossfade between scenes (and into the end card).
TRANSITION_SECONDS = 0.5
#: A caption appears this long after its scene starts (after the crossfade has begun) ...
CAPTION_LEAD_SECONDS = 0.15
#: ... and a voice line a little later, once the picture has settled.
VOICE_LEAD_SECONDS = 0.3
VOICE_GAP_SECONDS = 0.2
#: The voice may be sped up this much at most to fit; beyond that the tail is cut.
MAX_TEMPO = 1.3


@dataclass(frozen=True)
class Window:
    start: float
    end: float


@dataclass(frozen=True)
class Timeline:
    fps: int
    total_frames: int
    scene_frames: list[int]
    transition_frames: int
    end_card_frames: int

    @property
    def total_seconds(self) -> float:
        return self.total_frames / self.fps

    def scene_start(self, index: int) -> float:
        return sum(self.scene_frames[:index]) / self.fps

    def scene_end(self, index: int) -> float:
        return sum(self.scene_frames[: index + 1]) / self.fps

    @property
    def scene_seconds(self) -> list[float]:
        return [frames / self.fps for frames in self.scene_frames]

    @property
    def end_card_start(self) -> float:
        return (self.total_frames - self.end_card_frames) / self.fps

    def clip_seconds(self, index: int) -> float:
        """How long a scene's clip must run: its own time plus the crossfade into what follows."""
        return (self.scene_frames[index] + self.transition_frames) / self.fps


def _split_frames(seconds: list[float], total_frames: int) -> list[int]:
    """``total_frames`` across scenes in proportion to ``seconds`` (cumulative rounding, exact sum)."""
    if not seconds or any(s <= 0 for s in seconds):
        raise ValueError("scene durations must be positive")
    total_s = sum(seconds)
    bounds = [0]
    acc = 0.0
    for s in seconds:
        acc += s
        bounds.append(round(total_frames * acc / total_s))
    counts = [b - a for a, b in zip(bounds, bounds[1:], strict=False)]
    if any(c <= 0 for c in counts):
        raise ValueError("a scene is shorter than one frame")
    return counts


def plan_timeline(
    planned_seconds: list[float], total_duration: float, *, fps: int = 24,
    transition_seconds: float = TRANSITION_SECONDS, end_card_seconds: float = 0.0,
) -> Timeline:
    """Scenes in proportion to their planned seconds, then the end card, adding up to ``total_duration``."""
    if total_duration <= 0:
        raise ValueError("total_duration must be positive")
    total_frames = max(1, round(total_duration * fps))
    end_frames = 0
    if end_card_seconds > 0:
        end_frames = min(max(1, round(end_card_seconds * fps)), total_frames // 3)
    scene_frames = _split_frames([float(s) for s in planned_seconds], total_frames - end_frames)
    transition = max(0, round(transition_seconds * fps))
    pieces = scene_frames + ([end_frames] if end_frames else [])
    transition = min(transition, min(pieces) // 2) if len(pieces) > 1 else 0
    return Timeline(fps=fps, total_frames=total_frames, scene_frames=scene_frames, transition_frames=transition,
                    end_card_frames=end_frames)


def place_voice_lines(slots: list[float], seconds: list[float], total: float) -> tuple[list[float], float]:
    """Start times for voice lines wanted at ``slots`` (their scenes' starts), and the tempo to apply.

    Each line starts a beat after its slot, or right after the previous line if that one runs long.
    Lines that would run past the end move earlier (the last one ends just before the video does);
    only if that is not enough is the whole voiceover sped up (at most :data:`MAX_TEMPO`).
    """
    if not seconds:
        return [], 1.0
    tempo = 1.0
    end_limit = total - 0.15
    while True:
        lengths = [length / tempo for length in seconds]
        starts: list[float] = []
        end = 0.0
        for slot, length in zip(slots, lengths, strict=True):
            start = max(slot + VOICE_LEAD_SECONDS, end + VOICE_GAP_SECONDS if starts else 0.0)
            starts.append(start)
            end = start + length
        latest = end_limit
        for k in range(len(starts) - 1, -1, -1):  # pull late lines back, keeping the gaps
            starts[k] = min(starts[k], latest - lengths[k])
            latest = starts[k] - VOICE_GAP_SECONDS
        if starts[0] >= 0 or tempo >= MAX_TEMPO:
            return [round(max(0.0, start), 3) for start in starts], tempo
        tempo = min(MAX_TEMPO, round(tempo + 0.05, 2))


def caption_windows(
    timeline: Timeline, voice: dict[int, Window] | None = None
) -> list[Window]:
    """When each scene's caption is on screen.

    Without a voiceover: from just after the scene starts until the next crossfade begins. With one,
    a scene's caption appears when its line starts and stays until the scene ends or the line does,
    whichever is later, never past the next caption's start or into the end card.
    """
    n = len(timeline.scene_frames)
    limit = timeline.end_card_start if timeline.end_card_frames else timeline.total_seconds
    windows: list[Window] = []
    for index in range(n):
        start = timeline.scene_start(index) + (CAPTION_LEAD_SECONDS if index else 0.0)
        end = timeline.scene_end(index) if index < n - 1 else limit
        spoken = (voice or {}).get(index)
        if spoken is not None:
            start = spoken.start
            end = max(spoken.end + 0.3, end)
        windows.append(Window(round(start, 3), end))
    # No two captions at once, nothing over the end card.
    fixed: list[Window] = []
    for index, window in enumerate(windows):
        following = windows[index + 1].start if index + 1 < n else limit
        end = min(window.end, following - 0.04, limit)
        fixed.append(Window(window.start, round(max(end, window.start), 3)))
    return fixed


def generated_seconds(duration: float, scenes: int, end_card_seconds: float) -> float:
    """Seconds of video a render asks the video model for: the scenes fill the duration minus the end
    card (which is drawn, not generated) and every clip runs one crossfade longer, so no transition
    shows a frozen frame. 30 s with 5 scenes: 27.5 + 5 x 0.5 = 30 s; 15 s / 3 scenes: 14.5 s."""
    return round(duration - end_card_seconds + scenes * TRANSITION_SECONDS, 3)
