"""Brand/campaign context for prompts (PRD 6.5), forbidden-topic scrubbing, and thin-brief questions.

Scene planning itself lives in `videogen.planning` (rules and LLM planners).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MIN_PROMPT_WORDS = 4


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


def questions_for_thin_prompt(creative_prompt: str) -> list[str]:
    words = re.findall(r"[A-Za-z\u00C0-\u024F]{2,}", creative_prompt)
    if len(words) >= MIN_PROMPT_WORDS:
        return []
    return [
        "What should the viewer see in the ad (the product, people, setting)?",
        "What is the one thing the viewer should remember or do after watching?",
        "What mood or pace should the video have (e.g. energetic, calm, premium)?",
    ]


def negative_prompt_for(context: BrandContext) -> str:
    return ", ".join(dict.fromkeys(item.strip() for item in context.avoid if item.strip()))


def scrub_forbidden(text: str, forbidden: list[str]) -> str:
    """Forbidden elements and do-not-mention topics never reach the positive prompt."""
    for phrase in sorted({p.strip() for p in forbidden if p.strip()}, key=len, reverse=True):
        text = re.sub(rf"(?i)\b{re.escape(phrase)}\b", "", text)
    text = re.sub(r"\s+([,.;])", r"\1", text)
    text = re.sub(r"([,;])\s*([,;.])", r"\2", text)
    return re.sub(r"\s{2,}", " ", text).strip()
