"""The cost estimate: image prices per scene, $0.10 per generated second (scenes plus one crossfade each; the
end card is drawn), the voiceover's TTS calls, and the free offline provider with its Replicate equivalent."""

from decimal import Decimal

import pytest

from videogen.media.layout import end_card_seconds
from videogen.media.timeline import generated_seconds
from videogen.pricing import VOICEOVER_LINE_PRICE, estimate_cost, scene_count_for, to_cents


@pytest.mark.parametrize(("duration", "scenes"), [(15, 3), (30, 5), (60, 10)])
def test_scene_count_is_one_per_six_seconds_with_a_floor_of_three(duration, scenes):
    assert scene_count_for(duration) == scenes


def test_simple_30s_tiktok_costs_three_dollars_two_cents():
    estimate = estimate_cost(duration=30, number_of_variations=1, style_presets=[])
    assert estimate.storyboard == Decimal("0.015")
    assert estimate.video == Decimal("3.00")
    assert estimate.total == Decimal("3.02")  # 3.015 rounded half-up


def test_hd_preset_prices_images_as_flux_pro_for_every_variation():
    estimate = estimate_cost(duration=30, number_of_variations=3, style_presets=["HD"])
    assert estimate.storyboard == Decimal("0.275")
    assert estimate.video == Decimal("9.00")
    assert estimate.total == Decimal("9.28")


def test_upscale_adds_a_quarter():
    estimate = estimate_cost(duration=60, number_of_variations=1, style_presets=["upscale"])
    assert estimate.as_dict() == {"storyboard": "0.03", "video": "6.00", "upscale": "0.25", "voiceover": "0.00",
                                  "total": "6.28", "replicateEquivalent": "6.28"}


def test_free_style_presets_do_not_change_the_price():
    plain = estimate_cost(duration=15, number_of_variations=1, style_presets=[])
    styled = estimate_cost(duration=15, number_of_variations=1, style_presets=["cinematic", "retro"])
    assert plain.total == styled.total == Decimal("1.51")


@pytest.mark.parametrize(("duration", "scenes", "seconds"), [(15, 3, 14.5), (30, 5, 30.0), (60, 10, 62.0)])
def test_generated_seconds_are_the_scenes_plus_one_crossfade_each(duration, scenes, seconds):
    assert generated_seconds(duration, scenes, end_card_seconds(duration)) == seconds


def test_video_is_priced_by_the_seconds_the_render_asks_for():
    estimate = estimate_cost(duration=60, number_of_variations=2, style_presets=[], video_seconds=62.0)
    assert estimate.video == Decimal("12.40")


def test_voiceover_adds_one_tts_call_per_line_and_variation():
    silent = estimate_cost(duration=30, number_of_variations=2, style_presets=[])
    spoken = estimate_cost(duration=30, number_of_variations=2, style_presets=[], voiceover=True)
    assert spoken.voiceover == VOICEOVER_LINE_PRICE * (5 + 1) * 2  # five scenes and the CTA, twice
    assert spoken.total == silent.total + to_cents(spoken.voiceover)


def test_the_offline_provider_is_estimated_free_with_the_replicate_figure_beside_it():
    local = estimate_cost(duration=30, number_of_variations=1, style_presets=[], provider="local")
    remote = estimate_cost(duration=30, number_of_variations=1, style_presets=[], provider="replicate")
    assert local.total == Decimal("0")
    assert local.as_dict()["replicateEquivalent"] == str(remote.total) == "3.02"
