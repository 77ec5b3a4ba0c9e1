"""The LLM planner: a Llama 3 instruct model on Replicate writes the plan as JSON.

Inputs follow the model's published schema (meta/meta-llama-3-8b-instruct: `prompt`,
`prompt_template`, `max_tokens`, `min_tokens`, `temperature`, `top_p`, `presence_penalty`,
`frequency_penalty`; it has no `system_prompt` input, so the system text goes into the Llama 3
chat template). The output is a list of string tokens, joined into the reply text.

The reply must be one JSON object validated against `PLAN_SCHEMA`; timings are ours (the model
is told each scene's seconds), and the brand's look is appended to every visual prompt exactly as
the rules planner does. Forbidden elements and do-not-mention topics are scrubbed whatever the
model wrote.
"""

from __future__ import annotations

import json
import re

from jsonschema import Draft202012Validator

from videogen.planning.base import ROLES, Plan, PlannedScene, split_duration
from videogen.planning.rules import HOOK_WEIGHT, clean_copy, hook_variants, visual_prompt
from videogen.planning.text import CAPTION_MAX_CHARS, fit_spoken, sentence_case, tidy, word_budget
from videogen.prompts import BrandContext, negative_prompt_for, scrub_forbidden

MAX_TOKENS = 2000  # ten scenes of JSON with room to spare
TEMPERATURE = 0.6
SYSTEM_TEXT = (
    "You are a senior advertising creative director who writes storyboards for short social video ads. "
    "You answer with one JSON object and nothing else: no prose, no markdown fences."
)
# Llama 3 chat format. The model formats this template with the prompt, so the system text must hold
# no braces; everything with braces (the JSON shape) travels in the prompt itself.
PROMPT_TEMPLATE = (
    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n" + SYSTEM_TEXT + "<|eot_id|>"
    "<|start_header_id|>user<|end_header_id|>\n\n{prompt}<|eot_id|>"
    "<|start_header_id|>assistant<|end_header_id|>\n\n"
)

PLAN_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["scenes"],
    "properties": {
        "scenes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["role", "description", "prompt", "caption", "narration"],
                "properties": {
                    "role": {"enum": list(ROLES)},
                    "description": {"type": "string", "minLength": 3, "maxLength": 400},
                    "prompt": {"type": "string", "minLength": 3, "maxLength": 1000},
                    # Fitted to 60 characters at a word boundary afterwards; far longer is not a caption.
                    "caption": {"type": "string", "minLength": 1, "maxLength": 120},
                    "narration": {"type": "string", "maxLength": 400},
                },
            },
        },
        # Other openings for scene 1, one per further variation of the ad (optional: without them the
        # variations differ in framing and motion only).
        "alternateHooks": {
            "type": "array",
            "maxItems": 4,
            "items": {
                "type": "object",
                "required": ["caption", "narration"],
                "properties": {
                    "caption": {"type": "string", "minLength": 1, "maxLength": 120},
                    "narration": {"type": "string", "maxLength": 400},
                },
            },
        },
    },
}
_VALIDATOR = Draft202012Validator(PLAN_SCHEMA)


class InvalidPlan(Exception):
    """The model's reply is not a usable plan (not JSON, wrong shape, wrong scene count, repeats)."""


def scene_seconds(duration: int, scene_count: int) -> list[float]:
    """The timing the model is given: a short hook first, the rest even."""
    return split_duration(duration, [HOOK_WEIGHT, *([1.0] * (scene_count - 1))])


def build_input(
    brief: str, *, duration: int, scene_count: int, platform: str, context: BrandContext, retry_reason: str = "",
) -> dict:
    """The model input (names from the model's published schema)."""
    return {
        "prompt": user_prompt(brief, duration=duration, scene_count=scene_count, platform=platform,
                              context=context, retry_reason=retry_reason),
        "prompt_template": PROMPT_TEMPLATE,
        "max_tokens": MAX_TOKENS,
        "min_tokens": 0,
        "temperature": TEMPERATURE,
        "top_p": 0.9,
        # JSON repeats its keys in every scene: the default presence penalty would punish valid output.
        "presence_penalty": 0,
        "frequency_penalty": 0,
    }


def user_prompt(
    brief: str, *, duration: int, scene_count: int, platform: str, context: BrandContext, retry_reason: str = "",
) -> str:
    seconds = scene_seconds(duration, scene_count)
    timing = "; ".join(
        f"scene {n}: {int(s)} s, narration at most {word_budget(s)} words" for n, s in enumerate(seconds, start=1)
    )
    lines = [
        f"Plan a {duration}-second {platform or 'social'} video ad as exactly {scene_count} scenes.",
        "",
        f"Creative brief: {brief.strip()}",
        "",
        "Brand guidelines:",
        f"- Brand: {context.brand_name or 'unnamed'}",
        f"- Brand voice: {context.brand_voice or 'not given'}",
        f"- Visual style: {context.visual_style or 'not given'}",
        f"- Colour palette: {', '.join(context.palette) or 'not given'}",
        f"- Never show: {', '.join(context.forbidden_elements) or 'nothing listed'}",
        "Campaign brief:",
        f"- Objective: {context.objective or 'not given'}",
        f"- Key messages: {'; '.join(context.key_messages) or 'not given'}",
        f"- Call to action: {context.cta or 'not given'}",
        f"- Never mention: {', '.join(context.do_not_mention) or 'nothing listed'}",
    ]
    if context.keywords:
        lines.append(f"- Keywords: {', '.join(context.keywords)}")
    lines += [
        "",
        "Rules:",
        "- Tell the brief's story in order: every action in the brief appears in exactly one scene, "
        "and no two scenes show the same thing.",
        "- Scene 1 is the hook (role \"hook\"), the last scene is the call to action (role \"cta\"); "
        "the others are \"beat\" (a moment of the brief), \"product\" (product close-up) or \"message\" "
        "(a key message).",
        "- description: one sentence saying what the scene shows.",
        "- prompt: visual only, for an image model: subject, setting, camera angle, lighting. No text overlays, "
        "no brand names, nothing from the never-show and never-mention lists.",
        f"- caption: punchy on-screen ad copy, at most {CAPTION_MAX_CHARS} characters, in the brief's language.",
        "- narration: one natural spoken sentence for the voiceover, in the brief's language.",
        "- alternateHooks: two other openings for scene 1 (caption and narration, same rules), each a "
        "different angle (a question, a bold claim, a surprising fact); the ad's variations open with them.",
        f"- Timing: {timing}.",
        "",
        "Answer with this JSON shape only:",
        '{"scenes": [{"role": "hook", "description": "...", "prompt": "...", "caption": "...", '
        '"narration": "..."}], "alternateHooks": [{"caption": "...", "narration": "..."}]}',
    ]
    if retry_reason:
        lines += ["", f"Your previous answer could not be used ({retry_reason}). "
                      "Answer again with the JSON object only."]
    return "\n".join(lines)


def reply_text(output: object) -> str:
    """Language models on Replicate answer a list of string tokens; join them."""
    if isinstance(output, list):
        return "".join(str(token) for token in output)
    return str(output or "")


def _json_object(text: str) -> object:
    text = re.sub(r"```(?:json)?", "", text).strip()
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise InvalidPlan("the reply holds no JSON object")
    try:
        return json.loads(text[start:end + 1])
    except json.JSONDecodeError as exc:
        raise InvalidPlan(f"the reply is not valid JSON: {exc.msg} at character {exc.pos}") from None


def parse_reply(text: str, *, duration: int, scene_count: int, context: BrandContext) -> Plan:
    """The model's reply as a Plan, or InvalidPlan saying what was wrong with it."""
    data = _json_object(text)
    error = next(iter(sorted(_VALIDATOR.iter_errors(data), key=lambda e: list(e.path))), None)
    if error is not None:
        where = "/".join(str(part) for part in error.path) or "reply"
        raise InvalidPlan(f"{where}: {error.message}"[:300])
    raw = data["scenes"]
    if len(raw) != scene_count:
        raise InvalidPlan(f"{len(raw)} scenes instead of {scene_count}")
    descriptions = [tidy(scene["description"]).lower() for scene in raw]
    if len(set(descriptions)) != len(descriptions):
        raise InvalidPlan("two scenes have the same description")
    seconds = scene_seconds(duration, scene_count)
    negative = negative_prompt_for(context)
    scenes: list[PlannedScene] = []
    start = 0.0
    for number, (scene, length) in enumerate(zip(raw, seconds, strict=True), start=1):
        description = sentence_case(tidy(scrub_forbidden(scene["description"], context.avoid)))
        if not description:
            raise InvalidPlan(f"scenes/{number - 1}/description: only forbidden content")
        narration = clean_copy(scene["narration"], context)
        caption = clean_copy(scene["caption"], context, caption=True)
        alternates = [(hook["caption"], hook["narration"]) for hook in data.get("alternateHooks", [])] \
            if number == 1 else []
        scenes.append(PlannedScene(
            number=number, role=scene["role"], description=description,
            prompt=visual_prompt(scene["prompt"], camera="", light="", context=context),
            caption=caption, narration=fit_spoken(narration, length) if narration else "",
            negative_prompt=negative, start_seconds=start, duration_seconds=length,
            hook_variants=hook_variants(alternates, caption, length, context),
        ))
        start += length
    return Plan(planner="llm", scenes=scenes)
