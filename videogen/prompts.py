"""Scene parsing and brand/campaign prompt augmentation (brand guidelines and campaign brief in every scene prompt).

Parsing is local and deterministic: a prompt that spells its scenes out ("Scene 1: ...",
a numbered or bulleted list) keeps them; otherwise the brief is split into beats and
spread over `max(3, duration // 6)` scenes. A prompt too thin to build scenes from asks
the marketer questions instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from videogen.pricing import scene_count_for

MIN_SCENES = 3
MAX_SCENES = 10
MIN_PROMPT_WORDS = 4

_EXPLICIT_SCENE = re.compile(r"(?im)^\s*(?:scene\s*\d+\s*[:.)-]|\d+\s*[.)]|[-*\u2022])\s*(.+?)\s*$")
_SCENE_LABEL = re.compile(r"(?i)\bscene\s*\d+\s*[:.)-]\s*")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?;])\s+|\s*(?:,\s*)?\b(?:then|next|after that|finally)\b\s*,?\s*", re.I)


class PromptTooThin(Exception):
    """The brief cannot be turned into scenes without asking the marketer."""

    def __init__(self, questions: list[str]):
        super().__init__("; ".join(questions))
        self.questions = questions


@dataclass(frozen=True)
class BrandContext:
    brand_name: str = ""
    brand_voice: str = ""
    visual_style: str = ""
    palette: list[str] = field(default_factory=list)
    forbidden_elements: list[str] = field(default_factory=list)
    objective: str = ""
    key_messages: list[str] = field(default_factory=list)
    cta: str = ""
    do_not_mention: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    style_presets: list[str] = field(default_factory=list)

    @property
    def avoid(self) -> list[str]:
        return [*self.forbidden_elements, *self.do_not_mention]


@dataclass(frozen=True)
class ParsedScene:
    number: int
    description: str
    prompt: str
    negative_prompt: str
    start_seconds: float
    duration_seconds: float


def split_into_beats(creative_prompt: str) -> list[str]:
    """The prompt's own scenes if it lists them, else its sentences/clauses."""
    text = creative_prompt.strip()
    explicit = [m.group(1).strip() for m in _EXPLICIT_SCENE.finditer(text) if m.group(1).strip()]
    if len(explicit) >= 2:
        return [_SCENE_LABEL.sub("", beat).strip(" .") for beat in explicit]
    inline = [part.strip(" .") for part in _SCENE_LABEL.split(text) if part.strip(" .")]
    if len(inline) >= 2:
        return inline
    beats = [part.strip(" .,") for part in _SENTENCE_SPLIT.split(text) if part and part.strip(" .,")]
    return beats or [text]


def questions_for_thin_prompt(creative_prompt: str) -> list[str]:
    words = re.findall(r"[A-Za-z\u00C0-\u024F]{2,}", creative_prompt)
    if len(words) >= MIN_PROMPT_WORDS:
        return []
    return [
        "What should the viewer see in the ad (the product, people, setting)?",
        "What is the one thing the viewer should remember or do after watching?",
        "What mood or pace should the video have (e.g. energetic, calm, premium)?",
    ]


def fit_scene_count(beats: list[str], target: int) -> list[str]:
    """Stretches or merges beats to `target` scenes, keeping their order."""
    target = max(MIN_SCENES, min(MAX_SCENES, target))
    if len(beats) == target:
        return beats
    if len(beats) > target:
        merged: list[list[str]] = [[] for _ in range(target)]
        for index, beat in enumerate(beats):
            merged[index * target // len(beats)].append(beat)
        return ["; ".join(group) for group in merged]
    # Fewer beats than scenes: give long beats several shots, with varied framing.
    shots = ["establishing wide shot", "medium shot", "close-up detail", "hero shot", "dynamic angle"]
    result: list[str] = []
    for index in range(target):
        beat = beats[index * len(beats) // target]
        repeat = sum(1 for prior in result if prior.startswith(beat))
        result.append(beat if repeat == 0 else f"{beat}, {shots[repeat % len(shots)]}")
    return result


def split_duration(total: int, count: int) -> list[float]:
    """Whole-second scene lengths that add up exactly to `total` (earlier scenes take the remainder)."""
    base, extra = divmod(total, count)
    return [float(base + (1 if index < extra else 0)) for index in range(count)]


def augment_prompt(beat: str, context: BrandContext) -> str:
    """The scene beat plus the brand's style, voice, palette and the campaign's messages."""
    parts = [beat.rstrip(".") + "."]
    if context.visual_style:
        parts.append(f"Style: {context.visual_style}.")
    if context.palette:
        parts.append(f"Colour palette: {', '.join(context.palette)}.")
    if context.brand_voice:
        parts.append(f"Mood: {context.brand_voice}.")
    if context.key_messages:
        parts.append(f"Convey: {', '.join(context.key_messages)}.")
    if context.keywords:
        parts.append(f"Keywords: {', '.join(context.keywords)}.")
    styles = [preset for preset in context.style_presets if preset.lower() not in {"hd", "upscale"}]
    if styles:
        parts.append(f"Look: {', '.join(styles)}.")
    return scrub_forbidden(" ".join(parts), context.avoid)


def negative_prompt_for(context: BrandContext) -> str:
    return ", ".join(dict.fromkeys(item.strip() for item in context.avoid if item.strip()))


def scrub_forbidden(text: str, forbidden: list[str]) -> str:
    """Forbidden elements and do-not-mention topics never reach the positive prompt."""
    for phrase in sorted({p.strip() for p in forbidden if p.strip()}, key=len, reverse=True):
        text = re.sub(rf"(?i)\b{re.escape(phrase)}\b", "", text)
    text = re.sub(r"\s+([,.;])", r"\1", text)
    text = re.sub(r"([,;])\s*([,;.])", r"\2", text)
    return re.sub(r"\s{2,}", " ", text).strip()


def parse_scenes(creative_prompt: str, *, duration: int, context: BrandContext) -> list[ParsedScene]:
    """Turns the brief into 3-10 scenes whose durations add up to `duration`."""
    questions = questions_for_thin_prompt(creative_prompt)
    if questions:
        raise PromptTooThin(questions)
    beats = split_into_beats(creative_prompt)
    explicit = len(beats) >= 2 and bool(_EXPLICIT_SCENE.search(creative_prompt) or _SCENE_LABEL.search(creative_prompt))
    target = len(beats) if explicit else scene_count_for(duration)
    beats = fit_scene_count(beats, target)
    durations = split_duration(duration, len(beats))
    negative = negative_prompt_for(context)
    scenes: list[ParsedScene] = []
    start = 0.0
    for index, (beat, seconds) in enumerate(zip(beats, durations, strict=True), start=1):
        beat = beat[:1].upper() + beat[1:]
        description = scrub_forbidden(beat, context.avoid)
        scenes.append(
            ParsedScene(
                number=index,
                description=description,
                prompt=augment_prompt(beat, context),
                negative_prompt=negative,
                start_seconds=start,
                duration_seconds=seconds,
            )
        )
        start += seconds
    return scenes
