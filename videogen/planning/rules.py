"""The rules planner: offline, deterministic, no token needed.

The brief's beats (see `beats.py`) each get one scene, in order. When the brief has fewer beats
than the ad has scenes, the rest is ad structure, never a repeated beat: the call to action last,
the product close-up, the campaign's key messages and an opening hook (in that order of priority).
With more beats than scenes, neighbouring beats share a scene. Captions are short on-screen copy,
narration one spoken line per scene sized to its seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from videogen.planning import lexicon as lx
from videogen.planning.base import Plan, PlannedScene, clamp_scene_count, split_duration
from videogen.planning.beats import Beat, BriefBeats, split_brief
from videogen.planning.text import as_sentence, caption_from, fit_spoken, sentence_case, short_caption, tidy
from videogen.pricing import scene_count_for
from videogen.prompts import (
    BrandContext,
    PromptTooThin,
    negative_prompt_for,
    questions_for_thin_prompt,
    scrub_forbidden,
)

BEAT_CAPTION_CHARS = 42  # two comfortable lines on a phone; the hard limit is 60
HOOK_WEIGHT = 0.6  # the hook is a quick opener: a little over half a regular scene
BEAT_CAMERAS = (
    "wide establishing shot", "tracking shot", "medium shot", "low-angle shot", "close-up shot",
    "aerial shot", "handheld shot", "dolly shot", "over-the-shoulder shot", "slow-motion shot",
)
# "Close-up: the sole on granite" is a note for the camera, not copy for the viewer.
_SHOT_LABEL = re.compile(r"^(?:an?\s+)?(?:extreme\s+)?(?:close-?up|wide(?: shot)?|aerial(?: shot)?|macro|pov|"
                         r"overhead|(?:medium|establishing|hero|detail|tracking)\s+shot)\s*(?:of|on)?\s*[:,-]?\s*",
                         re.I)
_CAMERA_WORDS = re.compile(r"\b(close-?up|wide shot|aerial|drone|macro|tracking|pov|overhead|low angle|low-angle)\b",
                           re.I)
LIGHTS = (
    (r"\b(dawn|sunrise|sun rises|daybreak|amanecer|sonnenaufgang|aube)\b", "soft golden sunrise light"),
    (r"\b(sunset|dusk|golden hour|atardecer|sonnenuntergang|coucher)\b", "warm golden-hour light"),
    (r"\b(neon|night|nighttime|midnight|noche|nacht|nuit)\b", "vivid neon night lighting"),
    (r"\b(rain|rainy|storm|lluvia|regen|pluie)\b", "moody overcast light with wet reflections"),
    (r"\b(studio|backdrop|seamless)\b", "clean studio lighting"),
    (r"\b(morning|breakfast|mañana|morgen|matin)\b", "fresh morning light"),
    (r"\b(cafe|café|kitchen|office|home|living room|bedroom|bar|restaurant|shop|store)\b",
     "warm natural window light"),
    (r"\b(beach|summer|sunny|sun|playa|strand|plage)\b", "bright sunlight"),
)


@dataclass(frozen=True)
class _Draft:
    role: str
    description: str
    subject: str  # the visual subject for the image prompt
    caption: str
    narration: str
    camera: str
    light: str = ""
    variants: tuple[str, ...] = ()  # other opening lines (spoken as written), for variations 2 and 3


class RulesPlanner:
    name = "rules"

    def plan_scenes(
        self, brief: str, *, duration: int, scene_count: int | None = None, platform: str = "",
        context: BrandContext | None = None,
    ) -> Plan:
        context = context or BrandContext()
        questions = questions_for_thin_prompt(brief)
        if questions:
            raise PromptTooThin(questions)
        parsed = split_brief(brief)
        target = target_scene_count(parsed, duration, scene_count)
        drafts = _drafts(parsed, target, context)
        weights = [HOOK_WEIGHT if draft.role == "hook" else 1.0 for draft in drafts]
        seconds = split_duration(duration, weights)
        return Plan(planner=self.name, scenes=_scenes(drafts, seconds, context))


def target_scene_count(parsed: BriefBeats, duration: int, requested: int | None = None) -> int:
    """An explicit "Scene N:" list keeps its count; otherwise one scene per ~6 s (PRD 5.3), 3-10."""
    if parsed.explicit:
        return clamp_scene_count(len(parsed.beats))
    return clamp_scene_count(requested or scene_count_for(duration))


# --- Drafting ---------------------------------------------------------------------------------


def _drafts(parsed: BriefBeats, target: int, context: BrandContext) -> list[_Draft]:
    story = [beat for beat in parsed.beats if not beat.cta]
    brief_cta = next((beat.text for beat in parsed.beats if beat.cta), "")
    cta_text = brief_cta or context.cta
    english = parsed.language == "en"
    product = _product_phrase(parsed, context)

    slots_for_story = target - (1 if brief_cta else 0)
    if len(story) > slots_for_story:
        groups = _group(story, slots_for_story)
        structure: list[str] = []
    else:
        groups = [[beat] for beat in story]
        structure = _structure_roles(slots_for_story - len(story), context, has_cta=bool(cta_text),
                                     brief_cta=bool(brief_cta))

    beat_drafts = [_beat_draft(group, index, english) for index, group in enumerate(groups)]
    _carry_light(beat_drafts)
    messages = key_messages(context)
    extras = _extras(structure, product, context, english, messages, parsed, beat_drafts)
    hook = [d for d in extras if d.role == "hook"]
    middle = [d for d in extras if d.role in ("product", "message")]
    closing = [_cta_draft(cta_text, product, context, english)] if (brief_cta or "cta" in structure) else []
    drafts = [*hook, *beat_drafts, *middle, *closing]
    if drafts and english and (hook or parsed.product or context.brand_name):
        # The first seconds are the hook of a social ad whatever scene 1 shows: variations 2 and 3
        # open it with a hook line about the product or brand (a generic one only on a hook scene).
        drafts[0] = replace(drafts[0], variants=_hook_variants(product if parsed.product else "", context.brand_name))
    return drafts


def _structure_roles(free: int, context: BrandContext, *, has_cta: bool, brief_cta: bool) -> list[str]:
    """Which ad-structure scenes fill `free` slots, most important first."""
    wanted: list[str] = []
    if not brief_cta:
        wanted.append("cta")  # a closing scene: the campaign's CTA, else the brand name
    wanted.append("product")
    messages = [f"message:{i}" for i in range(len(key_messages(context)))]
    wanted.extend([*messages[:1], "hook", *messages[1:]])
    # Enough distinct shots for a one-beat brief at 60 s (ten scenes) even without key messages.
    wanted.extend(["product:in-use", "product:detail", "message:proof", "product:reveal", "message:brand",
                   "product:setting"])
    return wanted[:free]


def key_messages(context: BrandContext) -> list[str]:
    return [message for message in dict.fromkeys(m.strip() for m in context.key_messages) if message]


def _group(beats: list[Beat], slots: int) -> list[list[Beat]]:
    groups: list[list[Beat]] = [[] for _ in range(slots)]
    for index, beat in enumerate(beats):
        groups[index * slots // len(beats)].append(beat)
    return groups


def _beat_draft(group: list[Beat], index: int, english: bool) -> _Draft:
    description = "; ".join(beat.text for beat in group) if len(group) > 1 else group[0].text
    copy_line = _copy_line(group[0], english)
    spoken = " ".join(as_sentence(_copy_line(beat, english)) for beat in group)
    camera = "" if _CAMERA_WORDS.search(description) else BEAT_CAMERAS[index % len(BEAT_CAMERAS)]
    return _Draft(role="beat", description=description, subject=description,
                  caption=short_caption(copy_line, BEAT_CAPTION_CHARS), narration=spoken, camera=camera,
                  light=_light_for(description))


def _copy_line(beat: Beat, english: bool) -> str:
    """Ad copy speaks to the viewer: "The runner laces up his sneakers" -> "Lace up your sneakers"."""
    if not (english and beat.action):
        return _SHOT_LABEL.sub("", beat.text)
    words = beat.action.split()
    if not lx.is_finite_at(["she", *words], 1):
        return _SHOT_LABEL.sub("", beat.text)
    base = lx.base_form(words[0])
    if base in ("be", "have"):
        return _SHOT_LABEL.sub("", beat.text)
    rest = [lx.POSSESSIVES.get(word.lower(), word) for word in words[1:]]
    for index, word in enumerate(rest[1:], start=1):
        # "smiles and hands over" -> "smile and hand over": coordinated verbs follow the first one.
        if rest[index - 1].lower() in ("and", "then") and lx.is_finite_third_person(word):
            rest[index] = lx.base_form(word)
    return sentence_case(" ".join([base, *rest]))


def _light_for(text: str) -> str:
    for pattern, light in LIGHTS:
        if re.search(pattern, text, re.I):
            return light
    return ""


def _carry_light(drafts: list[_Draft]) -> None:
    """A scene that names no light keeps the previous scene's (one continuous morning, not a new day)."""
    previous = ""
    for index, draft in enumerate(drafts):
        if draft.light:
            previous = draft.light
        else:
            drafts[index] = _replace(draft, light=previous or "natural light")


def _replace(draft: _Draft, **changes: str) -> _Draft:
    return _Draft(**{**draft.__dict__, **changes})


def _product_phrase(parsed: BriefBeats, context: BrandContext) -> str:
    if parsed.product:
        return f"the new {parsed.product}" if parsed.product_is_new else f"the {parsed.product}"
    if context.brand_name:
        return f"the {context.brand_name} product"
    return "the product"


def _extras(structure: list[str], product: str, context: BrandContext, english: bool, messages: list[str],
            parsed: BriefBeats, beats: list[_Draft]) -> list[_Draft]:
    brand = context.brand_name
    first_light = beats[0].light if beats else "dramatic high-contrast light"
    named = parsed.product or brand or "it"
    drafts: list[_Draft] = []
    for role in structure:
        if role == "hook":
            caption = (f"Meet {product}" if parsed.product else f"This is {brand}" if brand else "Wait for it") \
                if english else (brand or "...")
            drafts.append(_Draft(
                "hook", f"Opening hook: a close-up teaser of {product}",
                f"Extreme close-up teaser of {product} in motion, bold graphic composition", caption,
                caption if english else "", "fast push-in", first_light,
            ))
        elif role == "product":
            caption = (sentence_case(f"{brand} {parsed.product}".strip()) if parsed.product else
                       (f"Made by {brand}" if brand else "Take a closer look")) if english else brand
            drafts.append(_Draft(
                "product", f"Product close-up: {product} in crisp detail",
                f"{sentence_case(product)} in crisp detail, texture and materials visible", caption,
                f"Take a closer look at {product}." if english else "", "macro close-up, shallow depth of field",
                "clean studio lighting",
            ))
        elif role.startswith("message:") and role[8:].isdigit():
            message = messages[int(role[8:])]
            drafts.append(_Draft(
                "message", f"Key message: {message}",
                f"A scene that shows {message.lower()}, featuring {product}", caption_from(message),
                as_sentence(message), "medium shot, clean composition with space for text", "natural light",
            ))
        elif role == "product:in-use":
            drafts.append(_Draft(
                "product", f"Lifestyle shot: {product} in everyday use",
                f"{sentence_case(product)} in everyday use, candid lifestyle moment",
                (f"{sentence_case(named)}, every day" if named != "it" else "Made for every day") if english else brand,
                "Made for every day." if english else "", "handheld medium shot", "natural light",
            ))
        elif role == "product:detail":
            drafts.append(_Draft(
                "product", f"Detail shot: the craftsmanship of {product}",
                f"Macro detail of {product}, materials and finish", "Every detail counts" if english else brand,
                "Every detail counts." if english else "", "macro slider shot", "soft directional light",
            ))
        elif role == "product:reveal":
            drafts.append(_Draft(
                "product", f"Reveal: {product} unveiled",
                f"{sentence_case(product)} unveiled by a sweep of light against a dark backdrop",
                "Here it is" if english else brand, "Here it is." if english else "", "slow push-in",
                "dramatic light sweep",
            ))
        elif role == "message:brand" and not brand:
            drafts.append(_Draft(
                "message", "The moment: the story's key action in slow motion",
                f"Slow-motion close-up of the key moment with {product}", "Feel the moment" if english else "...",
                "Feel the moment." if english else "", "slow-motion close-up", first_light,
            ))
        elif role == "message:brand":
            drafts.append(_Draft(
                "message", f"Brand moment: {brand or 'the brand'} and {product}",
                f"{sentence_case(product)} in a bold, graphic brand composition", caption_from(brand or named),
                as_sentence(f"Only from {brand}") if english and brand else "", "static medium shot",
                "bright even light",
            ))
        elif role == "product:setting":
            drafts.append(_Draft(
                "product", f"Atmosphere: the world of the story around {product}",
                f"Wide atmospheric shot of the setting, {product} in the foreground",
                "Made for moments like this" if english else brand,
                "Made for moments like this." if english else "", "wide shot", first_light,
            ))
        elif role == "message:proof":
            drafts.append(_Draft(
                "message", f"Social proof: people enjoying {product}",
                f"Happy people enjoying {product} together, authentic reactions",
                "Loved by people like you" if english else brand,
                "People love it." if english else "", "medium shot", "warm natural light",
            ))
    return drafts


def _cta_draft(cta: str, product: str, context: BrandContext, english: bool) -> _Draft:
    if cta:
        return _Draft(
            "cta", f"Closing shot with the call to action: {cta}",
            f"Hero shot of {product}, centred on a clean background with open space for text",
            caption_from(cta), as_sentence(cta), "static hero shot", "bright even light",
        )
    brand = context.brand_name
    closer = brand or ("Find out more" if english else "")
    return _Draft(
        "cta", f"Closing shot: {product} with the {brand} name" if brand else f"Closing shot: {product}",
        f"Hero shot of {product}, centred on a clean background with open space for text",
        caption_from(closer), as_sentence(closer) if closer else "", "static hero shot", "bright even light",
    )


# --- Final scenes -------------------------------------------------------------------------------


def visual_prompt(subject: str, *, camera: str, light: str, context: BrandContext) -> str:
    """PRD 6.5: what the image shows, how it is shot and lit, then the brand's look and the campaign's themes."""
    parts = [subject.rstrip(" .") + "."]
    shot = ", ".join(part for part in (camera, light) if part)
    if shot:
        parts.append(sentence_case(shot) + ".")
    if context.visual_style:
        parts.append(f"Style: {context.visual_style}.")
    if context.palette:
        parts.append(f"Colour palette: {', '.join(context.palette)}.")
    if context.brand_voice:
        parts.append(f"Mood: {context.brand_voice}.")
    if context.key_messages:
        parts.append(f"Theme: {', '.join(context.key_messages)}.")
    if context.keywords:
        parts.append(f"Keywords: {', '.join(context.keywords)}.")
    styles = [preset for preset in context.style_presets if preset.lower() not in {"hd", "upscale"}]
    if styles:
        parts.append(f"Look: {', '.join(styles)}.")
    return tidy(scrub_forbidden(" ".join(tidy(part) for part in parts), context.avoid))


def prompt_for_description(description: str, context: BrandContext) -> str:
    """The visual prompt for a scene description written by the marketer (a storyboard edit)."""
    return visual_prompt(description, camera="", light=_light_for(description), context=context)


def _hook_variants(product: str, brand: str) -> tuple[str, ...]:
    """Two other opening lines, so each variation of the ad opens differently."""
    if product:
        return (f"Ready for {product}?", f"All eyes on {product}")
    if brand:
        return (f"Say hello to {brand}", f"{brand}, up close")
    return ("Watch this", "You'll want to see this")


def clean_copy(text: str, context: BrandContext, *, caption: bool = False) -> str:
    """Forbidden elements and do-not-mention topics never reach captions or narration."""
    cleaned = tidy(scrub_forbidden(text, context.avoid))
    if caption:
        return caption_from(cleaned) if cleaned else ""
    return cleaned


def _scenes(drafts: list[_Draft], seconds: list[float], context: BrandContext) -> list[PlannedScene]:
    negative = negative_prompt_for(context)
    scenes: list[PlannedScene] = []
    start = 0.0
    for number, (draft, length) in enumerate(zip(drafts, seconds, strict=True), start=1):
        description = sentence_case(tidy(scrub_forbidden(draft.description, context.avoid)))
        narration = fit_spoken(clean_copy(draft.narration, context), length) if draft.narration else ""
        caption = clean_copy(draft.caption, context, caption=True)
        scenes.append(PlannedScene(
            number=number, role=draft.role, description=description,
            prompt=visual_prompt(draft.subject, camera=draft.camera, light=draft.light, context=context),
            caption=caption, narration=clean_copy(narration, context),
            negative_prompt=negative, start_seconds=start, duration_seconds=length,
            hook_variants=hook_variants([(line, line) for line in draft.variants], caption, length, context),
        ))
        start += length
    return scenes


def parse_scenes(creative_prompt: str, *, duration: int, context: BrandContext) -> list[PlannedScene]:
    """Turns the brief into 3-10 scenes whose durations add up to `duration` (the rules planner's scenes)."""
    return RulesPlanner().plan_scenes(creative_prompt, duration=duration, context=context).scenes


def hook_variants(candidates: list[tuple[str, str]], caption: str, seconds: float,
                  context: BrandContext) -> tuple[tuple[str, str], ...]:
    """(caption, narration) openings cleaned like any copy, fitted to the scene, none repeating the
    scene's own caption or each other; at most two (variations 2 and 3)."""
    variants: list[tuple[str, str]] = []
    seen = {caption.lower()}
    for raw_caption, raw_narration in candidates:
        variant_caption = clean_copy(raw_caption, context, caption=True)
        narration = clean_copy(raw_narration, context)
        if not variant_caption or variant_caption.lower() in seen:
            continue
        seen.add(variant_caption.lower())
        variants.append((variant_caption, fit_spoken(narration, seconds) if narration else ""))
    return tuple(variants[:2])
