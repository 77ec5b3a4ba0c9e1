"""Scene parsing and brand/campaign prompt augmentation (brand guidelines and campaign brief in every scene prompt)."""

import pytest

from videogen.planning.rules import parse_scenes
from videogen.prompts import BrandContext, PromptTooThin

BRAND = BrandContext(
    brand_name="Northwind",
    brand_voice="playful, energetic",
    visual_style="bright colors, high contrast",
    palette=["#FF6B6B", "#4ECDC4"],
    forbidden_elements=["stock photography", "competitor logos"],
    key_messages=["sustainability", "performance"],
    do_not_mention=["previous product lines"],
)
PROMPT = "Show a runner in the city at dawn, then the shoe close-up, then the crowd cheering"


@pytest.mark.parametrize(("duration", "count"), [(15, 3), (30, 5), (60, 10)])
def test_default_scene_count_follows_the_cost_heuristic(duration, count):
    assert len(parse_scenes(PROMPT, duration=duration, context=BRAND)) == count


@pytest.mark.parametrize("duration", [15, 30, 60])
def test_scene_durations_add_up_to_the_requested_duration(duration):
    scenes = parse_scenes(PROMPT, duration=duration, context=BRAND)
    assert sum(scene.duration_seconds for scene in scenes) == duration
    assert [scene.start_seconds for scene in scenes] == [
        sum(s.duration_seconds for s in scenes[:i]) for i in range(len(scenes))
    ]


def test_scenes_spelled_out_in_the_prompt_are_kept_as_written():
    prompt = "Scene 1: rooftop at dawn. Scene 2: city sprint. Scene 3: shoe close-up. Scene 4: finish line."
    scenes = parse_scenes(prompt, duration=30, context=BRAND)
    assert [scene.description for scene in scenes] == ["Rooftop at dawn", "City sprint", "Shoe close-up",
                                                      "Finish line"]


def test_numbered_list_prompt_becomes_one_scene_per_item():
    prompt = "1. A runner stretching\n2. Running across a bridge\n3. The shoe logo on the heel"
    assert len(parse_scenes(prompt, duration=15, context=BRAND)) == 3


def test_more_than_ten_listed_scenes_are_merged_down_to_ten():
    prompt = "\n".join(f"{n}. shot number {n} of the sneaker" for n in range(1, 15))
    assert len(parse_scenes(prompt, duration=60, context=BRAND)) == 10


def test_every_scene_prompt_carries_the_brand_style_palette_voice_and_key_messages():
    for scene in parse_scenes(PROMPT, duration=30, context=BRAND):
        assert "bright colors, high contrast" in scene.prompt
        assert "#FF6B6B" in scene.prompt
        assert "playful, energetic" in scene.prompt
        assert "sustainability" in scene.prompt


def test_forbidden_elements_and_do_not_mention_become_negative_guidance_only():
    prompt = "A runner in stock photography style, then previous product lines on a shelf, then the new shoe"
    for scene in parse_scenes(prompt, duration=15, context=BRAND):
        assert "stock photography" not in scene.prompt.lower()
        assert "previous product lines" not in scene.prompt.lower()
        assert "previous product lines" not in scene.description.lower()
        assert "stock photography" in scene.negative_prompt
        assert "previous product lines" in scene.negative_prompt


def test_a_prompt_too_thin_to_build_scenes_asks_questions():
    with pytest.raises(PromptTooThin) as raised:
        parse_scenes("sneakers", duration=15, context=BRAND)
    assert len(raised.value.questions) >= 2
